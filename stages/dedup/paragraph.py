"""``paragraph_dedup``: lines or paragraphs repeated across documents (boilerplate that extraction left in: cookie
banners, footers, "related posts") found by exact hashes of normalised spans and removed or marked.

Sources: CCNet (Wenzek et al. 2020, "CCNet: Extracting High Quality Monolingual Datasets from Web Crawl Data", §3.3)
hashes every normalised line (lowercase, digits to 0, punctuation and accents dropped, which is FineWeb's
normalisation here) and removes lines already seen in the same group of shards; Dolma (Soldaini et al. 2024,
``dolma dedupe`` with ``paragraphs``) splits text at ``\\n``, inserts each paragraph into a Bloom filter and marks
a paragraph already in it as a duplicate span ``[start, end, 1]`` (first occurrence kept); datatrove's
``SentenceDedup`` does the same over sentence windows. Here the rule is exact and global instead of a Bloom filter
(no false positives from the filter, and the same answer whatever the shard order of the workers): a span whose
key occurs more than ``max_occurrences`` times in the corpus (or within a ``within`` group) loses its occurrences
after the first ``max_occurrences`` in input order, or all of them with ``keep_first: false``. Keys are 64-bit
hashes of the normalised span (:func:`curate.stages.dedup.text.string_hashes`), range-partitioned like MinHash's
band keys, so a partition holds 24 bytes per span (~90 B at the peak of its sort): see docs/dedup.md.

Phases::

    spans    (shards)      (key, handle, span index, characters) per span -> spans/<p>/<shard>.parquet; the host of
                           each document's `url` -> hosts/<shard>.parquet
    counts   (partitions)  sort by key; occurrences past the allowed ones -> removed/<shard>/<p>.parquet
    tally    (shards)      removed spans, characters per domain (hosts/<shard>.parquet) -> tally/<shard>.parquet
    domains  (once)        the per-domain totals (the step's plan in _stats.json and the report)
    emit     (shards)      spans cut (or marked), documents left too short removed
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.registry import register
from curate.stage import Params, Phase, Resources, Stage
from curate.stages.dedup.steps import (
    _emit_with_decisions,
    _group_hashes,
    _handles,
    _read_all,
    _shard_path,
    _split_handles,
    _write_partitioned,
)
from curate.stages.dedup.text import (
    NON_ASCII_WHITESPACE,
    NormalisationOptions,
    _string_buffers,
    collapse_whitespace,
    exact_normalize,
    normalize_urls,
    splitmix64,
    string_hashes,
    visible_length,
)
from curate.table import set_column

_U64 = np.uint64
REASON_TOO_SHORT = "paragraph_dedup_too_short"
#: domains listed in the step's plan (the rest are summed into the totals)
TOP_DOMAINS = 25


def _top32(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return (np.asarray(column.to_numpy(), dtype=_U64) >> _U64(32)).astype(np.int64)


@register
class ParagraphDedup(Stage):
    """Remove (or mark) lines or paragraphs repeated across the corpus: CCNet's line dedup and Dolma's paragraph
    dedup as an exact, memory-bounded global step.

    Text is split at ``separator`` (``\\n``: lines, which Dolma calls paragraphs; ``\\n\\n``: blank-line
    paragraphs); each span is normalised (``normalize``, the options of ``exact_dedup``; default FineWeb's
    normalisation, CCNet's) and hashed. A span counted more than ``max_occurrences`` times (occurrences, or
    documents with ``count: documents``) loses every occurrence after the first ``max_occurrences`` in input order,
    or every occurrence with ``keep_first: false``. Spans shorter than ``min_chars`` once normalised (blank lines
    always) are never duplicates. ``action: mark`` keeps the text and lists the spans (Dolma's attribute).
    Documents that lost spans and are left with fewer than ``min_doc_chars`` visible characters or
    ``min_doc_words`` words are removed (``paragraph_dedup_too_short``). Kept documents carry
    ``duplicate_spans`` and ``duplicate_chars``; removed spans per domain are the step's plan in the report.
    """

    name = "paragraph_dedup"
    kind = "global"
    requires = ("id", "text")
    adds = ("duplicate_spans", "duplicate_chars")
    resources = Resources(cpus=1)

    class Params(Params):
        separator: str = Field(
            "\n",
            min_length=1,
            description="spans are the text between separators: \\n "
            "(lines; Dolma's paragraphs, CCNet's lines) or \\n\\n (blank-line paragraphs)",
        )
        normalize: NormalisationOptions = Field(
            ("fineweb",),
            description="normalisation before hashing (exact_dedup's options): fineweb (CCNet/FineWeb:"
            " lowercase, digits to 0, punctuation and accents dropped; the default), unicode, case, whitespace; "
            "none compares raw spans (Dolma)",
        )
        min_chars: int = Field(
            1,
            ge=1,
            description="spans shorter than this once normalised are never duplicates (blank lines always stay)",
        )
        max_occurrences: int = Field(1, ge=1, description="a span counted more often than this is a duplicate")
        count: Literal["occurrences", "documents"] = Field(
            "occurrences",
            description="occurrences (repeats inside one document count too, as Dolma) or documents "
            "(a span counts once per document; only copies in other documents are removed)",
        )
        keep_first: bool = Field(
            True,
            description="keep the first max_occurrences occurrences (input order) and "
            "remove the rest; false: remove every occurrence of a too-frequent span",
        )
        action: Literal["remove", "mark"] = Field(
            "remove",
            description="remove the spans from the text, or keep the text and list them in duplicate_span_offsets",
        )
        within: str | None = Field(
            None,
            description="count within groups of this column (e.g. domain or "
            "language): spans of different groups are never duplicates",
        )
        min_doc_chars: int = Field(
            1,
            ge=0,
            description="a document that lost spans and has fewer visible "
            "characters left is removed (1: documents left empty)",
        )
        min_doc_words: int = Field(
            0, ge=0, description="a document that lost spans and has fewer words left is removed"
        )
        partitions: int = Field(
            16,
            ge=1,
            le=1 << 20,
            description="key-range partitions: a counts unit holds 24 B (peak ~90 B) x corpus spans / partitions",
        )

    def input_columns(self) -> set[str]:
        return {"id", "text", *([self.params.within] if self.params.within else [])}

    def output_columns(self) -> set[str]:
        extra = {"duplicate_span_offsets"} if self.params.action == "mark" else set()
        return set(self.adds) | extra

    def phases(self) -> list[Phase]:
        p = self.params.partitions
        return [
            Phase("spans", "shards", self._spans),
            Phase("counts", "partitions", self._counts, p),
            Phase("tally", "shards", self._tally),
            Phase("domains", "once", self._domains),
            Phase("emit", "shards", self._emit),
        ]

    # -- spans -------------------------------------------------------------------------------------------------
    def span_keys(
        self, texts: pa.Array | pa.ChunkedArray, groups: pa.Array | pa.ChunkedArray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(key per span, span offsets per document, eligible per span, characters per span with its separator) of
        a batch of texts."""
        lists = _split(texts, self.params.separator)
        spans = lists.flatten()
        if self.params.normalize == ("whitespace",) and self.params.separator == "\n":
            normed = _collapse_lines(_split_input(texts), lists)
        else:
            normed = exact_normalize(spans, self.params.normalize)
        if self.params.min_chars == 1:  # non-empty: bytes, without counting characters
            eligible = pc.greater(pc.binary_length(normed), 0).to_numpy(zero_copy_only=False)
        else:
            eligible = pc.greater_equal(pc.utf8_length(normed), self.params.min_chars).to_numpy(zero_copy_only=False)
        keys = string_hashes(normed)
        offsets = lists.offsets.to_numpy().astype(np.int64)
        if groups is not None:
            per_doc = _group_hashes(groups)
            keys = splitmix64(keys ^ np.repeat(per_doc, np.diff(offsets)))
        return keys, offsets - offsets[0], eligible, _span_chars(lists, self.params.separator)

    def _spans(self, ctx, shard: str) -> dict:
        p = self.params
        si = ctx.shards.index(shard)
        schema = ctx.input_schema(shard)
        with_url = schema is not None and "url" in schema.names
        columns = list(dict.fromkeys(["text", *([p.within] if p.within else []), *(["url"] if with_url else [])]))
        row, parts, hosts = 0, [], []
        for batch in ctx.iter_input(shard, columns):
            if with_url:
                hosts.append(_domains(batch.column("url")).cast(pa.string()))
            groups = batch.column(p.within) if p.within else None
            keys, offsets, eligible, chars = self.span_keys(batch.column("text"), groups)
            counts = np.diff(offsets)
            handles = np.repeat(_handles(si, row, batch.num_rows), counts)
            index = (np.arange(len(keys), dtype=np.int64) - np.repeat(offsets[:-1], counts)).astype(np.uint32)
            columns = {"key": keys, "handle": handles, "span": index, "chars": chars.astype(np.uint32)}
            parts.append(pa.table({k: v[eligible] for k, v in columns.items()}))
            row += batch.num_rows
        if hosts:  # the host of each document, so that tally reads this small column instead of the input again
            ctx.write_table(
                _shard_path("hosts", si) + ".parquet", pa.table({"domain": pa.concat_arrays(hosts)}), transient=True
            )
        return _write_partitioned(ctx, parts, "spans", f"{si:06d}.parquet", p.partitions, _top32, transient=True)

    # -- counts ------------------------------------------------------------------------------------------------
    def _counts(self, ctx, part: int) -> dict:
        table = _read_all(ctx, f"spans/{part:05d}")
        if table is None:
            return {"keys": 0, "removed": 0}
        keys, handles = table.column("key").to_numpy(), table.column("handle").to_numpy()
        spans, chars = table.column("span").to_numpy(), table.column("chars").to_numpy()
        # the partition's files are read in shard order and each lists its spans in input order, so the rows are
        # already in (handle, span) order: a stable sort by key alone gives the (key, handle, span) order (half
        # the CPU of a three-key lexsort), and the removed occurrences, marked back in the rows' own order, come
        # out sorted by (shard, row, span) without a second sort
        in_order = _ascending(handles, spans)
        order = np.argsort(keys, kind="stable") if in_order else np.lexsort((spans, handles, keys))
        sorted_keys = keys[order]
        removed_sorted = repeated_occurrences(
            sorted_keys, handles[order], self.params.max_occurrences, self.params.count, self.params.keep_first
        )
        if in_order:
            removed = np.zeros(len(keys), dtype=bool)
            removed[order[removed_sorted]] = True
            shard_idx, rows = _split_handles(handles[removed])
            spans, chars = spans[removed], chars[removed]
        else:
            picked = order[removed_sorted]
            shard_idx, rows = _split_handles(handles[picked])
            spans, chars = spans[picked], chars[picked]
            out_order = np.lexsort((spans, rows, shard_idx))
            shard_idx, rows, spans, chars = shard_idx[out_order], rows[out_order], spans[out_order], chars[out_order]
        bounds = np.searchsorted(shard_idx, np.arange(len(ctx.shards) + 1))
        for s in range(len(ctx.shards)):
            lo, hi = int(bounds[s]), int(bounds[s + 1])
            if hi > lo:
                ctx.write_table(
                    _shard_path("removed", s, f"{part:05d}.parquet"),
                    pa.table({"row": rows[lo:hi].astype(np.uint32), "span": spans[lo:hi], "chars": chars[lo:hi]}),
                    transient=True,
                )
        distinct = int(np.count_nonzero(np.diff(sorted_keys)) + 1) if len(keys) else 0
        return {"keys": distinct, "removed": int(removed_sorted.sum())}

    # -- per-domain report -------------------------------------------------------------------------------------
    def _tally(self, ctx, shard: str) -> dict:
        """Removed spans, characters and documents per domain of one shard: characters come with the removed spans
        and hosts with ``hosts/<shard>.parquet`` (both written in ``spans``, which reads the input anyway), so the
        input is not read again."""
        si = ctx.shards.index(shard)
        removed = _removed_spans(ctx, si)
        if removed is None:
            return {"spans": 0}
        rows, _spans, chars = removed
        # one row per document that lost spans (its spans and characters summed in numpy), so the host lookup and
        # the group-by see documents, not spans
        firsts = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]]))
        doc_rows = rows[firsts]
        doc_spans = np.diff(np.append(firsts, len(rows))).astype(np.int64)
        doc_chars = np.add.reduceat(chars.astype(np.int64), firsts)
        hosts = ctx.read_table(_shard_path("hosts", si) + ".parquet")
        if hosts is not None:
            domain = hosts.column("domain").take(pa.array(doc_rows)).combine_chunks()
        else:
            domain = pa.nulls(len(doc_rows), pa.string())
        table = pa.table(
            {"domain": domain, "spans": doc_spans, "chars": doc_chars, "docs": np.ones(len(doc_rows), np.int64)}
        )
        grouped = table.group_by("domain").aggregate([("spans", "sum"), ("chars", "sum"), ("docs", "sum")])
        grouped = grouped.rename_columns(["domain", "spans", "chars", "docs"]).sort_by("domain")
        ctx.write_table(_shard_path("tally", si) + ".parquet", grouped, transient=True)
        return {"spans": len(rows)}

    def _domains(self, ctx, _unit) -> dict:
        table = _read_all(ctx, "tally")
        if table is None:
            return {"spans": 0, "chars": 0, "docs": 0, "domains": 0, "groups": {}}
        grouped = table.group_by("domain").aggregate([("spans", "sum"), ("chars", "sum"), ("docs", "sum")])
        grouped = grouped.rename_columns(["domain", "spans", "chars", "docs"])
        grouped = grouped.sort_by([("spans", "descending"), ("domain", "ascending")])
        top = grouped.slice(0, TOP_DOMAINS).to_pylist()
        groups = {
            (r["domain"] if r["domain"] is not None else "(no url)"): {
                "spans": r["spans"],
                "chars": r["chars"],
                "docs": r["docs"],
            }
            for r in top
        }
        return {
            "spans": int(pc.sum(grouped.column("spans")).as_py()),
            "chars": int(pc.sum(grouped.column("chars")).as_py()),
            "docs": int(pc.sum(grouped.column("docs")).as_py()),
            "domains": grouped.num_rows,
            "groups": groups,
        }

    # -- emit --------------------------------------------------------------------------------------------------
    def _emit(self, ctx, shard: str) -> dict:
        removed = _removed_spans(ctx, ctx.shards.index(shard))

        def annotate(batch: pa.Table, row: int, _decisions) -> tuple[pa.Table, pa.Array]:
            out, reasons = self.apply(batch, row, removed)
            ctx.count("paragraph_dedup_duplicate_spans", pc.sum(out.column("duplicate_spans")).as_py() or 0)
            ctx.count("paragraph_dedup_duplicate_chars", pc.sum(out.column("duplicate_chars")).as_py() or 0)
            return out, reasons

        return _emit_with_decisions(ctx, shard, annotate)

    def apply(self, batch: pa.Table, row: int, removed: tuple[np.ndarray, ...] | None) -> tuple[pa.Table, pa.Array]:
        """``batch`` (rows ``row..``) with its removed spans cut (or listed) and the count columns; the reason per
        row (documents left too short)."""
        p = self.params
        n = batch.num_rows
        reasons = pa.nulls(n, pa.string())
        lo = hi = 0
        if removed is not None:
            lo, hi = np.searchsorted(removed[0], [row, row + n])
        if hi == lo:
            batch = set_column(batch, "duplicate_spans", pa.array(np.zeros(n, np.int32)))
            batch = set_column(batch, "duplicate_chars", pa.array(np.zeros(n, np.int64)))
            if p.action == "mark":
                batch = set_column(batch, "duplicate_span_offsets", _no_offsets(n))
            return batch, reasons
        rows, spans = removed[0][lo:hi] - row, removed[1][lo:hi]
        text = batch.column("text")
        lists = _split(text, p.separator)
        offsets = lists.offsets.to_numpy().astype(np.int64)
        offsets -= offsets[0]
        flat = offsets[rows] + spans.astype(np.int64)
        mask = np.zeros(int(offsets[-1]), dtype=bool)
        mask[flat] = True
        per_doc_spans = np.bincount(rows, minlength=n).astype(np.int32)
        # the characters of each removed span (separator included) came with it from counts
        per_doc_chars = np.bincount(rows, weights=removed[2][lo:hi], minlength=n).astype(np.int64)
        batch = set_column(batch, "duplicate_spans", pa.array(per_doc_spans))
        batch = set_column(batch, "duplicate_chars", pa.array(per_doc_chars))
        if p.action == "mark":
            chars = _span_chars(lists, p.separator)
            return set_column(batch, "duplicate_span_offsets", _marked_offsets(lists, offsets, mask, chars)), reasons
        touched = per_doc_spans > 0
        new_text = _cut_spans(text, lists, offsets, mask, len(p.separator.encode()))
        if new_text.null_count < text.null_count:  # a null text has one empty span, never removed: it stays null
            new_text = pc.if_else(pa.array(touched), new_text, text)
        batch = set_column(batch, "text", new_text)
        short = touched & (_too_short(new_text, p.min_doc_chars, p.min_doc_words))
        if short.any():
            reasons = pc.if_else(pa.array(short), pa.scalar(REASON_TOO_SHORT), reasons)
        return batch, reasons


def _ascending(handles: np.ndarray, spans: np.ndarray) -> bool:
    """Whether the rows are in strictly ascending (handle, span) order."""
    if len(handles) < 2:
        return True
    dh = handles[1:] >= handles[:-1]
    if not dh.all():
        return False
    same = handles[1:] == handles[:-1]
    return bool((spans[1:][same] > spans[:-1][same]).all())


_OFFSETS_TYPE = pa.list_(pa.struct([("start", pa.int64()), ("end", pa.int64())]))


def repeated_occurrences(
    keys: np.ndarray,
    handles: np.ndarray,
    max_occurrences: int,
    count: Literal["occurrences", "documents"],
    keep_first: bool,
) -> np.ndarray:
    """Which occurrences go, for occurrences sorted by (key, handle, span): a key counted more than
    ``max_occurrences`` times (occurrences, or distinct documents) loses its occurrences after the first
    ``max_occurrences`` (occurrences, or documents: a kept document keeps all its copies), or all of them when
    ``keep_first`` is false."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=bool)
    new_key = np.ones(n, dtype=bool)
    new_key[1:] = keys[1:] != keys[:-1]
    if count == "documents":
        step = new_key.copy()
        step[1:] |= handles[1:] != handles[:-1]
    else:
        step = np.ones(n, dtype=bool)
    ordinal = np.cumsum(step)  # running count of occurrences/documents over the whole array
    starts = np.flatnonzero(new_key)
    group = np.cumsum(new_key) - 1
    rank = ordinal - ordinal[starts][group]  # 0 for the first occurrence (document) of the key
    ends = np.append(starts[1:], n) - 1
    size = (ordinal[ends] - ordinal[starts] + 1)[group]
    frequent = size > max_occurrences
    return frequent & (rank >= max_occurrences) if keep_first else frequent


#: documents with a line that whitespace collapsing may change (a superset): a control byte other than the newline, a
#: whitespace character other than the space, or spaces first or last in a line or two in a row
_UNCOLLAPSED_LINES = rf"[\x00-\x09\x0b-\x1f{NON_ASCII_WHITESPACE}]|^ | $| \n|\n |  "


def _collapse_lines(texts: pa.Array, lists: pa.ListArray) -> pa.Array:
    """:func:`collapse_whitespace` of every line of ``lists`` (``texts`` split at ``\\n``): one RE2 search per
    document, ~17x fewer calls than one per line, finds the documents that may have a line to collapse, and only
    their lines go through :func:`collapse_whitespace`."""
    spans = lists.flatten()
    dirty_docs = pc.match_substring_regex(texts, _UNCOLLAPSED_LINES).to_numpy(zero_copy_only=False)
    if not dirty_docs.any():
        return spans.cast(pa.large_string())
    dirty = pa.array(np.repeat(dirty_docs, np.diff(lists.offsets.to_numpy())))
    return pc.replace_with_mask(spans, dirty, collapse_whitespace(pc.filter(spans, dirty)))


def _split(texts: pa.Array | pa.ChunkedArray, separator: str) -> pa.ListArray:
    return pc.split_pattern(_split_input(texts), separator)


def _span_chars(lists: pa.ListArray, separator: str) -> np.ndarray:
    """Characters of each span plus its separator (none after a document's last span)."""
    length = pc.utf8_length(lists.flatten()).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = lists.offsets.to_numpy().astype(np.int64)
    offsets -= offsets[0]
    last = np.zeros(len(length), dtype=bool)
    ends = offsets[1:][offsets[1:] > offsets[:-1]] - 1
    last[ends] = True
    return length + np.where(last, 0, len(separator))


def _no_offsets(n: int) -> pa.Array:
    empty = pa.StructArray.from_arrays([pa.array([], pa.int64()), pa.array([], pa.int64())], ["start", "end"])
    return pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, np.int32)), empty, type=_OFFSETS_TYPE)


def _cut_spans(
    text: pa.Array | pa.ChunkedArray, lists: pa.ListArray, offsets: np.ndarray, mask: np.ndarray, sep_bytes: int
) -> pa.Array:
    """``text`` with the spans in ``mask`` cut: each document's kept spans joined by the separator (what
    ``binary_join`` of the kept spans gives), as one byte mask over the texts' UTF-8 and one compaction instead
    of a copy of the kept spans and another of their join. A document's bytes are its spans, each but the first
    after a separator (``split_pattern`` cut them so: they tile the text); a kept span keeps its separator unless
    it is the first kept span of its document. Documents without cut spans come out unchanged."""
    strings = _split_input(text)
    data, doc_offsets = _string_buffers(strings)
    span_len = pc.binary_length(lists.flatten()).to_numpy().astype(np.int64)
    first_of_doc = np.zeros(len(mask), dtype=bool)
    first_of_doc[offsets[:-1]] = True  # every document has at least one span (an empty text: one empty span)
    unit_len = span_len + np.where(first_of_doc, 0, sep_bytes)
    kept = ~mask
    # kept spans that are the first kept one of their document but not its first span lose their separator
    kept_before = np.cumsum(kept) - kept  # kept spans before each span, over the whole batch
    doc_of = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    first_kept = kept & (kept_before == kept_before[offsets[:-1]][doc_of]) & ~first_of_doc
    keep_bytes = np.repeat(kept, unit_len)
    unit_start = np.concatenate([[0], np.cumsum(unit_len)[:-1]])
    for k in range(sep_bytes):
        keep_bytes[unit_start[first_kept] + k] = False
    out = data[keep_bytes]
    kept_len = np.where(kept, unit_len, 0) - np.where(first_kept, sep_bytes, 0)
    new_offsets = np.zeros(len(doc_offsets), dtype=np.int64)
    np.cumsum(np.add.reduceat(kept_len, offsets[:-1]) if len(kept_len) else kept_len, out=new_offsets[1:])
    cut = pa.LargeStringArray.from_buffers(len(strings), pa.py_buffer(new_offsets), pa.py_buffer(out))
    return cut.cast(text.type)


def _split_input(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The texts exactly as :func:`_split` splits them: one large_string array, nulls as empty."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks() if texts.num_chunks != 1 else texts.chunk(0)
    return pc.fill_null(texts.cast(pa.large_string()), "")


def _marked_offsets(lists: pa.ListArray, offsets: np.ndarray, mask: np.ndarray, chars: np.ndarray) -> pa.Array:
    """Per document, the [start, end) character ranges of its duplicate spans (separator included, Dolma's
    convention)."""
    ends = np.cumsum(chars)
    doc_start = np.repeat(np.concatenate([[0], ends])[offsets[:-1]], np.diff(offsets))
    starts = np.concatenate([[0], ends[:-1]]) - doc_start if len(chars) else np.zeros(0, np.int64)
    stops = ends - doc_start
    sel = np.flatnonzero(mask)
    values = pa.StructArray.from_arrays([pa.array(starts[sel]), pa.array(stops[sel])], ["start", "end"])
    marked_before = np.concatenate([[0], np.cumsum(mask)])
    return pa.ListArray.from_arrays(pa.array(marked_before[offsets].astype(np.int32)), values, type=_OFFSETS_TYPE)


def _too_short(text: pa.Array, min_chars: int, min_words: int) -> np.ndarray:
    short = np.zeros(len(text), dtype=bool)
    if min_chars:
        short |= pc.less(visible_length(text), min_chars).to_numpy(zero_copy_only=False)
    if min_words:
        words = pc.list_value_length(pc.utf8_split_whitespace(text))
        short |= pc.less(pc.fill_null(words, 0), min_words).to_numpy(zero_copy_only=False)
    return short


def _domains(urls: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The host of each URL (lowercase, no ``www.``), null without one."""
    hosts = pc.extract_regex(normalize_urls(urls), r"^(?P<host>[^/?#]+)")
    return pc.struct_field(hosts, "host")


def _removed_spans(ctx, si: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(row, span, characters) of shard ``si``'s removed spans, sorted by row and span."""
    table = _read_all(ctx, _shard_path("removed", si))
    if table is None:
        return None
    rows, spans = table.column("row").to_numpy().astype(np.int64), table.column("span").to_numpy()
    # unique (row, span) keys; the files (one per key partition) are each sorted, and a stable sort (timsort)
    # merges those runs instead of sorting from scratch
    order = np.argsort((rows.astype(np.uint64) << np.uint64(32)) | spans.astype(np.uint64), kind="stable")
    return rows[order], spans[order], table.column("chars").to_numpy()[order]

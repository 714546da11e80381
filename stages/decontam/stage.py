"""``decontaminate``: keep benchmark test sets out of the corpus (a global step).

The benchmark items (``stages/decontam/benchmarks.py``) become an n-gram index once (``stages/decontam/index.py``:
13-grams as GPT-3 and lm-eval-harness, shorter for short items, whole short items, query/gold pairs); every shard is
looked up against it. A document holding an item is either dropped (``action: drop``, reason ``contaminated``,
datatrove's ``NGramsDecontFilter`` behaviour) or has the matched text cut out with ``margin_chars`` on each side
(``action: cut``: GPT-3's training-set filtering, lm-eval-harness's janitor: 200 characters around each match,
pieces under 200 characters dropped, a document cut into more than 10 pieces dropped whole). Removed documents keep
``contamination_benchmarks`` and ``contamination_items`` (with ``keep_rejected``, in ``OUT/<step>/rejected/``); a cut
document carries ``contamination_items`` in the output.

Phases::

    index          (once)    load the benchmarks, build the index -> index/entries.parquet, index/items.parquet
    match          (shards)  every document against the index -> hits/<shard>.parquet (row, item, host)
    contamination  (once)    per benchmark: items found, documents hit, top domains (the report's table)
    emit           (shards)  drop or cut the documents with hits
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field, field_validator, model_validator

from curate.errors import Problem
from curate.registry import register
from curate.stage import REASON_COLUMN, Params, Phase, Resources, Stage, StepOutput
from curate.stages.decontam.benchmarks import BenchmarkSource, as_source, items_digest, load_all
from curate.stages.decontam.index import IndexConfig, Matches, NgramIndex
from curate.stages.decontam.text import chunk_words, words

REASON = "contaminated"
#: item ids listed per document (a page quoting a whole benchmark lists the first ones and the count)
MAX_LISTED_ITEMS = 20
_HOST = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/?#]*@)?(?:www\.)?([^/?#:]+)")


class DecontaminateParams(Params):
    benchmarks: list[str | BenchmarkSource] = Field(
        ...,
        min_length=1,
        description="benchmark test sets: JSONL/Parquet paths or globs, `hf:ID[/CONFIG][:SPLIT]`, "
        "or mappings {path|hf, config, split, name, recipe} (docs/decontamination.md)",
    )
    ngram: int = Field(13, ge=4, le=64, description="n-gram length for long items (GPT-3 / lm-eval-harness: 13)")
    min_ngram: int = Field(8, ge=2, le=64, description="shortest n for short items (GPT-3's lower bound: 8)")
    partial_fraction: float = Field(
        0.5,
        gt=0,
        le=1,
        description="a short item's n is this fraction of its words, "
        "so a page holding that much of it contiguously is found",
    )
    min_item_words: int = Field(
        4, ge=1, description="items with fewer words are not indexed (too common to be evidence)"
    )
    max_items_per_ngram: int = Field(
        10, ge=1, description="n-grams shared by more items are template phrases and are not indexed"
    )
    min_real_words: int = Field(
        4, ge=0, description="distinct words of 2+ characters that are not numbers an n-gram needs to be indexed"
    )
    pair_gap: int = Field(
        6,
        ge=0,
        description="words allowed between a short query and its gold besides the other "
        "answer options (labels, numbering)",
    )
    action: Literal["drop", "cut"] = Field(
        "drop",
        description="drop the document, or cut the matched text with "
        "margin_chars around it (GPT-3 / lm-eval-harness janitor)",
    )
    margin_chars: int = Field(200, ge=0, description="cut: characters removed on each side of a match (GPT-3: 200)")
    min_piece_chars: int = Field(200, ge=0, description="cut: pieces left shorter than this are dropped (200)")
    max_pieces: int = Field(10, ge=1, description="cut: a document cut into more pieces is dropped whole (GPT-3: 10)")
    top_domains: int = Field(5, ge=0, description="contaminating domains listed per benchmark in the report")

    @field_validator("benchmarks", mode="before")
    @classmethod
    def _sources(cls, value: Any) -> Any:
        if isinstance(value, str | dict):
            value = [value]
        return [as_source(v) if isinstance(v, str | dict) else v for v in value]

    @model_validator(mode="after")
    def _lengths(self) -> DecontaminateParams:
        if self.min_ngram > self.ngram:
            raise ValueError(f"min_ngram ({self.min_ngram}) must not exceed ngram ({self.ngram})")
        return self

    def index_config(self) -> IndexConfig:
        return IndexConfig(
            self.ngram,
            self.min_ngram,
            self.min_item_words,
            self.partial_fraction,
            self.max_items_per_ngram,
            self.pair_gap,
            self.min_real_words,
        )

    def sources(self) -> list[BenchmarkSource]:
        return [as_source(b) for b in self.benchmarks]


def host_of(urls: pa.Array | pa.ChunkedArray | None, n: int) -> list[str]:
    """Lowercased host of each URL without ``www.`` (empty when there is no URL)."""
    if urls is None:
        return [""] * n
    out = []
    for u in urls.to_pylist():
        m = _HOST.match(u or "")
        out.append(m.group(1).lower() if m else "")
    return out


def found_items(m: Matches) -> dict[int, list[int]]:
    """Document -> its matched items (sorted)."""
    per_doc: dict[int, set[int]] = defaultdict(set)
    for d, i in zip(m.doc.tolist(), m.item.tolist(), strict=True):
        per_doc[d].add(i)
    return {d: sorted(items) for d, items in per_doc.items()}


def cut_text(text: str, index: NgramIndex, margin: int, min_piece: int, max_pieces: int) -> tuple[str | None, int]:
    """``text`` with every match and ``margin`` characters on each side removed; pieces shorter than ``min_piece``
    dropped; ``None`` when nothing is left or more than ``max_pieces`` regions were cut. Returns (text, regions)."""
    w, char_start, char_end = chunk_words(text)
    m = index.match(w)
    if not len(m):
        return text, 0
    spans = sorted(
        (max(0, int(char_start[s]) - margin), min(len(text), int(char_end[s + n - 1]) + margin))
        for s, n in zip(m.start.tolist(), m.length.tolist(), strict=True)
    )
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    if len(merged) > max_pieces:
        return None, len(merged)
    pieces, at = [], 0
    for a, b in merged + [[len(text), len(text)]]:
        piece = text[at:a].strip()
        if len(piece) >= min_piece:
            pieces.append(piece)
        at = b
    return ("\n\n".join(pieces) if pieces else None), len(merged)


@register
class Decontaminate(Stage):
    """Remove benchmark test items from the corpus: word n-grams of normalised text (13-grams, shorter for short
    items), drop the document or cut the match with a margin."""

    name = "decontaminate"
    kind = "global"
    requires = ("text",)
    adds: ClassVar[tuple[str, ...]] = ("contamination_items",)
    resources = Resources(cpus=1)
    Params = DecontaminateParams

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._index: tuple[str, NgramIndex] | None = None
        self._digest: str | None = None

    def config(self) -> dict[str, Any]:
        """Also fingerprints the benchmark items themselves: an edited test set redoes the step."""
        cfg = super().config()
        if self._digest is None:
            self._digest = items_digest(load_all(self.params.sources()))
        cfg["benchmark_items"] = self._digest
        return cfg

    def check_files(self) -> list[Problem]:
        """Local benchmark files and globs match something (before any work; Hub datasets are read at run time)."""
        from curate.io import discover_inputs

        problems = []
        for i, entry in enumerate(self.params.benchmarks):
            path = as_source(entry).path
            if path is None or "://" in path:
                continue
            try:
                found = discover_inputs([path])
            except Exception as exc:  # noqa: BLE001 - any failure to list is the user's path
                problems.append(Problem(f"benchmarks[{i}]", f"benchmark {path!r} cannot be listed ({exc})"))
                continue
            if not found:
                problems.append(
                    Problem(
                        f"benchmarks[{i}]",
                        f"benchmark {path!r}: no JSONL or Parquet file matches; give a file, a glob such as "
                        "data/*.jsonl, or hf: a Hugging Face dataset id",
                    )
                )
        return problems

    def phases(self) -> list[Phase]:
        return [
            Phase("index", "once", self._build),
            Phase("match", "shards", self._match),
            Phase("contamination", "once", self._contamination),
            Phase("emit", "shards", self._emit),
        ]

    # -- index ---------------------------------------------------------------------------------------------------
    def build_index(self) -> NgramIndex:
        return NgramIndex.build(load_all(self.params.sources()), self.params.index_config())

    def _build(self, ctx: Any, _unit: None) -> dict:
        index = self.build_index()
        entries, items = index.tables()
        ctx.write_table("index/entries.parquet", entries)
        ctx.write_table("index/items.parquet", items)
        return {
            "groups": index.summary(),
            "entries": len(index.keys),
            "pruned_template_ngrams": index.pruned,
            "ngram_lengths": [int(n) for n in index.sizes()],
        }

    def _load(self, ctx: Any) -> NgramIndex:
        if self._index is None or self._index[0] != ctx.run:
            entries, items = ctx.read_table("index/entries.parquet"), ctx.read_table("index/items.parquet")
            self._index = (ctx.run, NgramIndex.from_tables(entries, items, self.params.index_config()))
        return self._index[1]

    # -- match ---------------------------------------------------------------------------------------------------
    def _match(self, ctx: Any, shard: str) -> dict:
        index = self._load(ctx)
        schema = ctx.input_schema(shard)
        cols = ["text"] + (["url"] if schema is not None and "url" in schema.names else [])
        rows, found, hosts, base = [], [], [], 0
        for batch in ctx.iter_input(shard, cols):
            per_doc = found_items(index.match(words(batch.column("text"))))
            if per_doc:
                host = host_of(batch.column("url") if "url" in cols else None, batch.num_rows)
                for d, items in sorted(per_doc.items()):
                    rows += [base + d] * len(items)
                    found += items
                    hosts += [host[d]] * len(items)
            base += batch.num_rows
        table = pa.table(
            {
                "row": pa.array(rows, pa.int64()),
                "item": pa.array(found, pa.int32()),
                "host": pa.array(hosts, pa.string()),
            }
        )
        ctx.write_table(f"hits/{shard}.parquet", table)
        return {"docs_hit": len(set(rows))}

    # -- contamination table ---------------------------------------------------------------------------------------
    def _contamination(self, ctx: Any, _unit: None) -> dict:
        index = self._load(ctx)
        items: dict[str, set[int]] = defaultdict(set)
        docs: Counter[str] = Counter()
        domains: dict[str, Counter[str]] = defaultdict(Counter)
        for shard in ctx.shards:
            hits = ctx.read_table(f"hits/{shard}.parquet")
            if hits is None or not hits.num_rows:
                continue
            add_hits(
                index,
                hits.column("row").to_pylist(),
                hits.column("item").to_pylist(),
                hits.column("host").to_pylist(),
                items,
                docs,
                domains,
            )
        table = contamination_table(index, items, docs, domains, self.params.top_domains)
        # the report renders ``groups`` as a numeric table; the domain lists go beside it
        return {
            "groups": {b: {k: v for k, v in row.items() if k != "top_domains"} for b, row in table.items()},
            "top_domains": {b: row["top_domains"] for b, row in table.items()},
        }

    # -- emit ----------------------------------------------------------------------------------------------------
    def _emit(self, ctx: Any, shard: str) -> None:
        index = self._load(ctx)
        hits = ctx.read_table(f"hits/{shard}.parquet")
        per_row: dict[int, list[int]] = defaultdict(list)
        if hits is not None:
            for r, i in zip(hits.column("row").to_pylist(), hits.column("item").to_pylist(), strict=True):
                per_row[r].append(i)
        ctx.emit(shard, self._outputs(ctx, shard, index, per_row))

    def _outputs(self, ctx: Any, shard: str, index: NgramIndex, per_row: dict[int, list[int]]):
        base = 0
        for batch in ctx.iter_input(shard):
            rows = {r - base: v for r, v in per_row.items() if base <= r < base + batch.num_rows}
            base += batch.num_rows
            yield self.apply(batch, rows, index)

    def apply(self, batch: pa.Table, rows: dict[int, list[int]], index: NgramIndex) -> StepOutput:
        """Drop (or cut) the documents of ``batch`` listed in ``rows`` (row -> matched items)."""
        n = batch.num_rows
        item_lists = [_listed(index, rows.get(r)) for r in range(n)]
        if self.params.action == "drop":
            reasons = [REASON if r in rows else None for r in range(n)]
            return _split(batch, reasons, item_lists, index, rows, cut=False)
        texts = batch.column("text").to_pylist()
        reasons: list[str | None] = [None] * n
        cut_chars = 0
        for r in rows:
            new, _ = cut_text(
                texts[r] or "", index, self.params.margin_chars, self.params.min_piece_chars, self.params.max_pieces
            )
            if new is None:
                reasons[r] = REASON
            else:
                cut_chars += len(texts[r]) - len(new)
                texts[r] = new
        batch = batch.set_column(
            batch.schema.get_field_index("text"), "text", pa.array(texts, batch.schema.field("text").type)
        )
        out = _split(batch, reasons, item_lists, index, rows, cut=True)
        out.counters.update({"docs_cut": sum(1 for r in rows if reasons[r] is None), "chars_cut": cut_chars})
        return out


def _listed(index: NgramIndex, items: list[int] | None) -> str | None:
    if not items:
        return None
    ids = [index.item_id[i] for i in items]
    more = f" (+{len(ids) - MAX_LISTED_ITEMS} more)" if len(ids) > MAX_LISTED_ITEMS else ""
    return ",".join(ids[:MAX_LISTED_ITEMS]) + more


def _split(
    batch: pa.Table,
    reasons: list[str | None],
    item_lists: list[str | None],
    index: NgramIndex,
    rows: dict[int, list[int]],
    cut: bool,
) -> StepOutput:
    removed = np.array([r is not None for r in reasons], dtype=bool)
    kept = batch.filter(pa.array(~removed))
    if cut:
        kept = kept.append_column(
            "contamination_items",
            pa.array([v for v, gone in zip(item_lists, removed, strict=True) if not gone], pa.string()),
        )
    rejected = None
    if removed.any():
        picked = np.flatnonzero(removed)
        benches = [",".join(sorted({index.benchmark[i] for i in rows[int(r)]})) for r in picked]
        rejected = batch.filter(pa.array(removed)).append_column(
            REASON_COLUMN, pa.array([reasons[int(r)] for r in picked], pa.string())
        )
        rejected = rejected.append_column("contamination_benchmarks", pa.array(benches, pa.string()))
        rejected = rejected.append_column(
            "contamination_items", pa.array([item_lists[int(r)] for r in picked], pa.string())
        )
    return StepOutput(kept, rejected, {})


def add_hits(
    index: NgramIndex,
    rows: list[int],
    items_hit: list[int],
    hosts: list[str],
    items: dict[str, set[int]],
    docs: Counter[str],
    domains: dict[str, Counter[str]],
) -> None:
    """Fold one shard's (row, item, host) hits into the per-benchmark tallies."""
    seen: set[tuple[str, int]] = set()
    for r, i, h in zip(rows, items_hit, hosts, strict=True):
        bench = index.benchmark[i]
        items[bench].add(i)
        if (bench, r) not in seen:
            seen.add((bench, r))
            docs[bench] += 1
            domains[bench][h or "(no url)"] += 1


def contamination_table(
    index: NgramIndex, items: dict[str, set[int]], docs: Counter[str], domains: dict[str, Counter[str]], top: int
) -> dict[str, dict[str, Any]]:
    """Per benchmark: its items, items found in the corpus (and their share), documents hit, top domains."""
    total = Counter(index.benchmark)
    table = {}
    for bench in sorted(total):
        found = len(items.get(bench, ()))
        top_domains = ", ".join(f"{h} ({c})" for h, c in domains.get(bench, Counter()).most_common(top))
        table[bench] = {
            "items": total[bench],
            "items_found": found,
            "found_share": round(found / total[bench], 4) if total[bench] else 0.0,
            "docs_hit": docs.get(bench, 0),
            "top_domains": top_domains or "-",
        }
    return table


__all__ = ["Decontaminate", "DecontaminateParams", "contamination_table", "cut_text", "host_of"]

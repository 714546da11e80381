"""The dedup steps: ``exact_dedup``, ``url_dedup`` and ``minhash_dedup``, as global steps in resumable phases.

Every document gets a *handle*, ``shard_index << 32 | row`` (shards in sorted order, rows in read order), so
work files carry 8-byte integers instead of ids. Keys are range-partitioned by their top 32 bits, so memory per
unit of work is (keys in the corpus) / ``partitions``. Every output is sorted before it is written and every unit
depends only on its inputs (never on completion order), so a rerun after a kill is byte-identical.

Phases of ``exact_dedup`` / ``url_dedup``::

    keys     (shards)      key + keep-policy columns per document -> keys/<p>/<shard>.parquet
    groups   (partitions)  sort by key then policy; the first of each group is kept; index lookup and update
                           -> decisions/<shard>/<p>.parquet (only rows of groups of 2+ or index hits)
    emit     (shards)      input + decisions -> kept (with the count column) and rejected (with a reason)

Phases of ``minhash_dedup``::

    signatures  (shards)      MinHash + band keys -> buckets/<p>/<shard>.parquet, meta/<shard>.parquet
                              (+ sigs/<shard>.parquet when ``jaccard_threshold`` is set)
    candidates  (partitions)  sort band keys; each bucket of 2+ documents gives star edges to its smallest
                              handle; keys found in the index give an edge to the virtual INDEX node
                              -> edges/<shard of a>/<p>.parquet
    [verify_left, verify_right (shards): attach both signatures to each edge, keep those whose estimated
     Jaccard >= jaccard_threshold -> verified/<shard>.parquet]
    components  (once)        connected components of all edges -> members/<shard>.parquet (row, root, indexed)
    cluster_keys (shards)     members + meta -> keys/<q>/<shard>.parquet, partitioned by root
    groups      (partitions)  as above, one cluster = one group -> decisions/<shard>/<q>.parquet
    emit        (shards)      kept with cluster_id / cluster_size, removed as ``minhash_duplicate``
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash
from pydantic import Field, model_validator

from curate.registry import register
from curate.stage import Params, Phase, Resources, Stage, StepOutput
from curate.stages.dedup.components import connected_components
from curate.stages.dedup.index import DedupIndex, contributor_label, doc_hashes, top32_digest, top32_u64
from curate.stages.dedup.minhash import band_keys, estimate_jaccard, optimal_bands, partition_of_top32, signatures
from curate.stages.dedup.text import (
    HASH_VERSION,
    NormalisationOptions,
    exact_normalize,
    normalize_urls,
    splitmix64,
    visible_length,
)
from curate.table import set_column

_U64 = np.uint64
INDEX_HANDLE = np.iinfo(np.uint64).max  # the virtual node "already in the persistent index"
KeepPolicy = Literal["first", "longest", "score", "newest"]


def _handles(shard_index: int, start: int, n: int) -> np.ndarray:
    return (_U64(shard_index) << _U64(32)) | np.arange(start, start + n, dtype=_U64)


def _split_handles(handles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (handles >> _U64(32)).astype(np.int64), (handles & _U64(0xFFFFFFFF)).astype(np.int64)


def _shard_path(prefix: str, shard_index: int, *rest: str) -> str:
    return "/".join([prefix, f"{shard_index:06d}", *rest])


def _read_all(ctx, prefix: str) -> pa.Table | None:
    tables = [
        t
        for rel in sorted(ctx.list_work(prefix))
        if rel.endswith(".parquet")
        if (t := ctx.read_table(rel)) is not None and t.num_rows
    ]
    return pa.concat_tables(tables) if tables else None


def _policy_columns(policy: KeepPolicy, score_column: str | None) -> list[str]:
    return {"first": ["id"], "longest": ["id", "text"], "score": ["id", score_column or ""], "newest": ["id", "date"]}[
        policy
    ]


def _policy_table(batch: pa.Table, policy: KeepPolicy, score_column: str | None) -> dict[str, pa.Array]:
    """The columns the keep policy needs: ``id`` always (the survivor's id is reported), plus ``length`` (characters
    of the text without format characters, whitespace collapsed and stripped: :func:`visible_length`), ``score``
    or ``date``."""
    cols = {"id": batch.column("id").cast(pa.string())}
    if policy == "longest":
        cols["length"] = visible_length(batch.column("text")).cast(pa.int64())
    elif policy == "score":
        cols["score"] = batch.column(score_column).cast(pa.float64())
    elif policy == "newest":
        cols["date"] = batch.column("date").cast(pa.string())
    return cols


def _policy_sort_keys(policy: KeepPolicy) -> list[tuple[str, str]]:
    """Best first under ``policy``; ``first`` and all ties follow input order, which the handle encodes (shards in
    sorted order, then rows), never the ids (as strings "10" < "9")."""
    return {
        "first": [],
        "longest": [("length", "descending", "at_end")],
        "score": [("score", "descending", "at_end")],
        "newest": [("date", "descending", "at_end")],
    }[policy] + [("handle", "ascending", "at_end")]


class _DedupParams(Params):
    keep: KeepPolicy = Field(
        "first",
        description="which document of a duplicate group is kept: first (first in "
        "input order), longest (most visible text), score (highest `score_column`), newest "
        "(latest `date`); ties go to input order",
    )
    score_column: str | None = Field(None, description="column read by keep: score")
    partitions: int = Field(
        16,
        ge=1,
        le=1 << 20,
        description="key-range partitions: memory per worker is about "
        "(keys in the corpus) / partitions; use ~1 per 20M keys at scale",
    )
    dedup_index: str | None = Field(
        None,
        description="persistent index folder (local or s3://): documents "
        "duplicating indexed ones are removed, and this run's keys are added",
    )
    within: str | None = Field(
        None,
        description="dedup within groups of this column (e.g. language, as "
        "FineWeb2 dedups per language): documents with different values are never "
        "duplicates; a null value is a group of its own",
    )

    @model_validator(mode="after")
    def _score_needs_column(self):
        if self.keep == "score" and not self.score_column:
            raise ValueError("keep: score needs score_column (the column whose highest value wins)")
        return self


class _GroupedDedup(Stage):
    """Shared machinery: documents with equal keys form a group; one per group is kept by the keep policy."""

    kind = "global"
    resources = Resources(cpus=1)
    reason = "duplicate"
    count_column = "duplicate_count"

    def input_columns(self) -> set[str]:
        p = self.params
        return {"id", *self.key_columns(), *_policy_columns(p.keep, p.score_column), *_within(p)}

    # -- to implement ------------------------------------------------------------------------------------------
    def key_columns(self) -> list[str]:
        raise NotImplementedError

    def keys(self, batch: pa.Table) -> tuple[pa.Array, np.ndarray]:
        """(fixed_size_binary(16) keys, validity mask: False = never a duplicate)."""
        raise NotImplementedError

    # -- phases --------------------------------------------------------------------------------------------------
    def phases(self) -> list[Phase]:
        p = self.params.partitions
        phases = [Phase("keys", "shards", self._keys_phase)]
        if self.params.dedup_index:
            phases += [
                Phase("index_lookup", "partitions", self._lookup_phase, p),
                Phase("index_resolve", "partitions", partial(_resolve_index_hits, prior_by="part"), p),
            ]
        phases.append(Phase("groups", "partitions", self._groups_phase, p))
        if self.params.dedup_index:
            phases.append(Phase("index_commit", "once", self._commit_phase))
        return phases + [Phase("emit", "shards", self._emit_phase)]

    def _index(self, ctx) -> DedupIndex:
        key = {**self.key_config(), **_within_key(self.params)}
        cfg = {"step": self.name, "hash_version": HASH_VERSION, "key": key}
        return DedupIndex(self.params.dedup_index, self.name, cfg, contributor_label(ctx.out, ctx.key))

    def key_config(self) -> dict:
        return {}

    def _keys_phase(self, ctx, shard: str) -> dict:
        si = ctx.shards.index(shard)
        p = self.params
        cols = sorted(set(self.key_columns()) | set(_policy_columns(p.keep, p.score_column)) | _within(p))
        row, parts, docs = 0, [], []
        for batch in ctx.iter_input(shard, sorted(set(cols) | {"id"})):
            keys, valid = self.keys(batch)
            if p.within:
                keys = _digest_within(keys, batch.column(p.within))
            table = pa.table(
                {
                    "key": keys,
                    "handle": _handles(si, row, batch.num_rows),
                    **_policy_table(batch, p.keep, p.score_column),
                }
            )
            if p.dedup_index:
                docs.append(doc_hashes(batch.column("id")))
                table = table.append_column("doc", pa.array(docs[-1], pa.uint64()))
            row += batch.num_rows
            parts.append(table.filter(pa.array(valid)))
        if p.dedup_index:
            _write_run_docs(ctx, docs, si, p.partitions)
        return _write_partitioned(ctx, parts, "keys", f"{si:06d}.parquet", p.partitions, top32_digest)

    def _lookup_phase(self, ctx, part: int) -> dict:
        """Index entries whose key occurs in this partition, sent on to be checked against this run's documents."""
        table = _read_all(ctx, f"keys/{part:05d}")
        index = self._index(ctx)
        index.check_config()
        entries = index.read(part, self.params.partitions, top32_digest) if table is not None else None
        if entries is None:
            return {"hits": 0}
        hits = entries.filter(pc.is_in(entries.column("key"), value_set=pc.unique(table.column("key"))))
        _write_index_hits(ctx, hits, part, self.params.partitions)
        return {"hits": hits.num_rows}

    def _groups_phase(self, ctx, part: int) -> dict:
        table = _read_all(ctx, f"keys/{part:05d}")
        if table is None:
            return {"groups": 0, "removed": 0}
        indexed = np.zeros(table.num_rows, dtype=bool)
        confirmed = _read_all(ctx, f"confirmed/{part:05d}")
        if confirmed is not None:
            indexed = pc.is_in(table.column("key"), value_set=confirmed.column("key")).to_numpy(zero_copy_only=False)
        table = table.append_column("indexed", pa.array(indexed))
        table = table.append_column("weight", pa.array(np.ones(table.num_rows, np.int64)))
        if self.params.dedup_index:
            table = table.append_column("prior", pa.array(_prior_mask(ctx, part, table.column("handle").to_numpy())))
        summary, kept = _decide_groups(ctx, table, self.params.keep, part, self.reason, f"{self.reason}_of_index")
        if self.params.dedup_index:
            summary["token"] = self._index(ctx).write(
                part, self.params.partitions, kept.column("key"), kept.column("doc").to_numpy()
            )
        return summary

    def _commit_phase(self, ctx, _unit) -> dict:
        return _commit_index(ctx, self._index(ctx), ctx.summaries["groups"])

    def _emit_phase(self, ctx, shard: str) -> dict:
        return _emit_with_decisions(ctx, shard, self._annotate)

    def _annotate(self, batch: pa.Table, row: int, decisions: pa.Table | None) -> tuple[pa.Table, pa.Array]:
        size, _, reasons = _batch_decisions(decisions, row, batch.num_rows)
        return set_column(batch, self.count_column, pa.array(size, pa.int64())), reasons


def _emit_with_decisions(ctx, shard: str, annotate) -> dict:
    """Emit ``shard``'s documents with the columns and removal reasons that ``annotate(batch, first_row,
    decisions)`` gives them; returns the removals by reason."""
    decisions = _shard_decisions(ctx, ctx.shards.index(shard))
    counts: dict[str, int] = {}

    def batches() -> Iterator[StepOutput]:
        row = 0
        for batch in ctx.iter_input(shard):
            annotated, reasons = annotate(batch, row, decisions)
            row += batch.num_rows
            out = StepOutput.split(annotated, reasons)
            for k, v in out.removed_by_reason().items():
                counts[k] = counts.get(k, 0) + v
            yield out

    ctx.emit(shard, batches())
    return counts


def _write_partitioned(
    ctx, parts: list[pa.Table], prefix: str, name: str, partitions: int, top32, by: str = "key", transient=False
) -> dict:
    """Concatenate, split by the range of column ``by`` and write ``<prefix>/<p>/<name>`` for each non-empty
    partition ``p`` (``transient``: see ``PhaseContext.write_table``)."""
    if not parts:
        return {"rows": 0}
    table = pa.concat_tables(parts)
    if table.num_rows == 0:
        return {"rows": 0}
    pids = partition_of_top32(top32(table.column(by)), partitions)
    # a stable sort of small integers is numpy's radix sort (linear) when they fit 16 bits
    order = np.argsort(pids.astype(np.uint16) if partitions <= 1 << 16 else pids, kind="stable")
    table, pids = table.take(pa.array(order)), pids[order]
    bounds = np.searchsorted(pids, np.arange(partitions + 1))
    for p in range(partitions):
        lo, hi = int(bounds[p]), int(bounds[p + 1])
        if hi > lo:
            ctx.write_table(f"{prefix}/{p:05d}/{name}", table.slice(lo, hi - lo), transient=transient)
    return {"rows": int(table.num_rows)}


# -- the persistent index: lookups checked against this run's documents, then this run's kept keys added ----------


def _write_run_docs(ctx, docs: list[np.ndarray], si: int, partitions: int) -> None:
    """This run's documents of shard ``si`` (id hash, handle), by hash range: ``docs/<q>/<shard>.parquet``."""
    doc = np.concatenate(docs) if docs else np.zeros(0, _U64)
    table = pa.table({"doc": pa.array(doc, pa.uint64()), "handle": _handles(si, 0, len(doc))})
    _write_partitioned(ctx, [table], "docs", f"{si:06d}.parquet", partitions, top32_u64, by="doc")


def _write_index_hits(ctx, hits: pa.Table, part: int, partitions: int) -> None:
    """Index entries (``key``, ``doc``, ``own``) that matched in key partition ``part``, sent to their document's
    range (``hits/<q>/<part>.parquet``) to be checked against this run's documents."""
    hits = hits.append_column("part", pa.array(np.full(hits.num_rows, part, np.int32)))
    _write_partitioned(ctx, [hits], "hits", f"{part:05d}.parquet", partitions, top32_u64, by="doc")


def _resolve_index_hits(ctx, q: int, prior_by: str) -> dict:
    """Split the hits of document range ``q``. An entry whose document is part of this run, or which this run's
    own output contributed, never makes a duplicate (a run never matches itself); the rest confirm their key
    (``confirmed/<part>/<q>.parquet``). Documents of this run that an earlier run kept are marked *prior*
    (``prior/<route>/<q>.parquet``, routed by key partition or by shard, ``prior_by``), so they are kept again."""
    hits = _read_all(ctx, f"hits/{q:05d}")
    if hits is None:
        return {"confirmed": 0, "own": 0}
    docs = _read_all(ctx, f"docs/{q:05d}")
    in_run = (
        pc.is_in(hits.column("doc"), value_set=docs.column("doc")).to_numpy(zero_copy_only=False)
        if docs is not None
        else np.zeros(hits.num_rows, dtype=bool)
    )
    own = in_run | hits.column("own").to_numpy(zero_copy_only=False)
    confirmed = hits.filter(pa.array(~own))
    parts = confirmed.column("part").to_numpy()
    for p in np.unique(parts):
        ctx.write_table(
            f"confirmed/{int(p):05d}/{q:05d}.parquet", confirmed.filter(pa.array(parts == p)).select(["key"])
        )
    if docs is not None and in_run.any():
        prior_hits = hits.filter(pa.array(in_run))
        where = pc.index_in(prior_hits.column("doc"), value_set=docs.column("doc")).to_numpy()
        handles = docs.column("handle").to_numpy()[where]
        routes = prior_hits.column("part").to_numpy() if prior_by == "part" else _split_handles(handles)[0]
        for r in np.unique(routes):
            ctx.write_table(
                f"prior/{int(r):05d}/{q:05d}.parquet", pa.table({"handle": np.unique(handles[routes == r])})
            )
    ctx.count("index_entries_of_this_run", int(own.sum()))
    return {"confirmed": int(confirmed.num_rows), "own": int(own.sum())}


def _prior_mask(ctx, route: int, handles: np.ndarray) -> np.ndarray:
    """Which ``handles`` an earlier run kept (see :func:`_resolve_index_hits`)."""
    prior = _read_all(ctx, f"prior/{route:05d}")
    if prior is None:
        return np.zeros(len(handles), dtype=bool)
    return np.isin(handles, prior.column("handle").to_numpy())


def _commit_index(ctx, index: DedupIndex, summaries: dict) -> dict:
    """This run's entries are all written: retire what earlier runs into the same output folder contributed."""
    tokens = {s["token"] for s in summaries.values() if s and s.get("token")}
    retired = index.retire(tokens, {"output": ctx.layout.root().uri, "step": ctx.key, "run": ctx.run})
    return {"files": len(tokens), "retired": retired}


def _decide_groups(
    ctx, table: pa.Table, policy: KeepPolicy, part: int, reason: str, index_reason: str
) -> tuple[dict, pa.Table]:
    """Sort ``table`` (key, handle, policy columns, indexed, weight) into groups; keep the first of each group
    unless the group is indexed; write decisions for rows in groups of 2+ or indexed, split by shard. Returns the
    phase summary and the kept rows."""
    prior = [("prior", "descending")] if "prior" in table.column_names else []  # kept before: kept again
    order = [("key", "ascending", "at_end")] + prior + _policy_sort_keys(policy)
    table = table.sort_by(order)
    keys = table.column("key")
    n = table.num_rows
    if n > 1:
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = pc.not_equal(keys.slice(1), keys.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    else:
        new_group = np.ones(n, dtype=bool)
    group = np.cumsum(new_group) - 1
    starts = np.flatnonzero(new_group)
    weight = table.column("weight").to_numpy()
    size = np.add.reduceat(weight, starts)[group]
    members = np.diff(np.append(starts, n))[group]
    indexed = np.logical_or.reduceat(table.column("indexed").to_numpy(zero_copy_only=False), starts)[group]
    first = new_group
    ids = table.column("id").combine_chunks()
    rep_id = ids.take(pa.array(starts[group]))
    interesting = (members > 1) | indexed
    reasons = np.where(indexed, index_reason, np.where(first, "", reason))
    handles = table.column("handle").to_numpy()
    sel = np.flatnonzero(interesting)
    shard_idx, rows = _split_handles(handles[sel])
    out = pa.table(
        {
            "shard": shard_idx,
            "row": rows,
            "size": size[sel].astype(np.int64),
            "rep_id": rep_id.take(pa.array(sel)),
            "reason": pa.array(reasons[sel]).cast(pa.string()),
        }
    )
    out = out.set_column(
        4, "reason", pc.if_else(pc.equal(out.column("reason"), ""), pa.scalar(None, pa.string()), out.column("reason"))
    )
    _write_decisions(ctx, out, part)
    removed = int(np.count_nonzero(~first | indexed))
    kept = table.filter(pa.array(first & ~indexed))
    return {"groups": int(np.count_nonzero(new_group & (members > 1))), "removed": removed}, kept


def _write_decisions(ctx, decisions: pa.Table, part: int) -> None:
    """A partition's decisions (``shard``, ``row``, …) split by shard: ``decisions/<shard>/<part>.parquet``, rows
    sorted, so each shard's emit reads only its own."""
    decisions = decisions.sort_by([("shard", "ascending"), ("row", "ascending")])
    shard_col = decisions.column("shard").to_numpy()
    for s in np.unique(shard_col):
        lo, hi = np.searchsorted(shard_col, [s, s + 1])
        ctx.write_table(
            _shard_path("decisions", int(s), f"{part:05d}.parquet"),
            decisions.slice(int(lo), int(hi - lo)).drop_columns(["shard"]),
        )


def _shard_decisions(ctx, si: int) -> pa.Table | None:
    table = _read_all(ctx, _shard_path("decisions", si))
    return table.sort_by([("row", "ascending")]) if table is not None else None


def _batch_decisions(decisions: pa.Table | None, start: int, n: int) -> tuple[np.ndarray, pa.Array, pa.Array]:
    """(size per row: 1 when undecided, rep_id per row: null when undecided, reason per row) for rows
    ``[start, start + n)``."""
    size = np.ones(n, dtype=np.int64)
    rep = pa.nulls(n, pa.string())
    reasons = pa.nulls(n, pa.string())
    if decisions is None or decisions.num_rows == 0:
        return size, rep, reasons
    rows = decisions.column("row").to_numpy()
    lo, hi = np.searchsorted(rows, [start, start + n])
    if hi == lo:
        return size, rep, reasons
    d = decisions.slice(int(lo), int(hi - lo))
    local = rows[lo:hi] - start
    size[local] = d.column("size").to_numpy()
    mask = np.zeros(n, dtype=bool)
    mask[local] = True
    positions = np.cumsum(mask) - 1  # index into d for masked rows
    take = pa.array(np.where(mask, positions, 0))
    rep = pc.if_else(pa.array(mask), d.column("rep_id").take(take), rep)
    reasons = pc.if_else(pa.array(mask), d.column("reason").take(take), reasons)
    return size, rep, reasons


def _within(params: _DedupParams) -> set[str]:
    return {params.within} if params.within else set()


def _within_key(params: _DedupParams) -> dict:
    """The index key entry of ``within`` (none when unset, so indexes built before the option stay valid)."""
    return {"within": params.within} if params.within else {}


def _group_hashes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash per row of the ``within`` column's value (its string form; null has its own)."""
    strings = pc.fill_null(values.cast(pa.string()), "\x00null").cast(pa.large_binary()).to_pylist()
    return np.fromiter((xxhash.xxh3_64_intdigest(v) for v in strings), dtype=_U64, count=len(strings))


def _digest_within(keys: pa.Array, groups: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Keys made distinct per group: xxh3-128 of (group hash, key)."""
    hashes = _group_hashes(groups)
    raw = keys.cast(pa.binary()).to_pylist()
    return pa.array(
        [xxhash.xxh3_128_digest(int(h).to_bytes(8, "little") + k) for h, k in zip(hashes, raw, strict=True)],
        pa.binary(16),
    )


def _digest(values: pa.Array) -> pa.Array:
    """xxh3-128 of each string as fixed_size_binary(16) (128 bits: no accidental collision at 10^10 docs)."""
    digests = [xxhash.xxh3_128_digest(v) for v in values.cast(pa.large_binary()).to_pylist()]
    return pa.array(digests, pa.binary(16))


@register
class ExactDedup(_GroupedDedup):
    """Exact dedup: documents whose text, as is or under the chosen ``normalize`` options (Unicode NFKC and
    format-character removal, case, whitespace, or FineWeb's normalisation), hashes to the same 128-bit xxh3 value
    are one group; the keep policy picks the survivor, which records the group size in ``duplicate_count``."""

    name = "exact_dedup"
    reason = "exact_duplicate"
    requires = ("id", "text")
    adds = ("duplicate_count",)
    count_column = "duplicate_count"
    version = 2  # 2: raw text by default (was FineWeb's), longest by visible length, ties in input order

    class Params(_DedupParams):
        normalize: NormalisationOptions = Field(
            (),
            description="how text is normalised before hashing; none (the default) compares exact text. "
            "Options combine: whitespace (runs of Unicode whitespace to one space, ends stripped), case (lowercase), "
            "unicode (NFKC, format characters such as soft hyphens and zero-width spaces removed), fineweb "
            "(FineWeb/datatrove: lowercase, digits to 0, punctuation and accents dropped; the behaviour before "
            "version 2)",
        )

    def key_columns(self) -> list[str]:
        return ["text"]

    def key_config(self) -> dict:
        return {"normalisation": "+".join(self.params.normalize) or "none"}

    def keys(self, batch: pa.Table) -> tuple[pa.Array, np.ndarray]:
        text = exact_normalize(batch.column("text"), self.params.normalize)
        return _digest(text), np.ones(batch.num_rows, dtype=bool)


@register
class UrlDedup(_GroupedDedup):
    """URL dedup: documents whose normalised URL (lowercase host, no ``www.``, default port, fragment or trailing
    slash, http = https) is equal are one group; keeps the newest (latest ``date``) or the longest text.
    Documents without a URL are never duplicates. The survivor records the group size in ``url_duplicate_count``.
    """

    name = "url_dedup"
    reason = "url_duplicate"
    requires = ("id", "url")
    adds = ("url_duplicate_count",)
    count_column = "url_duplicate_count"
    version = 2  # 2: longest by visible length, ties in input order

    class Params(_DedupParams):
        keep: Literal["newest", "longest"] = Field(
            "newest", description="newest (latest `date`) or longest (most visible text); ties go to input order"
        )

    def key_columns(self) -> list[str]:
        return ["url"]

    def keys(self, batch: pa.Table) -> tuple[pa.Array, np.ndarray]:
        urls = normalize_urls(batch.column("url"))
        valid = pc.greater(pc.binary_length(urls), 0).to_numpy(zero_copy_only=False)
        return _digest(urls), valid


@register
class MinhashDedup(Stage):
    """Near-duplicate removal with MinHash + LSH (Broder 1997; FineWeb's setup: word 5-grams of normalised text,
    64-bit hashes, 112 permutations in 14 bands x 8 rows, so pairs above Jaccard ~0.72 are likely caught).

    Candidate pairs share a band key; duplicates are the connected components of the candidate graph (optionally
    only pairs whose estimated Jaccard reaches ``jaccard_threshold``); one document per cluster is kept by the
    keep policy. Kept documents carry ``cluster_id`` (the kept document's id) and ``cluster_size`` (documents in
    the cluster, counting ``duplicate_count`` when exact dedup ran before), as FineWeb2's rehydration needs.
    """

    name = "minhash_dedup"
    kind = "global"
    requires = ("id", "text")
    adds = ("cluster_id", "cluster_size")
    resources = Resources(cpus=1)

    class Params(_DedupParams):
        ngram: int = Field(5, ge=1, description="words per shingle (FineWeb: 5)")
        num_perm: int = Field(112, ge=1, description="hash functions per signature (FineWeb: 14 x 8 = 112)")
        bands: int = Field(14, ge=1, description="LSH bands (FineWeb: 14)")
        rows: int = Field(8, ge=1, description="rows per band (FineWeb: 8)")
        threshold: float | None = Field(
            None,
            gt=0,
            lt=1,
            description="if set: derive bands x rows from this "
            "target Jaccard (datasketch's optimal parameters), ignoring bands/rows",
        )
        jaccard_threshold: float | None = Field(
            None,
            gt=0,
            le=1,
            description="if set: only merge candidate pairs whose estimated Jaccard is at least this (two more phases)",
        )
        seed: int = Field(1, description="seed of the hash functions (all runs sharing an index must agree)")
        normalize_unicode: bool = Field(
            False,
            description="before FineWeb's normalisation, drop format characters "
            "(soft hyphens, zero-width spaces and joiners, BOM: Unicode category Cf) "
            "and apply NFKC, so fullwidth forms, ligatures, Unicode spaces, "
            "superscript digits and decomposed accents match their plain forms",
        )

        @model_validator(mode="after")
        def _bands_fit(self):
            b, r = self.lsh()
            if b * r > self.num_perm:
                raise ValueError(f"bands x rows = {b} x {r} needs num_perm >= {b * r}, got {self.num_perm}")
            return self

        @model_validator(mode="after")
        def _threshold_or_bands(self):
            both = {"bands", "rows"} & self.model_fields_set
            if self.threshold is not None and both:
                raise ValueError(
                    f"threshold derives bands x rows, so it cannot be given with {sorted(both)}: "
                    "set either threshold or bands/rows"
                )
            return self

        def lsh(self) -> tuple[int, int]:
            return optimal_bands(self.threshold, self.num_perm) if self.threshold else (self.bands, self.rows)

        def normalisation_key(self) -> dict:
            """The index key entries of the normalisation: none for FineWeb's alone, so indexes built before
            ``normalize_unicode`` existed stay valid, and indexes of the two normalisations refuse to mix."""
            return {"normalize_unicode": True} if self.normalize_unicode else {}

    def input_columns(self) -> set[str]:
        p = self.params
        return {"id", "text", *_policy_columns(p.keep, p.score_column), *_within(p)}

    # -- phases --------------------------------------------------------------------------------------------------
    def phases(self) -> list[Phase]:
        p = self.params.partitions
        phases = [
            Phase("signatures", "shards", self._signatures),
            Phase("candidates", "partitions", self._candidates, p),
        ]
        if self.params.dedup_index:
            phases.append(Phase("index_resolve", "partitions", partial(_resolve_index_hits, prior_by="shard"), p))
        if self.params.jaccard_threshold:
            phases += [
                Phase("verify_left", "shards", self._verify_left),
                Phase("verify_right", "shards", self._verify_right),
            ]
        phases += [
            Phase("components", "once", self._components),
            Phase("cluster_keys", "shards", self._cluster_keys),
            Phase("groups", "partitions", self._groups, p),
        ]
        if self.params.dedup_index:
            phases += [
                Phase("index_keys", "shards", self._index_keys),
                Phase("index_write", "partitions", self._index_write, p),
                Phase("index_commit", "once", self._index_commit),
            ]
        return phases + [Phase("emit", "shards", self._emit)]

    def _index(self, ctx) -> DedupIndex:
        b, r = self.params.lsh()
        cfg = {
            "step": self.name,
            "hash_version": HASH_VERSION,
            "key": {
                "ngram": self.params.ngram,
                "num_perm": self.params.num_perm,
                "bands": b,
                "rows": r,
                "seed": self.params.seed,
                **self.params.normalisation_key(),
                **_within_key(self.params),
            },
        }
        return DedupIndex(self.params.dedup_index, self.name, cfg, contributor_label(ctx.out, ctx.key))

    def _signatures(self, ctx, shard: str) -> dict:
        p = self.params
        si = ctx.shards.index(shard)
        b, r = p.lsh()
        cols = sorted({"text", "id"} | set(_policy_columns(p.keep, p.score_column)) | _within(p))
        row, buckets, metas, sigs = 0, [], [], []
        empty = 0
        for batch in ctx.iter_input(shard, cols + self._weight_column(ctx, shard)):
            n = batch.num_rows
            sig = signatures(batch.column("text"), p.num_perm, p.ngram, p.seed, unicode=p.normalize_unicode)
            has_text = sig[:, 0] != np.iinfo(np.uint64).max
            empty += int(n - has_text.sum())
            handles = _handles(si, row, n)
            keys = band_keys(sig[has_text], b, r)
            if p.within:
                keys = splitmix64(keys ^ _group_hashes(batch.column(p.within))[has_text][:, None])
            buckets.append(pa.table({"key": keys.reshape(-1), "handle": np.repeat(handles[has_text], b)}))
            meta = {
                "row": np.arange(row, row + n, dtype=np.int64),
                **_policy_table(batch, p.keep, p.score_column),
                "weight": _weights(batch),
            }
            metas.append(pa.table(meta))
            if p.jaccard_threshold:
                sigs.append(
                    pa.table(
                        {
                            "row": np.arange(row, row + n, dtype=np.int64),
                            "sig": pa.FixedSizeBinaryArray.from_buffers(
                                pa.binary(8 * p.num_perm), n, [None, pa.py_buffer(sig.tobytes())]
                            ),
                        }
                    )
                )
            row += n
        if metas:
            ctx.write_table(_shard_path("meta", si) + ".parquet", pa.concat_tables(metas))
        if sigs:
            ctx.write_table(_shard_path("sigs", si) + ".parquet", pa.concat_tables(sigs))
        if buckets:
            table = pa.concat_tables(buckets)
            table = table.take(pc.sort_indices(table, [("key", "ascending"), ("handle", "ascending")]))
            _write_partitioned(ctx, [table], "buckets", f"{si:06d}.parquet", p.partitions, top32_u64)
        if p.dedup_index:
            _write_run_docs(ctx, [doc_hashes(t.column("id")) for t in metas], si, p.partitions)
        ctx.count("minhash_empty_docs", empty)
        return {"docs": row, "empty": empty}

    @staticmethod
    def _weight_column(ctx, shard: str) -> list[str]:
        schema = ctx.input_schema(shard)
        return ["duplicate_count"] if schema is not None and "duplicate_count" in schema.names else []

    def _candidates(self, ctx, part: int) -> dict:
        table = _read_all(ctx, f"buckets/{part:05d}")
        if self.params.dedup_index:
            self._index(ctx).check_config()
        if table is None:
            return {"edges": 0}
        keys = table.column("key").to_numpy()
        handles = table.column("handle").to_numpy()
        order = np.lexsort((handles, keys))
        keys, handles = keys[order], handles[order]
        n = len(keys)
        new = np.ones(n, dtype=bool)
        new[1:] = keys[1:] != keys[:-1]
        starts = np.flatnonzero(new)
        group = np.cumsum(new) - 1
        anchor = handles[starts][group]
        same = ~new  # every non-first member of a bucket links to the bucket's smallest handle
        a, b = anchor[same], handles[same]
        if self.params.dedup_index:
            self._look_up(ctx, part, keys[starts], handles[starts])
        keep = a != b
        a, b = a[keep], b[keep]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        edges = np.unique(np.stack([lo, hi], axis=1), axis=0) if len(lo) else np.zeros((0, 2), _U64)
        _write_edges(ctx, edges, "edges", f"{part:05d}.parquet")
        return {"edges": int(len(edges))}

    def _look_up(self, ctx, part: int, bucket_keys: np.ndarray, anchors: np.ndarray) -> None:
        """Index entries sharing a band key with a bucket: (the bucket's smallest handle, the entry's document),
        checked against this run's documents in ``index_resolve`` before they link the bucket to the index."""
        entries = self._index(ctx).read(part, self.params.partitions, top32_u64)
        if entries is None:
            return
        where = pc.index_in(entries.column("key"), value_set=pa.array(bucket_keys))
        matched = pc.is_valid(where)
        bucket = pc.drop_null(where).to_numpy()
        hits = pa.table(
            {
                "key": pa.array(anchors[bucket], pa.uint64()),
                "doc": entries.column("doc").filter(matched),
                "own": entries.column("own").filter(matched),
            }
        )
        _write_index_hits(ctx, hits, part, self.params.partitions)

    def _verify_left(self, ctx, shard: str) -> dict:
        si = ctx.shards.index(shard)
        edges = _read_all(ctx, _shard_path("edges", si))
        if edges is None:
            return {"edges": 0}
        a, b = edges.column("a").to_numpy(), edges.column("b").to_numpy()
        sig = _load_sigs(ctx, si, self.params.num_perm)
        _, rows = _split_handles(a)
        sig_a = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(8 * self.params.num_perm), len(a), [None, pa.py_buffer(sig[rows].tobytes())]
        )
        out = pa.table({"a": a, "b": b, "sig_a": sig_a})
        shard_b, _ = _split_handles(out.column("b").to_numpy())
        for s in np.unique(shard_b):
            ctx.write_table(_shard_path("edges_b", int(s), f"{si:06d}.parquet"), out.filter(pa.array(shard_b == s)))
        return {"edges": int(len(a))}

    def _verify_right(self, ctx, shard: str) -> dict:
        si = ctx.shards.index(shard)
        edges = _read_all(ctx, _shard_path("edges_b", si))
        if edges is None:
            return {"kept": 0, "dropped": 0}
        k = self.params.num_perm
        sig = _load_sigs(ctx, si, k)
        b = edges.column("b").to_numpy()
        _, rows = _split_handles(b)
        sig_a = np.frombuffer(edges.column("sig_a").combine_chunks().buffers()[1], dtype=_U64).reshape(-1, k)
        est = estimate_jaccard(sig_a[: len(b)], sig[rows])
        ok = est >= self.params.jaccard_threshold
        a = edges.column("a").to_numpy()
        _write_edges(ctx, np.stack([a[ok], b[ok]], axis=1), "verified", f"{si:06d}.parquet", by_shard=False)
        ctx.count("minhash_pairs_below_jaccard", int((~ok).sum()))
        return {"kept": int(ok.sum()), "dropped": int((~ok).sum())}

    def _components(self, ctx, _unit) -> dict:
        edges = _read_all(ctx, "verified" if self.params.jaccard_threshold else "edges")
        confirmed = _read_all(ctx, "confirmed")  # buckets linked to the index (not verified: it keeps band keys)
        if confirmed is not None:
            index_edges = pa.table(
                {
                    "a": confirmed.column("key").cast(pa.uint64()),
                    "b": pa.array(np.full(confirmed.num_rows, INDEX_HANDLE, _U64)),
                }
            )
            edges = index_edges if edges is None else pa.concat_tables([edges, index_edges.cast(edges.schema)])
        if edges is None:
            return {"clusters": 0, "members": 0}
        nodes, roots = connected_components(edges.column("a").to_numpy(), edges.column("b").to_numpy())
        indexed_roots = np.unique(roots[nodes == INDEX_HANDLE])
        real = nodes != INDEX_HANDLE
        nodes, roots = nodes[real], roots[real]
        indexed = np.isin(roots, indexed_roots)
        shard_idx, rows = _split_handles(nodes)  # nodes are sorted: shards are contiguous, rows sorted within
        bounds = np.searchsorted(shard_idx, np.arange(len(ctx.shards) + 1))
        for s in range(len(ctx.shards)):
            lo, hi = int(bounds[s]), int(bounds[s + 1])
            if hi > lo:
                ctx.write_table(
                    _shard_path("members", s) + ".parquet",
                    pa.table({"row": rows[lo:hi], "root": roots[lo:hi], "indexed": indexed[lo:hi]}),
                )
        clusters = int(len(np.unique(roots)))
        ctx.count("minhash_clusters", clusters)
        return {"clusters": clusters, "members": int(len(nodes))}

    def _cluster_keys(self, ctx, shard: str) -> dict:
        si = ctx.shards.index(shard)
        members = ctx.read_table(_shard_path("members", si) + ".parquet")
        if members is None or members.num_rows == 0:
            return {"rows": 0}
        meta = ctx.read_table(_shard_path("meta", si) + ".parquet")
        rows = members.column("row").to_numpy()
        info = meta.take(pa.array(rows))  # meta rows are 0..n-1 in order
        root = members.column("root").to_numpy()
        table = pa.table(
            {
                "key": splitmix64(root.copy()),
                "handle": (_U64(si) << _U64(32)) | rows.astype(_U64),
                **{c: info.column(c) for c in info.column_names if c not in ("row",)},
                "indexed": members.column("indexed"),
            }
        )
        if self.params.dedup_index:
            table = table.append_column("prior", pa.array(_prior_mask(ctx, si, table.column("handle").to_numpy())))
        return _write_partitioned(ctx, [table], "keys", f"{si:06d}.parquet", self.params.partitions, top32_u64)

    def _groups(self, ctx, part: int) -> dict:
        table = _read_all(ctx, f"keys/{part:05d}")
        if table is None:
            return {"groups": 0, "removed": 0}
        return _decide_groups(ctx, table, self.params.keep, part, "minhash_duplicate", "minhash_duplicate_of_index")[0]

    def _index_keys(self, ctx, shard: str) -> dict:
        """The band keys of this shard's kept documents, with their document, by key range:
        ``index_new/<p>/<shard>.parquet`` (removed documents never enter the index)."""
        si = ctx.shards.index(shard)
        decisions = _shard_decisions(ctx, si)
        removed = (
            decisions.filter(pc.is_valid(decisions.column("reason"))).column("row").to_numpy()
            if decisions is not None
            else np.zeros(0, np.int64)
        )
        meta = ctx.read_table(_shard_path("meta", si) + ".parquet")
        docs = doc_hashes(meta.column("id")) if meta is not None else np.zeros(0, _U64)
        rows = 0
        for part in range(self.params.partitions):
            buckets = ctx.read_table(f"buckets/{part:05d}/{si:06d}.parquet")
            if buckets is None:
                continue
            _, row = _split_handles(buckets.column("handle").to_numpy())
            keep = ~np.isin(row, removed)
            ctx.write_table(
                f"index_new/{part:05d}/{si:06d}.parquet",
                pa.table(
                    {"key": buckets.column("key").filter(pa.array(keep)), "doc": pa.array(docs[row[keep]], pa.uint64())}
                ),
            )
            rows += int(keep.sum())
        return {"rows": rows}

    def _index_write(self, ctx, part: int) -> dict:
        table = _read_all(ctx, f"index_new/{part:05d}")
        if table is None:
            return {"token": ""}
        return {
            "token": self._index(ctx).write(
                part, self.params.partitions, table.column("key"), table.column("doc").to_numpy()
            )
        }

    def _index_commit(self, ctx, _unit) -> dict:
        return _commit_index(ctx, self._index(ctx), ctx.summaries["index_write"])

    def _emit(self, ctx, shard: str) -> dict:
        return _emit_with_decisions(ctx, shard, self._annotate)

    @staticmethod
    def _annotate(batch: pa.Table, row: int, decisions: pa.Table | None) -> tuple[pa.Table, pa.Array]:
        n = batch.num_rows
        size, rep, reasons = _batch_decisions(decisions, row, n)
        if decisions is None:
            size = _weights(batch)
        else:  # documents outside any cluster: their own weight
            rows = decisions.column("row").to_numpy()
            lo, hi = np.searchsorted(rows, [row, row + n])
            inside = np.zeros(n, dtype=bool)
            inside[rows[lo:hi] - row] = True
            size = np.where(inside, size, _weights(batch))
        cluster_id = pc.if_else(pc.is_valid(rep), rep, batch.column("id").cast(pa.string()))
        batch = set_column(batch, "cluster_id", cluster_id)
        return set_column(batch, "cluster_size", pa.array(size, pa.int64())), reasons


def _weights(batch: pa.Table) -> np.ndarray:
    if "duplicate_count" in batch.column_names:
        return pc.fill_null(batch.column("duplicate_count"), 1).cast(pa.int64()).to_numpy()
    return np.ones(batch.num_rows, dtype=np.int64)


def _write_edges(ctx, edges: np.ndarray, prefix: str, name: str, by_shard: bool = True) -> None:
    """Write edges (sorted by (a, b)) under ``prefix/<shard of a>/name`` (or ``prefix/name``)."""
    if len(edges) == 0:
        return
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    edges = edges[order]
    if not by_shard:
        ctx.write_table(f"{prefix}/{name}", pa.table({"a": edges[:, 0], "b": edges[:, 1]}))
        return
    shard_a, _ = _split_handles(edges[:, 0])
    for s in np.unique(shard_a):
        sel = shard_a == s
        ctx.write_table(_shard_path(prefix, int(s), name), pa.table({"a": edges[sel, 0], "b": edges[sel, 1]}))


def _load_sigs(ctx, si: int, num_perm: int) -> np.ndarray:
    table = ctx.read_table(_shard_path("sigs", si) + ".parquet")
    col = table.column("sig").combine_chunks()
    return np.frombuffer(col.buffers()[1], dtype=_U64)[col.offset * num_perm :].reshape(-1, num_perm)[: len(col)]

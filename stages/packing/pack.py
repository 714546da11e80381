"""Packing tokenized documents into fixed-length training sequences, with a deterministic global shuffle.

Two strategies over the ``token_count`` of every document:

* ``concat`` — concatenate the documents (each ends with its EOS separator, kept) in shuffled order and cut the
  stream every ``seq_len`` tokens (GPT-2 / Megatron ``GPTDataset`` style). No padding but the last sequence's,
  and most documents straddle two sequences.
* ``best_fit`` — best-fit decreasing bin packing (Johnson 1973; "Fewer Truncations Improve Language Modeling",
  Ding et al. 2024): documents longer than ``seq_len`` are cut into ``seq_len`` pieces plus a remainder, then
  every piece, longest first, goes into the fullest open sequence that still has room for it. No other document
  is split; the padding left is typically well under 1 %.

Each sequence records its document segments (lengths, ids, offsets) so a trainer can reset position ids and mask
attention at document boundaries. Documents are assigned to train or validation by a seeded hash of their id
(stable when shards are added), and the sequences of each split are shuffled with a seeded permutation.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash
from pydantic import Field

from curate.registry import register
from curate.stage import Params, Phase, Resources, Stage
from curate.stages.packing.megatron import bin_bytes, index_bytes, token_dtype
from curate.stages.packing.tokenize import TOKEN_COUNT_COLUMN, TOKENS_COLUMN, token_group_column

SPLITS = ("train", "valid")


# ---------------------------------------------------------------------------------------------------------------
# Planning (pure numpy): which piece of which document goes where


@dataclass
class PackPlan:
    """Where every document piece goes: piece ``k`` is tokens ``[start, start+length)`` of document ``doc`` and
    lands at ``offset`` in sequence ``seq`` (after the shuffle). ``n_sequences`` sequences of ``seq_len``."""

    doc: np.ndarray
    start: np.ndarray
    length: np.ndarray
    seq: np.ndarray
    offset: np.ndarray
    n_sequences: int
    seq_len: int

    @property
    def padding(self) -> int:
        return self.n_sequences * self.seq_len - int(self.length.sum())

    @property
    def padding_fraction(self) -> float:
        return self.padding / max(1, self.n_sequences * self.seq_len)

    def split_documents(self) -> int:
        """How many documents are spread over more than one sequence."""
        if len(self.doc) == 0:
            return 0
        return int((np.bincount(self.doc) > 1).sum())


def split_by_document(ids: list[str], fraction: float, seed: int) -> np.ndarray:
    """True for documents that go to validation: a seeded 64-bit hash of the id below ``fraction`` of the range
    (so a document's split does not depend on which other documents or shards are present)."""
    if fraction <= 0:
        return np.zeros(len(ids), dtype=bool)
    threshold = int(fraction * 2**64)
    return np.fromiter((xxhash.xxh64_intdigest(i.encode(), seed) < threshold for i in ids), dtype=bool, count=len(ids))


def plan_concat(lengths: np.ndarray, seq_len: int, rng: np.random.Generator) -> PackPlan:
    """Concatenate documents in a random order and cut every ``seq_len`` tokens; the last sequence is padded."""
    order = rng.permutation(len(lengths))
    lens = lengths[order].astype(np.int64)
    doc_start = np.concatenate([[0], np.cumsum(lens)[:-1]]) if len(lens) else np.zeros(0, np.int64)
    total = int(lens.sum())
    n_seq = -(-total // seq_len)
    # a piece starts at every document start and at every sequence boundary inside a document
    boundaries = np.arange(seq_len, total, seq_len, dtype=np.int64)
    starts = np.union1d(doc_start[lens > 0], boundaries)
    ends = np.append(starts[1:], total)
    owner = np.searchsorted(doc_start, starts, side="right") - 1
    # a zero-length document never owns a piece; searchsorted picks the last of equal starts, which is nonzero
    seq = starts // seq_len
    plan = PackPlan(
        doc=order[owner],
        start=starts - doc_start[owner],
        length=ends - starts,
        seq=seq,
        offset=starts - seq * seq_len,
        n_sequences=n_seq,
        seq_len=seq_len,
    )
    return _shuffle_sequences(plan, rng)


def plan_best_fit(lengths: np.ndarray, seq_len: int, rng: np.random.Generator) -> PackPlan:
    """Best-fit decreasing: cut documents longer than ``seq_len`` into full pieces plus a remainder, then place
    pieces longest first into the open sequence with the least room that still fits (ties in random order)."""
    lengths = lengths.astype(np.int64)
    n_full = lengths // seq_len
    remainder = lengths - n_full * seq_len
    full_doc = np.repeat(np.arange(len(lengths)), n_full)
    full_start = (np.arange(len(full_doc)) - np.repeat(np.cumsum(n_full) - n_full, n_full)) * seq_len
    rest_doc = np.flatnonzero(remainder > 0)
    rest_start = n_full[rest_doc] * seq_len
    rest_len = remainder[rest_doc]
    # longest first; equal lengths in a seeded random order so sequences mix documents from everywhere
    shuffled = rng.permutation(len(rest_doc))
    order = shuffled[np.argsort(-rest_len[shuffled], kind="stable")]
    seq_rest, off_rest, n_bins = _best_fit(rest_len[order], seq_len)
    n_full_seq = len(full_doc)
    plan = PackPlan(
        doc=np.concatenate([full_doc, rest_doc[order]]),
        start=np.concatenate([full_start, rest_start[order]]),
        length=np.concatenate([np.full(n_full_seq, seq_len, np.int64), rest_len[order]]),
        seq=np.concatenate([np.arange(n_full_seq), seq_rest + n_full_seq]),
        offset=np.concatenate([np.zeros(n_full_seq, np.int64), off_rest]),
        n_sequences=n_full_seq + n_bins,
        seq_len=seq_len,
    )
    return _shuffle_sequences(plan, rng)


def _best_fit(sizes: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Best fit of ``sizes`` (in the given order) into bins of ``capacity``: bin and offset per item, bin count.

    Open bins are kept in stacks by remaining room; a Python int used as a bitset over room values finds the
    smallest room >= size with one shift and one lowest-set-bit, so each item costs O(capacity / 64) machine words
    rather than a scan over the open bins."""
    bins = np.empty(len(sizes), dtype=np.int64)
    offsets = np.empty(len(sizes), dtype=np.int64)
    stacks: list[list[int]] = [[] for _ in range(capacity + 1)]
    mask = 0
    n_bins = 0
    for i, size in enumerate(sizes.tolist()):
        candidates = mask >> size
        if candidates:
            room = size + (candidates & -candidates).bit_length() - 1
            stack = stacks[room]
            b = stack.pop()
            if not stack:
                mask ^= 1 << room
        else:
            room, b = capacity, n_bins
            n_bins += 1
        bins[i] = b
        offsets[i] = capacity - room
        left = room - size
        if left:
            if not stacks[left]:
                mask |= 1 << left
            stacks[left].append(b)
    return bins, offsets, n_bins


def _shuffle_sequences(plan: PackPlan, rng: np.random.Generator) -> PackPlan:
    """Renumber sequences by a seeded permutation, and order pieces by (sequence, offset)."""
    new_index = rng.permutation(plan.n_sequences)
    seq = new_index[plan.seq] if plan.n_sequences else plan.seq
    order = np.lexsort((plan.offset, seq))
    return PackPlan(
        plan.doc[order],
        plan.start[order],
        plan.length[order],
        seq[order],
        plan.offset[order],
        plan.n_sequences,
        plan.seq_len,
    )


def make_plan(lengths: np.ndarray, seq_len: int, strategy: str, rng: np.random.Generator) -> PackPlan:
    if strategy == "concat":
        return plan_concat(lengths, seq_len, rng)
    if strategy == "best_fit":
        return plan_best_fit(lengths, seq_len, rng)
    raise ValueError(f"pack: unknown strategy {strategy!r} (expected 'concat' or 'best_fit')")


def partition_bounds(n_sequences: int, partitions: int) -> np.ndarray:
    """Sequence index where each output partition starts (``partitions + 1`` values, even sizes)."""
    return (np.arange(partitions + 1, dtype=np.int64) * n_sequences) // partitions


# ---------------------------------------------------------------------------------------------------------------
# Assembly (pure numpy): pieces of tokens into a [sequences, seq_len] array


def take_pieces(
    tokens: pa.ListArray | pa.ChunkedArray, rows: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> pa.ListArray:
    """``tokens[rows[k]][starts[k]:starts[k]+lengths[k]]`` for every k, as one list array (vectorised)."""
    if isinstance(tokens, pa.ChunkedArray):
        tokens = tokens.combine_chunks() if tokens.num_chunks != 1 else tokens.chunk(0)
    values = tokens.values.to_numpy(zero_copy_only=False)
    doc_offsets = tokens.offsets.to_numpy()[:-1] - tokens.offsets[0].as_py()
    first = doc_offsets[rows] + starts
    index = _ranges(first, lengths)
    out_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out_offsets[1:])
    flat = pa.array(values[index], pa.uint32())
    if out_offsets[-1] < 2**31:
        return pa.ListArray.from_arrays(pa.array(out_offsets.astype(np.int32)), flat)
    return pa.LargeListArray.from_arrays(pa.array(out_offsets), flat)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s+n)`` for each (s, n), vectorised."""
    lengths = lengths.astype(np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    group_start = np.cumsum(lengths) - lengths
    return np.repeat(starts.astype(np.int64) - group_start, lengths) + np.arange(total, dtype=np.int64)


def assemble(
    n_sequences: int,
    seq_len: int,
    seq: np.ndarray,
    offset: np.ndarray,
    pieces: pa.ListArray,
    pad_token_id: int,
    dtype: type,
) -> np.ndarray:
    """A ``[n_sequences, seq_len]`` array with every piece written at (seq, offset) and ``pad_token_id`` elsewhere."""
    out = np.full(n_sequences * seq_len, pad_token_id, dtype=dtype)
    lengths = np.diff(pieces.offsets.to_numpy())
    values = pieces.values.to_numpy(zero_copy_only=False)
    base = pieces.offsets[0].as_py()
    out[_ranges(seq * seq_len + offset, lengths)] = values[base : base + int(lengths.sum())]
    return out.reshape(n_sequences, seq_len)


# ---------------------------------------------------------------------------------------------------------------
# The step


@register
class Pack(Stage):
    """Pack tokenized documents into ``seq_len`` sequences (``concat`` or ``best_fit``), shuffle them, and write
    Megatron-LM ``.bin``/``.idx`` files and/or NumPy arrays with per-sequence document boundaries.

    Output, under ``OUT/<step>/``: ``pack.json`` (seq_len, dtype, pad id, counts), and per split (``train``,
    ``valid``) and partition ``<split>/part-NNNNN`` with ``.bin`` + ``.idx`` (Megatron; one Megatron sequence per
    packed sequence, so sample i is sequence i), ``.npy`` (``[sequences, seq_len]``, memory-mappable),
    ``.seg_lens.npy`` + ``.seg_ptr.npy`` (document segment lengths per sequence, CSR) and ``.docs.parquet`` (which
    document piece sits where). Read them with :class:`curate.data.PackedDataset`. The step's document output is
    its input without ``tokens`` plus ``pack_split``; token totals per split and per ``domain``/``source`` are
    counted in the stats (``tokens:train``, ``tokens:train:<group>`` …). Defaults: Megatron/GPT-style 2048-token
    sequences, best-fit packing (Ding et al. 2024), 0.5 % of documents held out for validation.
    """

    name = "pack"
    kind = "global"
    requires = (TOKENS_COLUMN, TOKEN_COUNT_COLUMN)
    adds = ("pack_split",)
    resources = Resources(cpus=1)
    version = 1

    class Params(Params):
        seq_len: int = Field(2048, ge=2, description="tokens per training sequence")
        strategy: Literal["best_fit", "concat"] = Field(
            "best_fit",
            description="best_fit: bin packing that splits only documents longer than seq_len "
            "(padding fills the rest); concat: concatenate and cut every seq_len tokens",
        )
        format: Literal["both", "megatron", "numpy"] = Field(
            "both", description="megatron: .bin/.idx; numpy: .npy memmap; both"
        )
        seed: int = Field(0, description="seed of the document order, the sequence shuffle and the split")
        valid_fraction: float = Field(
            0.005, ge=0, lt=1, description="fraction of documents (by seeded id hash) held out for validation"
        )
        partitions: int = Field(1, ge=1, description="output files per split (and parallel writers)")
        pad_token_id: int = Field(0, ge=0, description="token id written into padding (the loader masks it)")

    def phases(self) -> list[Phase]:
        return [
            Phase("lengths", "shards", self._lengths),
            Phase("plan", "once", self._plan),
            Phase("scatter", "shards", self._scatter),
            Phase("write", "partitions", self._write, partitions=self.params.partitions),
            Phase("emit", "shards", self._emit),
        ]

    # phase 1: per shard, document ids, lengths and groups
    def _lengths(self, ctx: Any, shard: str) -> dict:
        parts = []
        max_id = -1
        for batch in ctx.iter_input(shard):
            group = token_group_column(batch)
            _require(batch, shard)
            parts.append(
                pa.table(
                    {
                        "id": batch.column("id").cast(pa.string())
                        if "id" in batch.column_names
                        else pa.array([f"{shard}/{i}" for i in range(batch.num_rows)], pa.string()),
                        "n": batch.column(TOKEN_COUNT_COLUMN).cast(pa.int64()),
                        "group": batch.column(group).cast(pa.string())
                        if group
                        else pa.nulls(batch.num_rows, pa.string()),
                    }
                )
            )
            flat = pc.list_flatten(batch.column(TOKENS_COLUMN))
            if len(flat):
                max_id = max(max_id, int(pc.max(flat).as_py()))
        table = (
            pa.concat_tables(parts)
            if parts
            else pa.table(
                {"id": pa.array([], pa.string()), "n": pa.array([], pa.int64()), "group": pa.array([], pa.string())}
            )
        )
        ctx.write_table(f"lengths/{shard}.parquet", table)
        return {"docs": table.num_rows, "max_token_id": max_id}

    # phase 2: once, the plan for every split
    def _plan(self, ctx: Any, _unit: None) -> dict:
        p = self.params
        tables = [ctx.read_table(f"lengths/{s}.parquet") for s in ctx.shards]
        shard_of = np.concatenate([np.full(t.num_rows, i) for i, t in enumerate(tables)] or [np.zeros(0, int)])
        row_of = np.concatenate([np.arange(t.num_rows) for t in tables] or [np.zeros(0, int)])
        ids = [x for t in tables for x in t.column("id").to_pylist()]
        lengths = np.concatenate([t.column("n").to_numpy() for t in tables] or [np.zeros(0, np.int64)])
        is_valid = split_by_document(ids, p.valid_fraction, p.seed)
        max_id = max([s["max_token_id"] for s in ctx.summaries["lengths"].values()] + [p.pad_token_id])
        summary: dict[str, Any] = {
            "seq_len": p.seq_len,
            "strategy": p.strategy,
            "seed": p.seed,
            "dtype": np.dtype(token_dtype(max_id)).name,
            "pad_token_id": p.pad_token_id,
            "partitions": p.partitions,
            "splits": {},
        }
        plan_rows = []
        for split_index, split in enumerate(SPLITS):
            docs = np.flatnonzero(is_valid if split == "valid" else ~is_valid)
            rng = np.random.default_rng([p.seed, split_index])
            plan = make_plan(lengths[docs], p.seq_len, p.strategy, rng)
            global_doc = docs[plan.doc]
            bounds = partition_bounds(plan.n_sequences, p.partitions)
            partition = np.searchsorted(bounds, plan.seq, side="right") - 1
            plan_rows.append(
                pa.table(
                    {
                        "shard": shard_of[global_doc],
                        "row": row_of[global_doc],
                        "start": plan.start,
                        "length": plan.length,
                        "split": np.full(len(global_doc), split_index, np.int8),
                        "partition": partition,
                        "seq": plan.seq - bounds[partition],
                        "offset": plan.offset,
                    }
                )
            )
            summary["splits"][split] = {
                "documents": len(docs),
                "tokens": int(lengths[docs].sum()),
                "sequences": plan.n_sequences,
                "padding_tokens": plan.padding,
                "padding_fraction": round(plan.padding_fraction, 6),
                "split_documents": plan.split_documents(),
                "partition_sequences": np.diff(bounds).tolist(),
            }
        all_rows = pa.concat_tables(plan_rows)
        shard_column = all_rows.column("shard").to_numpy()
        for i, shard in enumerate(ctx.shards):
            ctx.write_table(f"plan/{shard}.parquet", all_rows.filter(pa.array(shard_column == i)).drop(["shard"]))
        ctx.write_file("pack.json", json.dumps(summary, indent=2).encode())
        return summary

    # phase 3: per shard, cut its documents into pieces and send each to its (split, partition)
    def _scatter(self, ctx: Any, shard: str) -> dict:
        plan = ctx.read_table(f"plan/{shard}.parquet")
        if plan is None or plan.num_rows == 0:
            return {"pieces": 0}
        table = ctx.read_input(shard, columns=["id", TOKENS_COLUMN])
        rows = plan.column("row").to_numpy()
        pieces = take_pieces(
            table.column(TOKENS_COLUMN), rows, plan.column("start").to_numpy(), plan.column("length").to_numpy()
        )
        out = plan.append_column("doc_id", table.column("id").cast(pa.string()).take(pa.array(rows))).append_column(
            TOKENS_COLUMN, pieces
        )
        key = pc.add(pc.multiply(out.column("split").cast(pa.int64()), self.params.partitions), out.column("partition"))
        for k in pc.unique(key).to_pylist():
            split, partition = SPLITS[k // self.params.partitions], k % self.params.partitions
            ctx.write_table(f"pieces/{split}-{partition:05d}/{shard}.parquet", out.filter(pc.equal(key, k)))
        return {"pieces": out.num_rows}

    # phase 4: per partition, assemble sequences and write the output files
    def _write(self, ctx: Any, partition: int) -> dict:
        plan = ctx.summaries["plan"][None]
        dtype = np.dtype(plan["dtype"]).type
        written = {}
        for split in SPLITS:
            n_seq = plan["splits"][split]["partition_sequences"][partition]
            if n_seq == 0:
                continue
            parts = [
                t
                for t in (ctx.read_table(f"pieces/{split}-{partition:05d}/{s}.parquet") for s in ctx.shards)
                if t is not None and t.num_rows
            ]
            pieces = pa.concat_tables(parts).combine_chunks()
            pieces = pieces.take(pc.sort_indices(pieces, [("seq", "ascending"), ("offset", "ascending")]))
            seq, offset = pieces.column("seq").to_numpy(), pieces.column("offset").to_numpy()
            tokens = pieces.column(TOKENS_COLUMN).combine_chunks()
            array = assemble(n_seq, self.params.seq_len, seq, offset, tokens, self.params.pad_token_id, dtype)
            prefix = f"{split}/part-{partition:05d}"
            self._write_files(ctx, prefix, array, seq, pieces)
            written[split] = n_seq
        return written

    def _write_files(self, ctx: Any, prefix: str, array: np.ndarray, seq: np.ndarray, pieces: pa.Table) -> None:
        fmt = self.params.format
        if fmt in ("megatron", "both"):
            lengths = np.full(len(array), array.shape[1], dtype=np.int32)
            ctx.write_file(f"{prefix}.idx", index_bytes(lengths, np.arange(len(array) + 1), array.dtype.type))
            ctx.write_file(f"{prefix}.bin", bin_bytes(array, array.dtype.type))
        if fmt in ("numpy", "both"):
            ctx.write_file(f"{prefix}.npy", _npy_bytes(array))
        seg_lens = pieces.column("length").to_numpy().astype(np.int32)
        seg_ptr = np.searchsorted(seq, np.arange(len(array) + 1), side="left").astype(np.int64)
        ctx.write_file(f"{prefix}.seg_lens.npy", _npy_bytes(seg_lens))
        ctx.write_file(f"{prefix}.seg_ptr.npy", _npy_bytes(seg_ptr))
        docs = pieces.select(["seq", "offset", "length", "doc_id", "start"]).rename_columns(
            ["seq", "offset", "length", "id", "doc_start"]
        )
        sink = pa.BufferOutputStream()
        import pyarrow.parquet as pq

        pq.write_table(docs, sink, compression="zstd")
        ctx.write_file(f"{prefix}.docs.parquet", sink.getvalue().to_pybytes())

    # phase 5: per shard, the documents (without tokens) with their split, and token accounting
    def _emit(self, ctx: Any, shard: str) -> None:
        plan = ctx.read_table(f"plan/{shard}.parquet")
        n_rows = ctx.read_table(f"lengths/{shard}.parquet").num_rows
        split_of = np.zeros(n_rows, dtype=np.int8)
        if plan is not None and plan.num_rows:
            split_of[plan.column("row").to_numpy()] = plan.column("split").to_numpy()
        if shard == ctx.shards[0]:
            summary = ctx.summaries["plan"][None]
            for split, s in summary["splits"].items():
                ctx.count(f"sequences:{split}", s["sequences"])
                ctx.count(f"padding_tokens:{split}", s["padding_tokens"])
                ctx.count(f"split_documents:{split}", s["split_documents"])

        def batches():
            done = 0
            for batch in ctx.iter_input(shard):
                labels = pa.array(np.asarray(SPLITS)[split_of[done : done + batch.num_rows]], pa.string())
                done += batch.num_rows
                group = token_group_column(batch)
                counts = batch.column(TOKEN_COUNT_COLUMN).cast(pa.int64())
                for split in SPLITS:
                    mask = pc.equal(labels, split)
                    ctx.count(f"tokens:{split}", int(pc.sum(counts.filter(mask)).as_py() or 0))
                    if group:
                        sub = (
                            pa.table(
                                {
                                    "g": batch.column(group).cast(pa.string()).fill_null("(none)").filter(mask),
                                    "n": counts.filter(mask),
                                }
                            )
                            .group_by("g")
                            .aggregate([("n", "sum")])
                        )
                        for g, n in zip(sub.column("g").to_pylist(), sub.column("n_sum").to_pylist(), strict=True):
                            ctx.count(f"tokens:{split}:{g}", int(n))
                yield batch.drop_columns([TOKENS_COLUMN]).append_column("pack_split", labels)

        ctx.emit(shard, batches())


def _require(batch: pa.Table, shard: str) -> None:
    missing = [c for c in (TOKENS_COLUMN, TOKEN_COUNT_COLUMN) if c not in batch.column_names]
    if missing:
        raise ValueError(f"pack: shard {shard!r} has no {missing} column(s); put a `tokenize` step before `pack`")


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()

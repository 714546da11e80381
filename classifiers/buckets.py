"""Global steps over score quantiles: ``quality_buckets`` (Nemotron-CC) and ``keep_top_fraction`` (DCLM).

Both sample the corpus the same way: every document gets a uniform number hashed from its id, each shard keeps its
``sample_size`` smallest, and a single reduce keeps the global ``sample_size`` smallest — an exact uniform sample
without replacement, the same for any shard layout and any rerun. Quantiles of the sample give the cut points;
a last pass over the shards applies them.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from curate.registry import register
from curate.stage import Params, Phase, Stage, StepOutput

from .selection import hash_uniform

_KEY = "_sample_key"


def _scores(table: pa.Table, column: str) -> np.ndarray:
    """A score column as float64, missing scores as -inf (they rank lowest)."""
    if column not in table.column_names:
        raise KeyError(
            f"score column {column!r} is not in the input (columns: {table.column_names}); "
            f"run the scoring step (fasttext_classifier / hf_classifier) before this one"
        )
    values = pc.fill_null(table.column(column).cast(pa.float64()), float("-inf"))
    return values.to_numpy(zero_copy_only=False)


class _QuantileStep(Stage):
    """Shared phases: per-shard bottom-k sample of the score columns, one global reduce to quantiles, then apply."""

    kind = "global"

    def score_columns(self) -> list[str]:
        raise NotImplementedError

    def quantile_points(self) -> list[float]:
        raise NotImplementedError

    def apply(self, table: pa.Table, edges: dict[str, list[float]]) -> pa.Table | StepOutput:
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        return [
            Phase("sample", "shards", self._sample),
            Phase("quantiles", "once", self._quantiles),
            Phase("apply", "shards", self._apply),
        ]

    def _sample(self, ctx, shard: str) -> dict:
        columns = self.score_columns()
        try:
            table = ctx.read_input(shard, ["id", *columns])
        except KeyError as exc:
            raise KeyError(
                f"{self.name}: score columns {columns} are not all in the input ({exc}); run the scoring "
                f"step (fasttext_classifier / hf_classifier) before this one"
            ) from exc
        keys = hash_uniform(table.column("id").to_pylist(), self.params.seed)
        k = min(self.params.sample_size, table.num_rows)
        pick = np.argpartition(keys, k - 1)[:k] if 0 < k < table.num_rows else np.arange(table.num_rows)
        sample = pa.table({_KEY: pa.array(keys[pick]), **{c: pa.array(_scores(table, c)[pick]) for c in columns}})
        ctx.write_table(f"samples/{shard}.parquet", sample)
        return {"rows": int(table.num_rows), "sampled": int(k)}

    def _quantiles(self, ctx, _unit) -> dict:
        parts = [ctx.read_table(path) for path in ctx.list_work("samples/") if path.endswith(".parquet")]
        parts = [p for p in parts if p is not None and p.num_rows]
        if not parts:
            return {"edges": {c: [] for c in self.score_columns()}, "sampled": 0}
        sample = pa.concat_tables(parts)
        keys = sample.column(_KEY).to_numpy()
        k = min(self.params.sample_size, len(keys))
        keep = np.argpartition(keys, k - 1)[:k] if k < len(keys) else np.arange(len(keys))
        points = self.quantile_points()
        edges = {}
        for column in self.score_columns():
            values = sample.column(column).to_numpy()[keep]
            finite = values[np.isfinite(values)]
            edges[column] = np.quantile(finite, points).tolist() if len(finite) else []
        return {"edges": edges, "sampled": int(k)}

    def _apply(self, ctx, shard: str) -> None:
        edges = ctx.summaries["quantiles"][None]["edges"]
        ctx.emit(shard, (self.apply(batch, edges) for batch in ctx.iter_input(shard)))


@register
class QualityBuckets(_QuantileStep):
    """Integer quality bucket per document from score percentiles, ensembled over scorers (Nemotron-CC).

    Nemotron-CC scores every document with three classifiers, turns each score into one of 20 buckets by its
    percentile in the corpus, and takes the maximum over the classifiers as the document's quality bucket (0 =
    lowest, 19 = highest); that bucket then drives mixing and rephrasing. Here ``scores`` lists the score columns
    (from fasttext_classifier / hf_classifier steps), ``buckets`` their number, ``ensemble`` max (Nemotron-CC) or
    mean. Percentiles come from a hashed uniform sample of ``sample_size`` documents. Adds ``<column>`` (int32),
    and ``<score>_bucket`` per score with ``per_score_columns``. ``min_bucket`` removes documents below it.
    """

    name = "quality_buckets"
    adds = ("<column>",)
    version = 1

    class Params(Params):
        scores: list[str] = Field(default_factory=list, description="score columns to bucket (higher = better)")
        buckets: int = Field(20, ge=2, description="number of buckets (Nemotron-CC: 20)")
        ensemble: Literal["max", "mean"] = Field(
            "max", description="combine per-score buckets: max (Nemotron-CC) or rounded-down mean"
        )
        column: str = Field("quality_bucket", description="bucket column (int32, 0 = lowest)")
        per_score_columns: bool = Field(False, description="also add <score>_bucket for every score")
        min_bucket: int | None = Field(None, ge=0, description="remove documents whose bucket is below this")
        sample_size: int = Field(100_000, ge=1, description="documents sampled for the percentiles")
        seed: int = Field(0, description="seed of the hashed sample")

        @model_validator(mode="after")
        def _bucket_exists(self) -> QualityBuckets.Params:
            if self.min_bucket is not None and self.min_bucket >= self.buckets:
                raise ValueError(
                    f"min_bucket {self.min_bucket} is not a bucket (0 to {self.buckets - 1}): nothing could pass"
                )
            return self

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        p = self.params
        self.adds = (p.column, *(f"{c}_bucket" for c in p.scores if p.per_score_columns))

    def input_columns(self) -> set[str]:
        return set(self.params.scores)

    def score_columns(self) -> list[str]:
        if not self.params.scores:
            raise ValueError(
                "quality_buckets: list the score columns to bucket, e.g. scores: [fasttext_score, edu_score]"
            )
        return list(self.params.scores)

    def quantile_points(self) -> list[float]:
        b = self.params.buckets
        return [i / b for i in range(1, b)]

    def apply(self, table: pa.Table, edges: dict[str, list[float]]) -> pa.Table | StepOutput:
        p = self.params
        per_score = {
            c: np.searchsorted(np.asarray(edges[c]), _scores(table, c), side="right").astype(np.int32) for c in p.scores
        }
        stacked = np.vstack(list(per_score.values())) if per_score else np.zeros((1, table.num_rows), np.int32)
        bucket = stacked.max(axis=0) if p.ensemble == "max" else stacked.mean(axis=0).astype(np.int32)
        bucket = bucket.astype(np.int32)
        if p.per_score_columns:
            for c, values in per_score.items():
                table = table.append_column(f"{c}_bucket", pa.array(values, pa.int32()))
        table = table.append_column(p.column, pa.array(bucket, pa.int32()))
        if p.min_bucket is None:
            return table
        reasons = np.where(bucket < p.min_bucket, f"{self.name}_below_min_bucket", None)
        return StepOutput.split(table, pa.array(reasons.tolist(), pa.string()))


@register
class KeepTopFraction(_QuantileStep):
    """Keep the documents whose score is in the top ``fraction`` of the corpus (DCLM keeps the top 10% by its
    fastText OH-ELI5 ``hq`` probability).

    The cut is the ``1 - fraction`` quantile of a hashed uniform sample of ``sample_size`` documents; documents
    scoring below it are removed (``keep_top_fraction_below_cut``). Put it after the step that adds ``column``.
    """

    name = "keep_top_fraction"
    adds = ()
    version = 1

    class Params(Params):
        column: str = Field("fasttext_score", description="score column (higher = better)")
        fraction: float = Field(0.1, gt=0.0, le=1.0, description="share of documents kept (DCLM: 0.1)")
        sample_size: int = Field(100_000, ge=1, description="documents sampled for the quantile")
        seed: int = Field(0, description="seed of the hashed sample")

    def input_columns(self) -> set[str]:
        return {self.params.column}

    def score_columns(self) -> list[str]:
        return [self.params.column]

    def quantile_points(self) -> list[float]:
        return [1.0 - self.params.fraction]

    def apply(self, table: pa.Table, edges: dict[str, list[float]]) -> pa.Table | StepOutput:
        cut = edges[self.params.column]
        scores = _scores(table, self.params.column)
        below = scores < cut[0] if cut else np.zeros(table.num_rows, dtype=bool)
        reasons = np.where(below, f"{self.name}_below_cut", None)
        return StepOutput.split(table, pa.array(reasons.tolist(), pa.string()))

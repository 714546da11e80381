"""``mix``: domain mixing and upsampling — target shares per group under a token budget, or fixed repetition.

Groups are the values of one or more columns (``domain``, ``language``, ``quality_bucket``, a binned
``cluster_size`` …). Two ways to say what the output should hold:

* ``weights`` — each group's share of the output's size (tokens when a ``token_count`` column exists, else
  characters), with an optional ``total``. Without ``total`` the output is the largest one in which every group has
  its share and no group is repeated more than ``max_repeat`` times (Muennighoff et al. 2023, "Scaling
  Data-Constrained Language Models": up to ~4 epochs of repeated data are almost as useful as fresh data).
* ``repeat`` — a fixed factor per group (Nemotron-CC repeats its high-quality buckets and drops the lowest; FineWeb2
  "rehydrates" deduplicated data by upsampling documents according to their duplicate-cluster size, binned 1, 2, 3,
  4, 5-99, 100-999, 1000+: ``by: cluster_size, bins: [1, 2, 3, 4, 5, 100, 1000]``).

Phases: ``sizes`` counts documents and size per group in every shard; ``plan`` turns the totals into one factor
per group; ``apply`` gives each document ``floor(f)`` copies plus one more with probability ``frac(f)``, the draw a
hash of (seed, document id) — so a rerun, a resumed run or a different shard layout writes exactly the same
documents. Copies are written next to each other with a ``mix_copy`` index (0 for the first); shuffle when
packing. The ``rows_added`` counter says how many copies beyond the first were written. Removed documents carry
``mix_not_selected`` (their group has no weight) or ``mix_subsampled``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator, model_validator

from curate.classifiers.selection import hash_uniform
from curate.registry import register
from curate.stage import ROWS_ADDED, Params, Phase, Stage, StepOutput
from curate.stages.languages import best_match, language_key, match_rank

COPY_COLUMN = "mix_copy"
OTHERS = "*"
NULL_GROUP = "null"


def _key(value: Any) -> str:
    """A group value as the string recipes name it (YAML may give 12, 12.0, True or "12")."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


#: group columns whose values are language codes: recipes may name them in any form (en, eng, eng_Latn)
LANGUAGE_COLUMNS = ("language",)


def _parts(key: str, by: list[str]) -> list[str]:
    return key.split("/") if len(by) > 1 else [key]


def _canonical(key: str, by: list[str]) -> str:
    """A group key with its language parts in canonical form (``en/high`` -> ``eng/high``)."""
    parts = _parts(key, by)
    if key == OTHERS or len(parts) != len(by):
        return key
    return "/".join(language_key(v) if c in LANGUAGE_COLUMNS else v for c, v in zip(by, parts, strict=True))


def key_for(group: str, keys: list[str], by: list[str]) -> str | None:
    """The key of ``weights``/``repeat`` that names a data group: the same string, else (for a ``language`` column)
    the key naming the same language, the closest first (:func:`curate.stages.languages.match_rank`: ``eng`` and
    ``eng_Latn`` data both find an ``en`` key); None when no key names it (``*`` then applies)."""
    if group in keys:
        return group
    languages = [i for i, column in enumerate(by) if column in LANGUAGE_COLUMNS]
    if not languages:
        return None
    if len(by) == 1:
        return best_match(group, [k for k in keys if k != OTHERS])
    parts = _parts(group, by)
    best: tuple[int, str] | None = None
    for key in keys:
        candidate = _parts(key, by)
        if key == OTHERS or len(candidate) != len(parts):
            continue
        rank = 0
        for i, (value, wanted) in enumerate(zip(parts, candidate, strict=True)):
            step = (0 if value == wanted else _language_rank(value, wanted)) if i in languages else None
            if step is None and value != wanted:
                break
            rank += step or 0
        else:
            if best is None or rank < best[0]:
                best = (rank, key)
    return best[1] if best else None


def _language_rank(a: str, b: str) -> int | None:
    try:
        return match_rank(a, b)
    except ValueError:  # a value that is not a language code matches only itself
        return None


class MixPlanError(ValueError):
    """The recipe's mixing targets cannot be met by the data (a weighted group with no documents, …)."""


@register
class Mix(Stage):
    """Domain mixing / upsampling: hit target shares per group (a domain, language, quality bucket or any column)
    under a size budget, or apply fixed repetition factors, deterministically.

    Defaults: ``max_repeat`` 4 (Muennighoff et al. 2023: up to ~4 epochs of repeated data lose almost nothing);
    sizes in tokens when ``token_count`` exists. The plan (available size, factor, expected output and share per
    group) is the ``plan`` phase's summary in the run's stats and report. See the module docstring for the model.
    """

    name = "mix"
    kind = "global"
    adds = (COPY_COLUMN,)
    version = 1

    class Params(Params):
        by: list[str] = Field(
            default_factory=list,
            description="group column(s); several make a joint key 'a/b' (e.g. [language, quality_bucket])",
        )
        bins: list[float] | None = Field(
            None,
            description="cut a single numeric `by` column into ranges at these "
            "edges: [1, 2, 5, 100] -> '<1', '1', '2-4', '5-99', '100+'",
        )
        weights: dict[str, float] | None = Field(
            None, description="target share of the output size per group ('*': every group not listed)"
        )
        repeat: dict[str, float] | None = Field(
            None, description="fixed copies per group, fractions sample (0 drops; '*': every group not listed, else 1)"
        )
        total: float | None = Field(
            None,
            gt=0,
            description="output size to reach with `weights` (same unit as "
            "`size`); default: the largest within max_repeat",
        )
        max_repeat: float = Field(4.0, gt=0, description="most copies of any group's data (weights mode)")
        size: Literal["auto", "tokens", "chars", "docs"] = Field(
            "auto",
            description="what shares measure: tokens (token_count column), chars (text length), docs; "
            "auto: tokens when token_count exists, else chars",
        )
        seed: int = Field(0, description="seed of the per-document draws")

        @field_validator("by", mode="before")
        @classmethod
        def _one_or_many(cls, value: Any) -> Any:
            return [value] if isinstance(value, str) else value

        @field_validator("weights", "repeat", mode="before")
        @classmethod
        def _string_keys(cls, value: Any) -> Any:
            return {_key(k): v for k, v in value.items()} if isinstance(value, dict) else value

        @model_validator(mode="after")
        def _one_mode(self) -> Mix.Params:
            if not self.by:
                raise ValueError("name the group column(s) in `by`, e.g. by: quality_bucket")
            if (self.weights is None) == (self.repeat is None):
                raise ValueError("give exactly one of `weights` (target shares) or `repeat` (fixed factors)")
            if self.bins is not None and (len(self.by) != 1 or sorted(self.bins) != self.bins or not self.bins):
                raise ValueError("`bins` needs one `by` column and increasing edges, e.g. [1, 2, 5, 100]")
            factors = self.weights if self.weights is not None else self.repeat
            bad = {k: v for k, v in factors.items() if not (v >= 0 and math.isfinite(v))}
            if bad:
                raise ValueError(f"weights and repeat factors must be finite and >= 0; got {bad}")
            if self.weights is not None and not any(v > 0 for v in self.weights.values()):
                raise ValueError("at least one group needs a weight above 0")
            if self.total is not None and self.weights is None:
                raise ValueError("`total` applies to `weights`; with `repeat` the output size follows the factors")
            canonical: dict[str, list[str]] = defaultdict(list)
            for key in factors:
                canonical[_canonical(key, self.by)].append(key)
            twice = [keys for keys in canonical.values() if len(keys) > 1]
            if twice:
                raise ValueError(f"keys {twice} name the same group (language codes in any form are one language)")
            return self

    def phases(self) -> list[Phase]:
        return [
            Phase("sizes", "shards", self._sizes),
            Phase("plan", "once", self._plan),
            Phase("apply", "shards", self._apply),
        ]

    # -- groups and sizes ------------------------------------------------------------------------------------
    def input_columns(self) -> set[str]:
        return set(self.params.by)

    def groups(self, table: pa.Table) -> list[str]:
        """Each row's group key."""
        p = self.params
        self._check_columns(table.column_names)
        if p.bins is not None:
            return _binned(table.column(p.by[0]), p.bins)
        parts = [[NULL_GROUP if v is None else _key(v) for v in table.column(c).to_pylist()] for c in p.by]
        return ["/".join(vals) for vals in zip(*parts, strict=True)] if len(parts) > 1 else parts[0]

    def _check_columns(self, columns: list[str]) -> None:
        missing = [c for c in self.params.by if c not in columns]
        if missing:
            raise KeyError(
                f"mix: group column(s) {missing} are not in the input (columns: {columns}); add the step "
                f"that writes them before `mix`, or fix `by`"
            )

    def sizes(self, table: pa.Table) -> np.ndarray:
        """Each row's size in the unit shares are measured in."""
        unit = self._unit(table.column_names)
        if unit == "docs":
            return np.ones(table.num_rows, np.float64)
        if unit == "tokens":
            return pc.fill_null(table.column("token_count"), 0).to_numpy(zero_copy_only=False).astype(np.float64)
        return pc.fill_null(pc.utf8_length(table.column("text")), 0).to_numpy(zero_copy_only=False).astype(np.float64)

    def _unit(self, columns: list[str]) -> str:
        size = self.params.size
        if size == "auto":
            return "tokens" if "token_count" in columns else "chars"
        if size == "tokens" and "token_count" not in columns:
            raise KeyError("mix: size: tokens needs a token_count column; run `tokenize` first or use size: chars")
        return size

    # -- phase 1: per shard, documents and size per group ----------------------------------------------------
    def _sizes(self, ctx: Any, shard: str) -> dict:
        schema = ctx.input_schema(shard)
        docs: dict[str, int] = defaultdict(int)
        size: dict[str, float] = defaultdict(float)
        if schema is None:  # an empty shard
            return {"docs": {}, "size": {}, "unit": None}
        self._check_columns(schema.names)
        unit = self._unit(schema.names)
        needs = {"tokens": ["token_count"], "chars": ["text"], "docs": []}[unit]
        wanted = [c for c in [*self.params.by, *needs] if c in schema.names]
        for batch in ctx.iter_input(shard, wanted):
            for group, n in zip(self.groups(batch), self.sizes(batch).tolist(), strict=True):
                docs[group] += 1
                size[group] += n
        return {"docs": dict(docs), "size": dict(size), "unit": unit}

    # -- phase 2: once, a factor per group ------------------------------------------------------------------
    def _plan(self, ctx: Any, _unit: None) -> dict:
        docs: dict[str, int] = defaultdict(int)
        size: dict[str, float] = defaultdict(float)
        units = set()
        for summary in ctx.summaries["sizes"].values():
            for g, n in summary["docs"].items():
                docs[g] += n
            for g, n in summary["size"].items():
                size[g] += n
            if summary["docs"]:
                units.add(summary["unit"])
        if len(units) > 1:
            raise MixPlanError(
                f"mix: shards measure size in different units {sorted(units)} (some have a "
                f"token_count column, some not); set `size` explicitly or tokenize every shard"
            )
        return plan_mix(self.params, dict(docs), dict(size), units.pop() if units else "docs")

    # -- phase 3: per shard, copies ---------------------------------------------------------------------------
    def _apply(self, ctx: Any, shard: str) -> None:
        factors = ctx.summaries["plan"][None]["factors"]
        ctx.emit(shard, (self.apply(batch, factors) for batch in ctx.iter_input(shard)))

    def apply(self, table: pa.Table, factors: dict[str, float]) -> StepOutput:
        """Repeat / subsample ``table``'s rows by their group's factor (see the module docstring)."""
        groups = self.groups(table)
        f = np.array([factors.get(g, 0.0) for g in groups], np.float64)
        ids = table.column("id").to_pylist() if "id" in table.column_names else [str(i) for i in range(len(f))]
        u = hash_uniform([f"mix:{i}" for i in ids], self.params.seed)  # salted: independent of other steps' draws
        copies = np.floor(f).astype(np.int64) + (u < f - np.floor(f))
        reasons = np.where(copies > 0, None, np.where(f > 0, "mix_subsampled", "mix_not_selected"))
        rows = np.repeat(np.arange(table.num_rows), copies)
        kept = table.take(pa.array(rows, pa.int64()))
        starts = np.cumsum(copies) - copies
        copy_index = np.arange(len(rows), dtype=np.int64) - np.repeat(starts, copies)
        kept = kept.append_column(COPY_COLUMN, pa.array(copy_index.astype(np.int32), pa.int32()))
        dropped = table.filter(pa.array(copies == 0))
        rejected = None
        if dropped.num_rows:
            rejected = dropped.append_column("reason", pa.array(reasons[copies == 0].tolist(), pa.string()))
        extra = int(copies.sum() - np.count_nonzero(copies))
        return StepOutput(kept, rejected, {ROWS_ADDED: extra} if extra else {})


def _binned(column: pa.ChunkedArray | pa.Array, edges: list[float]) -> list[str]:
    """Range labels for a numeric column: edges [1, 2, 5] give '<1', '1', '2-4', '5+' (integer ranges written
    inclusively, as cluster sizes read)."""
    values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    slot = np.searchsorted(np.asarray(edges, np.float64), values, side="right")
    labels = ["<" + _key(edges[0])]
    for lo, hi in zip(edges, edges[1:], strict=False):
        integral = float(lo).is_integer() and float(hi).is_integer()
        if integral and hi - lo == 1:
            labels.append(_key(lo))
        elif integral:
            labels.append(f"{_key(lo)}-{_key(hi - 1)}")
        else:
            labels.append(f"{_key(lo)}-{_key(hi)}")
    labels.append(_key(edges[-1]) + "+")
    return [NULL_GROUP if np.isnan(v) else labels[s] for v, s in zip(values.tolist(), slot.tolist(), strict=True)]


def plan_mix(p: Mix.Params, docs: dict[str, int], size: dict[str, float], unit: str) -> dict:
    """One factor per group from the corpus totals, and what the output will hold (the ``plan`` summary).

    A key of ``weights``/``repeat`` names the data groups :func:`key_for` finds for it (``en`` names ``eng``); a
    weighted key's share goes to all of its groups together."""
    groups = sorted(docs)
    given = p.repeat if p.repeat is not None else p.weights
    keyed = {g: key_for(g, list(given), p.by) for g in groups}
    unit_of = {g: keyed[g] or g for g in groups}  # what a share is given to: a key, or an unlisted group
    target: dict[str, float] = {}
    if p.repeat is not None:
        factors = {g: p.repeat[keyed[g]] if keyed[g] else p.repeat.get(OTHERS, 1.0) for g in groups}
        capped: list[str] = []
    else:
        unit_size: dict[str, float] = defaultdict(float)
        for g in groups:
            unit_size[unit_of[g]] += size[g]
        weights = {u: p.weights.get(u, p.weights.get(OTHERS, 0.0)) for u in unit_size}
        empty = sorted(k for k, w in p.weights.items() if k != OTHERS and w > 0 and unit_size.get(k, 0) <= 0)
        if empty:
            raise MixPlanError(
                f"mix: weighted group(s) {empty} have no data in the input (groups found: "
                f"{groups[:20]}); remove them from `weights` or check `by`/`bins`"
            )
        live = {u: w for u, w in weights.items() if w > 0}
        total_weight = sum(live.values())
        shares = {u: w / total_weight for u, w in live.items()}
        budget = p.total if p.total is not None else min(p.max_repeat * unit_size[u] / s for u, s in shares.items())
        unit_factor = {u: (budget * shares[u] / unit_size[u] if u in shares else 0.0) for u in unit_size}
        capped = sorted(u for u, f in unit_factor.items() if f > p.max_repeat)
        target = shares
        factors = {g: min(unit_factor[unit_of[g]], p.max_repeat) for g in groups}
    out_size = {g: factors[g] * size[g] for g in groups}
    out_total = sum(out_size.values()) or 1.0
    unit_out: dict[str, float] = defaultdict(float)
    for g in groups:
        unit_out[unit_of[g]] += out_size[g]
    warnings = []
    if capped:
        shares = ", ".join(f"{u} {unit_out[u] / out_total:.1%} (target {target[u]:.1%})" for u in capped)
        warnings.append(
            f"group(s) {capped} would need more than max_repeat={p.max_repeat:g} copies to reach their "
            f"share of total={p.total:g}; capped, so they get {shares} of the output: lower `total`, "
            f"raise `max_repeat`, or give them less weight"
        )
    return {
        "unit": unit,
        "factors": factors,
        "groups": {
            g: {
                "docs": docs[g],
                "size": size[g],
                "factor": round(factors[g], 6),
                "expected_size": round(out_size[g], 1),
                "share": round(out_size[g] / out_total, 6),
                **({"key": keyed[g]} if keyed[g] not in (None, g) else {}),
            }
            for g in groups
        },
        "expected_total": round(sum(out_size.values()), 1),
        "capped_at_max_repeat": capped,
        "warnings": warnings,
    }

"""Per-step statistics: documents and bytes in/out, removals by reason, counters, CPU time, samples and value
distributions. Collected per shard (stored in its ``_done`` marker), merged per step into ``OUT/_stats.json``.

Samples and distributions are small by construction (a few documents per reason, a bounded strided subsample of
values) so the report can be built from stats alone, never by reading the corpus.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SAMPLES_PER_KIND = 3
EXCERPT_CHARS = 400
VALUES_PER_SHARD = 1000
VALUES_PER_STEP = 5000
CATEGORIES_KEPT = 50
#: document columns every step carries: never summarised as distributions (texts and ids are unique per row)
CORE_COLUMNS = frozenset({"id", "text", "url", "date", "source"})
#: columns whose distribution every step records once they exist (not only the step that adds them), so the
#: report can show, e.g., the languages of the output after every filter and dedup
TRACKED_COLUMNS = ("language",)


@dataclass
class StepStats:
    """Counts for one step over one shard, or merged over many."""

    docs_in: int = 0
    docs_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    shards: int = 0
    shards_skipped: int = 0
    samples: dict[str, Any] = field(default_factory=lambda: {"kept": [], "removed": {}})
    distributions: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The stats as plain data (what markers and ``_stats.json`` hold): equal to ``dataclasses.asdict(self)``,
        keys in field order, built field by field. Containers are copied, so the dict never aliases the stats, but
        their strings and numbers are not deep-copied one by one (``asdict`` did, a deep copy per sampled value: a
        noticeable share of a global step's CPU)."""
        return {
            "docs_in": self.docs_in,
            "docs_out": self.docs_out,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "removed": dict(self.removed),
            "counters": dict(self.counters),
            "cpu_seconds": self.cpu_seconds,
            "wall_seconds": self.wall_seconds,
            "shards": self.shards,
            "shards_skipped": self.shards_skipped,
            "samples": _plain_copy(self.samples),
            "distributions": _plain_copy(self.distributions),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepStats:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    # -- accumulation ------------------------------------------------------------------------------------------
    @staticmethod
    def add_counts(target: dict[str, int], counts: dict[str, int]) -> None:
        for key, n in counts.items():
            target[key] = target.get(key, 0) + int(n)

    def observe_kept(self, table: pa.Table, columns: tuple[str, ...]) -> None:
        """Record a few kept samples and the distributions of text length and of ``columns``."""
        if table.num_rows == 0:
            return
        kept = self.samples["kept"]
        if len(kept) < SAMPLES_PER_KIND:
            kept.extend(_sample_rows(table, SAMPLES_PER_KIND - len(kept)))
        if "text" in table.column_names:
            self._observe_values("length_chars", pc.utf8_length(table.column("text")))
        for name in dict.fromkeys([*columns, *TRACKED_COLUMNS]):
            if name in table.column_names and name not in CORE_COLUMNS:
                self._observe_values(name, table.column(name))

    def observe_rejected(self, table: pa.Table | None) -> None:
        if table is None or table.num_rows == 0:
            return
        removed = self.samples["removed"]
        for reason in pc.unique(table.column("reason")).to_pylist():
            have = removed.setdefault(reason, [])
            if len(have) < SAMPLES_PER_KIND:
                rows = table.filter(pc.equal(table.column("reason"), reason))
                have.extend(_sample_rows(rows, SAMPLES_PER_KIND - len(have)))

    def _observe_values(self, name: str, column: pa.ChunkedArray | pa.Array) -> None:
        dtype = column.type
        if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_boolean(dtype):
            entry = self.distributions.setdefault(name, {"kind": "numeric", "values": []})
            values = [v for v in column.drop_null().to_pylist()]
            entry["values"] = _strided(entry["values"] + [float(v) for v in values], VALUES_PER_SHARD)
        elif pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_dictionary(dtype):
            entry = self.distributions.setdefault(name, {"kind": "categorical", "counts": {}})
            for item in pc.value_counts(column.drop_null()).to_pylist():
                entry["counts"][str(item["values"])] = entry["counts"].get(str(item["values"]), 0) + item["counts"]

    # -- merging -----------------------------------------------------------------------------------------------
    def merge(self, other: StepStats) -> None:
        for name in ("docs_in", "docs_out", "bytes_in", "bytes_out", "shards", "shards_skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.cpu_seconds += other.cpu_seconds
        self.wall_seconds += other.wall_seconds
        self.add_counts(self.removed, other.removed)
        self.add_counts(self.counters, other.counters)
        kept = self.samples.setdefault("kept", [])
        kept.extend(other.samples.get("kept", [])[: max(0, SAMPLES_PER_KIND - len(kept))])
        for reason, rows in other.samples.get("removed", {}).items():
            have = self.samples.setdefault("removed", {}).setdefault(reason, [])
            have.extend(rows[: max(0, SAMPLES_PER_KIND - len(have))])
        for name, dist in other.distributions.items():
            mine = self.distributions.get(name)
            if mine is None:
                self.distributions[name] = {
                    k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
                    for k, v in dist.items()
                }
            elif dist["kind"] == "numeric":
                mine["values"] = _strided_join(mine["values"], dist["values"], VALUES_PER_STEP)
            else:
                self.add_counts(mine["counts"], dist["counts"])
        for dist in self.distributions.values():
            if dist["kind"] == "categorical" and len(dist["counts"]) > CATEGORIES_KEPT:
                top = sorted(dist["counts"].items(), key=lambda kv: (-kv[1], kv[0]))
                dist["counts"] = dict(top[:CATEGORIES_KEPT])
                dist["counts"]["(other)"] = dist["counts"].get("(other)", 0) + sum(n for _, n in top[CATEGORIES_KEPT:])


def merge_all(stats: Iterable[StepStats]) -> StepStats:
    """``stats`` merged one after the other (any iterable: a driver streams 100,000 shards' stats through). Numeric
    values stay arrays between merges, which picks the same values as merging lists, ~10x faster."""
    total = StepStats()
    for s in stats:
        total.merge(s)
        for dist in total.distributions.values():
            if dist["kind"] == "numeric" and isinstance(dist["values"], list):
                dist["values"] = np.asarray(dist["values"], dtype=np.float64)
    for dist in total.distributions.values():
        if isinstance(dist.get("values"), np.ndarray):
            dist["values"] = dist["values"].tolist()
    return total


#: values :func:`_plain_copy` keeps as they are (immutable: a deep copy of one is the value itself)
_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def _plain_copy(value: Any) -> Any:
    """``value`` with its dicts, lists and tuples copied (the copy ``dataclasses.asdict`` makes of a field), and
    strings and numbers kept as they are; anything else is deep-copied, as ``asdict`` does."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        return {k: v if type(v) in _IMMUTABLE else _plain_copy(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _IMMUTABLE else _plain_copy(v) for v in value]
    if kind is tuple:
        return tuple(_plain_copy(v) for v in value)
    return copy.deepcopy(value)


def _strided_join(mine: list[float] | np.ndarray, more: list[float], limit: int) -> list[float] | np.ndarray:
    """``_strided(mine + more, limit)``; an array when ``mine`` is one (inside :func:`merge_all`)."""
    if not isinstance(mine, np.ndarray):
        return _strided(mine + more, limit)
    joined = np.concatenate([mine, np.asarray(more, dtype=np.float64)])
    return joined if len(joined) <= limit else joined[_stride_index(len(joined), limit)]


@lru_cache(maxsize=64)
def _stride_index(n: int, limit: int) -> np.ndarray:
    """The positions :func:`_strided` picks from ``n`` values (computed the same way, so the same ones)."""
    step = n / limit
    return np.array([int(i * step) for i in range(limit)], dtype=np.intp)


def _strided(values: list[float], limit: int) -> list[float]:
    if len(values) <= limit:
        return values
    step = len(values) / limit
    return [values[int(i * step)] for i in range(limit)]


def _sample_rows(table: pa.Table, n: int) -> list[dict[str, Any]]:
    """Up to ``n`` rows spread evenly over the table (not just its first rows)."""
    rows = []
    count = min(n, table.num_rows)
    for i in sorted({k * table.num_rows // count for k in range(count)}):
        row = {"id": _cell(table, "id", i), "url": _cell(table, "url", i)}
        text = _cell(table, "text", i)
        row["excerpt"] = text[:EXCERPT_CHARS] if isinstance(text, str) else None
        if "reason" in table.column_names:
            row["reason"] = _cell(table, "reason", i)
        rows.append(row)
    return rows


def _cell(table: pa.Table, column: str, i: int) -> Any:
    return table.column(column)[i].as_py() if column in table.column_names else None

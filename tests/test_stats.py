"""``StepStats.to_dict``: the same data, keys and JSON bytes as ``dataclasses.asdict`` (what it replaced), without
aliasing the stats it came from."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pyarrow as pa

from curate.stats import StepStats, merge_all


def _shard_stats(seed: int) -> StepStats:
    """One shard's stats as a step makes them: kept and removed samples, numeric, boolean and categorical
    distributions, counters."""
    rng = np.random.default_rng(seed)
    n = 1500
    kept = pa.table(
        {
            "id": [f"{seed}/{i}" for i in range(n)],
            "text": ["word " * int(k) for k in rng.integers(1, 60, n)],
            "url": [f"https://example.org/{seed}/{i}" for i in range(n)],
            "score": rng.random(n),
            "flag": rng.random(n) > 0.5,
            "language": rng.choice(["en", "de", "fr", "ja"], n).tolist(),
        }
    )
    rejected = kept.slice(0, 40).append_column("reason", pa.array(["short"] * 20 + ["spam"] * 20))
    stats = StepStats(docs_in=n + 40, docs_out=n, bytes_in=10 * n, bytes_out=9 * n, shards=1, cpu_seconds=0.25)
    stats.observe_kept(kept, ("score", "flag"))
    stats.observe_rejected(rejected)
    stats.add_counts(stats.removed, {"short": 20, "spam": 20})
    stats.add_counts(stats.counters, {"duplicate_spans": seed})
    return stats


def test_to_dict_equals_asdict_byte_for_byte() -> None:
    for stats in [StepStats(), _shard_stats(1), merge_all(_shard_stats(s) for s in range(6))]:
        got, want = stats.to_dict(), dataclasses.asdict(stats)
        assert got == want
        assert list(got) == [f.name for f in dataclasses.fields(StepStats)]  # a new field must be added to to_dict
        assert json.dumps(got, indent=2) == json.dumps(want, indent=2)  # what markers and _stats.json hold
        assert StepStats.from_dict(got).to_dict() == want


def test_to_dict_is_a_copy() -> None:
    stats = _shard_stats(2)
    before = dataclasses.asdict(stats)
    d = stats.to_dict()
    d["removed"]["short"] = 0
    d["counters"].clear()
    d["samples"]["kept"][0]["excerpt"] = "changed"
    d["samples"]["removed"]["spam"].clear()
    d["distributions"]["score"]["values"].append(-1.0)
    d["distributions"]["language"]["counts"]["en"] = -1
    assert dataclasses.asdict(stats) == before

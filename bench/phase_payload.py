"""What a global step's phase ships to each of its units, before and after the phase's shared part went to the
executor once (``Executor.run(..., shared=PhaseJob)``).

A synthetic phase over ``--shards`` shards (default 20,000 and 100,000): every input file (an S3 URI, size and
mtime as Common Crawl's WARC paths have them) and one earlier phase's summary per shard (two integers), i.e. what
``PhaseContext`` holds in the second phase of a dedup step. No shard is read.

* before: each unit's payload held the whole context (the old ``PhaseTask``: context, step, phase, run id, unit),
  so a phase over ``n`` shards pickled ``n`` copies of something ``n`` long: the same bytes as
  ``(PhaseJob, PhaseTask)`` pickled together, which is what is measured.
* after: each unit's payload is its ``PhaseTask`` (unit, shard fingerprint); the ``PhaseJob`` is pickled once per
  phase (Ray: ``ray.put`` once, read once per worker process).

Bytes and seconds are ``cloudpickle.dumps`` (what Ray pickles arguments with), the median of ``--repeat`` units.
With ``--ray-units U`` the phase also runs on a local Ray instance both ways (a no-op unit that reads the context),
``U`` units at the smallest ``--shards``, and the driver's wall seconds per unit are printed.

Usage: .venv/bin/python bench/phase_payload.py [--shards 20000 100000] [--repeat 5] [--ray-units 0]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import cloudpickle

from curate.executors.base import Task
from curate.io import InputFile
from curate.plan import StepSpec
from curate.stage import Resources
from curate.stages.dedup import ParagraphDedup
from curate.units import PhaseContext, PhaseJob, PhaseTask


def synthetic_job(n: int) -> PhaseJob:
    """The second phase of a paragraph dedup step over ``n`` shards: every input file, the first phase's summaries."""
    shards = [f"CC-MAIN-2024-10-{i // 1000:05d}-{i:06d}" for i in range(n)]
    files = {
        s: InputFile(
            f"s3://commoncrawl/crawl-data/CC-MAIN-2024-10/segments/{i // 1000:05d}/warc/{s}.warc.gz",
            s,
            1_073_741_824 + i,
            1.7e9 + i,
        )
        for i, s in enumerate(shards)
    }
    summaries = {"spans": {s: {"docs": 1000 + i, "bytes": 4_000_000 + i} for i, s in enumerate(shards)}}
    context = PhaseContext("s3://bucket/out", "paragraph_dedup", "f" * 64, "filter", files, shards, summaries, False)
    spec = StepSpec("paragraph_dedup", 1, ParagraphDedup, {"partitions": 16}, {})
    return PhaseJob(context, spec, 1, "f" * 64, False)


def pickled(value: Any, repeat: int) -> tuple[int, float]:
    """Bytes and median seconds of ``cloudpickle.dumps(value)``."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        data = cloudpickle.dumps(value)
        times.append(time.perf_counter() - t)
    return len(data), statistics.median(times)


def _old_unit(payload: tuple[PhaseJob, PhaseTask]) -> int:
    return len(payload[0].context.shards) + payload[1].unit


def _new_unit(job: PhaseJob, task: PhaseTask) -> int:
    return len(job.context.shards) + task.unit


def on_ray(job: PhaseJob, units: int) -> tuple[float, float]:
    """Driver wall seconds per unit on a local Ray instance: the context in every payload, then shared once."""
    from curate.executors.ray import RayExecutor

    executor = RayExecutor()
    resources = Resources(cpus=1)
    try:
        list(executor.run(_new_unit, [Task(PhaseTask(0), "warm-up")] * 2, resources, None, shared={}))  # workers
        t = time.perf_counter()
        old = [Task((job, PhaseTask(u)), f"unit {u}") for u in range(units)]
        results = executor.run(_old_unit, old, resources, None)
        assert all(r == len(job.context.shards) + task.payload[1].unit for task, r in results)
        before = (time.perf_counter() - t) / units
        t = time.perf_counter()
        new = [Task(PhaseTask(u), f"unit {u}") for u in range(units)]
        results = executor.run(_new_unit, new, resources, None, shared=job)
        assert all(r == len(job.context.shards) + task.payload.unit for task, r in results)
        after = (time.perf_counter() - t) / units
    finally:
        executor.close()
    return before, after


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shards", type=int, nargs="+", default=[20_000, 100_000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--ray-units", type=int, default=0)
    args = ap.parse_args()
    result = ""
    for n in args.shards:
        job = synthetic_job(n)
        task = PhaseTask(n // 2, None)
        before_bytes, before_s = pickled((job, task), args.repeat)
        after_bytes, after_s = pickled(task, args.repeat)
        job_bytes, job_s = pickled(job, 1)
        print(
            f"{n:,} shards: per unit before {before_bytes / 1e6:.2f} MB, {before_s:.3f} s; after {after_bytes} B, "
            f"{after_s * 1e6:.0f} us; once per phase after: {job_bytes / 1e6:.2f} MB, {job_s:.3f} s; a phase of "
            f"{n:,} units pickled {before_bytes * n / 1e12:.1f} TB before"
        )
        result += f" before_bytes_{n}={before_bytes} after_bytes_{n}={after_bytes} before_s_{n}={before_s:.3f}"
        result += f" after_s_{n}={after_s:.6f}"
    if args.ray_units:
        n = min(args.shards)
        before, after = on_ray(synthetic_job(n), args.ray_units)
        print(f"Ray, {n:,} shards, {args.ray_units} units: driver {before:.3f} s per unit before, {after:.4f} s after")
        result += f" ray_before_s={before:.3f} ray_after_s={after:.4f}"
    print(f"RESULT phase_payload{result}")


if __name__ == "__main__":
    main()

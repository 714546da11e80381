"""Engine overhead per shard: a trivial step (pass-through) over many small shards, on the local and Ray executors.

What is measured is everything the engine does around a step: planning, marker checks, reading the shard,
writing its Parquet output and marker, stats, scheduling (Ray: task submission, object transfer). Ray's start-up
is excluded (it is paid once per run, not per shard). Target from issue 2: < 50 ms per shard on local Ray.

    .venv/bin/python bench/engine_overhead.py [--shards 200] [--docs 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from engine_stages import Upper  # noqa: E402

from curate.executors.base import make_executor  # noqa: E402
from curate.io import discover_inputs  # noqa: E402
from curate.plan import StepSpec  # noqa: E402
from curate.runner import run_steps  # noqa: E402


def make_inputs(folder: Path, shards: int, docs: int) -> None:
    folder.mkdir(parents=True)
    for s in range(shards):
        pq.write_table(
            pa.table(
                {"id": [f"{s}-{i}" for i in range(docs)], "text": [f"document {i} of shard {s}" for i in range(docs)]}
            ),
            folder / f"shard-{s:04d}.parquet",
        )


def time_run(executor_name: str, inputs: list, out: Path) -> float:
    executor = make_executor(executor_name)
    try:
        spec = StepSpec.from_stage(Upper(), "upper", 0)
        start = time.perf_counter()
        run_steps([spec], inputs, str(out), executor)
        return time.perf_counter() - start
    finally:
        executor.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=int, default=200)
    parser.add_argument("--docs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        make_inputs(Path(tmp) / "in", args.shards, args.docs)
        inputs = discover_inputs([f"{tmp}/in/*.parquet"])
        local = time_run("local", inputs, Path(tmp) / "local")
        import ray

        ray.init(
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if os.path.isdir(p))}},
        )
        try:
            time_run("ray", inputs[:4], Path(tmp) / "warmup")  # worker processes start once per run
            on_ray = time_run("ray", inputs, Path(tmp) / "ray")
        finally:
            ray.shutdown()
    local_ms, ray_ms = 1000 * local / args.shards, 1000 * on_ray / args.shards
    print(f"{args.shards} shards × {args.docs} docs, one pass-through step, {os.cpu_count()} CPUs")
    print(f"  local executor: {local:6.2f} s total, {local_ms:6.1f} ms per shard")
    print(f"  ray executor:   {on_ray:6.2f} s total, {ray_ms:6.1f} ms per shard (target < 50)")
    print(f"RESULT engine_overhead ms_per_shard_ray={ray_ms:.1f} ms_per_shard_local={local_ms:.1f}")


if __name__ == "__main__":
    main()

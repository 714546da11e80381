"""Global steps in a notebook: run every phase in-process over one in-memory table, in a temporary folder."""

from __future__ import annotations

import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

from curate.executors.local import LocalExecutor
from curate.io import discover_inputs
from curate.plan import StepSpec
from curate.runner import Layout, run_steps
from curate.stage import Stage, StepOutput


def run_global_in_memory(stage: Stage, table: pa.Table) -> StepOutput:
    """Run a global step on ``table`` (as one shard) and return its kept and removed documents."""
    with tempfile.TemporaryDirectory(prefix="curate-") as tmp:
        pq.write_table(table, f"{tmp}/input.parquet")
        options = stage.options.model_copy(update={"keep_rejected": True})
        spec = StepSpec(stage.name or "step", 0, type(stage), stage.params.model_dump(mode="json"),
                        options.model_dump(mode="json"))
        result = run_steps([spec], discover_inputs([f"{tmp}/input.parquet"]), f"{tmp}/out", LocalExecutor())
        layout = Layout(f"{tmp}/out")
        kept = _read(layout.shard(spec.key, "input").path, table.schema)
        rejected_path = layout.rejected(spec.key, "input").path
        rejected = pq.read_table(rejected_path) if layout.rejected(spec.key, "input").exists() else None
        counters = result.step_stats(spec.key).counters
        return StepOutput(kept, rejected, counters)


def _read(path: str, schema: pa.Schema) -> pa.Table:
    import os

    return pq.read_table(path) if os.path.exists(path) else schema.empty_table()

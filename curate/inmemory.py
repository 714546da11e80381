"""Global steps in a notebook: run every phase in-process over one in-memory table, in a temporary folder."""

from __future__ import annotations

import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

from curate.executors.local import LocalExecutor
from curate.io import discover_inputs
from curate.plan import StepSpec
from curate.runner import Layout, read_step_shard, run_steps
from curate.stage import Stage, StepOutput
from curate.storage import Location


def run_global_in_memory(stage: Stage, table: pa.Table) -> StepOutput:
    """Run a global step on ``table`` (as one shard) and return its kept and removed documents."""
    with tempfile.TemporaryDirectory(prefix="curate-") as tmp:
        pq.write_table(table, f"{tmp}/input.parquet")
        options = stage.options.model_copy(update={"keep_rejected": True})
        spec = StepSpec(
            stage.name or "step", 0, type(stage), stage.params.model_dump(mode="json"), options.model_dump(mode="json")
        )
        result = run_steps([spec], discover_inputs([f"{tmp}/input.parquet"]), f"{tmp}/out", LocalExecutor())
        layout = Layout(f"{tmp}/out")
        parts = list(read_step_shard(f"{tmp}/out", spec.key, "input", batch_size=1 << 20))
        kept = pa.concat_tables(parts) if parts else None
        rejected = _read_if_written(layout.rejected(spec.key, "input"))
        counters = result.step_stats(spec.key).counters
        return StepOutput(table.schema.empty_table() if kept is None else kept, rejected, counters)


def _read_if_written(loc: Location) -> pa.Table | None:
    return pq.read_table(loc.path) if loc.exists() else None

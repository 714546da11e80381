"""The column contract, checked before any work starts: every step's input columns (``Stage.input_columns()``,
resolved from its parameters) must be made by the input files or by an earlier step (``output_columns()``).

A missing column is reported with the step, the column and the steps that could make it, all at once, so
``quality_buckets: {scores: [fasttext_scor]}`` fails in ``curate validate`` instead of inside a global phase hours
into a run. Input files' columns come from the first file's schema (a Parquet footer or a JSONL line); a source
step (``warc_extract``) makes its own.
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from curate.io import InputFile
from curate.plan import StepSpec
from curate.stage import Stage
from curate.storage import location

#: columns the engine makes itself for Parquet/JSONL input without them
ENGINE_COLUMNS = {"id"}


def input_file_columns(inputs: list[InputFile]) -> set[str] | None:
    """The columns of the first Parquet/JSONL input (``None`` when unknown: no such input, or unreadable)."""
    for f in inputs:
        if f.format not in ("parquet", "jsonl"):
            continue  # (a WARC run has 100,000 of these: no filesystem made for each)
        try:
            loc = location(f.uri)
            if f.format == "parquet":
                with loc.fs.open_input_file(loc.path) as handle:
                    return set(pq.read_schema(handle).names)
            if f.format == "jsonl" and not f.uri.endswith(".gz"):
                with loc.fs.open_input_stream(loc.path) as handle:
                    first = handle.read(1 << 20).split(b"\n", 1)[0]
                return set(json.loads(first)) if first.strip() else None
        except (OSError, ValueError):
            return None
    return None


def column_errors(specs: list[StepSpec], available: set[str] | None, source: str) -> list[str]:
    """One message per step input column that nothing before the step makes."""
    stages = [spec.stage_class(spec.params, spec.options) for spec in specs]
    if available is None:
        if not stages or stages[0].kind != "source":
            return []  # the input's columns are unknown: nothing to check against
        available = set()
    have = set(available) | ENGINE_COLUMNS
    errors = []
    for spec, stage in zip(specs, stages, strict=True):
        for column in sorted(stage.input_columns() - have):
            makers = makers_of(column)
            hint = f"; steps that make it: {', '.join(makers)}" if makers else ""
            errors.append(
                f"{source}: steps[{spec.index}].{spec.key}: needs column {column!r}, which neither the "
                f"input nor an earlier step makes (columns at that point: {', '.join(sorted(have))})"
                f"{hint}"
            )
        have |= stage.output_columns()
    return errors


def makers_of(column: str) -> list[str]:
    """Registered steps whose default configuration adds ``column``."""
    from curate.registry import all_steps

    makers = []
    for name, cls in all_steps().items():
        try:
            stage: Stage = cls()
        except Exception:  # noqa: BLE001 - a step with required parameters has no default columns to offer
            continue
        if column in stage.output_columns():
            makers.append(name)
    return makers

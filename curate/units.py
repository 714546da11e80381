"""Worker-side units of work: one shard through a fused segment of document-local steps
(:func:`run_segment_shard`), and one unit of one phase of a global step (:func:`run_phase_unit`, with the
:class:`PhaseContext` a phase sees). Workers run these on either executor; the driver (:mod:`curate.runner`) decides
which to run."""

from __future__ import annotations

import copy
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import StepFailed
from curate.io import InputFile, ShardWriter, iter_table_file
from curate.layout import PHASE_MARKERS, Layout, now
from curate.plan import StepSpec
from curate.progress import Reporter, RunningReports
from curate.stage import ROWS_ADDED, Phase, SourceFile, Stage, StepOutput, as_step_output
from curate.stats import StepStats
from curate.storage import is_temporary, location
from curate.table import text_bytes

DEFAULT_BATCH_SIZE = 2000


@dataclass
class SegmentTask:
    """One shard through ``steps[start:]`` of a local segment."""

    out: str
    shard: str
    steps: list[StepSpec]
    start: int
    fingerprints: list[str]
    input_file: InputFile | None  # the raw input, when the segment's first step to run reads it
    previous_key: str | None  # otherwise, the step whose output is read
    batch_size: int
    reports: RunningReports | None = None  # where running counts go (live progress), when anyone listens

    def describe(self) -> str:
        return f"shard {self.shard!r}, steps {[s.key for s in self.steps[self.start :]]}"


class ShardSink:
    """One step's output for one shard: kept rows to the shard (or, with ``partition_by``, to one file per value of
    that column: ``OUT/<step>/<column>=<value>/<shard>.parquet``), removed rows to ``rejected/`` (when the step keeps
    them), both counted into the shard's stats. Segments and global steps' ``emit`` write through it alike."""

    def __init__(
        self,
        layout: Layout,
        key: str,
        shard: str,
        keep_rejected: bool,
        adds: tuple[str, ...],
        partition_by: str | None = None,
    ):
        self.stats = StepStats(shards=1)
        self.adds = adds
        self.layout, self.key, self.shard, self.partition_by = layout, key, shard, partition_by
        self.writer = ShardWriter(layout.shard(key, shard))
        self.partitions: dict[object, ShardWriter] = {}
        self.rejected_writer = ShardWriter(layout.rejected(key, shard)) if keep_rejected else None

    def add(self, output: StepOutput) -> None:
        s = self.stats
        s.docs_out += output.kept.num_rows
        s.bytes_out += text_bytes(output.kept)
        s.add_counts(s.removed, output.removed_by_reason())
        s.add_counts(s.counters, output.counters)
        s.observe_kept(output.kept, self.adds)
        s.observe_rejected(output.rejected)
        if self.partition_by is None:
            self.writer.write(output.kept)
        else:
            self._write_partitioned(output.kept, self.partition_by)
        if self.rejected_writer is not None and output.rejected is not None:
            self.rejected_writer.write(output.rejected)

    def _write_partitioned(self, kept: pa.Table, partition_by: str) -> None:
        if partition_by not in kept.column_names:
            raise ValueError(
                f"partition_by: step {self.key!r} has no column {partition_by!r} to partition its "
                f"output by (columns: {kept.column_names})"
            )
        column = kept.column(partition_by)
        for value in pc.unique(column).to_pylist():
            mask = pc.is_null(column) if value is None else pc.fill_null(pc.equal(column, value), False)
            writer = self.partitions.get(value)
            if writer is None:
                loc = self.layout.partition_shard(self.key, partition_by, value, self.shard)
                writer = self.partitions[value] = ShardWriter(loc)
            writer.write(kept.filter(mask))

    def commit(self) -> list[str]:
        """Move the files into place; returns the written files, relative to the step's folder (in the order a
        reader reads them)."""
        folder = self.layout.root().child(self.key).uri.rstrip("/") + "/"
        if self.partition_by is None:
            files = [self.writer.loc.uri[len(folder) :]] if self.writer.commit() else []
        else:
            self.writer.commit()  # no rows: clears what an unpartitioned earlier run left at the shard's name
            files = sorted(w.loc.uri[len(folder) :] for w in self.partitions.values() if w.commit())
        if self.rejected_writer is not None:
            self.rejected_writer.commit()
        return files

    def abort(self) -> None:
        for writer in [self.writer, *self.partitions.values()]:
            writer.abort()
        if self.rejected_writer is not None:
            self.rejected_writer.abort()


class _StepRun:
    """Per step bookkeeping inside a segment task: the step, its sink, and what went in."""

    def __init__(self, spec: StepSpec, stage: Stage, layout: Layout, shard: str):
        self.spec = spec
        self.stage = stage
        self.sink = ShardSink(
            layout, spec.key, shard, stage.options.keep_rejected, stage.adds, stage.options.partition_by
        )
        self.stats = self.sink.stats

    def record(self, output: StepOutput, docs_in: int, bytes_in: int, cpu: float, wall: float) -> None:
        self.stats.docs_in += docs_in
        self.stats.bytes_in += bytes_in
        self.stats.cpu_seconds += cpu
        self.stats.wall_seconds += wall
        self.sink.add(output)


def run_segment_shard(task: SegmentTask) -> dict[str, dict]:
    """Run one shard through the remaining steps of a segment; returns ``{step_key: stats}`` of the steps run."""
    layout = Layout(task.out)
    specs = task.steps[task.start :]
    runs: list[_StepRun] = []
    reporter = Reporter(task.reports, task.shard)
    try:
        for spec in specs:  # setup errors (a model that cannot load …) fail the shard like any other
            runs.append(_StepRun(spec, spec.build(), layout, task.shard))
        for batch_output, docs_in, bytes_in, cpu, wall in _segment_input(task, runs[0]):
            _push_through(runs, 0, batch_output, docs_in, bytes_in, cpu, wall)
            reporter.maybe(lambda: {r.spec.key: (r.stats.docs_in, r.stats.docs_out) for r in runs})
        written = [(run, run.sink.commit()) for run in runs]
    except BaseException as exc:
        for run in runs:
            run.sink.abort()
        if isinstance(exc, Exception) and not isinstance(exc, StepFailed):
            raise StepFailed(f"{task.describe()} failed: {type(exc).__name__}: {exc}") from exc
        raise
    result = {}
    for (run, files), fp in zip(written, task.fingerprints[task.start :]):
        stats = run.stats.to_dict()
        layout.marker(run.spec.key, task.shard).write_json(
            {
                "fingerprint": fp,
                "shard": task.shard,
                "step": run.spec.key,
                "rows": run.stats.docs_out,
                "has_output": bool(files),
                "files": files,
                "finished": now(),
                "node": node_id(),
                "stats": stats,
            }
        )
        result[run.spec.key] = stats
    return result


def _segment_input(task: SegmentTask, first: _StepRun) -> Iterator[tuple[StepOutput, int, int, float, float]]:
    """Batches entering the first step to run, as (output of that step, docs in, bytes in, cpu, wall).

    For a source step, "output" is what it read; for a map step it is the step applied to an input batch."""
    stage = first.stage
    if stage.kind == "source":
        assert task.input_file is not None  # a segment that starts at a source step reads the raw input
        source = _source_file(task.input_file)
        iterator = iter(stage.read(source))
        first.stats.bytes_in += task.input_file.size or 0
        while True:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            try:
                produced = as_step_output(next(iterator))
            except StopIteration:
                return
            docs = produced.kept.num_rows + (produced.rejected.num_rows if produced.rejected is not None else 0)
            yield produced, docs, 0, time.process_time() - cpu0, time.perf_counter() - wall0
    for batch in _input_batches(task):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        output = as_step_output(stage.process(batch)) if batch.num_rows else StepOutput(batch)
        yield output, batch.num_rows, text_bytes(batch), time.process_time() - cpu0, time.perf_counter() - wall0


def _push_through(
    runs: list[_StepRun], i: int, output: StepOutput, docs_in: int, bytes_in: int, cpu: float, wall: float
) -> None:
    runs[i].record(output, docs_in, bytes_in, cpu, wall)
    batch = output.kept
    for run in runs[i + 1 :]:
        if batch.num_rows == 0:
            return
        cpu0, wall0 = time.process_time(), time.perf_counter()
        out = as_step_output(run.stage.process(batch))
        run.record(out, batch.num_rows, text_bytes(batch), time.process_time() - cpu0, time.perf_counter() - wall0)
        batch = out.kept


def _source_file(input_file: InputFile) -> SourceFile:
    loc = location(input_file.uri)
    return SourceFile(input_file.uri, loc.open_input, input_file.size)


def _input_batches(task: SegmentTask) -> Iterator[pa.Table]:
    return iter_step_input(task.out, task.previous_key, task.input_file, task.shard, task.batch_size)


def iter_step_input(
    out: str,
    previous_key: str | None,
    input_file: InputFile | None,
    shard: str,
    batch_size: int,
    columns: list[str] | None = None,
) -> Iterator[pa.Table]:
    """What a step reads for ``shard``: the previous step's output, or (first step) the raw Parquet/JSONL input
    with an ``id`` made up where it has none. ``columns``: only those are read (a phase that needs the text and
    the url of 10-column documents decodes two column chunks, not ten), in that order."""
    if previous_key is not None:
        yield from read_step_shard(out, previous_key, shard, batch_size, columns)
        return
    assert input_file is not None
    batches = iter_table_file(input_file.uri, batch_size, columns, missing_ok=True)
    for index, batch in enumerate(batches):
        batch = _with_ids(batch, shard, index * batch_size, columns)
        yield batch.select(columns) if columns else batch


def _with_ids(batch: pa.Table, shard: str, offset: int, columns: list[str] | None = None) -> pa.Table:
    """``batch`` with an ``id`` column made up where the input has none (and the reader asked for it: ``columns``
    ``None`` or naming it); the input must have ``text`` (checked where the reader asked for it)."""
    if (columns is None or "text" in columns) and "text" not in batch.column_names:
        raise ValueError(f"input shard {shard!r} has no `text` column (columns: {batch.column_names})")
    if (columns is None or "id" in columns) and "id" not in batch.column_names:
        ids = pa.array([f"{shard}/{offset + i}" for i in range(batch.num_rows)], pa.string())
        batch = batch.add_column(0, "id", ids)
    return batch


def read_step_shard(
    out: str, key: str, shard: str, batch_size: int = DEFAULT_BATCH_SIZE, columns: list[str] | None = None
) -> Iterator[pa.Table]:
    """Stream a step's output for one shard (nothing when the step kept no documents of it)."""
    layout = Layout(out)
    for loc in layout.shard_files(key, shard, layout.read_marker(layout.marker(key, shard))):
        yield from iter_table_file(loc.uri, batch_size, columns)


def node_id() -> str:
    """Where this unit ran: the Ray node id on a Ray worker, else the host name (recorded in markers; the stats
    count shards per node)."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        try:
            return ray.get_runtime_context().get_node_id()
        except Exception:  # noqa: BLE001 - a driver-side call outside a task: fall back to the host
            pass
    return socket.gethostname()


# ---------------------------------------------------------------------------------------------------------------
# Worker side: one unit of one phase of a global step


@dataclass
class PhaseContext:
    """What a global step's phase sees: its input shards, scratch space, earlier phases' summaries, and ``emit``.

    See :class:`curate.stage.Phase`. Paths given to the ``*_work`` helpers are relative to the step's private
    scratch folder ``OUT/<step>/_work/<run>/``, where ``run`` is the step's fingerprint over all of its input: a
    redone step (new parameters, new upstream output) starts from an empty folder and can never read files an
    earlier run left."""

    out: str
    key: str
    run: str
    previous_key: str | None
    input_files: dict[str, InputFile]
    shards: list[str]
    summaries: dict[str, dict[Any, Any]]
    keep_rejected: bool
    batch_size: int = DEFAULT_BATCH_SIZE
    adds: tuple[str, ...] = ()
    partition_by: str | None = None
    _emitted: dict[str, StepStats] = field(default_factory=dict)
    _counters: dict[str, int] = field(default_factory=dict)
    _files: list[str] = field(default_factory=list)
    _emitted_files: dict[str, list[str]] = field(default_factory=dict)

    @property
    def layout(self) -> Layout:
        return Layout(self.out)

    def for_unit(self) -> PhaseContext:
        """A copy for one unit: the same inputs and summaries (not copied), nothing emitted or counted yet. A
        phase's context is shared by its units (one object per worker process), so a unit never writes to it."""
        unit = copy.copy(self)
        unit._emitted, unit._counters, unit._files, unit._emitted_files = {}, {}, [], {}
        return unit

    # inputs
    def iter_input(self, shard: str, columns: list[str] | None = None) -> Iterator[pa.Table]:
        return iter_step_input(
            self.out, self.previous_key, self.input_files.get(shard), shard, self.batch_size, columns
        )

    def input_schema(self, shard: str) -> pa.Schema | None:
        """The columns of ``shard``'s input without reading its rows (``None`` when the shard is empty)."""
        if self.previous_key is not None:
            marker = self.layout.read_marker(self.layout.marker(self.previous_key, shard))
            files = self.layout.shard_files(self.previous_key, shard, marker)
            if not files:
                return None
            uri = files[0].uri
        else:
            uri = self.input_files[shard].uri
        if uri.endswith(".parquet"):
            loc = location(uri)
            with loc.fs.open_input_file(loc.path) as f:
                return pq.read_schema(f)
        first = next(self.iter_input(shard), None)
        return first.schema if first is not None else None

    def read_input(self, shard: str, columns: list[str] | None = None) -> pa.Table:
        tables = list(self.iter_input(shard, columns))
        if not tables:
            return pa.table({c: pa.array([], pa.string()) for c in (columns or ["id", "text"])})
        return pa.concat_tables(tables, promote_options="permissive")

    # scratch space
    def write_table(self, relpath: str, table: pa.Table, transient: bool = False) -> None:
        """Write a scratch table. ``transient``: a file that a later phase reads once and nothing keeps (keys,
        spans, decisions by partition): written uncompressed, without dictionary pages or statistics, which costs
        less CPU to write and to read than the zstd of the step's own shards (for more bytes in the scratch
        folder: fixed-width numbers barely compress anyway)."""
        loc = self.layout.work(self.key, self.run, relpath)
        writer = ShardWriter(loc, transient=transient)
        writer.write(table)
        writer.commit()

    def read_table(self, relpath: str) -> pa.Table | None:
        loc = self.layout.work(self.key, self.run, relpath)
        if not loc.exists():
            return None
        tables = list(iter_table_file(loc.uri, 1 << 20))
        return pa.concat_tables(tables) if tables else None

    def list_work(self, prefix: str = "") -> list[str]:
        base = self.layout.work(self.key, self.run)
        loc = base.child(prefix) if prefix else base
        root = base.path.rstrip("/") + "/"
        paths = [i.path[len(root) :] for i in loc.list_files(recursive=True) if not is_temporary(i.path)]
        return [p for p in paths if not p.startswith(PHASE_MARKERS + "/")]

    def write_json(self, relpath: str, value: Any) -> None:
        self.layout.work(self.key, self.run, relpath).write_json(value)

    def read_json(self, relpath: str) -> Any:
        loc = self.layout.work(self.key, self.run, relpath)
        return loc.read_json() if loc.exists() else None

    def write_file(self, relpath: str, data: bytes) -> None:
        """A file of the step's output beside its shards (``OUT/<step>/<relpath>``, e.g. packed sequences); the
        unit's marker lists it, so the output folder keeps exactly the files the current run wrote."""
        self.layout.root().child(self.key, relpath).write_bytes(data)
        self._files.append(relpath)

    # outputs
    def emit(self, shard: str, output: pa.Table | StepOutput | Iterable[pa.Table | StepOutput]) -> None:
        if shard in self._emitted:
            raise RuntimeError(f"step {self.key!r} emitted shard {shard!r} twice")
        sink = ShardSink(self.layout, self.key, shard, self.keep_rejected, self.adds, self.partition_by)
        parts = [output] if isinstance(output, pa.Table | StepOutput) else output
        try:
            for part in parts:
                sink.add(as_step_output(part))
            self._emitted_files[shard] = sink.commit()
        except BaseException:
            sink.abort()
            raise
        stats = sink.stats
        self._emitted[shard] = stats

    def count(self, name: str, n: int = 1) -> None:
        self._counters[name] = self._counters.get(name, 0) + int(n)


@dataclass
class PhaseJob:
    """What every unit of one phase of a global step shares: the context (every input file, shard name and earlier
    phase's summaries: megabytes at 100,000 shards), the step, which phase, the step's run id. The driver hands it
    to the executor once per phase (``Executor.run``'s ``shared``), not in each unit's payload."""

    context: PhaseContext
    spec: StepSpec
    phase_index: int
    fingerprint: str
    is_last: bool

    def describe(self, unit: Any) -> str:
        return f"step {self.spec.key!r} phase {self.phase_index} unit {unit!r}"


@dataclass
class PhaseTask:
    """One unit of a phase (the payload shipped per unit): which one, and in the last phase the fingerprint its
    shard's marker gets."""

    unit: Any
    shard_fingerprint: str | None = None


def run_phase_unit(job: PhaseJob, task: PhaseTask) -> dict:
    """Run one unit of one phase of a global step; write its marker; return its summary and stats."""
    ctx = job.context.for_unit()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        phase: Phase = job.spec.build().phases()[job.phase_index]
        summary = phase.run(ctx, task.unit)
    except Exception as exc:
        raise StepFailed(f"{job.describe(task.unit)} failed: {type(exc).__name__}: {exc}") from exc
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    layout = ctx.layout
    layout.phase_marker(ctx.key, ctx.run, phase.name, task.unit).write_json(
        {
            "fingerprint": job.fingerprint,
            "unit": task.unit,
            "summary": summary,
            "counters": ctx._counters,
            "files": sorted(set(ctx._files)),
            "cpu_seconds": cpu,
            "wall_seconds": wall,
        }
    )
    result: dict[str, Any] = {"summary": summary, "cpu_seconds": cpu, "counters": ctx._counters}
    if job.is_last:
        stats = ctx._emitted.get(task.unit) or StepStats(shards=1)
        files = ctx._emitted_files.get(task.unit, [])
        stats.docs_in, stats.bytes_in = _previous_volume(ctx, task.unit, stats)
        stats.cpu_seconds += cpu
        stats.wall_seconds += wall
        stats.add_counts(stats.counters, ctx._counters)
        stats_dict = stats.to_dict()
        layout.marker(ctx.key, task.unit).write_json(
            {
                "fingerprint": task.shard_fingerprint,
                "shard": task.unit,
                "step": ctx.key,
                "rows": stats.docs_out,
                "has_output": bool(files),
                "files": files,
                "finished": now(),
                "node": node_id(),
                "stats": stats_dict,
            }
        )
        result["stats"] = stats_dict
    return result


def _previous_volume(ctx: PhaseContext, shard: str, stats: StepStats) -> tuple[int, int]:
    """Documents and text bytes a global step read for ``shard``: the previous step's output (its marker), or, for
    a global first step, what it emitted plus what it removed."""
    if ctx.previous_key is not None:
        marker = ctx.layout.read_marker(ctx.layout.marker(ctx.previous_key, shard)) or {}
        previous = marker.get("stats", {})
        return int(marker.get("rows", 0)), int(previous.get("bytes_out", 0))
    size = ctx.input_files[shard].size if shard in ctx.input_files else 0
    return stats.docs_out + sum(stats.removed.values()) - stats.counters.get(ROWS_ADDED, 0), int(size or 0)

"""The work units of a run and the driver that schedules them.

Layout of a run's output folder ``OUT``::

    OUT/<step>/<shard>.parquet            the step's kept documents for one shard
    OUT/<step>/rejected/<shard>.parquet   removed documents with a ``reason`` column (when keep_rejected)
    OUT/<step>/_done/<shard>.json         marker: fingerprint + stats; written last, so its presence means done
    OUT/<step>/_work/<run>/...            a global step's scratch space, private to one run id (the step's
                                          fingerprint over all its input); unit markers in _work/<run>/_phases/
    OUT/_stats.json                       stats merged per step
    OUT/_recipe.json                      the resolved recipe that produced OUT

The unit of work, retry and resume is one shard through one fused segment of document-local steps, or one unit
of one phase of a global step. Workers (local or Ray) run :func:`run_segment_shard` / :func:`run_phase_unit`;
the driver (:func:`run_steps`) decides what is still to do by comparing markers' fingerprints with the plan's.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import StepFailed
from curate.executors.base import Executor, Task
from curate.io import InputFile, ShardWriter, iter_table_file
from curate.outdir import OutputLock, prune
from curate.plan import Segment, StepSpec, run_ids, segments, shard_fingerprints
from curate.progress import Progress, Reporter, RunningReports
from curate.stage import ROWS_ADDED, Phase, Resources, SourceFile, Stage, StepOptions, StepOutput, as_step_output
from curate.stats import StepStats, merge_all
from curate.storage import Location, is_temporary, location
from curate.table import text_bytes

DEFAULT_BATCH_SIZE = 2000
PHASE_MARKERS = "_phases"
WORK = "_work"


# ---------------------------------------------------------------------------------------------------------------
# Output layout helpers (shared by workers and driver)


@dataclass(frozen=True)
class Layout:
    out: str

    def root(self) -> Location:
        return location(self.out)

    def shard(self, key: str, shard: str) -> Location:
        return self.root().child(key, f"{shard}.parquet")

    def rejected(self, key: str, shard: str) -> Location:
        return self.root().child(key, "rejected", f"{shard}.parquet")

    def marker(self, key: str, shard: str) -> Location:
        return self.root().child(key, "_done", f"{shard}.json")

    def work(self, key: str, run: str, *parts: str) -> Location:
        """A global step's scratch space for one run id: no run can read another's work files or markers."""
        return self.root().child(key, WORK, run, *parts)

    def phase_marker(self, key: str, run: str, phase: str, unit: Any) -> Location:
        """Kept apart from the step's own scratch files (``_work/<run>/_phases/``), which ``list_work`` never
        shows."""
        return self.work(key, run, PHASE_MARKERS, phase, f"{_unit_name(unit)}.json")

    def read_marker(self, loc: Location) -> dict | None:
        try:
            return loc.read_json()
        except (FileNotFoundError, OSError, ValueError):
            return None

    def read_markers(self, locs: list[Location]) -> list[dict | None]:
        """:meth:`read_marker` of many markers, ``MARKER_READERS`` at a time: on an object store each read is a
        round trip of tens of milliseconds, so a driver checking 100k shards one by one would wait for hours."""
        if len(locs) < 2:
            return [self.read_marker(loc) for loc in locs]
        with ThreadPoolExecutor(min(MARKER_READERS, len(locs))) as pool:
            return list(pool.map(self.read_marker, locs))


#: markers the driver reads at once (resume checks, stats)
MARKER_READERS = 32


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------------------------
# Worker side: a fused segment of document-local steps over one shard


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
        return f"shard {self.shard!r}, steps {[s.key for s in self.steps[self.start:]]}"


class _StepRun:
    """Per step bookkeeping inside a segment task: writers and stats."""

    def __init__(self, spec: StepSpec, stage: Stage, layout: Layout, shard: str):
        self.spec = spec
        self.stage = stage
        self.stats = StepStats(shards=1)
        self.writer = ShardWriter(layout.shard(spec.key, shard))
        self.rejected_writer = ShardWriter(layout.rejected(spec.key, shard)) if stage.options.keep_rejected else None

    def record(self, output: StepOutput, docs_in: int, bytes_in: int, cpu: float, wall: float) -> None:
        s = self.stats
        s.docs_in += docs_in
        s.bytes_in += bytes_in
        s.docs_out += output.kept.num_rows
        s.bytes_out += text_bytes(output.kept)
        s.cpu_seconds += cpu
        s.wall_seconds += wall
        s.add_counts(s.removed, output.removed_by_reason())
        s.add_counts(s.counters, output.counters)
        s.observe_kept(output.kept, self.stage.adds)
        s.observe_rejected(output.rejected)
        self.writer.write(output.kept)
        if self.rejected_writer is not None and output.rejected is not None:
            self.rejected_writer.write(output.rejected)


def run_segment_shard(task: SegmentTask) -> dict[str, dict]:
    """Run one shard through the remaining steps of a segment; returns ``{step_key: stats}`` of the steps run."""
    layout = Layout(task.out)
    specs = task.steps[task.start:]
    runs = [_StepRun(spec, spec.build(), layout, task.shard) for spec in specs]
    reporter = Reporter(task.reports, task.shard)
    try:
        for batch_output, docs_in, bytes_in, cpu, wall in _segment_input(task, runs[0]):
            _push_through(runs, 0, batch_output, docs_in, bytes_in, cpu, wall)
            reporter.maybe(lambda: {r.spec.key: (r.stats.docs_in, r.stats.docs_out) for r in runs})
        written = [(run, run.writer.commit()) for run in runs]
        for run in runs:
            if run.rejected_writer is not None:
                run.rejected_writer.commit()
    except BaseException as exc:
        for run in runs:
            run.writer.abort()
            if run.rejected_writer is not None:
                run.rejected_writer.abort()
        if isinstance(exc, Exception) and not isinstance(exc, StepFailed):
            raise StepFailed(f"{task.describe()} failed: {type(exc).__name__}: {exc}") from exc
        raise
    result = {}
    for (run, has_output), fp in zip(written, task.fingerprints[task.start:]):
        stats = run.stats.to_dict()
        layout.marker(run.spec.key, task.shard).write_json({
            "fingerprint": fp, "shard": task.shard, "step": run.spec.key, "rows": run.stats.docs_out,
            "has_output": has_output, "finished": _now(), "stats": stats})
        result[run.spec.key] = stats
    return result


def _segment_input(task: SegmentTask, first: _StepRun) -> Iterator[tuple[StepOutput, int, int, float, float]]:
    """Batches entering the first step to run, as (output of that step, docs in, bytes in, cpu, wall).

    For a source step, "output" is what it read; for a map step it is the step applied to an input batch."""
    stage = first.stage
    if stage.kind == "source":
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


def _push_through(runs: list[_StepRun], i: int, output: StepOutput, docs_in: int, bytes_in: int, cpu: float,
                  wall: float) -> None:
    runs[i].record(output, docs_in, bytes_in, cpu, wall)
    batch = output.kept
    for run in runs[i + 1:]:
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


def iter_step_input(out: str, previous_key: str | None, input_file: InputFile | None, shard: str, batch_size: int,
                    columns: list[str] | None = None) -> Iterator[pa.Table]:
    """What a step reads for ``shard``: the previous step's output, or (first step) the raw Parquet/JSONL input
    with an ``id`` made up where it has none."""
    if previous_key is not None:
        yield from read_step_shard(out, previous_key, shard, batch_size, columns)
        return
    assert input_file is not None
    for index, batch in enumerate(iter_table_file(input_file.uri, batch_size)):
        batch = _with_ids(batch, shard, index * batch_size)
        yield batch.select(columns) if columns else batch


def _with_ids(batch: pa.Table, shard: str, offset: int) -> pa.Table:
    if "text" not in batch.column_names:
        raise ValueError(f"input shard {shard!r} has no `text` column (columns: {batch.column_names})")
    if "id" not in batch.column_names:
        ids = pa.array([f"{shard}/{offset + i}" for i in range(batch.num_rows)], pa.string())
        batch = batch.add_column(0, "id", ids)
    return batch


def read_step_shard(out: str, key: str, shard: str, batch_size: int = DEFAULT_BATCH_SIZE,
                    columns: list[str] | None = None) -> Iterator[pa.Table]:
    """Stream a step's output for one shard (nothing when the step kept no documents of it)."""
    layout = Layout(out)
    loc = layout.shard(key, shard)
    marker = layout.read_marker(layout.marker(key, shard))
    if marker is not None and not marker.get("has_output", True):
        return
    yield from iter_table_file(loc.uri, batch_size, columns)


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
    _emitted: dict[str, StepStats] = field(default_factory=dict)
    _counters: dict[str, int] = field(default_factory=dict)
    _files: list[str] = field(default_factory=list)

    @property
    def layout(self) -> Layout:
        return Layout(self.out)

    # inputs
    def iter_input(self, shard: str, columns: list[str] | None = None) -> Iterator[pa.Table]:
        return iter_step_input(self.out, self.previous_key, self.input_files.get(shard), shard, self.batch_size,
                               columns)

    def input_schema(self, shard: str) -> pa.Schema | None:
        """The columns of ``shard``'s input without reading its rows (``None`` when the shard is empty)."""
        if self.previous_key is not None:
            marker = self.layout.read_marker(self.layout.marker(self.previous_key, shard)) or {}
            if not marker.get("has_output", True):
                return None
            uri = self.layout.shard(self.previous_key, shard).uri
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
    def write_table(self, relpath: str, table: pa.Table) -> None:
        writer = ShardWriter(self.layout.work(self.key, self.run, relpath))
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
        paths = [i.path[len(root):] for i in loc.list_files(recursive=True) if not is_temporary(i.path)]
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
        stats = StepStats(shards=1)
        writer = ShardWriter(self.layout.shard(self.key, shard))
        rejected_writer = ShardWriter(self.layout.rejected(self.key, shard)) if self.keep_rejected else None
        parts = [output] if isinstance(output, pa.Table | StepOutput) else output
        try:
            for part in parts:
                out = as_step_output(part)
                stats.docs_out += out.kept.num_rows
                stats.bytes_out += text_bytes(out.kept)
                stats.add_counts(stats.removed, out.removed_by_reason())
                stats.add_counts(stats.counters, out.counters)
                stats.observe_kept(out.kept, self.adds)
                stats.observe_rejected(out.rejected)
                writer.write(out.kept)
                if rejected_writer is not None and out.rejected is not None:
                    rejected_writer.write(out.rejected)
            stats.counters["_has_output"] = int(writer.commit())
            if rejected_writer is not None:
                rejected_writer.commit()
        except BaseException:
            writer.abort()
            if rejected_writer is not None:
                rejected_writer.abort()
            raise
        self._emitted[shard] = stats

    def count(self, name: str, n: int = 1) -> None:
        self._counters[name] = self._counters.get(name, 0) + int(n)


@dataclass
class PhaseTask:
    context: PhaseContext
    spec: StepSpec
    phase_index: int
    unit: Any
    fingerprint: str
    is_last: bool
    shard_fingerprint: str | None

    def describe(self) -> str:
        return f"step {self.spec.key!r} phase {self.phase_index} unit {self.unit!r}"


def run_phase_unit(task: PhaseTask) -> dict:
    """Run one unit of one phase of a global step; write its marker; return its summary and stats."""
    stage = task.spec.build()
    phase: Phase = stage.phases()[task.phase_index]
    ctx = task.context
    ctx._emitted = {}
    ctx._counters = {}
    ctx._files = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        summary = phase.run(ctx, task.unit)
    except Exception as exc:
        raise StepFailed(f"{task.describe()} failed: {type(exc).__name__}: {exc}") from exc
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    layout = ctx.layout
    layout.phase_marker(ctx.key, ctx.run, phase.name, task.unit).write_json(
        {"fingerprint": task.fingerprint, "unit": task.unit, "summary": summary, "counters": ctx._counters,
         "files": sorted(set(ctx._files)), "cpu_seconds": cpu, "wall_seconds": wall})
    result: dict[str, Any] = {"summary": summary, "cpu_seconds": cpu, "counters": ctx._counters}
    if task.is_last:
        stats = ctx._emitted.get(task.unit) or StepStats(shards=1)
        has_output = bool(stats.counters.pop("_has_output", 0))
        stats.docs_in, stats.bytes_in = _previous_volume(ctx, task.unit, stats)
        stats.cpu_seconds += cpu
        stats.wall_seconds += wall
        stats.add_counts(stats.counters, ctx._counters)
        layout.marker(ctx.key, task.unit).write_json({
            "fingerprint": task.shard_fingerprint, "shard": task.unit, "step": ctx.key, "rows": stats.docs_out,
            "has_output": has_output, "finished": _now(), "stats": stats.to_dict()})
        result["stats"] = stats.to_dict()
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


def _unit_name(unit: Any) -> str:
    return "once" if unit is None else str(unit)


# ---------------------------------------------------------------------------------------------------------------
# Driver


@dataclass
class RunResult:
    out: str
    steps: list[dict]
    resumed_shards: int
    wall_seconds: float

    def step_stats(self, key: str) -> StepStats:
        for s in self.steps:
            if s["key"] == key:
                return StepStats.from_dict(s["stats"])
        raise KeyError(key)


def run_steps(specs: list[StepSpec], inputs: list[InputFile], out: str, executor: Executor,
              progress: Progress | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
              recipe: dict | None = None) -> RunResult:
    """Run ``specs`` over ``inputs`` into ``out``, skipping every unit whose marker matches the plan.

    The output folder is locked for the run; before and after the work, whatever the plan does not vouch for is
    removed from it (:func:`tidy_output`), so on success it holds exactly what a fresh run would write."""
    started, wall0 = _now(), time.perf_counter()
    progress = progress or Progress(enabled=False)
    layout = Layout(out)
    layout.root().makedirs()
    fps = shard_fingerprints(specs, inputs)
    runs = run_ids(specs, fps, inputs)
    shards = [f.shard for f in inputs]
    input_files = {f.shard: f for f in inputs}
    resumed = 0
    with OutputLock(out):
        layout.root().child("_stats.json").delete()  # describes an earlier run until this one finishes
        tidy_output(layout, specs, fps, runs, shards)
        for segment in segments(specs):
            if segment.kind == "local":
                resumed += _run_local_segment(segment, specs, fps, input_files, layout, executor, progress,
                                              batch_size)
            else:
                resumed += _run_global_step(segment.steps[0], specs, fps, runs, input_files, shards, layout,
                                            executor, progress, batch_size)
        tidy_output(layout, specs, fps, runs, shards)
        steps = collect_stats(specs, shards, fps, layout, runs)
        result = RunResult(out, steps, resumed, time.perf_counter() - wall0)
        layout.root().child("_stats.json").write_json({
            "recipe": recipe or {}, "steps": steps,
            "run": {"started": started, "finished": _now(), "wall_seconds": result.wall_seconds,
                    "executor": executor.name, "resumed_shards": resumed, "shards": len(shards)}})
    return result


def tidy_output(layout: Layout, specs: list[StepSpec], fps: list[dict[str, str]], runs: dict[str, str],
                shards: list[str]) -> list[str]:
    """Remove from the output folder everything the plan does not vouch for (see :mod:`curate.outdir`): a
    marker vouches for its shard's files when its fingerprint is the plan's and the files it names are there."""
    vouched: dict[str, set[str]] = {}
    listed: dict[str, set[str]] = {}
    for spec in specs:
        folder = layout.root().child(spec.key)
        base = folder.path.rstrip("/") + "/"
        files = {info.path[len(base):] for info in folder.list_files(recursive=True)}
        if not files:
            continue
        markers = layout.read_markers([layout.marker(spec.key, shard) for shard in shards])
        keep_rejected = bool(spec.options.get("keep_rejected"))
        vouched[spec.key] = set().union(*(_vouched_files(m, shard, fps[spec.index][shard], files, keep_rejected)
                                          for shard, m in zip(shards, markers, strict=True)))
        if spec.key in runs and any(_is_extra_file(f) for f in files):
            listed[spec.key] = _listed_files(layout, spec.key, runs[spec.key], files)
    return prune(layout.out, [s.key for s in specs], vouched, runs, listed)


def _vouched_files(marker: dict | None, shard: str, fingerprint: str, files: set[str], keep_rejected: bool
                   ) -> set[str]:
    if marker is None or marker.get("fingerprint") != fingerprint:
        return set()
    out_file, rejected_file = f"{shard}.parquet", f"rejected/{shard}.parquet"
    has_output = marker.get("has_output", True)
    wants_rejected = keep_rejected and sum(((marker.get("stats") or {}).get("removed") or {}).values()) > 0
    if (has_output and out_file not in files) or (wants_rejected and rejected_file not in files):
        return set()  # a file the marker names was deleted: the shard is redone
    return ({f"_done/{shard}.json"} | ({out_file} if has_output else set())
            | ({rejected_file} if wants_rejected else set()))


def _is_extra_file(rel: str) -> bool:
    """A file in a step folder that is neither a shard, a rejected shard, a marker nor scratch."""
    return not rel.startswith(("_done/", "rejected/", f"{WORK}/")) and ("/" in rel or not rel.endswith(".parquet"))


def _listed_files(layout: Layout, key: str, run: str, files: set[str]) -> set[str]:
    """Files the units of run ``run`` wrote beside the step's shards, as their phase markers list them."""
    prefix = f"{WORK}/{run}/{PHASE_MARKERS}/"
    paths = [f for f in files if f.startswith(prefix) and f.endswith(".json") and not is_temporary(f)]
    markers = layout.read_markers([layout.root().child(key, p) for p in paths])
    return {f for m in markers if m is not None and m.get("fingerprint") == run for f in m.get("files", [])}


def _run_local_segment(segment: Segment, specs: list[StepSpec], fps: list[dict[str, str]],
                       input_files: dict[str, InputFile], layout: Layout, executor: Executor, progress: Progress,
                       batch_size: int) -> int:
    first = segment.steps[0].index
    previous_key = specs[first - 1].key if first > 0 else None
    tasks: list[SegmentTask] = []
    skipped = 0
    reports = executor.running_reports(progress) if progress.enabled else None
    pairs = [(spec.key, shard) for shard in input_files for spec in segment.steps]
    markers = dict(zip(pairs, layout.read_markers([layout.marker(k, s) for k, s in pairs]), strict=True))
    for shard, input_file in input_files.items():
        seg_fps = [fps[s.index][shard] for s in segment.steps]
        start = _first_unfinished(markers, segment.steps, shard, seg_fps)
        if start is None:
            skipped += 1
            continue
        prev = previous_key if start == 0 else segment.steps[start - 1].key
        tasks.append(SegmentTask(layout.out, shard, segment.steps, start, seg_fps,
                                 input_file if prev is None else None, prev,
                                 segment.steps[0].options.get("batch_size") or batch_size, reports))
    for spec in segment.steps:
        progress.start_step(spec.key, total=len(input_files), skipped=skipped + sum(
            1 for t in tasks if t.start > segment.steps.index(spec)))
    resources = [_resources(s) for s in segment.steps]
    for task, result in _completed(executor, run_segment_shard, [Task(t, t.describe()) for t in tasks],
                                   _combine(resources), _concurrency(segment.steps)):
        for key, stats in result.items():
            progress.shard_done(key, stats, task.payload.shard)
    for spec in segment.steps:
        progress.finish_step(spec.key)
    return skipped


def _first_unfinished(markers: dict[tuple[str, str], dict | None], steps: list[StepSpec], shard: str,
                      seg_fps: list[str]) -> int | None:
    for i, (spec, fp) in enumerate(zip(steps, seg_fps)):
        marker = markers[(spec.key, shard)]
        if marker is None or marker.get("fingerprint") != fp:
            return i
    return None


def _run_global_step(spec: StepSpec, specs: list[StepSpec], fps: list[dict[str, str]], runs: dict[str, str],
                     input_files: dict[str, InputFile], shards: list[str], layout: Layout, executor: Executor,
                     progress: Progress, batch_size: int) -> int:
    whole = runs[spec.key]
    stage = spec.build()
    phases = stage.phases()
    if not phases or phases[-1].over != "shards":
        raise ValueError(f"global step {spec.key!r}: its last phase must run over shards (it emits the output)")
    previous_key = specs[spec.index - 1].key if spec.index > 0 else None
    context = PhaseContext(layout.out, spec.key, whole, previous_key, input_files, shards, {},
                           stage.options.keep_rejected, spec.options.get("batch_size") or batch_size, stage.adds)
    step_markers = dict(zip(shards, layout.read_markers([layout.marker(spec.key, s) for s in shards]), strict=True))
    all_done = all((step_markers[s] or {}).get("fingerprint") == fps[spec.index][s] for s in shards)
    progress.start_step(spec.key, total=len(shards), skipped=len(shards) if all_done else 0)
    if all_done:
        progress.finish_step(spec.key)
        return len(shards)
    resumed = 0
    for phase_index, phase in enumerate(phases):
        is_last = phase_index == len(phases) - 1
        units: list[Any] = (shards if phase.over == "shards" else list(range(phase.partitions))
                            if phase.over == "partitions" else [None])
        summaries: dict[Any, Any] = {}
        tasks = []
        phase_markers = layout.read_markers([layout.phase_marker(spec.key, whole, phase.name, u) for u in units])
        for unit, marker in zip(units, phase_markers, strict=True):
            step_marker_ok = not is_last or (step_markers.get(unit) or {}).get("fingerprint") == fps[spec.index][unit]
            if marker is not None and marker.get("fingerprint") == whole and step_marker_ok:
                summaries[unit] = marker.get("summary")
                resumed += int(is_last)
                continue
            ctx = PhaseContext(**{**context.__dict__, "summaries": dict(context.summaries)})
            tasks.append(Task(PhaseTask(ctx, spec, phase_index, unit, whole, is_last,
                                        fps[spec.index][unit] if is_last else None),
                              f"{spec.key}:{phase.name}:{_unit_name(unit)}"))
        progress.phase(spec.key, phase.name, len(units), len(units) - len(tasks))
        for task, result in _completed(executor, run_phase_unit, tasks, _resources(spec), _concurrency([spec])):
            summaries[task.payload.unit] = result["summary"]
            if is_last:
                progress.shard_done(spec.key, result["stats"])
        context.summaries[phase.name] = summaries
    progress.finish_step(spec.key)
    return resumed


#: failed units named in the error message (the rest are counted)
FAILURES_SHOWN = 10


def _completed(executor: Executor, fn: Any, tasks: list[Task], resources: Resources, concurrency: int | None
               ) -> Iterator[tuple[Task, Any]]:
    """The executor's results of the units that succeeded. Every unit runs even when some fail (their work is
    kept and a rerun skips it); then one ``StepFailed`` names the failures."""
    failures: list[str] = []
    for task, result in executor.run(fn, tasks, resources, concurrency):
        if isinstance(result, StepFailed):
            failures.append(str(result))
        else:
            yield task, result
    if failures:
        shown = "\n".join(f"  - {f}" for f in failures[:FAILURES_SHOWN])
        more = f"\n  … and {len(failures) - FAILURES_SHOWN} more" if len(failures) > FAILURES_SHOWN else ""
        raise StepFailed(f"{len(failures)} of {len(tasks)} units failed; the others finished and are kept, so a "
                         f"rerun retries only these:\n{shown}{more}")


def _resources(spec: StepSpec) -> Resources:
    return spec.stage_class(spec.params, StepOptions(**spec.options)).effective_resources()


def _combine(resources: list[Resources]) -> Resources:
    return Resources(cpus=max(r.cpus for r in resources), gpus=max(r.gpus for r in resources),
                     memory_gb=max((r.memory_gb or 0) for r in resources) or None,
                     stateful=any(r.stateful for r in resources))


def _concurrency(steps: list[StepSpec]) -> int | None:
    limits = [s.options.get("concurrency") for s in steps if s.options.get("concurrency")]
    return min(limits) if limits else None


def collect_stats(specs: list[StepSpec], shards: list[str], fps: list[dict[str, str]], layout: Layout,
                  runs: dict[str, str]) -> list[dict]:
    """Merge every shard's marker stats per step (markers of skipped shards included, so totals are complete)."""
    steps = []
    for spec in specs:
        per_shard = []
        markers = layout.read_markers([layout.marker(spec.key, shard) for shard in shards])
        for shard, marker in zip(shards, markers, strict=True):
            if marker is not None and marker.get("fingerprint") == fps[spec.index][shard]:
                per_shard.append(StepStats.from_dict(marker["stats"]))
        entry = {"key": spec.key, "step": spec.stage_class.name, "fingerprint": fps[spec.index].get(
            shards[0]) if shards else None, "config": spec.config(), "stats": merge_all(per_shard).to_dict()}
        if spec.stage_class.kind == "global":
            entry["phases"] = _once_phase_summaries(spec, layout, runs[spec.key])
        steps.append(entry)
    return steps


def _once_phase_summaries(spec: StepSpec, layout: Layout, run: str) -> dict[str, Any]:
    """The summaries of a global step's ``once`` phases (its plan: quantile edges, mixing factors …)."""
    out = {}
    for phase in spec.build().phases():
        if phase.over == "once":
            marker = layout.read_marker(layout.phase_marker(spec.key, run, phase.name, None))
            if marker is not None:
                out[phase.name] = marker.get("summary")
    return out

"""The driver of a run: plans what is still to do by comparing markers' fingerprints with the plan's, hands the
units of work (:mod:`curate.units`) to an executor, keeps the output folder to what the plan vouches for
(:mod:`curate.outdir`), and merges the stats.

The unit of work, retry and resume is one shard through one fused segment of document-local steps, or one unit
of one phase of a global step. Layout of the output folder: :mod:`curate.layout`.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from curate.errors import StepFailed
from curate.executors.base import Executor, Task
from curate.io import InputFile
from curate.layout import MARKER_READERS, PHASE_MARKERS, Layout, now, unit_name
from curate.manifest import StepMarkers, iter_marker_stats, listed, read_step_markers, write_manifest
from curate.outdir import OutputLock, tidy_output
from curate.plan import Segment, StepSpec, run_ids, segments, shard_fingerprints
from curate.progress import Progress
from curate.redact import redact
from curate.stage import Phase, Resources, Stage, StepOptions
from curate.stats import StepStats, merge_all
from curate.units import (
    DEFAULT_BATCH_SIZE,
    PhaseContext,
    PhaseJob,
    PhaseTask,
    SegmentTask,
    read_step_shard,
    run_phase_unit,
    run_segment_shard,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "MARKER_READERS",
    "Layout",
    "RunResult",
    "collect_stats",
    "read_step_shard",
    "run_steps",
]


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


def run_steps(
    specs: list[StepSpec],
    inputs: list[InputFile],
    out: str,
    executor: Executor,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    recipe: dict | None = None,
) -> RunResult:
    """Run ``specs`` over ``inputs`` into ``out``, skipping every unit whose marker matches the plan.

    The output folder is locked for the run; before and after the work, whatever the plan does not vouch for is
    removed from it (:func:`tidy_output`), so on success it holds exactly what a fresh run would write."""
    started, wall0 = now(), time.perf_counter()
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
        markers = tidy_output(layout, specs, fps, runs, shards)  # what survived: read once, for every segment
        known = {key: found.fingerprints() for key, found in markers.items()}
        counting = _CountingExecutor(executor)
        for segment in segments(specs):
            if segment.kind == "local":
                resumed += _run_local_segment(
                    segment, specs, fps, input_files, layout, counting, progress, batch_size, known
                )
            else:
                resumed += _run_global_step(
                    segment.steps[0],
                    specs,
                    fps,
                    runs,
                    input_files,
                    shards,
                    layout,
                    counting,
                    progress,
                    batch_size,
                    known[segment.steps[0].key],
                )
        del known
        if counting.dispatched:  # else nothing was written since the first tidying: what it found still holds
            markers = tidy_output(layout, specs, fps, runs, shards)
        steps = collect_stats(specs, shards, fps, layout, runs, markers)
        result = RunResult(out, steps, resumed, time.perf_counter() - wall0)
        layout.root().child("_stats.json").write_json(
            {
                "recipe": redact(recipe or {}),
                "steps": steps,
                "run": {
                    "started": started,
                    "finished": now(),
                    "wall_seconds": result.wall_seconds,
                    "executor": executor.name,
                    "resumed_shards": resumed,
                    "shards": len(shards),
                },
            }
        )
    return result


def _run_local_segment(
    segment: Segment,
    specs: list[StepSpec],
    fps: list[dict[str, str]],
    input_files: dict[str, InputFile],
    layout: Layout,
    executor: Executor,
    progress: Progress,
    batch_size: int,
    known: dict[str, list[str | None]],
) -> int:
    """Run the shards of a segment of document-local steps that ``known`` (the fingerprints of the markers left
    after tidying, in input order) does not show finished with the plan's fingerprints."""
    first = segment.steps[0].index
    previous_key = specs[first - 1].key if first > 0 else None
    tasks: list[SegmentTask] = []
    skipped = 0
    reports = executor.running_reports(progress) if progress.enabled else None
    done = [known[spec.key] for spec in segment.steps]
    for i, (shard, input_file) in enumerate(input_files.items()):
        seg_fps = [fps[s.index][shard] for s in segment.steps]
        start = next((j for j, fp in enumerate(seg_fps) if done[j][i] != fp), None)
        if start is None:
            skipped += 1
            continue
        prev = previous_key if start == 0 else segment.steps[start - 1].key
        tasks.append(
            SegmentTask(
                layout.out,
                shard,
                segment.steps,
                start,
                seg_fps,
                input_file if prev is None else None,
                prev,
                segment.steps[0].options.get("batch_size") or batch_size,
                reports,
            )
        )
    for spec in segment.steps:
        progress.start_step(
            spec.key,
            total=len(input_files),
            skipped=skipped + sum(1 for t in tasks if t.start > segment.steps.index(spec)),
        )
    resources = [_resources(s) for s in segment.steps]
    for task, result in _completed(
        executor,
        run_segment_shard,
        [Task(t, t.describe()) for t in tasks],
        _combine(resources),
        _concurrency(segment.steps),
    ):
        for key, stats in result.items():
            progress.shard_done(key, stats, task.payload.shard)
    for spec in segment.steps:
        progress.finish_step(spec.key)
    return skipped


def _run_global_step(
    spec: StepSpec,
    specs: list[StepSpec],
    fps: list[dict[str, str]],
    runs: dict[str, str],
    input_files: dict[str, InputFile],
    shards: list[str],
    layout: Layout,
    executor: Executor,
    progress: Progress,
    batch_size: int,
    known: list[str | None],
) -> int:
    """Run a global step's phases, skipping units whose phase markers match (``known``: the fingerprints of its
    shard markers after tidying, in input order)."""
    whole = runs[spec.key]
    stage, phases = _build_global(spec)
    if not phases or phases[-1].over != "shards":
        raise ValueError(f"global step {spec.key!r}: its last phase must run over shards (it emits the output)")
    previous_key = specs[spec.index - 1].key if spec.index > 0 else None
    context = PhaseContext(
        layout.out,
        spec.key,
        whole,
        previous_key,
        input_files,
        shards,
        {},
        stage.options.keep_rejected,
        spec.options.get("batch_size") or batch_size,
        stage.adds,
        stage.options.partition_by,
    )
    step_fps = dict(zip(shards, known, strict=True))
    all_done = all(step_fps[s] == fps[spec.index][s] for s in shards)
    progress.start_step(spec.key, total=len(shards), skipped=len(shards) if all_done else 0)
    if all_done:
        progress.finish_step(spec.key)
        return len(shards)
    resumed = 0
    counters: dict[str, int] = {}  # what earlier phases counted (the last phase's counts are in shard markers)
    for phase_index, phase in enumerate(phases):
        is_last = phase_index == len(phases) - 1
        units: list[Any] = (
            shards
            if phase.over == "shards"
            else list(range(phase.partitions))
            if phase.over == "partitions"
            else [None]
        )
        summaries: dict[Any, Any] = {}
        tasks = []
        # what every unit of the phase shares goes to the executor once (not in each of 100,000 payloads)
        job = PhaseJob(
            PhaseContext(**{**context.__dict__, "summaries": dict(context.summaries)}),
            spec,
            phase_index,
            whole,
            is_last,
        )
        for unit, marker in zip(units, _phase_markers(layout, spec.key, whole, phase.name, units), strict=True):
            step_marker_ok = not is_last or step_fps.get(unit) == fps[spec.index][unit]
            if marker is not None and marker.get("fingerprint") == whole and step_marker_ok:
                summaries[unit] = marker.get("summary")
                resumed += int(is_last)
                if not is_last:
                    StepStats.add_counts(counters, marker.get("counters") or {})
                continue
            tasks.append(
                Task(
                    PhaseTask(unit, fps[spec.index][unit] if is_last else None),
                    f"{spec.key}:{phase.name}:{unit_name(unit)}",
                )
            )
        progress.phase(spec.key, phase.name, len(units), len(units) - len(tasks))
        for task, result in _completed(
            executor, run_phase_unit, tasks, _resources(spec), _concurrency([spec]), shared=job
        ):
            summaries[task.payload.unit] = result["summary"]
            if is_last:
                progress.shard_done(spec.key, result["stats"])
            else:
                StepStats.add_counts(counters, result.get("counters") or {})
        context.summaries[phase.name] = summaries
        if phase_index == len(phases) - 2:
            layout.work(spec.key, whole, PHASE_COUNTERS).write_json(counters)
    progress.finish_step(spec.key)
    return resumed


def _build_global(spec: StepSpec) -> tuple[Stage, list[Phase]]:
    """A global step built and set up on the driver, and its phases. A failure there (a model or file ``setup()``
    cannot load, ``phases()`` raising) fails the step as a map step's setup failure fails its shards: a
    :class:`StepFailed` (exit code 3) naming the step and the cause, not a traceback."""
    try:
        stage = spec.build()
        return stage, stage.phases()
    except StepFailed:
        raise
    except Exception as exc:
        kind = f" ({spec.stage_class.name})" if spec.stage_class.name != spec.key else ""
        raise StepFailed(
            f"global step {spec.key!r}{kind} could not be set up on the driver: "
            f"{type(exc).__name__}: {exc}\n  Nothing of this step ran; the steps before it finished and are kept. Fix "
            "what its setup needs (a file, a model, a parameter) and rerun: the run resumes at this step."
        ) from exc


def _phase_markers(layout: Layout, key: str, run: str, phase: str, units: list[Any]) -> list[dict | None]:
    """The phase markers of ``units`` (``None`` where missing): one listing of the phase's folder, then a read of
    each marker it shows (a phase not started yet costs one listing, not a round trip per unit)."""
    folder = layout.work(key, run, PHASE_MARKERS, phase)
    there = {posixpath.basename(i.path) for i in folder.list_files()}
    present = [u for u in units if f"{unit_name(u)}.json" in there]
    read = dict(
        zip(map(unit_name, present), layout.read_markers([folder.child(f"{unit_name(u)}.json") for u in present]))
    )
    return [read.get(unit_name(u)) for u in units]


class _CountingExecutor:
    """An executor that counts the units handed to it (none: the output folder is as the first tidying left it)."""

    def __init__(self, executor: Executor):
        self.executor = executor
        self.dispatched = 0

    def run(
        self, fn: Any, tasks: list[Task], resources: Resources, concurrency: int | None, shared: Any = None
    ) -> Iterator[tuple[Task, Any]]:
        self.dispatched += len(tasks)
        if shared is None:
            return self.executor.run(fn, tasks, resources, concurrency)
        return self.executor.run(fn, tasks, resources, concurrency, shared=shared)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.executor, name)


#: a global step's earlier phases' counters, summed (``_work/<run id>/``)
PHASE_COUNTERS = "_phase_counters.json"

#: failed units named in the error message (the rest are counted)
FAILURES_SHOWN = 10


def _completed(
    executor: Executor,
    fn: Any,
    tasks: list[Task],
    resources: Resources,
    concurrency: int | None,
    shared: Any = None,
) -> Iterator[tuple[Task, Any]]:
    """The executor's results of the units that succeeded (``shared``: see :meth:`Executor.run`). Every unit runs
    even when some fail (their work is kept and a rerun skips it); then one ``StepFailed`` names the failures."""
    failures: list[str] = []
    for task, result in executor.run(fn, tasks, resources, concurrency, shared=shared):
        if isinstance(result, StepFailed):
            failures.append(str(result))
        else:
            yield task, result
    if failures:
        shown = "\n".join(f"  - {f}" for f in failures[:FAILURES_SHOWN])
        more = f"\n  … and {len(failures) - FAILURES_SHOWN} more" if len(failures) > FAILURES_SHOWN else ""
        raise StepFailed(
            f"{len(failures)} of {len(tasks)} units failed; the others finished and are kept, so a "
            f"rerun retries only these:\n{shown}{more}"
        )


def _resources(spec: StepSpec) -> Resources:
    return spec.stage_class(spec.params, StepOptions(**spec.options)).effective_resources()


def _combine(resources: list[Resources]) -> Resources:
    custom: dict[str, float] = {}
    for r in resources:
        for name, amount in r.custom:
            custom[name] = max(custom.get(name, 0.0), amount)
    return Resources(
        cpus=max(r.cpus for r in resources),
        gpus=max(r.gpus for r in resources),
        memory_gb=max((r.memory_gb or 0) for r in resources) or None,
        stateful=any(r.stateful for r in resources),
        custom=tuple(sorted(custom.items())),
    )


def _concurrency(steps: list[StepSpec]) -> int | None:
    limits: list[int] = [c for s in steps if (c := s.options.get("concurrency"))]
    return min(limits) if limits else None


def collect_stats(
    specs: list[StepSpec],
    shards: list[str],
    fps: list[dict[str, str]],
    layout: Layout,
    runs: dict[str, str],
    markers: dict[str, StepMarkers] | None = None,
) -> list[dict]:
    """Merge every shard's marker stats per step (markers of skipped shards included, so totals are complete), and
    leave each step's manifest (:mod:`curate.manifest`) describing exactly the markers merged.

    ``markers``: what the last tidying found. A step whose markers all came unchanged from its manifest takes the
    merged stats stored there; the others read their markers, a chunk at a time."""
    steps = []
    for spec in specs:
        step_fps = fps[spec.index]
        found = markers[spec.key] if markers is not None else None
        if found is None:
            found = read_step_markers(layout, spec.key, shards, listed(layout, spec.key))
        entries = [e if e is not None and e.fingerprint == step_fps[s] else None for s, e in zip(shards, found.entries)]
        kept = [s for s, e in zip(shards, entries, strict=True) if e is not None]
        summary = found.reusable_stats(kept)
        if summary is None:
            nodes: dict[str, int] = {}
            merged = merge_all(_counting_nodes(iter_marker_stats(layout, spec.key, kept), nodes))
            summary = {"stats": merged.to_dict(), "nodes": nodes}
            write_manifest(layout, spec.key, shards, entries, summary)
        merged = StepStats.from_dict(summary["stats"])
        if spec.key in runs:  # a global step: what its earlier phases counted, once for the whole step
            earlier = layout.read_marker(layout.work(spec.key, runs[spec.key], PHASE_COUNTERS)) or {}
            StepStats.add_counts(merged.counters, earlier)
        entry = {
            "key": spec.key,
            "step": spec.stage_class.name,
            "fingerprint": step_fps.get(shards[0]) if shards else None,
            "config": redact(spec.config()),
            "stats": merged.to_dict(),
            "nodes": dict(summary["nodes"]),
        }
        if spec.stage_class.kind == "global":
            entry["phases"] = _once_phase_summaries(spec, layout, runs[spec.key])
        steps.append(entry)
    return steps


def _counting_nodes(stats: Iterator[tuple[StepStats, str]], nodes: dict[str, int]) -> Iterator[StepStats]:
    for shard_stats, node in stats:
        nodes[node] = nodes.get(node, 0) + 1
        yield shard_stats


def _once_phase_summaries(spec: StepSpec, layout: Layout, run: str) -> dict[str, Any]:
    """The summaries of a global step's ``once`` phases (its plan: quantile edges, mixing factors …)."""
    out = {}
    for phase in spec.build().phases():
        if phase.over == "once":
            marker = layout.read_marker(layout.phase_marker(spec.key, run, phase.name, None))
            if marker is not None:
                out[phase.name] = marker.get("summary")
    return out

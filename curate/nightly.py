"""``curate nightly RECIPE --state DIR``: build a recipe over every Common Crawl snapshot not built yet, each deduped
against all earlier ones, and say in one JSON line what happened.

The *state folder* (local or ``s3://``) is the job's memory::

    STATE/snapshots.json        the recipe, its Common Crawl input, the first snapshot, and per snapshot: status
                                (running / done / failed / empty), output folder, times, figures, comparison
    STATE/index/<step>/         the persistent dedup index of each exact/URL/MinHash step (its `dedup_index`)
    STATE/_lock.json            held while a nightly runs (a second one exits 75)

Each snapshot is built into its own output folder, ``OUTPUT/<snapshot id>/`` (``OUTPUT`` is the recipe's ``output``
or ``--output``), oldest first, because each one is deduplicated against every snapshot before it. The first night
starts at the recipe's ``input.commoncrawl.snapshot`` (``latest``: the newest one then); later nights build every
snapshot after it that is not done. Re-running is safe: a snapshot whose run was killed is resumed from its
markers, and the dedup index ignores a snapshot's own entries, so rebuilding one changes nothing (docs/dedup.md).
A failure stops the night (a later snapshot must not be deduplicated against an incomplete one); the next night
retries it. Exit codes: :data:`curate.errors.EXIT_CODES`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from curate import commoncrawl, snapshot_compare
from curate.errors import CurateError, RecipeError, StepFailed
from curate.outdir import OutputLock
from curate.recipe import Recipe, load_recipe
from curate.storage import Location, location

STATE_FILE = "snapshots.json"
INDEX_DIR = "index"
STATE_VERSION = 1
#: exit statuses of ``curate nightly`` besides curate's general ones (all: ``curate.errors.EXIT_CODES``)
EXIT_PARTIAL = 5
EXIT_EMPTY = 6
EXIT_INPUT_WARNINGS = 4


class StateError(CurateError):
    """The state folder is missing, unreadable, or belongs to another recipe."""


@dataclass
class NightlyResult:
    """What a night did; :meth:`line` is the one-line JSON summary for the scheduler."""

    status: str  # done | nothing_new | partial | failed | empty | warnings
    exit_code: int
    state: str
    new: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    def line(self) -> str:
        import json

        return json.dumps(
            {
                "nightly": self.status,
                "exit": self.exit_code,
                "message": self.message,
                "new": self.new,
                "built": self.built,
                "snapshots": self.snapshots,
                "state": self.state,
            },
            sort_keys=False,
            separators=(",", ":"),
            default=str,
        )


# ---------------------------------------------------------------------------------------------------------------
# The state folder


class State:
    """``STATE/snapshots.json`` and where the indexes live."""

    def __init__(self, uri: str, data: dict[str, Any]):
        self.uri = uri
        self.root: Location = location(uri)
        self.data = data

    @classmethod
    def open(cls, uri: str, init: bool = False) -> State:
        """Open an existing state; with ``init`` a missing one is created (the first night)."""
        root = location(uri)
        file = root.child(STATE_FILE)
        if file.exists():
            try:
                data = file.read_json()
            except ValueError as exc:
                raise StateError(
                    f"{file.uri} is not valid JSON ({exc}): restore it from a backup; the outputs and "
                    "indexes are untouched"
                ) from None
            if data.get("version") != STATE_VERSION:
                raise StateError(
                    f"{file.uri}: state version {data.get('version')!r}, this curate reads {STATE_VERSION}"
                )
            return cls(root.uri, data)
        if not init:
            raise StateError(
                f"no nightly state at {root.uri} (no {STATE_FILE}): for the first night add --init "
                "to create it; otherwise check the path or the mount (a job that lost its state would "
                "rebuild and re-deduplicate everything)"
            )
        root.makedirs()
        return cls(
            root.uri, {"version": STATE_VERSION, "recipe": None, "commoncrawl": None, "start": None, "snapshots": {}}
        )

    @classmethod
    def read(cls, uri: str) -> State:
        return cls.open(uri, init=False)

    def save(self) -> None:
        self.root.child(STATE_FILE).write_json(self.data)

    @property
    def snapshots(self) -> dict[str, dict[str, Any]]:
        return self.data.setdefault("snapshots", {})

    def index_uri(self, key: str) -> str:
        return self.root.child(INDEX_DIR, key).uri

    def bind(self, recipe: Recipe) -> None:
        """Tie the state to ``recipe`` on the first night; refuse another recipe later (its indexes and outputs
        would be mixed with this one's)."""
        if self.data.get("recipe") is None:
            self.data["recipe"] = recipe.name
        elif self.data["recipe"] != recipe.name:
            raise StateError(
                f"the state at {self.uri} belongs to recipe {self.data['recipe']!r}, not "
                f"{recipe.name!r}: give each nightly recipe its own --state folder"
            )
        spec = recipe.commoncrawl
        assert spec is not None
        self.data["commoncrawl"] = spec.model_dump(mode="json")

    def mark(self, snapshot: str, **fields: Any) -> None:
        self.snapshots.setdefault(snapshot, {}).update(fields)
        self.save()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------------------------
# What is new


def pending(spec: commoncrawl.CommonCrawlSpec, state: State, snapshots: list[commoncrawl.Snapshot]) -> list[str]:
    """Snapshots from the state's first one on (the recipe's ``snapshot`` on the first night) not yet done,
    oldest first."""
    ids = [s.id for s in snapshots]
    start = state.data.get("start") or commoncrawl.resolve_snapshot(spec, snapshots)
    if start not in ids:
        raise StateError(
            f"the state's first snapshot {start} is no longer listed in {spec.collinfo_uri()}: check "
            "input.commoncrawl.base / collinfo"
        )
    state.data["start"] = start
    return [s for s in ids[ids.index(start) :] if state.snapshots.get(s, {}).get("status") != "done"]


# ---------------------------------------------------------------------------------------------------------------
# The night


def run_nightly(
    recipe_path: str,
    state_uri: str,
    overrides: list[str] | None = None,
    output: str | None = None,
    executor: str | None = None,
    address: str | None = None,
    max_snapshots: int | None = None,
    allow_empty: bool = False,
    strict: bool = False,
    init: bool = False,
    progress: Any = None,
) -> NightlyResult:
    """One night (see the module docstring). User errors raise :class:`CurateError`s with their exit codes."""
    overrides = list(overrides or [])
    recipe = load_recipe(recipe_path, overrides, check_files=True)  # a model offline: exit 69 before any work
    if recipe.commoncrawl is None:
        raise RecipeError(
            f"{recipe.source}: `curate nightly` builds Common Crawl snapshots; give the recipe "
            "input: {commoncrawl: {snapshot: latest}} (or use `curate run` for fixed input paths)"
        )
    spec = recipe.commoncrawl
    state = State.open(state_uri, init=init)
    with OutputLock(state.root.uri):
        state.bind(recipe)
        snapshots = commoncrawl.list_snapshots(spec)
        new = pending(spec, state, snapshots)
        state.save()
        if not new:
            done = sorted(k for k, v in state.snapshots.items() if v.get("status") == "done")
            return NightlyResult(
                "nothing_new",
                0,
                state.uri,
                message=f"nothing new: the newest snapshot "
                f"{snapshots[-1].id} is already built" + (f" ({len(done)} built)" if done else ""),
            )
        todo = new[:max_snapshots] if max_snapshots else new
        result = NightlyResult("done", 0, state.uri, new=new)
        root = (output or recipe.output).rstrip("/")
        for snapshot in todo:
            entry = _build(
                recipe_path,
                overrides,
                recipe,
                state,
                snapshot,
                [s.id for s in snapshots],
                root,
                executor,
                address,
                progress,
                allow_empty,
            )
            result.snapshots.append(entry)
            if entry["status"] == "failed":
                result.status = "partial" if result.built else "failed"
                result.exit_code = EXIT_PARTIAL if result.built else StepFailed.exit_code
                break
            if entry["status"] == "empty":
                result.status, result.exit_code = "empty", EXIT_EMPTY
                break
            result.built.append(snapshot)
            if entry.get("warnings") and strict and result.exit_code == 0:
                result.status, result.exit_code = "warnings", EXIT_INPUT_WARNINGS
        result.message = _message(result, len(todo))
        return result


def _message(result: NightlyResult, planned: int) -> str:
    built = ", ".join(result.built) or "none"
    if result.status == "done":
        left = len(result.new) - len(result.built)
        return f"built {built}" + (f"; {left} more new snapshot(s) left for the next night" if left else "")
    last = result.snapshots[-1] if result.snapshots else {}
    if result.status in ("failed", "partial"):
        return f"built {built}; {last.get('snapshot')} failed: {last.get('error')} (the next night resumes it)"
    if result.status == "empty":
        return (
            f"built {built}; {last.get('snapshot')} produced 0 documents from {last.get('input_files')} input "
            "files: check the input (--allow-empty accepts it)"
        )
    return f"built {built}; input files read badly (--strict)"


def snapshot_overrides(recipe: Recipe, state: State, snapshot: str) -> list[str]:
    """``--set`` overrides that point the recipe at ``snapshot`` and its dedup steps at the state's indexes
    (a step given its own ``dedup_index`` keeps it)."""
    from curate.pipeline import plan_steps

    sets = [f"input.commoncrawl.snapshot={snapshot}"]
    for spec in plan_steps(recipe):
        fields = spec.stage_class.Params.model_fields
        if "dedup_index" in fields and not spec.params.get("dedup_index"):
            sets.append(f"steps.{spec.index}.dedup_index={state.index_uri(spec.key)}")
    return sets


def _build(
    recipe_path: str,
    overrides: list[str],
    recipe: Recipe,
    state: State,
    snapshot: str,
    order: list[str],
    root: str,
    executor: str | None,
    address: str | None,
    progress: Any,
    allow_empty: bool,
) -> dict[str, Any]:
    """Build one snapshot into ``root/<snapshot>``; returns its summary entry (and records it in the state)."""
    from curate.pipeline import check_inputs, run_recipe
    from curate.stages.warc.health import run_warnings

    out = f"{root}/{snapshot}"
    snap_recipe = load_recipe(recipe_path, overrides + snapshot_overrides(recipe, state, snapshot))
    state.mark(snapshot, status="running", output=out, started=_now(), finished=None, error=None)
    inputs = check_inputs(snap_recipe)
    entry: dict[str, Any] = {"snapshot": snapshot, "output": out, "input_files": len(inputs)}
    try:
        run = run_recipe(snap_recipe, output=out, executor=executor, address=address, progress=progress)
    except StepFailed as exc:
        first_line = str(exc).splitlines()[0]
        state.mark(snapshot, status="failed", finished=_now(), error=str(exc))
        return {**entry, "status": "failed", "error": first_line}
    stats = location(out).child("_stats.json").read_json()
    entry.update(snapshot_compare.summary(stats))
    warnings = run_warnings(out, run.steps, {f.shard: f.uri for f in inputs})
    empty = entry["source_documents"] == 0 and len(inputs) > 0
    if empty:
        warnings.insert(0, f"{snapshot}: 0 documents from {len(inputs)} input files")
    entry["warnings"] = warnings
    previous = _previous_done(state, snapshot, order)
    if previous is not None:
        prev_stats = _read_stats(state.snapshots[previous]["output"])
        if prev_stats is not None:
            entry["compared_with"] = previous
            comparison = snapshot_compare.compare(prev_stats, stats, previous, snapshot)
            entry["comparison"] = comparison
            if snap_recipe.execution.report:
                _report_with_comparison(out, state.snapshots[previous]["output"])
    status = "empty" if empty and not allow_empty else "done"
    state.mark(
        snapshot, status=status, finished=_now(), **{k: v for k, v in entry.items() if k not in ("snapshot", "output")}
    )
    return {**entry, "status": status}


def _previous_done(state: State, snapshot: str, order: list[str]) -> str | None:
    """The latest snapshot before ``snapshot`` (in collinfo's chronological ``order``) that was built."""
    earlier = order[: order.index(snapshot)] if snapshot in order else []
    done = [
        k for k in earlier if state.snapshots.get(k, {}).get("status") == "done" and state.snapshots[k].get("output")
    ]
    return done[-1] if done else None


def _read_stats(out: str) -> dict[str, Any] | None:
    try:
        return location(out).child("_stats.json").read_json()
    except (OSError, ValueError):
        return None


def _report_with_comparison(out: str, previous_out: str) -> None:
    try:
        from curate.report import build_report
    except ImportError:
        return
    build_report(out, compare_with=previous_out)


# ---------------------------------------------------------------------------------------------------------------
# `curate snapshots`


def snapshot_table(spec: commoncrawl.CommonCrawlSpec, state: State | None) -> list[dict[str, Any]]:
    """Every snapshot listed, oldest first, with its status for ``state``: done / running / failed / empty (as
    recorded), new (from the state's first snapshot on, not built yet), or "-" (before it, or no state)."""
    snapshots = commoncrawl.list_snapshots(spec)
    ids = [s.id for s in snapshots]
    start = state.data.get("start") if state is not None else None
    rows = []
    for s in snapshots:
        record = state.snapshots.get(s.id, {}) if state is not None else {}
        status = record.get("status") or (
            "new" if start and s.id in ids and ids.index(s.id) >= ids.index(start) else "-"
        )
        rows.append(
            {
                "id": s.id,
                "name": s.name,
                "from": s.start,
                "to": s.end,
                "status": status,
                "output": record.get("output"),
                "documents": record.get("documents"),
                "finished": record.get("finished"),
            }
        )
    return rows

"""Global steps on the engine's side: what a phase ships to its units (the phase's shared part once, a small payload
per unit, read once per Ray worker), and a global step whose setup fails on the driver (a clear error, exit 3,
under both executors)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, write_shards
from engine_stages import CountWords

from curate.executors.base import Task
from curate.executors.local import LocalExecutor
from curate.io import InputFile, discover_inputs
from curate.plan import StepSpec
from curate.runner import run_steps
from curate.stage import Resources
from curate.units import PhaseContext, PhaseJob


class RecordingExecutor(LocalExecutor):
    """The local executor, recording each call's shared value and the pickled size of every payload."""

    def __init__(self) -> None:
        self.shared: list[Any] = []
        self.payload_bytes: list[int] = []

    def run(self, fn, tasks, resources, concurrency, shared=None):  # noqa: ANN001 - the Executor protocol's
        self.shared.append(shared)
        self.payload_bytes += [len(pickle.dumps(t.payload)) for t in tasks]
        return super().run(fn, tasks, resources, concurrency, shared)


def _run_count_words(tmp_path: Path, shards: int) -> RecordingExecutor:
    write_shards(tmp_path / f"in{shards}", shards=shards, docs=3)
    executor = RecordingExecutor()
    spec = StepSpec("count_words", 0, CountWords, {}, {})
    run_steps([spec], discover_inputs([str(tmp_path / f"in{shards}" / "*.parquet")]), str(tmp_path / "o"), executor)
    return executor


def test_a_phase_ships_its_context_once_and_each_unit_a_small_payload(tmp_path):
    small, large = _run_count_words(tmp_path / "a", 3), _run_count_words(tmp_path / "b", 40)
    for executor in (small, large):
        assert [type(s) for s in executor.shared] == [PhaseJob] * 3  # count, total, tag: one shared job per phase
        assert [s.phase_index for s in executor.shared] == [0, 1, 2]
        assert executor.shared[2].context.summaries["total"][None]["total"] > 0  # earlier phases' summaries
    # a unit's payload does not grow with the number of shards (it held every input file and summary before)
    assert max(large.payload_bytes) <= max(small.payload_bytes) + 16
    assert max(large.payload_bytes) < 300


def test_a_unit_never_changes_the_shared_context(tmp_path):
    shards = [f"part-{i:03d}" for i in range(3)]
    files = {s: InputFile(str(tmp_path / f"{s}.parquet"), s, 1, 1.0) for s in shards}
    context = PhaseContext(str(tmp_path / "o"), "count_words", "run", None, files, shards, {}, False)
    unit = context.for_unit()
    unit.count("seen")
    unit._files.append("x")
    assert (context._counters, context._files) == ({}, [])
    assert unit.input_files is context.input_files  # shared, not copied per unit


def _worker_identity(shared: Any, payload: int) -> tuple[int, int, int]:
    return os.getpid(), id(shared), payload


@pytest.mark.ray
def test_ray_reads_the_shared_value_once_per_worker_process(ray_instance):
    from curate.executors.ray import RayExecutor

    big = {"shards": [f"part-{i:06d}" for i in range(20_000)]}
    tasks = [Task(i, f"unit {i}") for i in range(40)]
    executor = RayExecutor()
    for resources in (Resources(cpus=1), Resources(cpus=1, stateful=True)):  # tasks, then an actor pool
        results = [r for _, r in executor.run(_worker_identity, tasks, resources, None, shared=big)]
        assert sorted(r[2] for r in results) == list(range(40))
        ids: dict[int, set[int]] = {}
        for pid, obj, _ in results:
            ids.setdefault(pid, set()).add(obj)
        assert all(len(objs) == 1 for objs in ids.values()), ids  # one unpickled copy per worker process


PLUGIN = '''
from engine_stages import CountWords


class SetupFails(CountWords):
    """A global step whose setup cannot load what it needs."""

    name = "setup_fails"

    def setup(self):
        raise FileNotFoundError("model file /nowhere/model.bin does not exist")
'''


def _recipe(tmp_path: Path) -> Path:
    write_shards(tmp_path / "in", shards=2, docs=10)
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "setup_plugin.py").write_text(PLUGIN)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        textwrap.dedent(f"""\
        name: setup-fails
        input: {{paths: ["{tmp_path / "in"}/*.parquet"]}}
        output: {tmp_path / "out"}
        steps:
          - engine_stages:MinLength: {{min_chars: 5}}
          - setup_plugin:SetupFails: {{}}
        execution: {{report: false}}
        """)
    )
    return recipe


def _check_setup_failure(tmp_path: Path, proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 3, proc.stderr
    err = " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr
    assert "global step 'setup_fails'" in err and "could not be set up" in err
    assert "FileNotFoundError: model file /nowhere/model.bin does not exist" in err
    assert "rerun" in err
    assert sorted(p.name for p in (tmp_path / "out" / "min_length" / "_done").glob("part-*")) == [
        "part-000.json",
        "part-001.json",
    ]  # the step before it finished and is kept


def _curate_run(tmp_path: Path, recipe: Path, *args: str) -> subprocess.CompletedProcess:
    paths = [str(REPO / "tests"), str(tmp_path / "plugins"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    cmd = [sys.executable, "-m", "curate.cli", "run", str(recipe), "-q", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def test_a_global_step_failing_setup_on_the_driver_exits_3_with_what_to_do(tmp_path):
    _check_setup_failure(tmp_path, _curate_run(tmp_path, _recipe(tmp_path), "--executor", "local"))


@pytest.mark.ray
def test_a_global_step_failing_setup_on_the_driver_exits_3_on_ray(tmp_path, ray_instance):
    address = ray_instance.get_runtime_context().gcs_address
    _check_setup_failure(tmp_path, _curate_run(tmp_path, _recipe(tmp_path), "--executor", "ray", "--address", address))

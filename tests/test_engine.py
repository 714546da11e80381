"""Engine behaviour: shard-granular resume after SIGKILL, config changes, local == Ray, worker death on Ray,
kept rejections, streaming batches, merged stats, the notebook API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REPO, write_shards
from engine_stages import CountWords, MinLength, Upper, UpperOnActors

import curate
from curate.pipeline import run_recipe
from curate.recipe import parse_recipe

RECIPE = """\
name: engine-test
input: {paths: ["%(input)s/*.parquet"]}
output: %(output)s
steps:
  - engine_stages:MinLength: {min_chars: 20, keep_rejected: true, sleep_per_batch: %(sleep)s}
  - engine_stages:Upper: {suffix: "%(suffix)s"}
  - engine_stages:CountWords: {}
execution: {executor: local, batch_size: %(batch)s}
"""


def make_recipe(
    tmp_path: Path, input_dir: Path, output: Path, sleep: float = 0.0, suffix: str = "", batch: int = 1000
) -> Path:
    path = tmp_path / f"recipe-{output.name}.yaml"
    path.write_text(RECIPE % {"input": input_dir, "output": output, "sleep": sleep, "suffix": suffix, "batch": batch})
    return path


def run(path: Path, *overrides: str):
    from curate.recipe import load_recipe

    return run_recipe(load_recipe(str(path), list(overrides)))


def outputs(out: Path) -> dict[str, bytes]:
    """Every Parquet file of a run, by relative path (markers and stats hold timings, so they are left out)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet")) if "_work" not in p.parts}


def markers(out: Path, step: str) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((out / step / "_done").glob("*.json"))}


def test_run_writes_shards_markers_rejected_and_stats(tmp_path, input_shards):
    result = run(make_recipe(tmp_path, input_shards, tmp_path / "out"))
    out = tmp_path / "out"
    stats = json.loads((out / "_stats.json").read_text())
    assert [s["key"] for s in stats["steps"]] == ["min_length", "upper", "count_words"]
    first = stats["steps"][0]["stats"]
    rejected = pa.concat_tables([pq.read_table(p) for p in (out / "min_length" / "rejected").glob("*.parquet")])
    kept = curate.read_parquet(str(out / "min_length"))
    assert first["docs_in"] == 200 == kept.num_rows + rejected.num_rows
    assert first["removed"] == {"too_short": rejected.num_rows} and rejected.num_rows > 0
    assert set(rejected.column("reason").to_pylist()) == {"too_short"}
    assert first["bytes_in"] > first["bytes_out"] > 0 and first["cpu_seconds"] >= 0
    assert stats["steps"][2]["stats"]["docs_out"] == kept.num_rows
    final = curate.read_parquet(str(out / "count_words"))
    assert all(t == t.upper() for t in final.column("text").to_pylist())
    assert abs(sum(final.column("word_share").to_pylist()) - 1.0) < 1e-9
    assert set(markers(out, "upper")) == {f"part-{i:03d}" for i in range(4)}
    assert result.resumed_shards == 0
    assert run(make_recipe(tmp_path, input_shards, tmp_path / "out")).resumed_shards == 8  # all skipped


def test_changing_a_step_redoes_it_and_later_steps_only(tmp_path, input_shards):
    path = make_recipe(tmp_path, input_shards, tmp_path / "out")
    run(path)
    before = {step: markers(tmp_path / "out", step) for step in ("min_length", "upper", "count_words")}
    run(path, "steps.engine_stages:Upper.suffix=!!")
    after = {step: markers(tmp_path / "out", step) for step in ("min_length", "upper", "count_words")}
    assert after["min_length"] == before["min_length"]  # untouched, not even rewritten
    for step in ("upper", "count_words"):
        assert all(after[step][s]["fingerprint"] != before[step][s]["fingerprint"] for s in before[step])
    texts = curate.read_parquet(str(tmp_path / "out" / "count_words")).column("text").to_pylist()
    assert texts and all(t.endswith("!!") for t in texts)


def test_resume_after_sigkill_redoes_only_unfinished_shards(tmp_path):
    input_dir = tmp_path / "in"
    write_shards(input_dir, shards=12, docs=30)
    reference = tmp_path / "reference"
    run(make_recipe(tmp_path, input_dir, reference))

    out = tmp_path / "killed"
    path = make_recipe(tmp_path, input_dir, out, sleep=0.4)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "curate.cli", "run", str(path), "-q"], env=env, cwd=tmp_path)
    deadline = time.time() + 60
    while len(list((out / "upper" / "_done").glob("*.json"))) < 4 and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = markers(out, "upper")
    assert 4 <= len(done_before) < 12, "the kill should land midway through the first segment"
    assert not (out / "count_words" / "_done").exists()

    result = run(path)
    assert result.resumed_shards == len(done_before)  # finished shards were skipped, not redone
    assert {s: m for s, m in markers(out, "upper").items() if s in done_before} == done_before
    assert outputs(out) == outputs(reference)  # byte for byte what an uninterrupted run writes
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]


@pytest.mark.ray
def test_local_and_ray_executors_give_identical_output(tmp_path, input_shards, ray_instance):
    path = make_recipe(tmp_path, input_shards, tmp_path / "local")
    run(path)
    run(path, "execution.executor=ray", f"output={tmp_path / 'ray'}")
    local, on_ray = outputs(tmp_path / "local"), outputs(tmp_path / "ray")
    assert local and local == on_ray
    local_stats = json.loads((tmp_path / "local" / "_stats.json").read_text())
    ray_stats = json.loads((tmp_path / "ray" / "_stats.json").read_text())
    assert ray_stats["run"]["executor"] == "ray"
    for a, b in zip(local_stats["steps"], ray_stats["steps"]):
        assert (a["stats"]["docs_in"], a["stats"]["docs_out"], a["stats"]["removed"]) == (
            b["stats"]["docs_in"],
            b["stats"]["docs_out"],
            b["stats"]["removed"],
        )


@pytest.mark.ray
def test_ray_retries_a_task_whose_worker_is_killed(tmp_path, input_shards, ray_instance):
    reference = tmp_path / "reference"
    run(make_recipe(tmp_path, input_shards, reference))
    pids = tmp_path / "pids"
    pids.mkdir()
    killed: list[int] = []

    def kill_first_worker() -> None:
        deadline = time.time() + 60
        while not killed and time.time() < deadline:
            for pid_file in pids.glob("*.pid"):
                pid = int(pid_file.stem)
                os.kill(pid, signal.SIGKILL)  # a Ray worker process dies mid-task
                killed.append(pid)
                (pids / "killed").touch()
                break
            time.sleep(0.05)

    killer = threading.Thread(target=kill_first_worker)
    killer.start()
    path = make_recipe(tmp_path, input_shards, tmp_path / "ray")
    run(path, "execution.executor=ray", f"steps.engine_stages:Upper.wait_to_be_killed={pids}")
    killer.join()
    assert killed, "no worker was killed"
    assert outputs(tmp_path / "ray") == outputs(reference)  # the killed shard was retried and finished


def _pid_and_built(spec, payload: int) -> tuple[int, bool]:
    """On a worker: its process id, and whether ``spec``'s step was already built in it (cached by StepSpec.build)."""
    from curate.plan import _STAGE_CACHE

    built = bool(_STAGE_CACHE)
    spec.build()
    return os.getpid(), built


@pytest.mark.ray
def test_ray_keeps_a_pools_processes_between_runs_with_their_steps_torn_down(ray_instance):
    """A second run with the same resources uses the first one's worker processes (no new process start, no
    imports again), yet builds its steps afresh (each run ends with a teardown); a run of tasks first stops the
    idle actors, whose CPUs it needs (on this 2-CPU instance it would otherwise wait forever)."""
    from curate.executors.base import Task
    from curate.executors.ray import RayExecutor
    from curate.plan import StepSpec
    from curate.stage import Resources

    spec = StepSpec.from_stage(MinLength(), "min_length", 0)
    tasks = [Task(i, f"unit {i}") for i in range(6)]
    stateful = Resources(cpus=1, stateful=True)
    executor = RayExecutor()
    try:
        first = [result for _, result in executor.run(_pid_and_built, tasks, stateful, 2, shared=spec)]
        second = [result for _, result in executor.run(_pid_and_built, tasks, stateful, 2, shared=spec)]
        one = [result for _, result in executor.run(_pid_and_built, tasks[:3], stateful, 1, shared=spec)]
        pids = {pid for pid, _ in first}
        assert len(pids) == 2 and {pid for pid, _ in second} == pids and {pid for pid, _ in one} < pids
        for results in (first, second):  # the first unit on each process builds the step, the others reuse it
            assert sorted(built for _, built in results) == [False, False, True, True, True, True]
        assert sorted(built for _, built in one) == [False, True, True]
        as_tasks = [result for _, result in executor.run(_pid_and_built, tasks[:2], Resources(cpus=1), 2, shared=spec)]
        assert len(as_tasks) == 2 and not {pid for pid, _ in as_tasks} & pids
        again = [result for _, result in executor.run(_pid_and_built, tasks[:2], stateful, 2, shared=spec)]
        assert not {pid for pid, _ in again} & pids  # the stopped actors are gone: a new pool
    finally:
        executor.close()


@pytest.mark.ray
def test_a_rerun_on_warm_ray_workers_writes_what_a_fresh_run_writes(tmp_path, input_shards, ray_instance):
    """Two runs of one executor (the second in place after a parameter change, on the actor pool's processes the
    first run left) against a fresh run of the changed recipe: the same files, byte for byte."""
    from curate.executors.ray import RayExecutor
    from curate.io import discover_inputs
    from curate.runner import run_steps

    inputs = discover_inputs([str(input_shards / "*.parquet")])

    def specs(min_chars: int) -> list:
        from curate.plan import StepSpec

        steps = [MinLength(min_chars=min_chars, keep_rejected=True), UpperOnActors(suffix="!")]
        return [StepSpec.from_stage(step, step.name, i) for i, step in enumerate(steps)]

    executor = RayExecutor()
    try:
        run_steps(specs(20), inputs, str(tmp_path / "warm"), executor)
        run_steps(specs(30), inputs, str(tmp_path / "warm"), executor)
    finally:
        executor.close()
    fresh = RayExecutor()
    try:
        run_steps(specs(30), inputs, str(tmp_path / "fresh"), fresh)
    finally:
        fresh.close()
    assert outputs(tmp_path / "warm") and outputs(tmp_path / "warm") == outputs(tmp_path / "fresh")


def test_shards_stream_in_batches(tmp_path):
    write_shards(tmp_path / "in", shards=1, docs=2500)
    run(make_recipe(tmp_path, tmp_path / "in", tmp_path / "out", batch=300))
    shard = pq.ParquetFile(tmp_path / "out" / "upper" / "part-000.parquet")
    assert shard.metadata.num_row_groups > 1
    assert max(shard.metadata.row_group(i).num_rows for i in range(shard.metadata.num_row_groups)) <= 300


def test_notebook_api_takes_arrow_or_polars_and_returns_the_same_type():
    docs = pa.table({"id": ["a", "b", "c"], "text": ["tiny", "a text long enough to keep", "another long text here"]})
    kept = MinLength(min_chars=10)(docs)
    assert isinstance(kept, pa.Table) and kept.column("id").to_pylist() == ["b", "c"]
    frame = Upper()(pl.from_arrow(docs))
    assert isinstance(frame, pl.DataFrame) and frame["text"][0] == "TINY"
    output = MinLength(min_chars=10).run_table(docs)
    assert output.rejected.column("reason").to_pylist() == ["too_short"]
    shares = CountWords()(pl.from_arrow(docs))["word_share"].to_list()
    assert isinstance(shares, list) and abs(sum(shares) - 1) < 1e-9


def test_cli_errors_are_actionable(tmp_path, input_shards):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        RECIPE.replace("min_chars: 20", "min_chars: lots")
        % {"input": input_shards, "output": tmp_path / "o", "sleep": 0, "suffix": "", "batch": 10}
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}
    proc = subprocess.run(
        [sys.executable, "-m", "curate.cli", "run", str(bad)], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert f"{bad}:5: steps[0].engine_stages:MinLength.min_chars" in proc.stderr.replace("\n", "")
    assert not (tmp_path / "o").exists()  # nothing ran


def test_warc_input_without_a_reader_is_refused(tmp_path):
    (tmp_path / "a.warc.gz").write_bytes(b"")
    recipe = parse_recipe(
        RECIPE % {"input": tmp_path, "output": tmp_path / "o", "sleep": 0, "suffix": "", "batch": 10},
        "r.yaml",
        [f"input.paths={tmp_path}/a.warc.gz"],
    )
    with pytest.raises(Exception, match="start the recipe with a reader such as `warc_extract`"):
        run_recipe(recipe)


MEMORY_PROBE = """
import resource, sys
sys.path.insert(0, {tests!r})
from engine_stages import Upper
from curate.executors.local import LocalExecutor
from curate.io import discover_inputs
from curate.plan import StepSpec
from curate.runner import run_steps
run_steps([StepSpec.from_stage(Upper(), "upper", 0)], discover_inputs([{shard!r}]), {out!r}, LocalExecutor(),
          batch_size=1000)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def test_memory_does_not_grow_with_shard_size(tmp_path):
    """A 400 MB shard goes through with a peak memory far below its size: batches stream in and out."""
    shard = tmp_path / "big.parquet"
    schema = pa.schema([("id", pa.string()), ("text", pa.string())])
    docs_per_batch, batches, doc_chars = 1000, 100, 4000
    with pq.ParquetWriter(shard, schema, compression="zstd") as writer:
        for b in range(batches):
            texts = [(f"doc {b}-{i} " * 400)[:doc_chars] for i in range(docs_per_batch)]
            writer.write_table(
                pa.table({"id": [f"{b}-{i}" for i in range(docs_per_batch)], "text": texts}, schema=schema)
            )
    text_bytes = docs_per_batch * batches * doc_chars
    baseline = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource, curate.runner, engine_stages;"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO / "tests",
    ).stdout
    probe = MEMORY_PROBE.format(tests=str(REPO / "tests"), shard=str(shard), out=str(tmp_path / "out"))
    peak = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    grown = int(peak.split()[-1]) - int(baseline.split()[-1])
    assert pq.ParquetFile(tmp_path / "out" / "upper" / "big.parquet").metadata.num_rows == docs_per_batch * batches
    assert grown < text_bytes / 4, f"peak memory grew by {grown / 1e6:.0f} MB for a {text_bytes / 1e6:.0f} MB shard"


def test_unreachable_ray_address_fails_fast_with_advice():
    import socket

    from curate.errors import CurateError
    from curate.executors.ray import _check_reachable

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.time()
    with pytest.raises(CurateError, match="cannot reach the Ray cluster at 127.0.0.1:.*--executor local"):
        _check_reachable(f"127.0.0.1:{port}")
    assert time.time() - start < 10


def test_read_markers_keeps_order_and_reports_missing(tmp_path):
    from curate.runner import Layout

    layout = Layout(str(tmp_path))
    locs = [layout.marker("step", f"shard-{i}") for i in range(50)]
    for i, loc in enumerate(locs):
        if i % 7:
            loc.write_json({"fingerprint": f"fp{i}"})
    got = layout.read_markers(locs)
    assert [m and m["fingerprint"] for m in got] == [None if i % 7 == 0 else f"fp{i}" for i in range(50)]


def test_progress_counts_a_running_shard_then_its_final_stats():
    import io

    from curate.progress import Progress

    stream = io.StringIO()
    progress = Progress(enabled=True, stream=stream, interval=0, rich=False)
    progress.start_step("filter", total=2)
    progress.running("a", {"filter": (500, 400)})
    progress.running("b", {"filter": (100, 90)})
    assert "docs 600 in → 490 out" in stream.getvalue().splitlines()[-1]
    progress.shard_done("filter", {"docs_in": 1000, "docs_out": 700}, "a")
    progress.running("a", {"filter": (900, 650)})  # a late report of a finished shard is stale: ignored
    assert "shards 1/2" in stream.getvalue().splitlines()[-1]
    assert "docs 1,100 in → 790 out" in stream.getvalue().splitlines()[-1]


def test_a_single_big_shard_reports_progress_while_it_runs(tmp_path, monkeypatch):
    """Progress moves within a shard (batch by batch), not only when the shard finishes."""
    import io

    import curate.progress
    from curate.executors.local import LocalExecutor
    from curate.io import discover_inputs
    from curate.plan import StepSpec
    from curate.progress import Progress
    from curate.runner import run_steps

    monkeypatch.setattr(curate.progress, "REPORT_INTERVAL", 0.0)
    paths = write_shards(tmp_path / "in", shards=1, docs=50)
    stream = io.StringIO()
    progress = Progress(enabled=True, stream=stream, interval=0, rich=False)
    spec = StepSpec.from_stage(Upper(batch_size=10), "upper", 0)
    run_steps([spec], discover_inputs([str(paths[0])]), str(tmp_path / "out"), LocalExecutor(), progress=progress)
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("upper")]
    running = [line for line in lines if "shards 0/1" in line]
    assert any("docs 10 in" in line for line in running) and any("docs 40 in" in line for line in running)
    assert "shards 1/1" in lines[-1] and "docs 50 in → 50 out" in lines[-1]


@pytest.mark.ray
def test_running_shard_progress_reaches_the_driver_from_ray_workers(tmp_path, ray_instance):
    import io

    from curate.executors.ray import RayExecutor
    from curate.io import discover_inputs
    from curate.plan import StepSpec
    from curate.progress import Progress
    from curate.runner import run_steps

    paths = write_shards(tmp_path / "in", shards=1, docs=40)
    stream = io.StringIO()
    progress = Progress(enabled=True, stream=stream, interval=0, rich=False)
    spec = StepSpec.from_stage(MinLength(sleep_per_batch=1.1, batch_size=10), "min_length", 0)
    executor = RayExecutor()
    try:
        run_steps([spec], discover_inputs([str(paths[0])]), str(tmp_path / "out"), executor, progress=progress)
    finally:
        executor.close()
    running = [line for line in stream.getvalue().splitlines() if "shards 0/1" in line and "docs 0 in" not in line]
    assert running, stream.getvalue()  # counts arrived while the only shard was still running
    assert "shards 1/1" in stream.getvalue().splitlines()[-1]


def test_readers_only_see_vouched_shards_and_a_rerun_removes_the_rest(tmp_path, input_shards):
    """A shard without its marker (a run cut off between the two) is invisible to readers, and the next run
    removes it; temporaries of killed runs go too, files that are not curate's stay."""
    from curate.inspect import find_documents

    path = make_recipe(tmp_path, input_shards, tmp_path / "out")
    run(path)
    out = tmp_path / "out"
    before = curate.read_parquet(str(out / "upper"))
    ghost = out / "upper" / "ghost.parquet"
    pq.write_table(before.slice(0, 5), ghost)
    (out / "upper" / "part-000.parquet.curate-tmp-0123abcd").write_bytes(b"half")
    (out / "notes.tmp-final.txt").write_text("mine")
    assert curate.read_parquet(str(out / "upper")).num_rows == before.num_rows
    assert find_documents(str(out / "upper"), n=1000)[1]["documents"] == before.num_rows
    run(path)
    assert not ghost.exists() and not list((out / "upper").glob("*.curate-tmp-*"))
    assert (out / "notes.tmp-final.txt").read_text() == "mine"


def test_a_failing_shard_does_not_stop_the_others_and_the_run_exits_3(tmp_path):
    """Every shard runs even when one fails; the failure is named, exit code 3; a rerun redoes only that shard."""
    paths = write_shards(tmp_path / "in", shards=3, docs=20)
    table = pq.read_table(paths[1])
    pq.write_table(
        table.set_column(1, "text", pa.array(["poison here"] + table.column("text").to_pylist()[1:])), paths[1]
    )
    recipe = tmp_path / "fail.yaml"
    recipe.write_text(f"""
name: failing
input: {{paths: ["{tmp_path / "in"}/*.parquet"]}}
output: {tmp_path / "out"}
steps:
  - engine_stages:FailAfter: {{fail_at: 0, poison: poison}}
execution: {{executor: local, report: false}}
""")
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}
    proc = subprocess.run(
        [sys.executable, "-m", "curate.cli", "run", str(recipe), "-q"], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 3, proc.stderr
    assert "1 of 3 units failed" in proc.stderr and "part-001" in proc.stderr and "contains 'poison'" in proc.stderr
    assert sorted(markers(tmp_path / "out", "fail_after")) == ["part-000", "part-002"]  # the others finished

"""The output folder is always what a fresh run of the current recipe would write: nothing lost, nothing stale.

Each test runs ``curate run`` (a subprocess, as users do), changes one thing — an upstream filter, a dedup
parameter, the rows of an input, an input removed or edited, a plugin's code, ``keep_rejected`` — reruns in the
same folder, and compares every file with a fresh run of the changed recipe, byte for byte. Kills land in each
phase of the redone global step before the rerun.

The corpus, the plugin and a first run of the unchanged recipe are made once per module and copied, times kept, to
the same path before each test (``world["ran"]`` is that first run's folder), so inputs keep their fingerprints and
the first run's markers stay valid; fresh runs on the unchanged inputs are made once per configuration.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import REPO, shared_data
from rerun_fixtures import COPY_WORD, planted_corpus

import curate

RECIPE = """\
name: rerun
input: {{paths: ["{input}/*.parquet"]}}
output: {output}
steps:
  - url_filter: {{banned_words: {banned}}}
  - tagger:Tagger: {{}}
  - exact_dedup: {{partitions: 3, keep_rejected: true}}
  - url_dedup: {{partitions: 2}}
  - rerun_fixtures:DyingMinhash: {{partitions: {partitions}, keep_rejected: {keep_rejected}, die_phase: "{die_phase}",
                                  die_marker: "{marker}"}}
  - engine_stages:CountWords: {{}}
execution: {{executor: {executor}, batch_size: 50, report: false}}
"""

TAGGER = '''
import pyarrow as pa
from curate.stage import Stage


class Tagger(Stage):
    """Adds a constant ``tag`` column (a plugin whose code the test edits)."""

    name = "tagger"

    def process(self, table):
        return table.append_column("tag", pa.array([{tag!r}] * table.num_rows, pa.string()))
'''


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The world every test starts from, built once: the planted corpus, the plugin, and the unchanged recipe run
    into ``ran``; a copy of it (``template``), and a folder for fresh reference runs (``fresh``)."""
    shared_data("quality_labels", "hplt_v2_inspection")
    base = tmp_path_factory.mktemp("rerun")
    root = base / "world"
    planted_corpus(root / "in")
    (root / "plugins").mkdir()
    (root / "plugins" / "tagger.py").write_text(TAGGER.format(tag="v1"))
    world = {"root": root, "in": root / "in", "plugins": root / "plugins", "ran": root / "ran"}
    curate_run(world, recipe(world, world["ran"]))
    shutil.copytree(root, base / "template")
    (base / "fresh").mkdir()
    return {**world, "template": base / "template", "fresh": base / "fresh"}


@pytest.fixture
def world(pristine: dict[str, Path]) -> dict[str, Path]:
    """The pristine world at its own path (copies keep modification times, so every fingerprint is the same)."""
    root = pristine["root"]
    shutil.rmtree(root)
    shutil.copytree(pristine["template"], root)
    return pristine


def recipe(
    world: dict[str, Path],
    out: Path,
    banned: str = "[]",
    keep_rejected: str = "false",
    die_phase: str = "",
    executor: str = "local",
    partitions: str = "4",
) -> Path:
    path = world["root"] / f"recipe-{out.name}-{time.monotonic_ns()}.yaml"
    path.write_text(
        RECIPE.format(
            input=world["in"],
            output=out,
            banned=banned,
            keep_rejected=keep_rejected,
            die_phase=die_phase,
            marker=world["root"] / "died",
            executor=executor,
            partitions=partitions,
        )
    )
    return path


def curate_run(
    world: dict[str, Path], recipe_path: Path, *args: str, check: bool = True
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(world["plugins"]), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "curate.cli", "run", str(recipe_path), "-q", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file a reader can see, by relative path: shards and rejected files by content, markers by name (they
    hold timings); scratch, stats and the report are left out."""
    files = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out)
        if p.is_dir() or rel.parts[0] in ("_stats.json", "_report", "_recipe.json") or "_work" in rel.parts:
            continue
        files[str(rel)] = b"marker" if "_done" in rel.parts else p.read_bytes()
    return files


def assert_same_as_fresh(world: dict[str, Path], in_place: Path, inputs_changed: bool = False, **changed: str) -> None:
    """``in_place`` equals a fresh run of the recipe with ``changed``; fresh runs on the unchanged inputs and plugin
    (``inputs_changed`` false) are made once per configuration and reused."""
    if inputs_changed:
        fresh = world["root"] / f"fresh-{time.monotonic_ns()}"
    else:
        fresh = world["fresh"] / hashlib.sha1(repr(sorted(changed.items())).encode()).hexdigest()[:12]
    if not (fresh / "_stats.json").exists():
        curate_run(world, recipe(world, fresh, **changed))
    got, want = snapshot(in_place), snapshot(fresh)
    assert sorted(got) == sorted(want), set(got) ^ set(want)
    assert [k for k in want if got[k] != want[k]] == []
    for step in ("exact_dedup", "dying_minhash", "count_words"):  # what readers return, too
        assert curate.read_parquet(str(in_place / step)).equals(curate.read_parquet(str(fresh / step)))


def rows(out: Path, step: str) -> int:
    return curate.read_parquet(str(out / step)).num_rows


def test_upstream_filter_change_removes_no_originals(world):
    out = world["ran"]  # the unchanged recipe ran there
    texts = curate.read_parquet(str(out / "url_filter")).column("text").to_pylist()
    assert rows(out, "exact_dedup") == len(set(texts)) <= len(texts) - 60  # the 60 planted copies and no more
    curate_run(world, recipe(world, out, banned=f"[{COPY_WORD}]"))
    texts = curate.read_parquet(str(out / "url_filter")).column("text").to_pylist()
    assert len(texts) == 270 and rows(out, "exact_dedup") == len(set(texts))  # every original is still there
    assert_same_as_fresh(world, out, banned=f"[{COPY_WORD}]")


@pytest.mark.parametrize(
    "change", ["shard_order", "removed_input", "edited_input", "plugin_edit", "keep_rejected_on", "dedup_parameter"]
)
def test_rerun_in_place_after_a_change_equals_a_fresh_run(world, change):
    out = world["ran"]  # the unchanged recipe ran there
    changed: dict[str, str] = {}
    if change == "shard_order":
        path = world["in"] / "part-1.parquet"
        table = pq.read_table(path)
        pq.write_table(table.take(list(reversed(range(table.num_rows)))), path)
    elif change == "removed_input":
        (world["in"] / "part-3.parquet").unlink()
    elif change == "edited_input":
        path = world["in"] / "part-2.parquet"
        table = pq.read_table(path).to_pylist()
        other = pq.read_table(world["in"] / "part-0.parquet").column("text").to_pylist()
        for i in range(5):
            table[i]["text"] = other[i]  # five new exact copies
        import pyarrow as pa

        pq.write_table(pa.Table.from_pylist(table), path)
    elif change == "plugin_edit":
        (world["plugins"] / "tagger.py").write_text(TAGGER.format(tag="v2"))
    elif change == "keep_rejected_on":
        changed = {"keep_rejected": "true"}
    elif change == "dedup_parameter":
        changed = {"partitions": "3"}  # a layout parameter: what is a duplicate must not change
    curate_run(world, recipe(world, out, **changed))
    if change == "removed_input":
        assert not list(out.rglob("part-3*"))
    if change == "plugin_edit":
        assert set(curate.read_parquet(str(out / "count_words")).column("tag").to_pylist()) == {"v2"}
    if change == "keep_rejected_on":
        assert list((out / "dying_minhash" / "rejected").glob("*.parquet"))
    inputs_changed = change in ("shard_order", "removed_input", "edited_input", "plugin_edit")
    assert_same_as_fresh(world, out, inputs_changed, **changed)


def test_keep_rejected_off_removes_the_rejected_files(world):
    out = world["root"] / "out"
    curate_run(world, recipe(world, out, keep_rejected="true"))
    assert list((out / "dying_minhash" / "rejected").glob("*.parquet"))
    curate_run(world, recipe(world, out))
    assert not list((out / "dying_minhash" / "rejected").glob("*.parquet"))
    assert_same_as_fresh(world, out)


@pytest.mark.parametrize("phase", ["signatures", "candidates", "components", "cluster_keys", "groups", "emit"])
def test_kill_in_each_phase_of_a_redone_step_then_rerun_equals_fresh(world, phase):
    out = world["ran"]  # the unchanged recipe ran there
    killed = curate_run(world, recipe(world, out, banned=f"[{COPY_WORD}]", die_phase=phase), check=False)
    assert killed.returncode == 9 and (world["root"] / "died").exists(), killed.stderr[-2000:]
    curate_run(world, recipe(world, out, banned=f"[{COPY_WORD}]", die_phase=phase))
    assert_same_as_fresh(world, out, banned=f"[{COPY_WORD}]")


def test_a_deleted_shard_whose_marker_stayed_is_redone(world):
    out = world["ran"]  # the unchanged recipe ran there
    (out / "exact_dedup" / "part-1.parquet").unlink()
    (out / "url_filter" / "part-2.parquet").unlink()
    curate_run(world, recipe(world, out))
    assert_same_as_fresh(world, out)


def test_stale_outputs_are_never_served(world):
    """A later step that now gets nothing must not show what an earlier run wrote; a step dropped from the recipe
    and shards of removed inputs disappear."""
    out = world["ran"]  # the unchanged recipe ran there
    assert rows(out, "count_words") > 0
    everything = "[" + ", ".join(f"site{i}" for i in range(31)) + f", {COPY_WORD}, near0, near1, near2, near3, near4]"
    curate_run(world, recipe(world, out, banned=everything))
    assert rows(out, "url_filter") == 0
    for step in ("exact_dedup", "dying_minhash", "count_words"):
        assert rows(out, step) == 0
    assert_same_as_fresh(world, out, banned=everything)


def test_two_runs_on_one_output_folder(world):
    """A run is refused while another holds the folder (exit 75, naming the holder); user files in the folder
    survive; a lock left by a killed run is taken over."""
    from curate.outdir import OutputLock

    out = world["root"] / "out"
    out.mkdir()
    user_file = out / "thesis.tmp-final.docx"
    user_file.write_bytes(b"my thesis")
    with OutputLock(str(out)):  # another run holds the folder (this test process)
        second = curate_run(world, recipe(world, out), check=False)
    assert second.returncode == 75, second.stderr
    assert "in use by another curate run" in second.stderr and f"pid {os.getpid()}" in second.stderr
    assert not (out / "_lock.json").exists() and not (out / "url_filter").exists()
    curate_run(world, recipe(world, out))
    assert user_file.read_bytes() == b"my thesis" and not (out / "_lock.json").exists()
    host = __import__("socket").gethostname()  # a lock whose process is gone is stale: taken over
    (out / "_lock.json").write_text(f'{{"host": "{host}", "pid": 999999999, "started": "then", "token": "x"}}')
    curate_run(world, recipe(world, out))
    assert user_file.read_bytes() == b"my thesis"


def test_output_inside_input_or_empty_is_refused(world):
    inside = world["in"] / "out"
    path = world["root"] / "inside.yaml"
    path.write_text(
        RECIPE.format(
            input=world["in"],
            output=inside,
            banned="[]",
            keep_rejected="false",
            die_phase="",
            marker="m",
            executor="local",
            partitions="4",
        ).replace(f'"{world["in"]}/*.parquet"', f'"{world["in"]}"')
    )
    proc = curate_run(world, path, check=False)
    assert proc.returncode == 2 and "inside the input" in proc.stderr
    assert not inside.exists()
    proc = curate_run(world, recipe(world, world["root"] / "o"), "--set", "output=", check=False)
    assert proc.returncode == 2 and "output is empty" in proc.stderr
    assert not list(Path.cwd().glob("url_filter"))


@pytest.mark.ray
def test_rerun_in_place_on_ray_equals_a_fresh_local_run(world, ray_instance):
    out = world["root"] / "out"
    address = ray_instance.get_runtime_context().gcs_address
    curate_run(world, recipe(world, out, executor="ray"), "--address", address)
    curate_run(world, recipe(world, out, banned=f"[{COPY_WORD}]", executor="ray"), "--address", address)
    assert_same_as_fresh(world, out, banned=f"[{COPY_WORD}]")


@pytest.mark.ray
def test_driver_killed_mid_phase_on_ray_then_rerun_equals_fresh(world, ray_instance):
    out = world["root"] / "out"
    address = ray_instance.get_runtime_context().gcs_address
    curate_run(world, recipe(world, out, executor="ray"), "--address", address)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(world["plugins"])])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "curate.cli",
            "run",
            "-q",
            "--address",
            address,
            str(recipe(world, out, banned=f"[{COPY_WORD}]", executor="ray")),
        ],
        env=env,
    )
    earlier = set((out / "dying_minhash" / "_work").iterdir())
    deadline = time.time() + 120
    while time.time() < deadline and not [
        p for p in out.glob("dying_minhash/_work/*/_phases/candidates/*.json") if p.parents[2] not in earlier
    ]:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)  # the driver dies while the redone step's candidates phase runs
    proc.wait()
    assert not list((out / "dying_minhash").glob("_done/*.json"))  # the redone step had not finished
    curate_run(world, recipe(world, out, banned=f"[{COPY_WORD}]", executor="ray"), "--address", address)
    assert_same_as_fresh(world, out, banned=f"[{COPY_WORD}]")

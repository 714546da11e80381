"""`curate nightly` over a local Common Crawl mirror made of real WARCs: night 1 builds snapshot A, night 2 sees B as
new and removes B's exact and near copies of A without touching A's output, night 3 has nothing to do; a night
SIGKILLed midway resumes and ends byte-identical; the same nights through a throttling HTTP stand-in give the same
documents."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from cc_fixtures import EXACT, NEAR, SNAPSHOT_A, SNAPSHOT_B, Faults, StandIn, build_mirror

import curate
from curate import retry
from curate.cli import main

REPO = Path(__file__).resolve().parents[1]
RECIPE = """name: cc-nightly
input: {{commoncrawl: {{snapshot: latest, base: "{base}"}}}}
output: {out}
steps:
  - warc_extract: {{}}
  - exact_dedup: {{}}
  - minhash_dedup: {{}}
execution: {{executor: local}}
"""


def write_recipe(folder: Path, base: str) -> Path:
    path = folder / "nightly.yaml"
    path.write_text(RECIPE.format(base=base, out=folder / "out"))
    return path


def night(recipe: Path, state: Path, *args: str) -> tuple[int, dict]:
    """`curate nightly` in-process: its exit status and its one-line JSON summary (the last line of stdout)."""
    return _main(["nightly", "-q", str(recipe), "--state", str(state), *args])


def _main(argv: list[str]) -> tuple[int, Any]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(argv)
    lines = buffer.getvalue().strip().splitlines()
    return code, (json.loads(lines[-1]) if argv[0] == "nightly" else lines)


def files(out: Path) -> dict[str, bytes]:
    """What a reader of a snapshot's output sees: shards by content, markers by name (they hold timings)."""
    found = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out)
        if p.is_dir() or rel.parts[0] in ("_stats.json", "_report", "_lock.json") or "_work" in rel.parts:
            continue
        found[str(rel)] = b"marker" if "_done" in rel.parts else p.read_bytes()
    return found


def digest(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """The reference: three nights on a mirror that publishes B after night 1."""
    root = tmp_path_factory.mktemp("nightly")
    mirror = build_mirror(root / "mirror")
    recipe = write_recipe(root, str(mirror.root))
    state = root / "state"
    first = night(recipe, state, "--init")
    a_files = digest(root / "out" / SNAPSHOT_A)
    mirror.publish(SNAPSHOT_A, SNAPSHOT_B)
    second = night(recipe, state)
    listing = _main(["snapshots", "--state", str(state), "--json"])
    third = night(recipe, state)
    return {
        "root": root,
        "mirror": mirror,
        "recipe": recipe,
        "state": state,
        "first": first,
        "second": second,
        "third": third,
        "a_files": a_files,
        "listing": listing,
    }


def test_night_one_builds_the_first_snapshot(nights):
    code, summary = nights["first"]
    assert code == 0 and summary["nightly"] == "done" and summary["built"] == [SNAPSHOT_A]
    entry = summary["snapshots"][0]
    assert entry["documents"] == entry["source_documents"] == 37 and entry["cross_snapshot_duplicates"] == 0
    assert (nights["root"] / "out" / SNAPSHOT_A / "minhash_dedup").is_dir()
    state = json.loads((nights["state"] / "snapshots.json").read_text())
    assert state["start"] == SNAPSHOT_A and state["snapshots"][SNAPSHOT_A]["status"] == "done"
    assert sorted(p.name for p in (nights["state"] / "index").iterdir()) == ["exact_dedup", "minhash_dedup"]


def test_night_two_removes_the_new_snapshots_copies_of_the_old_one_and_leaves_it_untouched(nights):
    code, summary = nights["second"]
    assert code == 0 and summary["built"] == [SNAPSHOT_B] and summary["new"] == [SNAPSHOT_B]
    entry = summary["snapshots"][0]
    out_b = nights["root"] / "out" / SNAPSHOT_B
    removed = json.loads((out_b / "_stats.json").read_text())
    reasons = {s["key"]: s["stats"]["removed"] for s in removed["steps"]}
    assert reasons["exact_dedup"]["exact_duplicate_of_index"] == EXACT
    assert reasons["minhash_dedup"]["minhash_duplicate_of_index"] == NEAR
    assert entry["cross_snapshot_duplicates"] == EXACT + NEAR
    assert entry["cross_snapshot_duplicate_rate"] == round((EXACT + NEAR) / entry["source_documents"], 4)
    # no page of A is in B's output any more, by text or by URL of the copied pages
    a_texts = set(
        curate.read_parquet(str(nights["root"] / "out" / SNAPSHOT_A / "minhash_dedup")).column("text").to_pylist()
    )
    b = curate.read_parquet(str(out_b / "minhash_dedup"))
    assert not a_texts & set(b.column("text").to_pylist())
    assert b.num_rows == entry["documents"] == entry["source_documents"] - EXACT - NEAR - 2  # 2 copies within B
    # A's output folder is byte for byte what night 1 left
    assert digest(nights["root"] / "out" / SNAPSHOT_A) == nights["a_files"]
    # the comparison with A: in the summary, the state and B's report
    comparison = entry["comparison"]
    assert comparison["previous"] == SNAPSHOT_A and comparison["documents"]["previous"] == 37
    assert comparison["removals"]["minhash_duplicate_of_index"]["current"] == NEAR
    report = (out_b / "_report" / "index.html").read_text()
    assert f"Compared with {SNAPSHOT_A}" in report and 'data-field="cross_snapshot_duplicate_rate"' in report
    code, lines = nights["listing"]
    listing = [json.loads(line) for line in lines]
    assert [(r["id"], r["status"]) for r in listing] == [(SNAPSHOT_A, "done"), (SNAPSHOT_B, "done")]


def test_night_three_has_nothing_to_do_and_says_so(nights):
    code, summary = nights["third"]
    assert code == 0 and summary["nightly"] == "nothing_new" and summary["built"] == []
    assert summary["message"].startswith(f"nothing new: the newest snapshot {SNAPSHOT_B} is already built")


def test_a_night_killed_midway_resumes_and_ends_byte_identical(nights, tmp_path):
    recipe = write_recipe(tmp_path, str(nights["mirror"].root))
    state = tmp_path / "state"
    code, _ = night(
        recipe, state, "--init", "--set", f"input.commoncrawl.snapshot={SNAPSHOT_A}", "--max-snapshots", "1"
    )
    assert code == 0
    out_b = tmp_path / "out" / SNAPSHOT_B
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "curate.cli", "nightly", "-q", str(recipe), "--state", str(state)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(out_b.glob("exact_dedup/_work/*/_phases/keys/*.json")):
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)  # mid-dedup of B: its index entries may be partly written
    proc.wait()
    assert json.loads((state / "snapshots.json").read_text())["snapshots"][SNAPSHOT_B]["status"] == "running"
    assert not list(out_b.glob("minhash_dedup/_done/*.json"))
    code, summary = night(recipe, state)
    assert code == 0 and summary["built"] == [SNAPSHOT_B]
    reference = nights["root"] / "out"
    for snapshot in (SNAPSHOT_A, SNAPSHOT_B):
        got, want = files(tmp_path / "out" / snapshot), files(reference / snapshot)
        assert sorted(got) == sorted(want)
        assert [k for k in want if got[k] != want[k]] == []


def test_nights_through_a_throttling_http_stand_in_give_the_local_mirrors_output(nights, tmp_path, monkeypatch):
    monkeypatch.setattr(retry, "DEFAULT", retry.Backoff(base=0.001, cap=0.01, attempts=6))
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    with StandIn(nights["mirror"].root, Faults(throttle_every=4, drop_bodies=1)) as server:
        recipe = write_recipe(tmp_path, server.url)
        code, summary = night(recipe, tmp_path / "state", "--init", "--set", f"input.commoncrawl.snapshot={SNAPSHOT_A}")
        assert server.faults.throttled >= 3 and server.faults.dropped == 1
    assert code == 0 and summary["built"] == [SNAPSHOT_A, SNAPSHOT_B]
    retries = sum(
        json.loads((tmp_path / "out" / s / "_stats.json").read_text())["steps"][0]["stats"]["counters"].get(
            "remote_retries", 0
        )
        for s in (SNAPSHOT_A, SNAPSHOT_B)
    )
    assert retries >= 2  # the dropped body and at least one throttled block, counted in the runs' stats
    reference = nights["root"] / "out"
    for snapshot in (SNAPSHOT_A, SNAPSHOT_B):
        got, want = files(tmp_path / "out" / snapshot), files(reference / snapshot)
        assert sorted(got) == sorted(want)
        for name in (k for k in want if k.endswith(".parquet")):
            # the same documents; only `source` (the input's URI) says where they were read from
            mine = pq.read_table(tmp_path / "out" / snapshot / name)
            theirs = pq.read_table(reference / snapshot / name)
            assert mine.drop_columns(["source"]).equals(theirs.drop_columns(["source"])), name
            assert all(s.startswith(server.url) for s in mine.column("source").to_pylist())

"""Marker manifests (curate.manifest): a rerun in place takes finished shards from the step's manifest instead of
reading every marker, and a stale, missing or corrupt manifest never loses a shard nor brings one back: after each
change below the folder equals a fresh run's, file for file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import write_shards

import curate
import curate.manifest
from curate.errors import StepFailed
from curate.layout import Layout
from curate.manifest import MANIFEST
from curate.pipeline import run_recipe
from curate.recipe import load_recipe

RECIPE = """\
name: manifest-test
input: {paths: ["%(input)s/*.parquet"]}
output: %(output)s
steps:
  - engine_stages:MinLength: {min_chars: 20, keep_rejected: true}
  - engine_stages:Upper: {suffix: "%(suffix)s"}
  - engine_stages:FailAfter: {fail_at: 0, poison: "%(poison)s"}
  - engine_stages:CountWords: {}
execution: {executor: local, batch_size: 1000, report: false}
"""
STEPS = ("min_length", "upper", "fail_after", "count_words")


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    write_shards(tmp_path / "in", shards=6, docs=40)
    return {"root": tmp_path, "in": tmp_path / "in"}


@pytest.fixture
def trusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of markers written just before their manifest are trusted (the margin is for stores whose times are
    coarser than the few milliseconds a test run lasts), so the tests exercise the manifest, not the fallback."""
    monkeypatch.setattr(curate.manifest, "TRUST_MARGIN_NS", 0)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths of the shard markers read one by one (``Layout.read_marker``)."""
    seen: list[str] = []
    original = Layout.read_marker

    def counting(self: Layout, loc):  # noqa: ANN001 - Layout.read_marker's signature
        if "/_done/" in loc.path:
            seen.append(loc.path)
        return original(self, loc)

    monkeypatch.setattr(Layout, "read_marker", counting)
    return seen


def run(world: dict[str, Path], out: Path, suffix: str = "", poison: str = ""):
    path = world["root"] / f"recipe-{out.name}.yaml"
    path.write_text(RECIPE % {"input": world["in"], "output": out, "suffix": suffix, "poison": poison})
    return run_recipe(load_recipe(str(path)))


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file by relative path: shards by content, markers and manifests by name (they hold timings); scratch
    is left out."""
    return {
        str(p.relative_to(out)): b"marker" if "_done" in p.parts else p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in ("_stats.json", "_lock.json") and "_work" not in p.parts
    }


def stats(out: Path) -> dict[str, dict]:
    steps = json.loads((out / "_stats.json").read_text())["steps"]
    keep = ("docs_in", "docs_out", "bytes_in", "bytes_out", "removed", "shards", "distributions", "samples")
    return {s["key"]: {k: s["stats"][k] for k in keep} | {"nodes": s["nodes"]} for s in steps}


def assert_same_as_fresh(world: dict[str, Path], out: Path, **params: str) -> None:
    fresh = world["root"] / f"fresh-{len(list(world['root'].glob('fresh-*')))}"
    run(world, fresh, **params)
    got, want = snapshot(out), snapshot(fresh)
    assert sorted(got) == sorted(want), set(got) ^ set(want)
    assert [k for k in want if got[k] != want[k]] == []
    assert stats(out) == stats(fresh)


def test_a_rerun_takes_finished_shards_from_the_manifests(world, trusting, reads):
    out = world["root"] / "out"
    first = run(world, out)
    assert all((out / step / MANIFEST).exists() for step in STEPS)
    reads.clear()
    again = run(world, out)
    assert reads == []  # not one marker read: every one came from its step's manifest
    assert again.resumed_shards == 6 + 6  # the local segment's shards and count_words' (a global step)
    assert [s["stats"] for s in again.steps] == [s["stats"] for s in first.steps]
    assert_same_as_fresh(world, out)


def test_without_the_margin_rows_of_fresh_markers_are_read(world, reads):
    """A marker written within the store's time granularity before its manifest is read, not trusted: with a
    1-second clock a marker rewritten just after the manifest could show the same size and time."""
    out = world["root"] / "out"
    run(world, out)
    reads.clear()
    run(world, out)
    assert len(set(reads)) == 6 * len(STEPS)


def test_stale_manifest_after_a_changed_parameter_then_reverted(world, trusting):
    """Run A writes manifests; run B (another suffix) rewrites upper's and later markers; A's manifests are put
    back (a run killed before writing its own). Reverting to A's parameters must redo those shards: the manifest
    rows hold A's fingerprints, but the markers now on disk are B's and their shards hold B's text."""
    out = world["root"] / "out"
    run(world, out)
    saved = {step: (out / step / MANIFEST).read_bytes() for step in STEPS}
    run(world, out, suffix="!!")
    for step, data in saved.items():
        (out / step / MANIFEST).write_bytes(data)
    result = run(world, out)
    assert result.resumed_shards == 0  # nothing of B's was taken for A's
    assert not [t for t in curate.read_parquet(str(out / "count_words")).column("text").to_pylist() if "!!" in t]
    assert_same_as_fresh(world, out)


def test_killed_after_the_manifest_was_written(world, trusting):
    """A run that fails partway (units of a later step fail, as a kill would leave them) keeps the earlier
    manifests; the rerun in place equals a fresh run."""
    out = world["root"] / "out"
    run(world, out)
    with pytest.raises(StepFailed):
        run(world, out, suffix="?", poison="W1")
    run(world, out, suffix="?")
    assert_same_as_fresh(world, out, suffix="?")


def test_deleted_shard_and_deleted_marker_after_the_manifest(world, trusting):
    out = world["root"] / "out"
    run(world, out)
    (out / "upper" / "part-001.parquet").unlink()  # its marker (and manifest row) stay: the shard is redone
    (out / "count_words" / "_done" / "part-002.json").unlink()  # the row stays: the shard is redone
    (out / "min_length" / "rejected" / "part-003.parquet").unlink()
    run(world, out)
    assert_same_as_fresh(world, out)


def test_removed_input_after_the_manifest(world, trusting):
    out = world["root"] / "out"
    run(world, out)
    (world["in"] / "part-004.parquet").unlink()
    run(world, out)
    assert not list(out.rglob("part-004*"))
    assert_same_as_fresh(world, out)


@pytest.mark.parametrize("damage", ["garbage", "empty", "other_schema", "missing"])
def test_corrupt_or_missing_manifest_means_reading_markers(world, trusting, reads, damage):
    out = world["root"] / "out"
    run(world, out)
    manifest = out / "upper" / MANIFEST
    if damage == "garbage":
        manifest.write_bytes(b"PAR1 not a parquet file")
    elif damage == "empty":
        manifest.write_bytes(b"")
    elif damage == "other_schema":
        shutil.copy(next((out / "upper").glob("part-*.parquet")), manifest)
    else:
        manifest.unlink()
    reads.clear()
    result = run(world, out)
    assert result.resumed_shards == 6 + 6
    assert sorted({Path(r).parent.parent.name for r in reads}) == ["upper"]
    assert_same_as_fresh(world, out)
    reads.clear()
    run(world, out)  # the manifest was written again
    assert reads == []


def test_marker_rewritten_with_the_same_size_and_time_is_not_trusted(world, reads):
    """The worst case for a manifest: a marker rewritten after it with the same size and modification time (a
    store with 1-second times). Rows that recent are never trusted, so the marker is read and the shard redone."""
    out = world["root"] / "out"
    run(world, out)
    marker = out / "count_words" / "_done" / "part-000.json"
    st = marker.stat()
    content = json.loads(marker.read_text())
    content["fingerprint"] = "f" * 16  # what another configuration would have written
    data = json.dumps(content, indent=1, sort_keys=True).encode()
    assert len(data) == st.st_size
    marker.write_bytes(data)
    os.utime(marker, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert json.loads(marker.read_bytes())["fingerprint"] == "f" * 16
    reads.clear()
    run(world, out)
    assert str(marker) in reads
    assert_same_as_fresh(world, out)


def test_merged_stats_are_reused_only_for_exactly_the_manifest_rows():
    from curate.manifest import ShardMarker, StepMarkers

    row = ShardMarker("f" * 16, ("a.parquet",), False, 10, 1)
    found = StepMarkers([row, None], manifest_shards=["a"], manifest_stats={"stats": {}, "nodes": {}}, from_manifest=1)
    assert found.reusable_stats(["a"]) == {"stats": {}, "nodes": {}}
    assert found.reusable_stats(["a", "b"]) is None  # a marker the manifest does not cover
    assert found.reusable_stats([]) is None
    found.read = 1  # a marker read one by one: its stats are not in the manifest's
    assert found.reusable_stats(["a"]) is None


def test_markers_read_one_by_one_are_indexed_before_the_work(world, trusting, reads, monkeypatch):
    """A folder without manifests (a run killed before writing them): the first tidying reads the markers and
    writes their manifest, so the tidying after the work does not read them again (only the stats do)."""
    import curate.outdir

    monkeypatch.setattr(curate.outdir, "INDEX_AFTER_READS", 1)
    out = world["root"] / "out"
    run(world, out)
    for step in STEPS:
        (out / step / MANIFEST).unlink()
    reads.clear()
    run(world, out, suffix="?")  # upper and later are redone; min_length is resumed
    min_length = [r for r in reads if "/min_length/" in r]
    assert len(set(min_length)) == 6
    assert len(min_length) == 3 * 6  # the first tidying, upper's units finding their input, the stats: no 2nd tidy
    assert_same_as_fresh(world, out, suffix="?")


def test_a_marker_that_is_not_an_object_is_no_marker(world, trusting):
    out = world["root"] / "out"
    run(world, out)
    (out / "upper" / "_done" / "part-001.json").write_text("[]")  # rewritten after the manifest: read, not trusted
    run(world, out)
    assert_same_as_fresh(world, out)

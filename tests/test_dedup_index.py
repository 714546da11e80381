"""Persistent dedup index across snapshots: re-processing a snapshot keeps what its first run kept (any subset,
order, shard layout or partition count; a fresh folder or the same one), and a new snapshot's copies of earlier
ones are removed — for exact and MinHash dedup chained, as a nightly job runs them."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import shared_data
from dedup_fixtures import near_duplicate, real_docs

import curate
from curate.executors.local import LocalExecutor
from curate.io import discover_inputs
from curate.plan import StepSpec
from curate.runner import run_steps
from curate.stages.dedup.steps import ExactDedup, MinhashDedup


def snapshot_rows(name: str, originals: list[str], earlier: list[dict], rng: random.Random) -> list[dict]:
    """A snapshot: its own documents, exact and near copies of some of them, and of ``earlier`` documents."""
    rows = [{"id": f"{name}{i}", "text": t} for i, t in enumerate(originals)]
    own = list(rows)
    for j in range(10):
        rows.append({"id": f"{name}-copy{j}", "text": rng.choice(own)["text"]})
        rows.append({"id": f"{name}-near{j}", "text": near_duplicate(rng.choice(own)["text"], rng, 0.02)})
    for j in range(min(20, len(earlier))):
        rows.append({"id": f"{name}-old-copy{j}", "text": earlier[j]["text"]})
        rows.append({"id": f"{name}-old-near{j}", "text": near_duplicate(earlier[j + 20]["text"], rng, 0.02)})
    return rows


def run_snapshot(
    rows: list[dict], folder: Path, out: Path, index: Path, shards: int = 3, partitions: int = 4
) -> set[str]:
    """Write ``rows`` as ``shards`` Parquet files, run exact + MinHash dedup against ``index``; the kept ids."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    for s in range(shards):
        pq.write_table(pa.Table.from_pylist(rows[s::shards]), folder / f"part-{s}.parquet")
    specs = [
        StepSpec.from_stage(ExactDedup(dedup_index=str(index), partitions=partitions), "exact_dedup", 0),
        StepSpec.from_stage(MinhashDedup(dedup_index=str(index), partitions=partitions), "minhash_dedup", 1),
    ]
    run_steps(specs, discover_inputs([str(folder)]), str(out), LocalExecutor())
    return set(curate.read_parquet(str(out / "minhash_dedup")).column("id").to_pylist())


@pytest.fixture
def corpus() -> list[str]:
    shared_data("quality_labels", "hplt_v2_inspection")
    return real_docs(300, min_words=60)


def test_reprocessing_a_snapshot_keeps_what_its_first_run_kept(tmp_path, corpus):
    rng = random.Random(7)
    index = tmp_path / "index"
    a = snapshot_rows("a", corpus[:100], [], rng)
    b = snapshot_rows("b", corpus[100:200], a, rng)
    run_snapshot(a, tmp_path / "in-a", tmp_path / "out-a", index)
    kept_b = run_snapshot(b, tmp_path / "in-b", tmp_path / "out-b", index)
    text_of = {r["id"]: r["text"] for r in b}
    kept_texts = [text_of[i] for i in kept_b]
    counts = [kept_texts.count(t) for t in corpus[100:200]]
    assert max(counts) == 1 and counts.count(0) <= 10  # one of each original and its copies (or a near copy)
    old_copies = {r["id"] for r in b if "-old-" in r["id"]}
    assert not {i for i in old_copies if "copy" in i} & kept_b  # exact copies of snapshot A go
    assert len({i for i in old_copies if "near" in i} & kept_b) <= 2  # near copies too (LSH misses a few at most)

    for trial in range(6):
        rows = list(b)
        rng.shuffle(rows)
        same_folder = trial % 3 == 0
        if not same_folder:  # a fresh folder may also see a subset
            rows = rows[: int(len(rows) * rng.uniform(0.9, 1.0))]
        out = tmp_path / ("out-b" if same_folder else f"out-b-again{trial}")
        kept = run_snapshot(
            rows, tmp_path / "in-b", out, index, shards=rng.randint(1, 4), partitions=rng.choice([1, 2, 3, 5, 8, 16])
        )
        ids = {r["id"] for r in rows}
        assert kept == kept_b & ids, (trial, sorted(kept ^ (kept_b & ids))[:10])

    c = snapshot_rows("c", corpus[200:300], b, rng)
    kept_c = run_snapshot(c, tmp_path / "in-c", tmp_path / "out-c", index, partitions=7)
    text_of_c = [r["text"] for r in c if r["id"] in kept_c]
    counts = [text_of_c.count(t) for t in corpus[200:300]]
    assert max(counts) == 1 and counts.count(0) <= 10
    assert not {r["id"] for r in c if "-old-copy" in r["id"]} & kept_c  # copies of B (kept in B) go


def test_a_removed_copy_never_makes_its_original_a_duplicate(tmp_path, corpus):
    """Only kept documents enter the index: a copy removed in snapshot B must not, through the index, remove its
    original when B's original is re-processed; a document kept before is kept again in any order; and a
    snapshot re-processed into the same folder without one of its documents does not lose that document's
    copies to its own earlier entries (they are what the run replaces), while another output holding it still
    counts."""
    index = tmp_path / "index"
    b = [{"id": "orig", "text": corpus[0]}, {"id": "copy", "text": corpus[0]}] + [
        {"id": f"x{i}", "text": t} for i, t in enumerate(corpus[1:30])
    ]
    kept = run_snapshot(b, tmp_path / "in", tmp_path / "out", index)
    assert "orig" in kept and "copy" not in kept
    again = run_snapshot(b[::-1], tmp_path / "in", tmp_path / "out2", index)  # reversed: "copy" comes first
    assert again == kept  # the document kept before is kept again, whatever the order
    # out2 again without "orig": the copy goes, "orig" is still in the other output (out)
    assert "copy" not in run_snapshot(b[1:], tmp_path / "in", tmp_path / "out2", index)
    # out again without "orig": no output holds "orig" any more (out's own entries are what this run replaces)
    assert "copy" in run_snapshot(b[1:], tmp_path / "in", tmp_path / "out", index)

"""Dedup: normalisation, MinHash core, union-find, exact/URL/MinHash steps, persistent index, resume after a kill."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import shared_data
from dedup_fixtures import near_duplicate, parquet_outputs, real_docs, run_dying, table_of

from curate.stages import ExactDedup, MinhashDedup, UrlDedup
from curate.stages.dedup.components import connected_components
from curate.stages.dedup.minhash import (
    band_keys,
    collision_probability,
    optimal_bands,
    partition_of,
    partition_range,
    signatures,
    text_shingles,
)
from curate.stages.dedup.text import normalize_urls, normalized_text


# -- core ------------------------------------------------------------------------------------------------------------
def test_normalisation_is_fineweb_like():
    texts = pa.array(["Héllo, World! 12.5 times “quoted” — OK", "a-b_c 3,000\n\tend", "Ça coûte 5€.", None])
    assert normalized_text(texts).to_pylist() == ["hello world 0 times quoted ok", "a b c 0 end", "ca coute 0", ""]


def test_normalisation_agrees_with_datatrove_on_real_sentences():
    text_mod = pytest.importorskip("datatrove.utils.text")
    folder = shared_data("langid", "lingua_testdata", "sentences")
    for lang in ["en", "de", "fr", "ru", "es", "pl"]:
        sentences = (folder / f"{lang}.txt").read_text(encoding="utf-8").splitlines()[:300]
        ours = normalized_text(pa.array(sentences)).to_pylist()
        theirs = [" ".join(text_mod.simplify_text(s).split()) for s in sentences]
        agree = np.mean([a == b for a, b in zip(ours, theirs, strict=True)])
        assert agree >= 0.95, (lang, agree)


def test_shingles_and_signature_estimate_jaccard():
    docs = real_docs(60)
    rng = random.Random(1)
    variants = [near_duplicate(d, rng, 0.05) for d in docs]
    shingles, offsets = text_shingles(pa.array(docs + variants), 5)
    sig = signatures(pa.array(docs + variants))
    errors = []
    for i in range(len(docs)):
        a = set(shingles[offsets[i] : offsets[i + 1]].tolist())
        j = len(docs) + i
        b = set(shingles[offsets[j] : offsets[j + 1]].tolist())
        exact = len(a & b) / len(a | b)
        errors.append(abs(exact - float((sig[i] == sig[j]).mean())))
    assert np.mean(errors) < 0.05
    # unrelated documents share (almost) no minhash values
    assert (sig[0] == sig[1]).mean() < 0.1


def test_signatures_are_stable_and_batch_independent():
    docs = real_docs(40)
    whole = signatures(pa.array(docs))
    parts = np.concatenate([signatures(pa.array(docs[:13])), signatures(pa.array(docs[13:]), max_chunk_bytes=5000)])
    assert np.array_equal(whole, parts)
    assert whole.dtype == np.uint64 and whole.shape == (40, 112)
    empty = signatures(pa.array(["", "   ", None, "!!"]))
    assert (empty == np.iinfo(np.uint64).max).all()


def test_band_keys_partitions_and_lsh_parameters():
    sig = signatures(pa.array(real_docs(20)))
    keys = band_keys(sig, 14, 8)
    assert keys.shape == (20, 14) and len(np.unique(keys)) == 280
    parts = partition_of(keys.reshape(-1), 7)
    assert parts.min() >= 0 and parts.max() < 7
    for p in range(7):  # the ranges tile [0, 2^32)
        lo, hi = partition_range(p, 7)
        top = (keys.reshape(-1) >> np.uint64(32)).astype(np.int64)
        assert np.array_equal((top >= lo) & (top < hi), parts == p)
    assert collision_probability(0.85, 14, 8) > 0.98 and collision_probability(0.5, 14, 8) < 0.06
    b, r = optimal_bands(0.8, 128)
    assert b * r <= 128 and collision_probability(0.9, b, r) > 0.9 and collision_probability(0.5, b, r) < 0.1


def test_connected_components_matches_a_reference():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 300, 250).astype(np.uint64)
    b = rng.integers(0, 300, 250).astype(np.uint64)
    nodes, roots = connected_components(a, b)
    parent = {int(n): int(n) for n in nodes}  # plain union-find as the reference

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        rx, ry = find(x), find(y)
        parent[max(rx, ry)] = min(rx, ry)
    assert [find(int(n)) for n in nodes] == roots.tolist()


def test_url_normalisation():
    urls = pa.array(
        [
            "HTTPS://www.Example.com:443/a/b/?x=1#frag",
            "http://example.com/a/b?x=1",
            "example.com/a/b/?x=1",
            "https://example.com/a/c",
            "",
            None,
        ]
    )
    out = normalize_urls(urls).to_pylist()
    assert out[0] == out[1] == out[2] == "example.com/a/b?x=1"
    assert out[3] != out[0] and out[4] == out[5] == ""


def _jaccard(a: str, b: str) -> float:
    shingles, offsets = text_shingles(pa.array([a, b]), 5)
    sa, sb = set(shingles[offsets[0] : offsets[1]].tolist()), set(shingles[offsets[1] : offsets[2]].tolist())
    return len(sa & sb) / max(1, len(sa | sb))


# -- steps in a notebook -------------------------------------------------------------------------------------------
def _planted_corpus(n_docs: int = 300, n_dups: int = 40, edits: float = 0.01, seed: int = 0):
    docs = real_docs(n_docs)
    rng = random.Random(seed)
    texts, ids = list(docs), [f"doc{i:05d}" for i in range(n_docs)]
    truth = {}
    for k in range(n_dups):
        src = rng.randrange(n_docs)
        texts.append(near_duplicate(docs[src], rng, edits))
        ids.append(f"dup{k:05d}")
        truth[ids[-1]] = ids[src]
    return texts, ids, truth


def test_minhash_finds_planted_near_duplicates_in_real_text():
    shared_data("quality_labels", "hplt_v2_inspection")
    texts, ids, truth = _planted_corpus()
    out = MinhashDedup().run_table(table_of(texts, ids))
    removed = dict(
        zip(out.rejected.column("id").to_pylist(), out.rejected.column("cluster_id").to_pylist(), strict=True)
    )
    # every planted duplicate is removed in favour of its source (the smaller id under keep: first)
    found = [d for d, src in truth.items() if removed.get(d) == src or removed.get(src) is not None]
    assert len(found) >= 0.95 * len(truth)
    # anything else removed is a natural near-duplicate inside the real data (true Jaccard >= 0.7)
    for doc, rep in removed.items():
        if doc not in truth and doc not in truth.values():
            assert _jaccard(texts[ids.index(doc)], texts[ids.index(rep)]) >= 0.7, doc
    assert set(out.rejected.column("reason").to_pylist()) == {"minhash_duplicate"}
    sizes = dict(zip(out.kept.column("id").to_pylist(), out.kept.column("cluster_size").to_pylist(), strict=True))
    for dup in found:
        if truth[dup] in sizes:
            assert sizes[truth[dup]] >= 2
    assert out.kept.num_rows + out.rejected.num_rows == len(texts)
    assert sum(sizes.values()) == len(texts)  # every document is counted in exactly one kept cluster


def test_minhash_jaccard_check_and_polars_in_notebook():
    shared_data("quality_labels", "hplt_v2_inspection")
    texts, ids, truth = _planted_corpus(200, 20, edits=0.01)
    kept = MinhashDedup(jaccard_threshold=0.7, keep="longest")(pl.from_arrow(table_of(texts, ids)))
    assert isinstance(kept, pl.DataFrame)
    assert set(kept.columns) >= {"cluster_id", "cluster_size"}
    assert kept["cluster_size"].sum() == len(texts)
    kept_ids = set(kept["id"].to_list())
    merged = [d for d, src in truth.items() if not (d in kept_ids and src in kept_ids)]
    assert len(merged) >= 0.9 * len(truth)


def test_exact_dedup_policies():
    texts = [
        "The cat sat.",
        "the CAT sat!!",
        "The cat   sat",
        "Another one, 12 times.",
        "another one 99 times",
        "unique text here",
    ]
    t = table_of(texts, ["b", "a", "c", "x", "y", "z"], score=[0.1, 0.5, 0.9, 0.3, 0.2, 0.0])
    assert ExactDedup().run_table(t).kept.num_rows == 6  # exact text by default: nothing here is a copy
    first = ExactDedup(normalize="fineweb").run_table(t)
    assert first.kept.column("id").to_pylist() == ["b", "x", "z"]  # first in input order
    assert first.kept.column("duplicate_count").to_pylist() == [3, 2, 1]
    assert set(first.rejected.column("reason").to_pylist()) == {"exact_duplicate"}
    longest = ExactDedup(keep="longest", normalize="fineweb").run_table(t)
    assert longest.kept.column("id").to_pylist() == ["a", "x", "z"]  # "the CAT sat!!" has the most visible text
    scored = ExactDedup(keep="score", score_column="score", normalize="fineweb").run_table(t)
    assert scored.kept.column("id").to_pylist() == ["c", "x", "z"]
    with pytest.raises(ValueError, match="score_column"):
        ExactDedup(keep="score")


def test_url_dedup_keeps_newest_or_longest():
    t = pa.table(
        {
            "id": ["1", "2", "3", "4", "5"],
            "text": ["short", "a much longer text", "mid text", "x", "y"],
            "url": ["http://www.a.com/p/", "https://a.com/p", "http://a.com/p#top", "http://b.com/", None],
            "date": ["2020-01-01", "2019-05-05", "2023-02-02", "2020-01-01", "2020-01-01"],
            "source": ["s"] * 5,
        }
    )
    newest = UrlDedup().run_table(t)
    assert newest.kept.column("id").to_pylist() == ["3", "4", "5"]
    assert newest.kept.column("url_duplicate_count").to_pylist() == [3, 1, 1]
    longest = UrlDedup(keep="longest").run_table(t)
    assert longest.kept.column("id").to_pylist() == ["2", "4", "5"]


def test_persistent_index_across_two_runs(tmp_path):
    shared_data("quality_labels", "hplt_v2_inspection")
    docs = real_docs(160)
    rng = random.Random(3)
    index = str(tmp_path / "index")
    first = table_of(docs[:100], [f"old{i}" for i in range(100)])
    out1 = MinhashDedup(dedup_index=index, partitions=4).run_table(first)
    assert out1.kept.num_rows == 100
    # the next "snapshot": near-copies of 30 old documents plus 60 new ones
    new_texts = [near_duplicate(docs[i], rng, 0.01) for i in range(30)] + docs[100:160]
    second = table_of(new_texts, [f"new{i}" for i in range(90)])
    out2 = MinhashDedup(dedup_index=index, partitions=3).run_table(second)  # another partition count on purpose
    removed = set(out2.rejected.column("id").to_pylist())
    assert len(removed & {f"new{i}" for i in range(30)}) >= 28
    assert removed <= {f"new{i}" for i in range(30)}
    assert set(out2.rejected.column("reason").to_pylist()) == {"minhash_duplicate_of_index"}
    # rerunning a snapshot after it added its own keys gives the same result (a run never matches itself)
    again = MinhashDedup(dedup_index=index, partitions=3).run_table(second)
    assert again.kept.column("id").to_pylist() == out2.kept.column("id").to_pylist()
    # exact dedup index too
    ExactDedup(dedup_index=index).run_table(first)
    out3 = ExactDedup(dedup_index=index).run_table(table_of([docs[5], "fresh text"], ["u", "v"]))
    assert out3.kept.column("id").to_pylist() == ["v"]
    with pytest.raises(Exception, match="was built with"):
        MinhashDedup(dedup_index=index, ngram=3).run_table(second)


# -- resume ------------------------------------------------------------------------------------------------------------
def _run_dying(inputs: Path, out: Path, marker: Path) -> int:
    return run_dying("dedup_fixtures:DyingMinhashDedup", "dying_minhash_dedup", {"partitions": 4}, inputs, out, marker)


def test_kill_during_bucket_phase_then_resume_is_byte_identical(tmp_path):
    shared_data("quality_labels", "hplt_v2_inspection")
    texts, ids, _ = _planted_corpus(400, 60)
    table = table_of(texts, ids)
    inputs = tmp_path / "in"
    inputs.mkdir()
    order = np.random.default_rng(0).permutation(table.num_rows)
    for s in range(5):
        pq.write_table(table.take(order[s::5]), inputs / f"part-{s}.parquet")
    existing = tmp_path / "never-die"
    existing.touch()
    assert _run_dying(inputs, tmp_path / "clean", existing) == 0
    marker = tmp_path / "died"
    assert _run_dying(inputs, tmp_path / "killed", marker) == 9 and marker.exists()  # died mid-phase
    runs = list((tmp_path / "killed" / "dying_minhash_dedup" / "_work").iterdir())
    assert len(runs) == 1 and (runs[0] / "buckets").exists() and not (runs[0] / "edges").exists()
    assert _run_dying(inputs, tmp_path / "killed", marker) == 0
    clean, resumed = parquet_outputs(tmp_path / "clean"), parquet_outputs(tmp_path / "killed")
    assert clean and clean.keys() == resumed.keys()
    assert all(clean[k] == resumed[k] for k in clean)
    kept = sum(pq.read_metadata(p).num_rows for p in (tmp_path / "clean" / "dying_minhash_dedup").glob("*.parquet"))
    assert table.num_rows - 60 <= kept < table.num_rows


def test_counts_of_earlier_phases_reach_the_step_stats():
    """``minhash_clusters`` is counted in the components phase (not the last): it must still be in the stats."""
    shared_data("quality_labels", "hplt_v2_inspection")
    docs = real_docs(40)
    rng = random.Random(1)
    table = table_of(docs + [near_duplicate(docs[i], rng, 0.01) for i in range(8)], [str(i) for i in range(48)])
    out = MinhashDedup().run_table(table)
    assert out.counters["minhash_clusters"] == 8 and out.rejected.num_rows == 8

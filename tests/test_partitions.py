"""Per-language output and dedup (FineWeb2 dedups per language): ``partition_by`` writes Hive-style folders that
polars and pyarrow read as one table, the next step and resume read them back, and dedup ``within`` a column never
groups documents of different values."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

import curate
from curate.executors.local import LocalExecutor
from curate.io import discover_inputs
from curate.plan import StepSpec
from curate.runner import run_steps
from curate.stages.dedup.steps import ExactDedup, MinhashDedup

TEXTS = [
    "the same text in two languages, long enough to make shingles of five words each time",
    "another document that only exists once in the whole corpus, with enough words for shingles",
    "a third document, repeated within one language, so it is a real duplicate there and removed",
]


def corpus(tmp_path):
    rows = [
        {"id": "a", "text": TEXTS[0], "language": "eng_Latn"},
        {"id": "b", "text": TEXTS[0], "language": "deu_Latn"},  # same text, other language: kept
        {"id": "c", "text": TEXTS[1], "language": "eng_Latn"},
        {"id": "d", "text": TEXTS[2], "language": "fra_Latn"},
        {"id": "e", "text": TEXTS[2], "language": "fra_Latn"},  # a duplicate within French
        {"id": "f", "text": "no language known for this one, a document of its own entirely", "language": None},
    ]
    if not (tmp_path / "in").exists():
        (tmp_path / "in").mkdir()
        pq.write_table(pa.Table.from_pylist(rows[:3]), tmp_path / "in" / "part-0.parquet")
        pq.write_table(pa.Table.from_pylist(rows[3:]), tmp_path / "in" / "part-1.parquet")
    return discover_inputs([str(tmp_path / "in")])


def test_dedup_within_a_column_and_hive_partitioned_output(tmp_path):
    specs = [
        StepSpec.from_stage(ExactDedup(within="language", partition_by="language"), "exact_dedup", 0),
        StepSpec.from_stage(MinhashDedup(within="language", partitions=3), "minhash_dedup", 1),
    ]
    out = tmp_path / "out"
    run_steps(specs, corpus(tmp_path), str(out), LocalExecutor())
    folders = sorted(p.name for p in (out / "exact_dedup").iterdir() if "=" in p.name)
    assert folders == [
        "language=__HIVE_DEFAULT_PARTITION__",
        "language=deu_Latn",
        "language=eng_Latn",
        "language=fra_Latn",
    ]
    kept = sorted(curate.read_parquet(str(out / "exact_dedup")).column("id").to_pylist())
    assert kept == ["a", "b", "c", "d", "f"]  # "e" duplicates "d" in French; "a"/"b" differ in language
    hive = pl.read_parquet(str(out / "exact_dedup" / "language=*" / "*.parquet"), hive_partitioning=True)
    assert sorted(hive["id"]) == kept
    assert (
        sorted(
            ds.dataset(
                str(out / "exact_dedup"), partitioning="hive", exclude_invalid_files=True, ignore_prefixes=["_", "."]
            )
            .to_table()
            .column("id")
            .to_pylist()
        )
        == kept
    )
    assert sorted(curate.read_parquet(str(out / "minhash_dedup")).column("id").to_pylist()) == kept  # next step
    # rerun: nothing redone, nothing lost; without partitioning the layout changes back, old folders go
    assert run_steps(specs, corpus(tmp_path), str(out), LocalExecutor()).resumed_shards == 4
    flat = [StepSpec.from_stage(ExactDedup(within="language"), "exact_dedup", 0)]
    run_steps(flat, corpus(tmp_path), str(out), LocalExecutor())
    assert not [p for p in (out / "exact_dedup").iterdir() if "=" in p.name]
    assert sorted(curate.read_parquet(str(out / "exact_dedup")).column("id").to_pylist()) == kept


def test_without_within_the_same_text_is_a_duplicate_across_languages(tmp_path):
    out = ExactDedup().run_table(
        pa.concat_tables([pq.read_table(f.uri) for f in corpus(tmp_path)], promote_options="permissive")
    )
    assert "b" not in out.kept.column("id").to_pylist()

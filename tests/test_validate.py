"""`curate validate` catches, before any work and all at once, what used to fail only at run time."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO, write_shards


def validate(tmp_path, steps: str, execution: str = "{executor: local}") -> subprocess.CompletedProcess:
    if not (tmp_path / "in").exists():
        write_shards(tmp_path / "in", shards=1, docs=5)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f'name: broken\ninput: {{paths: ["{tmp_path / "in"}/*.parquet"]}}\n'
        f"output: {tmp_path / 'out'}\nsteps:\n{steps}execution: {execution}\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", "validate", str(recipe)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_broken_step_and_field_is_reported_at_once(tmp_path):
    proc = validate(
        tmp_path,
        "  - hf_classifier: {}\n"
        "  - minhash_dedup: {bands: 20, rows: 4, threshold: 0.8}\n"
        "  - exact_dedup: {keep: biggest}\n"
        "  - langauge_id: {}\n",
        execution="{executor: rey}",
    )
    assert proc.returncode == 2
    err = proc.stderr.replace("\n", " ")
    assert "execution.executor" in err  # the executor typo no longer hides the rest
    assert "hf_classifier.model" in err and "missing" in err
    assert "threshold derives bands x rows" in err
    assert "exact_dedup.keep" in err
    assert "unknown step 'langauge_id'" in err and "did you mean 'language_id'" in err
    assert not (tmp_path / "out").exists()


def test_a_column_no_step_makes_is_an_error_naming_who_could(tmp_path):
    proc = validate(
        tmp_path,
        "  - quality_buckets: {scores: [fasttext_scor]}\n"
        "  - mix: {by: domain, repeat: {a: 2}}\n"
        "  - exact_dedup: {keep: score, score_column: quality}\n",
    )
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.replace("\n", " ")
    assert "quality_buckets: needs column 'fasttext_scor'" in err
    assert "mix: needs column 'domain'" in err
    assert "exact_dedup: needs column 'quality'" in err


def test_columns_made_by_earlier_steps_satisfy_later_ones(tmp_path):
    proc = validate(
        tmp_path,
        "  - engine_stages:MinLength: {}\n"
        "  - quality_buckets: {scores: [length]}\n"
        "  - mix: {by: quality_bucket, repeat: {'0': 2}}\n",
    )
    assert proc.returncode == 0, proc.stderr

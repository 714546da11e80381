"""``s3://`` input and output for real, against moto's S3-compatible server on loopback, started here."""

from __future__ import annotations

import json

import pytest
from conftest import write_shards

from curate.pipeline import run_recipe
from curate.recipe import parse_recipe

pytest.importorskip("boto3")


def test_recipe_reads_and_writes_s3(tmp_path, s3_server):
    s3_server.create_bucket(Bucket="corpus")
    for path in write_shards(tmp_path / "in", shards=3, docs=40):
        s3_server.upload_file(str(path), "corpus", f"raw/2026/{path.name}")
    text = """
name: s3-test
input: {paths: ["s3://corpus/raw/**/*.parquet"]}
output: s3://corpus/out/run1
steps:
  - engine_stages:MinLength: {min_chars: 20, keep_rejected: true}
  - engine_stages:CountWords: {}
execution: {executor: local, report: false}
"""
    result = run_recipe(parse_recipe(text, "s3.yaml"))
    keys = {o["Key"] for o in s3_server.list_objects_v2(Bucket="corpus", Prefix="out/run1/")["Contents"]}
    assert {f"out/run1/count_words/part-00{i}.parquet" for i in range(3)} <= keys
    assert {f"out/run1/min_length/rejected/part-00{i}.parquet" for i in range(3)} <= keys
    stats = json.loads(s3_server.get_object(Bucket="corpus", Key="out/run1/_stats.json")["Body"].read())
    assert stats["steps"][0]["stats"]["docs_in"] == 120
    assert stats["steps"][1]["stats"]["docs_out"] == result.step_stats("min_length").docs_out > 0
    import curate

    assert curate.read_parquet("s3://corpus/out/run1/count_words").num_rows == stats["steps"][1]["stats"]["docs_out"]
    assert run_recipe(parse_recipe(text, "s3.yaml")).resumed_shards == 6  # resume works on object stores too


def test_a_shard_failing_partway_leaves_nothing_at_its_final_key(tmp_path, s3_server):
    """Aborting a writer on an object store must not complete the upload: the shard is written under a temporary
    key and only copied to its final key on success."""
    from curate.errors import StepFailed

    s3_server.create_bucket(Bucket="failing")
    for path in write_shards(tmp_path / "in", shards=1, docs=22):
        s3_server.upload_file(str(path), "failing", f"raw/{path.name}")
    text = """
name: s3-fail
input: {paths: ["s3://failing/raw/*.parquet"]}
output: s3://failing/out
steps:
  - engine_stages:FailAfter: {fail_at: 3}
execution: {executor: local, report: false, batch_size: 10}
"""
    with pytest.raises(StepFailed, match="failing on batch 3"):
        run_recipe(parse_recipe(text, "s3.yaml"))
    keys = {o["Key"] for o in s3_server.list_objects_v2(Bucket="failing", Prefix="out/").get("Contents", [])}
    files = [k for k in keys if k.startswith("out/fail_after/") and not k.endswith("/")]  # "/": folder placeholders
    assert not files, files  # no shard, no marker, no temporary

"""Hostile and odd input to the CLI and the engine: alias bombs, shard names that collide or escape the output
folder, terminal escapes in documents, secrets in recipes, plain JSONL input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from conftest import REPO

import curate
from curate.inspect import inspect
from curate.io import shard_names
from curate.plan import unique_keys

BOMB = (
    "name: bomb\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    + "input: {paths: [x]}\noutput: o\nsteps: []\n"
)


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", *args], env=env, capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_an_alias_bomb_is_refused_quickly(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)  # 9^9 = 387 million values once expanded
    start = time.time()
    proc = cli("validate", str(path))
    assert proc.returncode == 2 and "alias" in proc.stderr
    assert time.time() - start < 30


def test_shard_names_keep_folders_on_s3_and_the_kind_of_file():
    uris = ["s3://cc/2024/part-0000.warc.gz", "s3://cc/2025/part-0000.warc.gz"]
    assert shard_names(uris) == ["2024__part-0000", "2025__part-0000"]  # was a collision (s3:/ as common path)
    seg = "s3://commoncrawl/crawl-data/CC-MAIN-2024-10/segments/1/"
    assert shard_names([seg + "warc/CC-MAIN-1.warc.gz", seg + "wet/CC-MAIN-1.warc.wet.gz"]) == [
        "warc__CC-MAIN-1",
        "wet__CC-MAIN-1-wet",
    ]
    assert len(set(shard_names(["/d/x.warc.gz", "/d/x.warc.wet.gz", "/d/x.arc.gz"]))) == 3


def test_step_names_never_leave_the_output_folder():
    keys = unique_keys(["plugin:../../../etc", "evil/../../x", "minhash_dedup", "minhash_dedup"])
    assert all("/" not in k and ".." not in k and k for k in keys)
    assert keys[2:] == ["minhash_dedup", "minhash_dedup_2"]


def test_inspect_escapes_terminal_control_sequences(tmp_path):
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq
    from rich.console import Console

    nasty = "clear\x1b[2J title\x1b]0;pwned\x07 link\x1b]8;;http://x\x1b\\ bell\x07 c1\x9b end"
    pq.write_table(pa.table({"id": ["1"], "text": [nasty], "url": ["u\x1b[31m"]}), tmp_path / "s.parquet")
    stream = io.StringIO()
    inspect(str(tmp_path / "s.parquet"), console=Console(file=stream, width=200, force_terminal=False))
    shown = stream.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\\x1b[2J" in shown and "\\x07" in shown


def test_secrets_never_land_in_stats(tmp_path):
    from conftest import write_shards

    write_shards(tmp_path / "in", shards=1, docs=5)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"""
name: secrets
description: "mirror at https://bob:hunter2@mirror.example/data"
input: {{paths: ["{tmp_path / "in"}/*.parquet"]}}
output: {tmp_path / "out"}
steps:
  - engine_stages:Upper: {{}}
execution: {{executor: local, report: true}}
""")
    proc = cli("run", str(recipe), "-q")
    assert proc.returncode == 0, proc.stderr
    written = [p.read_text(errors="replace") for p in (tmp_path / "out").rglob("*") if p.suffix in (".json", ".html")]
    assert written and not any("hunter2" in text for text in written)
    content = json.loads((tmp_path / "out" / "_stats.json").read_text())["recipe"]["content"]
    assert content["description"] == "mirror at https://bob:***@mirror.example/data"


def test_plain_jsonl_input_is_read(tmp_path):
    (tmp_path / "docs.jsonl").write_text('{"id": "1", "text": "first document"}\n{"text": "second"}\n')
    assert curate.read_parquet(str(tmp_path / "docs.jsonl")).column("text").to_pylist() == ["first document", "second"]

"""The quickstart recipe on the shipped sample: every step runs, the funnel is what the sample was built to show,
and the local and Ray executors write identical shards."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, run_quickstart

QUICKSTART = str(REPO / "recipes" / "quickstart.yaml")


def test_quickstart_funnel_on_the_sample(quickstart_local):
    out, result = quickstart_local
    stats = {s["key"]: s["stats"] for s in result.steps}
    manifest = json.loads((REPO / "curate" / "data" / "sample_manifest.json").read_text())
    html_ok = [r for r in manifest if r["content_type"].startswith("text/html")]
    assert stats["warc_extract"]["docs_out"] + sum(stats["warc_extract"]["removed"].values()) >= len(html_ok) - 1
    assert stats["warc_extract"]["counters"].get("skipped_non_html", 0) >= 1
    assert sum(stats["url_filter"]["removed"].values()) >= 1  # the adult-sounding domain
    assert sum(stats["gopher_repetition"]["removed"].values()) + sum(stats["gopher_quality"]["removed"].values()) >= 5
    assert stats["exact_dedup"]["removed"].get("exact_duplicate", 0) >= 4
    assert stats["minhash_dedup"]["removed"].get("minhash_duplicate", 0) >= 3
    assert stats["pack"]["docs_out"] == stats["tokenize"]["docs_out"] > 20
    assert (out / "pack" / "train").exists()


@pytest.mark.ray
def test_quickstart_local_and_ray_write_identical_shards(tmp_path, quickstart_local, ray_instance):
    local, _ = quickstart_local
    run_quickstart(tmp_path / "ray", "execution.executor=ray")
    files = sorted(
        p.relative_to(local)
        for p in local.rglob("*")
        if p.is_file() and "_done" not in p.parts and "_work" not in p.parts and p.suffix != ".json"
    )
    assert len(files) > 10
    for relative in files:
        assert (local / relative).read_bytes() == (tmp_path / "ray" / relative).read_bytes(), relative


def test_cli_steps_and_validate(monkeypatch, capsys):
    from curate.cli import main

    monkeypatch.chdir(REPO)
    assert main(["steps"]) == 0  # in-process; `validate` below runs the real entry point
    steps = capsys.readouterr().out
    for name in ("warc_extract", "language_id", "minhash_dedup", "tokenize", "pack"):
        assert f"{name} (" in steps
    assert main(["steps", "language_id"]) == 0
    detail = capsys.readouterr().out
    assert "min_score" in detail and "0.65" in detail and "keep_rejected" in detail
    valid = subprocess.run(
        [sys.executable, "-m", "curate.cli", "validate", QUICKSTART], capture_output=True, text=True, check=True
    )
    assert "ok" in valid.stdout and "12 steps over 1 input file " in valid.stdout

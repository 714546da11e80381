"""The FineWeb2 recipe on a real crawl: per-language output folders, and the language distribution of the output
in the report."""

from __future__ import annotations

import json

from conftest import REPO, shared_data

import curate
from curate import load_recipe
from curate.pipeline import run_recipe


def test_fineweb2_recipe_on_a_real_crawl_reports_the_output_languages(tmp_path):
    warc = shared_data("warc", "real_crawls", "dolma__sample-0000.warc.gz")
    out = tmp_path / "out"
    run_recipe(
        load_recipe(
            str(REPO / "recipes" / "fineweb2.yaml"),
            [f"input.paths={warc}", f"output={out}", "execution.executor=local"],
        )
    )
    kept = curate.read_parquet(str(out / "pii"))
    assert kept.num_rows > 0
    folders = {p.name for p in (out / "pii").iterdir() if p.name.startswith("language=")}
    assert folders == {f"language={lang}" for lang in set(kept.column("language").to_pylist())}
    stats = json.loads((out / "_stats.json").read_text())
    final = stats["steps"][-1]["stats"]["distributions"]["language"]["counts"]
    assert sum(final.values()) == kept.num_rows
    html = (out / "_report" / "index.html").read_text()
    assert 'id="dist-language-output"' in html or "dist-language-output" in html

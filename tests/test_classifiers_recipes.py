"""Must-show 4: recipes/fineweb-edu.yaml and recipes/quality-buckets.yaml end to end on the sample WARC, with small
local models in place of the hub ones (passed with the recipe override mechanism)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
from classifier_fixtures import dclm_like_fasttext, tiny_bert

import curate

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "curate" / "data" / "sample.warc.gz"
RECIPE = REPO / "recipes" / "fineweb-edu.yaml"


def below_count(out: Path) -> int:
    return curate.read_parquet(str(out / "hf_classifier" / "rejected")).num_rows


def read_step(out: Path, step: str):
    return curate.read_parquet(str(out / step))


def test_fineweb_edu_recipe_end_to_end(tmp_path):
    from curate.pipeline import run_recipe

    model = tiny_bert(tmp_path / "edu", num_labels=1, regression=True)
    out = tmp_path / "out"
    base = [
        f"input.paths={SAMPLE}",
        f"output={out}",
        "steps.language_id.model=lid176-ftz",
        f"steps.hf_classifier.model={model}",
        "execution.report=false",
    ]
    # first run: score only; the second run (same output) resumes every earlier step and thresholds at the median
    run_recipe(curate.load_recipe(str(RECIPE), [*base, "steps.hf_classifier.threshold=null"]), executor="local")
    filtered = read_step(out, "fineweb_quality")
    assert filtered.num_rows > 0, "the FineWeb filters left no English document in the sample"
    all_scored = read_step(out, "hf_classifier")
    assert all_scored.num_rows == filtered.num_rows
    assert set(all_scored["edu_int_score"].to_pylist()) <= set(range(6))
    median = float(np.median(np.asarray(all_scored["edu_score"])))
    result = run_recipe(
        curate.load_recipe(str(RECIPE), [*base, f"steps.hf_classifier.threshold={median!r}"]), executor="local"
    )
    assert result.step_stats("hf_classifier").removed == {"hf_classifier_below_threshold": below_count(out)}
    kept = read_step(out, "hf_classifier")
    below = curate.read_parquet(str(out / "hf_classifier" / "rejected"))
    assert kept.num_rows + below.num_rows == filtered.num_rows and kept.num_rows >= filtered.num_rows // 2
    assert pc.min(kept["edu_score"]).as_py() >= median > pc.max(below["edu_score"]).as_py()
    assert set(below["reason"].to_pylist()) == {"hf_classifier_below_threshold"}


def run_quality_buckets(tmp_path: Path, executor: str) -> Path:
    from curate.pipeline import run_recipe

    models = tmp_path / "models"
    if not (models / "dclm").exists():
        tiny_bert(models / "edu", num_labels=1, regression=True)
        dclm_like_fasttext(models)
    out = tmp_path / f"out-{executor}"
    recipe = curate.load_recipe(
        str(REPO / "recipes" / "quality-buckets.yaml"),
        [
            f"input.paths={SAMPLE}",
            f"output={out}",
            "steps.language_id.model=lid176-ftz",
            f"steps.fasttext_classifier.model={models / 'dclm'}",
            f"steps.hf_classifier.model={models / 'edu'}",
            "steps.quality_buckets.buckets=4",
            "steps.mix.bins=[1, 2, 3]",
            'steps.mix.repeat={"<1": 0, "1": 0.5, "2": 1, "3+": 2}',
            "execution.report=false",
        ],
    )
    run_recipe(recipe, executor=executor)
    return out


@pytest.fixture(scope="module")
def buckets_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One local run of the quality-buckets recipe (``out-local``) and its models, shared by the tests below."""
    folder = tmp_path_factory.mktemp("buckets")
    run_quality_buckets(folder, "local")
    return folder


def test_quality_buckets_recipe_end_to_end(buckets_folder):
    out = buckets_folder / "out-local"
    english = read_step(out, "language_id")
    bucketed = read_step(out, "quality_buckets")
    assert bucketed.num_rows == english.num_rows > 4
    bucket = np.asarray(bucketed["quality_bucket"])
    per_score = np.maximum(np.asarray(bucketed["dclm_score_bucket"]), np.asarray(bucketed["edu_score_bucket"]))
    assert np.array_equal(bucket, per_score) and bucket.min() >= 0 and bucket.max() <= 3
    for column in ("dclm_score_bucket", "edu_score_bucket"):  # percentiles: every bucket is populated
        assert len(set(bucketed[column].to_pylist())) == 4
    # the edu buckets follow the edu score's order
    order = np.argsort(np.asarray(bucketed["edu_score"]), kind="stable")
    assert np.all(np.diff(np.asarray(bucketed["edu_score_bucket"])[order]) >= 0)
    # mixing by bucket: the lowest dropped, the best twice, every copy numbered
    mixed = read_step(out, "mix")
    copies = Counter(mixed["id"].to_pylist())
    for doc_id, b in zip(bucketed["id"].to_pylist(), bucket.tolist(), strict=True):
        assert copies[doc_id] == {0: 0, 2: 1, 3: 2}.get(b, copies[doc_id]), (doc_id, b)
        assert b != 1 or copies[doc_id] in (0, 1)
    assert sorted(mixed["mix_copy"].to_pylist()).count(1) == sum(1 for b in bucket.tolist() if b == 3)


@pytest.mark.ray
def test_model_steps_on_ray_actors_match_local(buckets_folder, ray_instance):
    local = read_step(buckets_folder / "out-local", "quality_buckets")
    on_ray = read_step(run_quality_buckets(buckets_folder, "ray"), "quality_buckets")
    local, on_ray = local.sort_by("id"), on_ray.sort_by("id")
    for column in ("id", "quality_bucket", "dclm_score", "edu_score_bucket"):
        assert local[column].equals(on_ray[column]), column
    assert np.allclose(np.asarray(local["edu_score"]), np.asarray(on_ray["edu_score"]), atol=1e-5)

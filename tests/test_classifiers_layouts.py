"""hf_classifier loads the published classifier layouts: NeMo Curator's DeBERTa + fc head (PyTorchModelHubMixin) and
FineWeb-Edu's AutoModelForSequenceClassification regressor. Tiny random models of each layout are built offline,
saved as the hub repos lay them out, and the step's labels, scores and batching are checked against a direct
forward pass done here, one document at a time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from classifier_fixtures import (
    TOKENIZER_TEXTS,
    fineweb_edu_like,
    nemo_curator_model,
    nemo_head_class,
    tiny_bert,
    tiny_deberta_backbone,
)

from curate.classifiers import HfClassifier, Safety
from curate.classifiers.layouts import UnsupportedLayout, resolve_layout

QUALITY = ["High", "Medium", "Low"]
#: twelve labels: the hub's id2label keys sort "0", "1", "10", "11", "2" … — the labels must follow the ids
DOMAINS = [f"Domain_{i}" for i in range(12)]
MAX_LENGTH = 48
#: a random encoder gives nearly equal first-token states to every text, so the test heads subtract their mean and
#: scale the rest up to tell documents apart; float32 rounding of the states (batched vs single, padded or not)
#: grows with them, to about 1e-4 on a probability or a score
ATOL = 1e-3


def documents() -> pa.Table:
    rng = np.random.default_rng(0)
    words = " ".join(TOKENIZER_TEXTS).split()
    texts: list[str | None] = [" ".join(rng.choice(words, size=int(n))) for n in rng.integers(1, 60, size=22)]
    texts += ["", None, "word " * 3000]  # empty, missing, far beyond the token limit
    return pa.table({"id": [f"d{i}" for i in range(len(texts))], "text": pa.array(texts, pa.string())})


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    from classifier_fixtures import deberta_tokenizer

    folder = tmp_path_factory.mktemp("base")
    vocab = deberta_tokenizer(folder).vocab_size
    return tiny_deberta_backbone(folder, vocab + 10)


@pytest.fixture(scope="module")
def quality(tmp_path_factory, base) -> Path:
    return nemo_curator_model(tmp_path_factory.mktemp("nvidia") / "quality-classifier-deberta", QUALITY, base)


@pytest.fixture(scope="module")
def edu(tmp_path_factory) -> Path:
    return fineweb_edu_like(tmp_path_factory.mktemp("HuggingFaceFW") / "fineweb-edu-classifier")


def reference_probabilities(folder: Path, texts: list[str | None]) -> np.ndarray:
    """NeMo Curator's prediction, one document at a time (no padding): the hub class loaded by huggingface_hub's
    mixin, the repo's tokenizer, softmax of fc over the first token."""
    import torch
    from transformers import AutoTokenizer

    model = nemo_head_class().from_pretrained(str(folder)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    rows = []
    with torch.no_grad():
        for text in texts:
            enc = tokenizer(text or "", truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
            rows.append(model(enc["input_ids"], enc["attention_mask"])[0].numpy())
    return np.stack(rows)


def test_layouts_are_detected_from_the_files(quality, edu):
    assert resolve_layout(str(quality))[0] == "nemo_curator"
    assert resolve_layout(str(edu))[0] == "sequence_classification"


@pytest.mark.parametrize("labels", [QUALITY, DOMAINS], ids=["quality", "domain"])
def test_nemo_curator_layout_matches_a_direct_forward_pass_in_every_batching(labels, base, tmp_path):
    folder = nemo_curator_model(tmp_path / "model", labels, base, seed=len(labels))
    docs = documents()
    expected = reference_probabilities(folder, docs["text"].to_pylist())
    top = np.asarray(labels, dtype=object)[expected.argmax(axis=1)]
    assert len(set(top)) > 1  # the documents do not all get one label: the check below means something
    ranked = np.sort(expected, axis=1)
    clear = ranked[:, -1] - ranked[:, -2] > 2 * ATOL  # top label not within float noise of the runner-up
    step = HfClassifier(model=str(folder), column="q", probabilities=True, max_length=MAX_LENGTH)
    step.ensure_setup()
    for batch_size, sort in ((1, True), (3, True), (3, False), (8, False), (64, True)):
        step.scorer.batch_size, step.scorer.sort_by_length = batch_size, sort  # one load, every batching
        out = step(docs)
        assert step.scorer.layout == "nemo_curator" and step.scorer.labels == labels
        got = np.stack([np.asarray(out[f"q_{label}"]) for label in labels], axis=1)
        np.testing.assert_allclose(got, expected, atol=ATOL, err_msg=f"batch {batch_size}, sorted {sort}")
        assert np.array_equal(np.asarray(out["q_label"])[clear], top[clear])
        np.testing.assert_allclose(np.asarray(out["q"]), expected.max(axis=1), atol=ATOL)
        assert out["id"].equals(docs["id"])
    chosen = HfClassifier(model=str(folder), column="q", score_label=labels[-1], max_length=MAX_LENGTH)(docs)
    np.testing.assert_allclose(np.asarray(chosen["q"]), expected[:, -1], atol=ATOL)


def test_nemo_curator_layout_token_limits_and_character_cut(quality, base, tmp_path):
    default = HfClassifier(model=str(quality))
    default.ensure_setup()
    assert default.scorer.max_length == 512  # the tokenizer declares no limit: the backbone's 512 positions
    longer = HfClassifier(model=str(quality), max_length=1024)  # relative positions only: NeMo runs quality at 1024
    longer.ensure_setup()
    assert longer.scorer.max_length == 1024
    docs = documents()
    cut = HfClassifier(model=str(quality), column="q", probabilities=True, max_chars=20, max_length=MAX_LENGTH)(docs)
    expected = reference_probabilities(quality, [t[:20] if t else t for t in docs["text"].to_pylist()])
    np.testing.assert_allclose(np.asarray(cut["q_High"]), expected[:, 0], atol=ATOL)


def test_base_model_parameter_replaces_the_hub_backbone(quality, base, tmp_path):
    import shutil

    copy = tmp_path / "offline-copy"
    shutil.copytree(quality, copy)
    config = json.loads((copy / "config.json").read_text())
    config["base_model"] = "microsoft/deberta-v3-base"  # as on the hub; never fetched when base_model is given
    (copy / "config.json").write_text(json.dumps(config))
    docs = documents()
    ours = HfClassifier(model=str(copy), base_model=str(base), column="q", max_length=MAX_LENGTH)(docs)
    theirs = HfClassifier(model=str(quality), column="q", max_length=MAX_LENGTH)(docs)
    np.testing.assert_allclose(np.asarray(ours["q"]), np.asarray(theirs["q"]), atol=1e-6)
    config["base_model"] = "/nonexistent/deberta-v3-base"
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(OSError, match="only that file is needed"):
        HfClassifier(model=str(copy)).ensure_setup()


def test_fineweb_edu_regressor_scores_and_int_bucket_match_the_model_card(edu):
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    folder = edu
    docs = documents()
    model = BertForSequenceClassification.from_pretrained(str(folder)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    expected = []
    with torch.no_grad():
        for text in docs["text"].to_pylist():
            enc = tokenizer(text or "", truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
            expected.append(float(model(**enc).logits.squeeze(-1)[0]))
    scores = np.array(expected)
    assert scores.min() < 0 and scores.max() > 5  # both ends of the clamp are exercised
    int_scores = np.array([int(round(max(0, min(s, 5)))) for s in scores])  # the model card's int_score
    clear = np.abs(np.abs(scores - np.floor(scores)) - 0.5) > 2 * ATOL  # not within float noise of a .5
    step = HfClassifier(
        model=str(folder), column="edu", label_column="edu_int", label_range=(0, 5), max_length=MAX_LENGTH
    )
    step.ensure_setup()
    for batch_size, sort in ((1, True), (4, True), (4, False), (32, True)):
        step.scorer.batch_size, step.scorer.sort_by_length = batch_size, sort
        out = step(docs)
        assert step.scorer.layout == "sequence_classification" and step.scorer.regression
        np.testing.assert_allclose(np.asarray(out["edu"]), scores, atol=ATOL)
        assert np.array_equal(np.asarray(out["edu_int"])[clear], int_scores[clear])


def test_safety_scores_with_a_nemo_curator_head(base, tmp_path):
    folder = nemo_curator_model(tmp_path / "safety-deberta", ["safe", "unsafe"], base, seed=3)
    docs = documents().append_column("url", pa.array([None] * 25, pa.string()))
    tagged = Safety(model=str(folder), threshold=0.5, max_length=MAX_LENGTH)(docs)
    expected = reference_probabilities(folder, docs["text"].to_pylist())[:, 1]
    np.testing.assert_allclose(np.asarray(tagged["safety_score"]), expected, atol=ATOL)


def test_layouts_it_cannot_load_say_what_was_found(quality, edu, tmp_path):
    aegis = tmp_path / "Aegis-AI-Content-Safety-LlamaGuard-Defensive-1.0"
    aegis.mkdir()
    (aegis / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "base_model_name_or_path": "meta-llama/LlamaGuard-7b"})
    )
    with pytest.raises(UnsupportedLayout, match="PEFT adapter.*LlamaGuard-7b.*supported:"):
        HfClassifier(model=str(aegis)).ensure_setup()
    with pytest.raises(UnsupportedLayout, match="PEFT adapter"):
        Safety(model=str(aegis)).ensure_setup()

    encoder = tiny_bert(tmp_path / "encoder")  # a BertModel: no classification head
    with pytest.raises(UnsupportedLayout, match="BertModel checkpoint: no sequence-classification head"):
        HfClassifier(model=str(encoder)).ensure_setup()

    guard = tmp_path / "instruction-data-guard"  # PyTorchModelHubMixin MLP over Aegis' hidden states
    guard.mkdir()
    (guard / "config.json").write_text(json.dumps({"input_dim": 4096, "dropout": 0.7}))
    with pytest.raises(UnsupportedLayout, match=r"keys \['dropout', 'input_dim'\].*base_model"):
        HfClassifier(model=str(guard)).ensure_setup()

    with pytest.raises(UnsupportedLayout, match="needs base_model"):
        HfClassifier(model=str(edu), layout="nemo_curator").ensure_setup()

    wrong = tmp_path / "wrong-head"
    import shutil

    shutil.copytree(quality, wrong)
    config = json.loads((wrong / "config.json").read_text())
    config["id2label"], config["label2id"] = {"0": "a", "1": "b"}, {"a": 0, "b": 1}
    (wrong / "config.json").write_text(json.dumps(config))
    with pytest.raises(UnsupportedLayout, match="head fc has 3 outputs but config.json names 2 labels"):
        HfClassifier(model=str(wrong)).ensure_setup()
    (wrong / "model.safetensors").unlink()
    with pytest.raises(UnsupportedLayout, match="none of the weights files"):
        HfClassifier(model=str(wrong)).ensure_setup()

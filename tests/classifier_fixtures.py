"""Helpers for the classifier tests: the HPLT v2 labelled documents, tiny transformer models built in tmp folders,
and small trained models (fastText / MiniLM + head) made with ``curate train-classifier``."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from curate.classifiers.train import main as train_main

HPLT = ("quality_labels", "hplt_v2_inspection", "hplt_v2_annotated.jsonl")
#: "unnatural" (SEO word lists, boilerplate) = 1 is the positive class; "" and "0" are natural; fractions = unsure
UNNATURAL = [
    "--label-column",
    "unnatural",
    "--positive",
    "1",
    "--negative",
    "",
    "0",
    "--id-column",
    "id",
    "--positive-name",
    "unnatural",
    "--negative-name",
    "natural",
]


def hplt_table(path: Path) -> pa.Table:
    """The labelled documents as documents: id, text, url (none in the data), plus the label columns."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return pa.table(
        {
            "id": [r["id"] for r in rows],
            "text": [r["text"] for r in rows],
            "url": [None] * len(rows),
            "lang": [r["lang"] for r in rows],
            "unnatural": [r["unnatural"] for r in rows],
            "porn": [r["porn"] for r in rows],
        },
        schema=pa.schema(
            [
                ("id", pa.string()),
                ("text", pa.string()),
                ("url", pa.string()),
                ("lang", pa.string()),
                ("unnatural", pa.string()),
                ("porn", pa.string()),
            ]
        ),
    )


def train(args: list[str]) -> dict:
    """Run ``curate train-classifier`` and return the written model card."""
    out = args[args.index("-o") + 1]
    assert train_main(args) == 0
    return json.loads((Path(out) / "curate_model.json").read_text())


def train_fasttext(data: Path, out: Path, *extra: str) -> dict:
    """A small fastText model (dim 16, 20k buckets) on the HPLT "unnatural" labels."""
    return train(
        [
            str(data),
            "-o",
            str(out),
            "--kind",
            "fasttext",
            *UNNATURAL,
            "--dim",
            "16",
            "--bucket",
            "20000",
            "--threads",
            "1",
            *extra,
        ]
    )


def tiny_bert(folder: Path, num_labels: int | None = None, regression: bool = False, seed: int = 0) -> Path:
    """A 2-layer, 32-wide random BERT with the MiniLM tokenizer: a backbone (``num_labels=None``) or a sequence
    classifier / regressor, saved as a Hugging Face folder. Fast enough for end-to-end tests."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertModel

    from curate.classifiers.embedding_head import minilm_path

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    torch.manual_seed(seed)
    if num_labels is None:
        model = BertModel(config)
    else:
        config.num_labels = num_labels
        config.problem_type = "regression" if regression else "single_label_classification"
        if not regression:
            config.id2label = {i: f"class{i}" for i in range(num_labels)}
            config.label2id = {v: k for k, v in config.id2label.items()}
        model = BertForSequenceClassification(config)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


def dclm_like_fasttext(tmp_path: Path) -> Path:
    """A fastText model with DCLM's labels (hq vs cc) trained on a few prose vs word-list lines."""
    prose = [
        "The committee reviewed the proposal and explained why the bridge needed repairs before winter.",
        "Researchers found that students who slept longer remembered more of what they had learned.",
        "In this article we describe how the river changed course after the flood of 1953.",
    ]
    spam = [
        "cheap shoes buy now best price cheap shoes discount sale free shipping",
        "home | about | contact | login | register | cart | privacy | terms",
        "casino bonus slots casino free spins bonus casino jackpot win",
    ]
    rows = [
        {"id": f"{k}{i}", "text": t, "label": k}
        for i in range(10)
        for k, group in (("hq", prose), ("cc", spam))
        for t in group
    ]
    data = tmp_path / "dclm.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "dclm"
    train(
        [
            str(data),
            "-o",
            str(out),
            "--positive",
            "hq",
            "--positive-name",
            "hq",
            "--negative-name",
            "cc",
            "--dim",
            "8",
            "--bucket",
            "1000",
            "--threads",
            "1",
            "--test-fraction",
            "0.2",
        ]
    )
    return out

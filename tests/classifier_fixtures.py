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


#: sentences the offline DeBERTa-style tokenizer is trained on (a Unigram model, as DeBERTa-v3's spm.model is)
TOKENIZER_TEXTS = [
    "The committee reviewed the proposal and explained why the bridge needed repairs before winter.",
    "Researchers found that students who slept longer remembered more of what they had learned.",
    "cheap shoes buy now best price discount sale free shipping casino bonus slots jackpot",
    "home | about | contact | login | register | cart | privacy | terms of service",
    "In this article we describe how the river changed course after the flood of 1953.",
]


def deberta_tokenizer(folder: Path):
    """A DeBERTa-v3-shaped fast tokenizer built offline: a small Unigram model with Metaspace pre-tokenisation and
    ``[CLS] … [SEP]`` framing (the hub models ship spm.model + tokenizer.json; only the vocabulary differs)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import DebertaV2TokenizerFast

    specials = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(
        TOKENIZER_TEXTS * 20, trainers.UnigramTrainer(vocab_size=300, special_tokens=specials, unk_token="[UNK]")
    )
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tokenizer = DebertaV2TokenizerFast(
        tokenizer_object=tok,
        bos_token="[CLS]",
        eos_token="[SEP]",
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
    )
    tokenizer.save_pretrained(str(folder))
    return tokenizer


def tiny_deberta_backbone(folder: Path, vocab_size: int, seed: int = 0) -> Path:
    """A random 2-layer, 32-wide DeBERTa-v3-shaped encoder (relative positions only, as microsoft/deberta-v3-base),
    saved as the ``base_model`` NeMo Curator's class loads with ``AutoModel.from_pretrained``."""
    import torch
    from transformers import DebertaV2Model

    from curate.classifiers.layouts import deberta_v3_config

    config = deberta_v3_config(
        vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    torch.manual_seed(seed)
    DebertaV2Model(config).save_pretrained(str(folder))
    return folder


def nemo_head_class():
    """NeMo Curator's model class as its hub repos were saved with it (``HFDeberta`` / ``Deberta``): the backbone
    ``AutoModel.from_pretrained(config["base_model"])``, dropout ``fc_dropout``, a linear ``fc`` per label, and
    huggingface_hub's ``PyTorchModelHubMixin`` writing config.json + model.safetensors. ``forward`` is NeMo's
    prediction: the softmax of ``fc`` over the first token."""
    import torch
    from huggingface_hub import PyTorchModelHubMixin
    from torch import nn
    from transformers import AutoModel

    class NemoHead(nn.Module, PyTorchModelHubMixin):
        def __init__(self, config: dict):
            super().__init__()
            self.model = AutoModel.from_pretrained(config["base_model"])
            self.dropout = nn.Dropout(config["fc_dropout"])
            self.fc = nn.Linear(self.model.config.hidden_size, len(config["id2label"]))

        def forward(self, input_ids, attention_mask):
            features = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return torch.softmax(self.fc(self.dropout(features))[:, 0, :], dim=1)

    return NemoHead


def nemo_curator_model(folder: Path, labels: list[str], base: Path, seed: int = 0) -> Path:
    """A randomly initialised model in NeMo Curator's hub layout (config.json with base_model, fc_dropout,
    id2label/label2id, model_type; model.safetensors; the tokenizer files), written by ``PyTorchModelHubMixin``.
    ``id2label`` keys are strings in the hub's lexicographic order. A random encoder's first-token states barely
    differ between texts, so the head is centred and scaled on a few sample texts: the labels differ by document."""
    import torch

    config = {
        "base_model": str(base),
        "config_path": None,
        "fc_dropout": 0.2,
        "id2label": {str(i): label for i, label in sorted(enumerate(labels), key=lambda kv: str(kv[0]))},
        "label2id": {label: i for i, label in sorted(enumerate(labels), key=lambda kv: kv[1])},
        "model_type": "deberta-v2",
        "pretrained": True,
    }
    torch.manual_seed(seed)
    model = nemo_head_class()(config).eval()
    tokenizer = deberta_tokenizer(folder)
    samples = [" ".join(t.split()[i:]) for t in TOKENIZER_TEXTS for i in range(0, 8, 2)]
    enc = tokenizer(samples, padding=True, return_tensors="pt")
    with torch.no_grad():
        first = model.model(**enc).last_hidden_state[:, 0]
        centre = first.mean(0)
        weight = torch.randn(len(labels), first.shape[1]) / float((first - centre).norm(dim=1).mean()) * 3
        model.fc.weight.copy_(weight)
        model.fc.bias.copy_(-weight @ centre)
    model.save_pretrained(str(folder))
    return folder


def fineweb_edu_like(folder: Path, seed: int = 0) -> Path:
    """A FineWeb-Edu-shaped regressor (``BertForSequenceClassification``, one output, ``problem_type`` regression)
    whose head is centred and scaled on sample texts so the scores spread over about -2..7: rounding and the [0, 5]
    clamp are both exercised."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    tiny_bert(folder, num_labels=1, regression=True, seed=seed)
    model = BertForSequenceClassification.from_pretrained(str(folder)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    samples = [" ".join(t.split()[i:]) for t in TOKENIZER_TEXTS for i in range(0, 8, 2)]
    with torch.no_grad():
        pooled = model.bert(**tokenizer(samples, padding=True, return_tensors="pt")).pooler_output
        centre = pooled.mean(0)
        weight = torch.randn(1, pooled.shape[1]) / float((pooled - centre).norm(dim=1).mean()) * 3
        model.classifier.weight.copy_(weight)
        model.classifier.bias.copy_(2.5 - weight @ centre)
    model.save_pretrained(str(folder))
    return folder

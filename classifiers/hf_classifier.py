"""``hf_classifier``: Hugging Face sequence classifiers / regressors and NeMo Curator's DeBERTa + head models,
batched, sorted by length."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field

from curate.errors import Problem
from curate.registry import register
from curate.stage import Params, Resources, Stage, StepOutput

from .embedding_head import EmbeddingHeadModel, load_pretrained, load_tokenizer
from .inference import batched_forward, tokenize
from .layouts import SUPPORTED, Layout, NemoCuratorModel, UnsupportedLayout, resolve_layout
from .models import Device, DType, pick_device, pick_dtype, reference_problems


def token_limits(tokenizer: Any, config: Any, declared: int | None = None) -> tuple[int, int | None]:
    """(default token limit, hard cap or None): the model's declared ``max_len``, else the tokenizer's
    ``model_max_length`` when it is a real number, capped by the position embeddings. Models with relative positions
    only (DeBERTa-v3: ``position_biased_input`` false) have no hard cap: ``max_length`` may exceed 512 (NeMo Curator
    runs its quality and content-type models at 1024)."""
    limit = int(getattr(config, "max_position_embeddings", 512) or 512)
    cap = None if getattr(config, "position_biased_input", True) is False else limit
    tok_max = int(getattr(tokenizer, "model_max_length", limit) or limit)
    default = int(declared) if declared else min(tok_max if tok_max < 100_000 else limit, limit)
    return (min(default, cap) if cap else default), cap


class HfScorer:
    """A loaded sequence classifier on a device: ``logits(texts)`` -> float32 ``[n, num_labels]``, ``labels``,
    ``regression``. Loads every layout of :mod:`curate.classifiers.layouts` (transformers sequence classifiers,
    NeMo Curator's DeBERTa + head, curate embedding-head folders) from a hub id or a local folder."""

    def __init__(
        self,
        reference: str,
        device: Device = "auto",
        dtype: DType = "auto",
        max_length: int | None = None,
        batch_size: int = 64,
        sort_by_length: bool = True,
        layout: Layout = "auto",
        base_model: str | None = None,
        max_chars: int | None = None,
    ):
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.batch_size = batch_size
        self.sort_by_length = sort_by_length
        self.max_chars = max_chars
        self.multi_label = False
        self.regression = False
        self.layout, config = resolve_layout(reference, layout)
        folder = Path(reference).expanduser()
        source = str(folder) if folder.exists() else reference
        cap: int | None
        if self.layout == "embedding_head":
            assert config is not None
            model = EmbeddingHeadModel(folder, config, self.device, self.dtype)
            self.tokenizer, self._forward = model.tokenizer, model.logits
            self.labels: list[str] = list(config["labels"])
            self.regression = config["task"] == "regression"
            model_max = cap = model.max_length
        elif self.layout == "nemo_curator":
            assert config is not None
            head = NemoCuratorModel(source, config, self.device, self.dtype, base_model)
            try:
                self.tokenizer = load_tokenizer(source)
            except OSError:  # the hub repos ship their tokenizer; a bare weights folder falls back on the backbone's
                self.tokenizer = load_tokenizer(base_model or config["base_model"])
            self._forward, self.labels = head.logits, head.labels
            model_max, cap = token_limits(self.tokenizer, head.backbone_config, head.max_length)
        else:
            from transformers import AutoModelForSequenceClassification

            self.tokenizer = load_tokenizer(source)
            net, info = load_pretrained(
                AutoModelForSequenceClassification, source, self.dtype, output_loading_info=True
            )
            head_missing = sorted(info.get("missing_keys") or [])
            if head_missing:
                raise UnsupportedLayout(
                    f"{reference!r}: {len(head_missing)} weights of the sequence-classification model are not in the "
                    f"checkpoint (e.g. {head_missing[:3]}): its head would be random; {SUPPORTED}"
                )
            net = net.to(self.device).eval()
            self._forward = lambda ids, mask: net(input_ids=ids, attention_mask=mask).logits
            config = net.config
            self.labels = [str(config.id2label.get(i, i)) for i in range(config.num_labels)]
            self.regression = config.problem_type == "regression" or config.num_labels == 1
            self.multi_label = config.problem_type == "multi_label_classification"
            model_max, cap = token_limits(self.tokenizer, config)
        self.max_length = (min(max_length, cap) if cap else max_length) if max_length else model_max
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0

    def logits(self, texts: list[str | None]) -> np.ndarray:
        if self.max_chars is not None:
            texts = [t[: self.max_chars] if t else t for t in texts]
        ids = tokenize(self.tokenizer, texts, self.max_length)
        return batched_forward(self._forward, ids, self.pad_id, self.batch_size, self.device, self.sort_by_length)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        if self.multi_label:
            return 1.0 / (1.0 + np.exp(-logits))
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)


@register
class HfClassifier(Stage):
    """Score documents with a Hugging Face sequence-classification or regression model, batched and length-sorted.

    The model is a hub id or a local folder in one of three layouts, told apart by its files (``layout: auto``) or
    forced: ``sequence_classification`` (``AutoModelForSequenceClassification``: HuggingFaceFW/fineweb-edu-classifier
    and NVIDIA's FineWeb-Edu-style regressors), ``nemo_curator`` (NeMo Curator's DeBERTa-v3 + ``fc`` head saved with
    ``PyTorchModelHubMixin``: nvidia/quality-classifier-deberta, nvidia/domain-classifier,
    nvidia/multilingual-domain-classifier, nvidia/content-type-classifier-deberta; softmax of the head on the first
    token, labels in ``label2id`` order, as NeMo Curator predicts; ``base_model`` points at a local copy of the
    backbone's config when the hub is out of reach, and ``max_chars`` / ``max_length`` reproduce NeMo's per-model
    cuts, e.g. quality 6000 / 1024) or ``embedding_head`` (a folder written by ``curate train-classifier --kind
    head``). Layouts it cannot load (PEFT adapters such as NVIDIA's Aegis, checkpoints without a classification head)
    fail at setup with what was found; see :mod:`curate.classifiers.layouts`. Loaded once per
    worker (an actor in Ray, with ``gpus`` from the recipe); ``device: auto`` uses a GPU when torch sees one, in
    bf16 (fp16 on cards without bf16), and fp32 on CPU. Texts are truncated at the model's maximum length and
    batched in token-length order to cut padding. Regression models (one output) give ``<column>`` = the raw
    score and ``<label_column>`` = the rounded score clipped to ``label_range`` (FineWeb-Edu: ``int_score`` =
    round(clip(score, 0, 5)), kept at >= 3). Classifiers give ``<column>`` = the probability of ``score_label``
    (default: label 1 of a binary model, else the top label's probability) and ``<label_column>`` = the top label.
    ``threshold`` removes documents whose score is below it (``hf_classifier_below_threshold``).
    """

    name = "hf_classifier"
    kind = "map"
    requires = ("text",)
    adds = ("<column>", "<label_column>")
    resources = Resources(cpus=1, gpus=0, stateful=True)
    version = 1

    class Params(Params):
        model: str = Field(
            ...,
            min_length=1,
            description="hub id (e.g. HuggingFaceFW/fineweb-edu-classifier, nvidia/quality-classifier-deberta), "
            "local folder, or a folder written by `curate train-classifier --kind head`",
        )
        column: str = Field("hf_score", description="score column (float32)")
        label_column: str | None = Field(
            None,
            description="label column (default: <column>_label); int32 for regression models, string for classifiers",
        )
        score_label: str | None = Field(None, description="classifiers: label whose probability is the score")
        probabilities: bool = Field(False, description="classifiers: add <column>_<label> for every label")
        label_range: tuple[int, int] | None = Field(
            None, description="regression: clip the rounded label to [lo, hi] (FineWeb-Edu: [0, 5])"
        )
        threshold: float | None = Field(None, description="remove documents whose score is below this")
        device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: a GPU when torch sees one")
        dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
            "auto", description="auto: bf16 on GPUs that support it, else fp16; fp32 on CPU"
        )
        model_batch_size: int = Field(64, ge=1, description="texts per forward pass")
        max_length: int | None = Field(None, ge=8, description="truncate at N tokens (default: the model's maximum)")
        sort_by_length: bool = Field(True, description="batch texts in token-length order to cut padding")
        text_column: str = Field("text", description="column to score")
        layout: Layout = Field(
            "auto",
            description="auto (from config.json), sequence_classification, nemo_curator (DeBERTa + fc head) "
            "or embedding_head",
        )
        base_model: str | None = Field(
            None, description="nemo_curator layout: backbone config folder/hub id in place of config.json's base_model"
        )
        max_chars: int | None = Field(None, ge=1, description="cut texts at N characters before tokenizing (NeMo's)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.adds = (self.params.column, self.params.label_column or f"{self.params.column}_label")

    def input_columns(self) -> set[str]:
        return {self.params.text_column}

    def check_files(self) -> list[Problem]:
        p = self.params
        problems = reference_problems("model", p.model, "model", hub_file="config.json")
        if p.base_model:
            problems += reference_problems("base_model", p.base_model, "backbone", hub_file="config.json")
        return problems

    def setup(self) -> None:
        p = self.params
        self.scorer = HfScorer(
            p.model,
            p.device,
            p.dtype,
            p.max_length,
            p.model_batch_size,
            p.sort_by_length,
            p.layout,
            p.base_model,
            p.max_chars,
        )
        if p.score_label is not None and p.score_label not in self.scorer.labels:
            raise ValueError(
                f"hf_classifier: score_label {p.score_label!r} is not a label of {p.model} "
                f"(its labels: {self.scorer.labels})"
            )

    def score(self, texts: list[str | None]) -> tuple[np.ndarray, pa.Array, dict[str, np.ndarray]]:
        """(score, label, per-label probabilities) for a list of texts."""
        p, s = self.params, self.scorer
        logits = s.logits(texts)
        if s.regression:
            score = logits[:, 0] if len(texts) else np.zeros(0, np.float32)
            rounded = np.rint(score)
            if p.label_range is not None:
                rounded = np.clip(rounded, *p.label_range)
            return score, pa.array(rounded.astype(np.int32), pa.int32()), {}
        probs = s.probabilities(logits) if len(texts) else np.zeros((0, len(s.labels)), np.float32)
        if p.score_label is not None:
            score = probs[:, s.labels.index(p.score_label)]
        elif len(s.labels) == 2:
            score = probs[:, 1]
        else:
            score = probs.max(axis=1) if len(texts) else np.zeros(0, np.float32)
        top = probs.argmax(axis=1) if len(texts) else np.zeros(0, np.int64)
        labels = pa.array(np.asarray(s.labels, dtype=object)[top].tolist(), pa.string())
        return score, labels, {label: probs[:, i] for i, label in enumerate(s.labels)}

    def process(self, table: pa.Table) -> pa.Table | StepOutput:
        p = self.params
        score, labels, probs = self.score(table.column(p.text_column).to_pylist())
        table = table.append_column(p.column, pa.array(score.astype(np.float32), pa.float32()))
        table = table.append_column(p.label_column or f"{p.column}_label", labels)
        if p.probabilities:
            for label, values in probs.items():
                table = table.append_column(f"{p.column}_{label}", pa.array(values.astype(np.float32), pa.float32()))
        if p.threshold is None:
            return table
        reasons = np.where(score < p.threshold, f"{self.name}_below_threshold", None)
        return StepOutput.split(table, pa.array(reasons.tolist(), pa.string()))

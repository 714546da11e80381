"""``hf_classifier``: any Hugging Face sequence-classification / regression model, batched, sorted by length."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
from pydantic import Field

from curate.registry import register
from curate.stage import Params, Resources, Stage, StepOutput

from .embedding_head import EmbeddingHeadModel, load_pretrained, load_tokenizer
from .inference import batched_forward, tokenize
from .models import Device, DType, pick_device, pick_dtype, read_model_card


class HfScorer:
    """A loaded sequence classifier (a hub id or local folder, or a ``curate train-classifier`` embedding-head
    folder) on a device: ``logits(texts)`` -> float32 ``[n, num_labels]``, ``labels``, ``regression``."""

    def __init__(
        self,
        reference: str,
        device: Device = "auto",
        dtype: DType = "auto",
        max_length: int | None = None,
        batch_size: int = 64,
        sort_by_length: bool = True,
    ):

        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.batch_size = batch_size
        self.sort_by_length = sort_by_length
        self.multi_label = False
        folder = Path(reference).expanduser()
        card = read_model_card(folder) if folder.is_dir() else None
        if card is not None and card.get("kind") == "embedding_head":
            model = EmbeddingHeadModel(folder, card, self.device, self.dtype)
            self.tokenizer, self._forward = model.tokenizer, model.logits
            self.labels: list[str] = list(card["labels"])
            self.regression = card["task"] == "regression"
            model_max = model.max_length
        else:
            from transformers import AutoModelForSequenceClassification

            source = str(folder) if folder.exists() else reference
            self.tokenizer = load_tokenizer(source)
            net = load_pretrained(AutoModelForSequenceClassification, source, self.dtype).to(self.device).eval()
            self._forward = lambda ids, mask: net(input_ids=ids, attention_mask=mask).logits
            config = net.config
            self.labels = [str(config.id2label.get(i, i)) for i in range(config.num_labels)]
            self.regression = config.problem_type == "regression" or config.num_labels == 1
            limit = int(getattr(config, "max_position_embeddings", 512) or 512)
            tok_max = int(getattr(self.tokenizer, "model_max_length", limit) or limit)
            model_max = min(tok_max if tok_max < 100_000 else limit, limit)
            self.multi_label = config.problem_type == "multi_label_classification"
        self.max_length = min(max_length, model_max) if max_length else model_max
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0

    def logits(self, texts: list[str | None]) -> np.ndarray:
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

    The model is a hub id, a local folder (``AutoModelForSequenceClassification``: FineWeb-Edu's classifier, a
    DeBERTa quality/domain model …) or a folder written by ``curate train-classifier --kind head``. Loaded once per
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
            description="hub id (e.g. HuggingFaceFW/fineweb-edu-classifier), "
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.adds = (self.params.column, self.params.label_column or f"{self.params.column}_label")

    def input_columns(self) -> set[str]:
        return {self.params.text_column}

    def setup(self) -> None:
        p = self.params
        self.scorer = HfScorer(p.model, p.device, p.dtype, p.max_length, p.model_batch_size, p.sort_by_length)
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

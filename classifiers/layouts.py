"""The model layouts ``hf_classifier`` (and ``safety``) load, told apart by the folder's or hub repo's files.

* ``sequence_classification`` — a transformers ``*ForSequenceClassification`` checkpoint (``architectures`` in
  ``config.json``): HuggingFaceFW/fineweb-edu-classifier and NVIDIA's FineWeb-Edu-style regressors
  (nvidia/nemocurator-fineweb-mixtral-edu-classifier, …-nemotron-4-edu-classifier) have one output, a score;
  classifiers have one logit per label (``id2label``).
* ``nemo_curator`` — NVIDIA's custom class used by NeMo Curator for nvidia/quality-classifier-deberta,
  nvidia/domain-classifier, nvidia/multilingual-domain-classifier and nvidia/content-type-classifier-deberta: a
  backbone (``AutoModel`` of ``config["base_model"]``, DeBERTa-v3) + dropout + a linear head ``fc``, saved with
  huggingface_hub's ``PyTorchModelHubMixin``. ``config.json`` holds ``base_model``, ``fc_dropout``,
  ``id2label``/``label2id`` and no backbone shape; ``model.safetensors`` holds every weight (``model.*``, ``fc.*``).
  The prediction is the softmax of the head over the first token's hidden state, labels in ``label2id`` order
  (NeMo Curator's ``HFDeberta``/``Deberta`` classes and the model cards' usage). Only the base model's
  ``config.json`` is read (to build the backbone's shape); its weights are never downloaded.
* ``embedding_head`` — a folder written by ``curate train-classifier --kind head`` (``curate_model.json``).

Anything else is refused with what was found and what is supported: a PEFT adapter (``adapter_config.json``), a
checkpoint whose architectures carry no sequence-classification head, a ``PyTorchModelHubMixin`` config without
``base_model`` (nvidia/instruction-data-guard: an MLP over Aegis' hidden states).

NeMo Curator's safety classifiers do not share the DeBERTa + head layout, which is why ``safety`` cannot name them:
nvidia/Aegis-AI-Content-Safety-LlamaGuard-{Defensive,Permissive}-1.0 are LoRA adapters (``peft``) on
meta-llama/LlamaGuard-7b, a gated 7B causal LM (Meta's licence; a hub token with granted access), and they classify
by *generating* a verdict ("safe", or "unsafe" and a category O1–O13) after Aegis' policy prompt, parsed from the
text; instruction-data-guard reads LlamaGuard's last hidden state. That is a generation path (prompt, decode,
parse) rather than a layout to load, it needs the gated base weights, and a 7B model cannot be checked on a
2-core CPU; ``safety`` takes any classifier of the layouts above (a DeBERTa + head safety model included).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from .models import read_model_card

Layout = Literal["auto", "sequence_classification", "nemo_curator", "embedding_head"]
LAYOUTS: tuple[str, ...] = ("sequence_classification", "nemo_curator", "embedding_head")
SUPPORTED = (
    "supported: a transformers *ForSequenceClassification checkpoint (FineWeb-Edu), NeMo Curator's backbone + fc "
    "head saved with PyTorchModelHubMixin (config.json with base_model; nvidia/quality-classifier-deberta, "
    "domain-classifier, content-type-classifier-deberta), or a `curate train-classifier --kind head` folder"
)
#: what the NeMo Curator layout's weights file may be called (safetensors first, as PyTorchModelHubMixin writes it)
HEAD_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


class UnsupportedLayout(ValueError):
    """A model whose files ``hf_classifier`` cannot turn into a classifier; the message says what was found."""


def hub_file(reference: str, name: str, required: bool = False) -> Path | None:
    """``name`` inside a local folder or a hub repo (downloaded once into the Hugging Face cache); None when the
    file is not there (or, unless ``required``, when the hub cannot be reached)."""
    folder = Path(reference).expanduser()
    if folder.is_dir():
        return folder / name if (folder / name).is_file() else None
    from transformers.utils import cached_file

    try:
        found = cached_file(
            reference,
            name,
            _raise_exceptions_for_missing_entries=False,
            _raise_exceptions_for_connection_errors=required,
        )
    except OSError as exc:
        if not required:
            return None
        raise OSError(
            f"could not load model {reference!r}: give a local model folder or a Hugging Face hub id reachable from "
            f"this machine (offline: download it elsewhere and pass the folder). Cause: {exc}"
        ) from exc
    return Path(found) if found else None


def read_config(reference: str) -> dict[str, Any]:
    """The model's ``config.json`` as a dict, or a clear error naming what the folder/repo holds instead."""
    path = hub_file(reference, "config.json", required=True)
    if path is None:
        adapter = hub_file(reference, "adapter_config.json")
        if adapter is not None:
            raise UnsupportedLayout(peft_message(reference, json.loads(adapter.read_text())))
        raise OSError(
            f"could not load model {reference!r}: it has no config.json; give a local model folder or a Hugging Face "
            f"hub id reachable from this machine, holding config.json + weights + tokenizer ({SUPPORTED})"
        )
    return json.loads(path.read_text())


def peft_message(reference: str, adapter: dict[str, Any]) -> str:
    base = adapter.get("base_model_name_or_path", "?")
    return (
        f"{reference!r} is a PEFT adapter ({adapter.get('peft_type', 'LoRA')} on {base}), not a classifier: "
        f"NVIDIA's Aegis safety models are such adapters on LlamaGuard-7b that answer by generating text "
        f"('safe' / 'unsafe' + category), which hf_classifier does not run; {SUPPORTED}"
    )


def detect_layout(reference: str, config: dict[str, Any] | None) -> str:
    """The layout of a model reference (``config`` is its ``config.json``, None for a curate model folder)."""
    if config is None:
        return "embedding_head"
    if "base_model" in config:
        return "nemo_curator"
    architectures = config.get("architectures") or []
    if any(str(a).endswith("ForSequenceClassification") for a in architectures):
        return "sequence_classification"
    if architectures:
        raise UnsupportedLayout(
            f"{reference!r} is a {', '.join(map(str, architectures))} checkpoint: no sequence-classification head "
            f"(loading it as one would score with a randomly initialised head); {SUPPORTED}"
        )
    if "model_type" in config:  # an older transformers config without architectures: its weights are checked later
        return "sequence_classification"
    raise UnsupportedLayout(
        f"{reference!r} has a config.json with keys {sorted(config)[:8]}: neither a transformers config (model_type) "
        f"nor NeMo Curator's layout (base_model, fc_dropout, id2label); {SUPPORTED}"
    )


def resolve_layout(reference: str, layout: Layout = "auto") -> tuple[str, dict[str, Any] | None]:
    """(layout, config.json or the curate model card) for ``reference``; ``layout`` other than auto forces it."""
    folder = Path(reference).expanduser()
    card = read_model_card(folder) if folder.is_dir() else None
    if card is not None:
        if card.get("kind") != "embedding_head":
            raise UnsupportedLayout(
                f"{reference!r} is a curate {card.get('kind')} model folder: score it with fasttext_classifier "
                f"(or safety), not hf_classifier"
            )
        if layout not in ("auto", "embedding_head"):
            raise UnsupportedLayout(f"{reference!r} is a `curate train-classifier --kind head` folder, not {layout}")
        return "embedding_head", card
    if layout == "embedding_head":
        raise UnsupportedLayout(f"{reference!r} has no curate_model.json: it is not a curate embedding-head folder")
    config = read_config(reference)
    return (detect_layout(reference, config) if layout == "auto" else layout), config


def ordered_labels(config: dict[str, Any]) -> list[str]:
    """Label names by output index: ``label2id`` sorted by id (as NeMo Curator reads them), else ``id2label``."""
    if config.get("label2id"):
        return [str(k) for k, _ in sorted(config["label2id"].items(), key=lambda kv: int(kv[1]))]
    if config.get("id2label"):
        return [str(v) for _, v in sorted(config["id2label"].items(), key=lambda kv: int(kv[0]))]
    raise UnsupportedLayout("a NeMo Curator model's config.json needs id2label or label2id (the head's labels)")


def deberta_v3_config(vocab_size: int, **shape: Any):
    """A ``DebertaV2Config`` with microsoft/deberta-v3-base's attention (relative positions only: no absolute
    position embeddings, 256 log-bucketed distances, content-to-position and position-to-content terms, layer-normed
    relative embeddings, shared keys) and the given shape (``hidden_size``, ``num_hidden_layers`` …): the backbone of
    NeMo Curator's classifiers, for building them offline (tests, bench/gpu_proof.py)."""
    from transformers import DebertaV2Config

    return DebertaV2Config(
        vocab_size=vocab_size,
        max_position_embeddings=512,
        relative_attention=True,
        position_buckets=256,
        max_relative_positions=-1,
        position_biased_input=False,
        pos_att_type=["p2c", "c2p"],
        norm_rel_ebd="layer_norm",
        share_att_key=True,
        pad_token_id=0,
        **shape,
    )


class NemoCuratorModel:
    """NeMo Curator's DeBERTa + ``fc`` head loaded without its class (and without huggingface_hub's mixin):
    ``logits(input_ids, attention_mask)`` -> the head's logits on the first token, ``labels`` in output order.

    The backbone is built from the base model's config alone (``base_model`` overrides ``config["base_model"]``:
    a local folder holding its ``config.json``, or a hub id) and every weight comes from ``model.safetensors``, so
    nothing but the configs and that file is read; a weights file that does not match the backbone is an error
    naming the first missing and unexpected tensors. Dropout is off (inference), so ``fc`` on the first token equals
    NeMo's ``fc`` over every token then ``[:, 0]``.
    """

    def __init__(self, reference: str, config: dict[str, Any], device: str, dtype: Any, base_model: str | None = None):
        import torch
        from transformers import AutoConfig, AutoModel

        self.labels = ordered_labels(config)
        base = base_model or config.get("base_model")
        if not base:
            raise UnsupportedLayout(
                f"{reference!r}: the nemo_curator layout needs base_model (in config.json or as the base_model "
                f"parameter): the backbone whose config gives the network's shape"
            )
        folder, base_path = Path(reference).expanduser(), Path(base).expanduser()
        if not base_path.is_dir() and folder.is_dir() and (folder / base).is_dir():
            base_path = folder / base  # a backbone config shipped inside the model folder
        try:
            backbone_config = AutoConfig.from_pretrained(str(base_path) if base_path.is_dir() else base)
        except (OSError, ValueError) as exc:
            raise OSError(
                f"{reference!r} (NeMo Curator layout) builds its backbone from base_model {base!r}, whose config.json "
                f"could not be read (only that file is needed: the weights come from the model's own "
                f"model.safetensors). Give the base_model parameter a local folder holding it, or make the hub "
                f"reachable. Cause: {exc}"
            ) from exc
        self.backbone_config = backbone_config
        torch.manual_seed(0)  # the random init is overwritten; seeded so a failed load is reproducible
        backbone = AutoModel.from_config(backbone_config)
        fc = torch.nn.Linear(backbone_config.hidden_size, len(self.labels))
        net = torch.nn.ModuleDict({"model": backbone, "fc": fc})
        state = load_weights(reference)
        expected = net.state_dict()
        # position_ids buffers were saved by older transformers versions and are rebuilt now: not weights
        state = {k: v for k, v in state.items() if k in expected or not k.endswith("position_ids")}
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        if missing or unexpected:
            raise UnsupportedLayout(
                f"{reference!r}: its weights do not fit NeMo Curator's layout on {base!r} "
                f"({len(missing)} missing, e.g. {missing[:3]}; {len(unexpected)} unexpected, e.g. {unexpected[:3]}); "
                f"{SUPPORTED}"
            )
        if tuple(state["fc.weight"].shape) != tuple(fc.weight.shape):
            raise UnsupportedLayout(
                f"{reference!r}: head fc has {state['fc.weight'].shape[0]} outputs but config.json names "
                f"{len(self.labels)} labels"
            )
        net.load_state_dict(state)
        self.net = net.to(device=device, dtype=dtype).eval()
        self.max_length = config.get("max_len")

    def logits(self, input_ids, attention_mask):
        hidden = self.net["model"](input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.net["fc"](hidden[:, 0, :])


def load_weights(reference: str) -> dict[str, Any]:
    """The tensors of the NeMo Curator layout's weights file (``model.safetensors``, else ``pytorch_model.bin``)."""
    for name in HEAD_WEIGHTS:
        path = hub_file(reference, name)
        if path is None:
            continue
        if name.endswith(".safetensors"):
            from safetensors.torch import load_file

            return load_file(str(path))
        import torch

        return torch.load(str(path), map_location="cpu", weights_only=True)
    raise UnsupportedLayout(f"{reference!r} (NeMo Curator layout) has none of the weights files {list(HEAD_WEIGHTS)}")

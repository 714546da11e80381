"""Where model files come from and where they run: local paths, URLs cached once, devices and dtypes.

A model reference in a recipe is a local file or folder, an ``http(s)://`` URL (downloaded once into the cache,
``$CURATE_CACHE`` or ``~/.cache/curate``), or — for Hugging Face models — a hub id that transformers resolves
through its own cache. Nothing here downloads unless the reference is a URL that is not cached yet.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from curate.cache import cache_dir, download

#: metadata file that ``curate train-classifier`` writes into every model folder it produces
MODEL_CARD = "curate_model.json"

Device = Literal["auto", "cpu", "cuda"]
DType = Literal["auto", "float32", "bfloat16", "float16"]


def is_url(reference: str) -> bool:
    return reference.startswith(("http://", "https://"))


def fetch(url: str) -> Path:
    """A local copy of ``url``, downloaded once into ``cache_dir("models")``."""
    name = Path(url.split("?", 1)[0]).name or "model"
    return download(url, cache_dir("models", f"{hashlib.sha1(url.encode()).hexdigest()[:16]}-{name}"), "model")


def resolve_file(reference: str, what: str = "model") -> Path:
    """A local path for a file/folder reference or URL; a clear error when a local path does not exist."""
    if is_url(reference):
        return fetch(reference)
    path = Path(reference).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{what} {reference!r} not found: give an existing local path or an http(s) URL")
    return path


def read_model_card(folder: Path) -> dict[str, Any] | None:
    """The ``curate_model.json`` of a folder written by ``curate train-classifier``, or None."""
    card = folder / MODEL_CARD
    if folder.is_dir() and card.exists():
        return json.loads(card.read_text())
    return None


def pick_device(device: Device) -> str:
    """``"cuda"`` when asked for (or ``"auto"``) and a GPU is visible, else ``"cpu"``; asking for cuda without one
    is an error rather than a silent 100x slowdown."""
    import torch

    if device == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise RuntimeError(
            "device: cuda was requested but torch sees no GPU (torch.cuda.is_available() is False); "
            "set device: auto or cpu, or give the step gpus: 1 so the executor places it on a GPU"
        )
    return "cpu"


def pick_dtype(dtype: DType, device: str) -> Any:
    """fp32 on CPU; on GPU bf16 where the card supports it, else fp16 (``"auto"``), or what the recipe names."""
    import torch

    if dtype == "auto":
        if device != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]

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

from curate.cache import cache_dir, download, download_problem, hub_problem, looks_like_path, missing_path
from curate.errors import Problem

#: metadata file that ``curate train-classifier`` writes into every model folder it produces
MODEL_CARD = "curate_model.json"

Device = Literal["auto", "cpu", "cuda"]
DType = Literal["auto", "float32", "bfloat16", "float16"]


def is_url(reference: str) -> bool:
    return reference.startswith(("http://", "https://"))


def cached_copy(url: str) -> Path:
    """Where :func:`fetch` keeps its copy of ``url``."""
    name = Path(url.split("?", 1)[0]).name or "model"
    return cache_dir("models", f"{hashlib.sha1(url.encode()).hexdigest()[:16]}-{name}")


def fetch(url: str) -> Path:
    """A local copy of ``url``, downloaded once into ``cache_dir("models")``."""
    return download(url, cached_copy(url), "model")


def reference_problems(field: str, reference: str, what: str = "model", hub_file: str | None = None) -> list[Problem]:
    """Why a model reference would not load in a run, found before any work (``Stage.check_files``): a URL neither
    cached nor reachable, a local path that does not exist, or (with ``hub_file``, for Hugging Face models) a Hub id
    whose ``hub_file`` is neither in the Hub cache nor reachable."""
    if is_url(reference):
        hint = "download it elsewhere and give its local path instead"
        return download_problem(field, reference, cached_copy(reference), what, hint)
    if Path(reference).expanduser().exists():
        return []
    if hub_file and not looks_like_path(reference):
        hint = "download the model elsewhere and give its local folder"
        return hub_problem(field, reference, hub_file, what, hint)
    kinds = "a local path, an http(s) URL or a Hugging Face Hub id" if hub_file else "a local path or an http(s) URL"
    return missing_path(field, reference, what, f"give {kinds}")


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

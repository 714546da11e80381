"""The download cache every step shares: ``$CURATE_CACHE`` (or ``$CURATE_CACHE_DIR``), else ``~/.cache/curate``;
and the one downloader that fills it (once per file, atomically, with an error a user can act on when offline)."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """``$CURATE_CACHE/<parts>`` (``$CURATE_CACHE_DIR`` is read too), else ``~/.cache/curate/<parts>``."""
    root = os.environ.get("CURATE_CACHE") or os.environ.get("CURATE_CACHE_DIR") or Path.home() / ".cache" / "curate"
    return Path(root).joinpath(*parts)


def download(url: str, dest: Path, what: str = "file", offline_hint: str = "") -> Path:
    """``url`` saved at ``dest`` once (a temporary name renamed into place, so a killed download never looks
    complete); offline or unreachable: a ``RuntimeError`` saying what to do instead."""
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out, length=1 << 20)
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError) as exc:
        Path(tmp).unlink(missing_ok=True)
        hint = offline_hint or f"download it elsewhere and pass its local path instead (or place it at {dest})"
        raise RuntimeError(f"could not download {what} {url} ({exc}). Offline? {hint}") from exc
    return dest

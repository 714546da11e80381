"""The ``rephrase`` step's reply cache: every successful generation, keyed by what produced it.

A shard whose rephrasing failed is redone as a whole by the next run (it has no ``_done`` marker), so without a
cache every document that *was* rephrased would be sent to the model again. The cache keeps each segment's raw
reply under ``sha256(settings, segment)``, where ``settings`` is everything that shapes a reply (backend, model,
prompt, decoding, endpoint …) but nothing that does not (concurrency, timeouts, retries): a redone shard asks the
model only for segments without a cached reply, and gets the same text for the others, so its output equals what
one uninterrupted run would have written.

Storage is one SQLite file (WAL mode, so the worker processes of one machine can share it) on local disk.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from curate.cache import cache_dir
from curate.stages.rephrase.backends import Generation

#: bump when the stored format or the meaning of a key changes
CACHE_FORMAT = 1
CACHE_FILE = "replies.sqlite"


def default_cache_dir() -> Path:
    """``$CURATE_CACHE/rephrase``, else ``~/.cache/curate/rephrase``."""
    return cache_dir("rephrase")


def model_identity(model: str) -> Any:
    """What identifies a model reference: for a local folder or file also the names, sizes and modification times
    of its files (a model retrained in place must not be answered from the old one's replies); else the name."""
    path = Path(model).expanduser()
    if path.is_file():
        info = path.stat()
        return [model, info.st_size, info.st_mtime_ns]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file())
        return [model, [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files]]
    return model


class ReplyCache:
    """Successful generations on local disk, shared by threads and processes; ``settings`` scopes every key."""

    def __init__(self, folder: str | Path, settings: dict[str, Any]):
        self.folder = Path(folder).expanduser()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / CACHE_FILE
        scope = json.dumps({"format": CACHE_FORMAT, **settings}, sort_keys=True, default=str)
        self._scope = hashlib.sha256(scope.encode("utf-8")).digest()
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=60.0, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key BLOB PRIMARY KEY, text TEXT NOT NULL, "
            "input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL)"
        )

    def key(self, segment: str) -> bytes:
        return hashlib.sha256(self._scope + segment.encode("utf-8")).digest()

    def get_many(self, keys: list[bytes]) -> dict[bytes, Generation]:
        """The cached replies among ``keys``."""
        found: dict[bytes, Generation] = {}
        with self._lock:
            for start in range(0, len(keys), 500):  # SQLite's limit on bound parameters
                chunk = keys[start : start + 500]
                rows = self._db.execute(
                    f"SELECT key, text, input_tokens, output_tokens FROM replies WHERE key IN "
                    f"({','.join('?' * len(chunk))})",
                    chunk,
                )
                found.update((k, Generation(text, n_in, n_out)) for k, text, n_in, n_out in rows)
        return found

    def put(self, key: bytes, generation: Generation) -> None:
        """Keep a successful reply (failures are never cached: they are what a rerun retries)."""
        if generation.text is None:
            return
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?)",
                (key, generation.text, generation.input_tokens, generation.output_tokens),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

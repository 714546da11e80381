"""Fingerprints: short stable hashes of a step's config and of what it read, for resume decisions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any


def fingerprint(*parts: Any) -> str:
    """A 16-hex-digit SHA-256 of the canonical JSON of ``parts`` (key order and whitespace do not matter)."""
    payload = _canonical(parts)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def fingerprinter(first: Any) -> Callable[[str], str]:
    """``fingerprint(first, s)`` for many strings ``s``, with ``first`` serialised once (a step's config hashed
    with 100,000 shards' fingerprints): the same canonical JSON, so the same fingerprints, ~10x faster."""
    prefix = ("[" + _canonical(first) + ",").encode()

    def fp(s: str) -> str:
        return hashlib.sha256(prefix + json.dumps(s).encode() + b"]").hexdigest()[:16]

    return fp


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)

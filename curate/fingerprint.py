"""Fingerprints: short stable hashes of a step's config and of what it read, for resume decisions."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def fingerprint(*parts: Any) -> str:
    """A 16-hex-digit SHA-256 of the canonical JSON of ``parts`` (key order and whitespace do not matter)."""
    payload = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]

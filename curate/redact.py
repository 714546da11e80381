"""Secrets never land in stats, logs or reports: values under secret-looking names and credentials inside URLs are
replaced by ``***`` wherever curate stores or prints a recipe or a step's configuration."""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
#: names whose values are secrets (``api_key``, ``hf_token``, ``password`` …); ``*_env`` / ``*_file`` name where a
#: secret is kept, which is not itself secret
_SECRET_NAME = re.compile(
    r"(?i)(api[_-]?key|token|secret|password|passwd|credential|authorization|access[_-]?key)"
    r"(?!.*_(env|file|path)$)"
)
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):([^/\s@]+)@")
_YAML_SECRET = re.compile(r"(?im)^([ \t]*-?[ \t]*[\"']?([\w.-]+)[\"']?[ \t]*:[ \t]*)(?![ \t]*$)(.+)$")
_INLINE_SECRET = re.compile(r"(?i)([{,]\s*[\"']?([\w.-]+)[\"']?\s*:\s*)([^,}\n]+)")


def redact(value: Any) -> Any:
    """``value`` (dicts, lists, strings) with secrets masked; the structure is kept."""
    if isinstance(value, dict):
        return {
            k: MASK if isinstance(k, str) and _is_secret_name(k) and v not in (None, "") else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    """Credentials in URLs (``https://user:pass@host`` → ``https://user:***@host``) and, in YAML or JSON-ish text,
    the values of secret-looking names."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    for pattern in (_YAML_SECRET, _INLINE_SECRET):
        text = pattern.sub(lambda m: m.group(1) + MASK if _is_secret_name(m.group(2)) else m.group(0), text)
    return text


def _is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))

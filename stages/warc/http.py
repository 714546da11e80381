"""The HTTP/1.x response head at the start of a WARC ``response`` (or ARC) block, parsed as tolerantly as warcio.

The grammar is RFC 9112 §4 (``status-line = HTTP-version SP status-code SP [ reason-phrase ]``) and §5 (field
lines, with the obsolete line folding of §5.2). Archives hold what servers and archiving tools actually wrote,
so beside the grammar we accept the quirks warcio (and so datatrove) accepts, each seen in real crawls:

* a doubled protocol token, ``HTTP/1.1 HTTP/1.1 200 OK`` (written by some archiving tools);
* a missing protocol token (``200 OK``), a missing reason phrase (``HTTP/1.1 200``), ``HTTP/2``, lower-case
  ``http/1.0``, leading blank lines or spaces before the status line;
* bare LF line ends, folded header lines (a line starting with SP/HT continues the previous field), stray spaces
  around the field name and the colon, lines without a colon (ignored, as warcio does).

What cannot be read as a status line at all is reported as such (``None``): the caller skips the record as
``bad_http_headers`` instead of passing the HTTP head to the extractor as if it were the page.
"""

from __future__ import annotations

import re

#: one or more protocol tokens (``HTTP/1.1``, ``HTTP/2``, ``http/1.0``), then the three-digit status code
#: (RFC 9110 §15: 100-599) and an optional reason phrase
_WITH_PROTOCOL = re.compile(rb"^(?:HTTP/\d+(?:\.\d+)?[ \t]+)+([1-5]\d\d)(?:[ \t].*)?$", re.IGNORECASE | re.DOTALL)
#: the protocol token missing altogether: ``200 OK`` (a reason phrase is required here, so that a payload that
#: merely starts with three digits is not taken for a status line)
_WITHOUT_PROTOCOL = re.compile(rb"^([1-5]\d\d)[ \t]+[A-Za-z][\x20-\x7e]*$")
#: a lone protocol token: ``HTTP/1.1`` with nothing after it
_PROTOCOL_ONLY = re.compile(rb"^HTTP/\d+(?:\.\d+)?$", re.IGNORECASE)

MAX_LEADING_BLANK_LINES = 2


def status_code(line: bytes) -> int | None:
    """The status code of an HTTP response status line, or None when the line is not one (see module doc)."""
    line = line.strip()
    match = _WITH_PROTOCOL.match(line) or _WITHOUT_PROTOCOL.match(line)
    return int(match.group(1)) if match else None


def is_protocol_only(line: bytes) -> bool:
    """``HTTP/1.1`` alone on its line: a status line without code; the block is still an HTTP message."""
    return _PROTOCOL_ONLY.match(line.strip()) is not None


def add_field(headers: dict[str, str], line: bytes, last: str | None) -> str | None:
    """Add one header line to ``headers`` (lower-cased names; the first occurrence of a repeated field wins, as
    browsers take the first ``Content-Type``); returns the name that a following folded line continues."""
    if line[:1] in (b" ", b"\t"):
        if last is not None:  # RFC 9112 §5.2 obs-fold: continue the previous field
            headers[last] += " " + line.strip().decode("latin-1")
            return last
        line = line.lstrip()  # a stray leading space on the first field line
    name, sep, value = line.partition(b":")
    if not sep or not name.strip():
        return last  # not a field line (warcio ignores these too)
    key = name.strip().decode("latin-1").lower()
    headers.setdefault(key, value.strip().decode("latin-1"))
    return key

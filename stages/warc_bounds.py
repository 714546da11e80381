"""Bounds on what one page may cost to extract that do not depend on machine speed: element count and nesting
depth of the HTML, checked before extraction so that the same page is skipped (or kept) on every machine.

The time limit stays as a safety net behind them. Element count and depth come from one pass over the tags (start
tags counted; depth = open non-void elements, end tags closing one, per the WHATWG list of void elements); an
unclosed ``<p>`` or ``<li>`` counts as still open, so the depth is an upper bound of the real DOM depth. The pass
only runs when the page has more ``<`` than ``max_depth`` (fewer tags cannot nest deeper).

Defaults (``warc_extract`` params ``max_elements``/``max_depth``), from the 1,120 real pages of
``pages_with_gold/dev_pages.warc.gz``: elements median 712, 99th percentile 3,145, max 10,126; depth (upper bound)
median 19, 99th percentile 164, max 1,534. The bounds (50,000 elements, depth 5,000) sit 3-5x above the largest
real page and far below pathological ones (100k nested ``<div>`` in 1.1 MB).
"""

from __future__ import annotations

import re

#: WHATWG HTML §13.1.2 void elements (no end tag, never open), plus obsolete ones parsers treat alike
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                  "wbr", "param", "keygen", "frame", "basefont", "bgsound", "isindex"})
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")


def shape(html: str) -> tuple[int, int]:
    """``(start tags, depth upper bound)`` of an HTML string."""
    elements = depth = deepest = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.groups()
        void = name.lower() in VOID
        if closing:
            if not void and depth:
                depth -= 1
            continue
        elements += 1
        if not void and not self_closing:
            depth += 1
            deepest = max(deepest, depth)
    return elements, deepest


def over_bounds(html: str, max_elements: int, max_depth: int) -> str | None:
    """``"too_many_elements"``/``"too_deep"`` when the page exceeds a bound, else None (cheap for small pages)."""
    if html.count("<") <= min(max_elements, max_depth):
        return None
    elements, depth = shape(html)
    if elements > max_elements:
        return "too_many_elements"
    if depth > max_depth:
        return "too_deep"
    return None

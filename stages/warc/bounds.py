"""Bounds on what one page may cost to extract that do not depend on machine speed: element count, nesting depth and
total depth of the HTML, checked before extraction so that the same page is skipped (or kept) on every machine.

The time limit stays as a safety net behind them. All three come from one pass over the tags (start tags counted;
depth = open non-void elements, end tags closing one, per the WHATWG list of void elements; comments and the raw
text of ``<script>``/``<style>``/``<textarea>``/``<title>`` skipped, as a parser does); an unclosed ``<p>`` or
``<li>`` counts as still open, so the depth is an upper bound of the real DOM depth. *Total depth* is the sum of
every element's depth (its number of ancestors): both extractors' time grows with it, not with element count or
depth alone — measured by ``bench/extract_bounds.py``, 49,000 ``<p>`` under 200 nested ``<div>`` (total depth
9.8 M) take trafilatura 12 CPU-s, and 45,000 under 5,000 took resiliparse 87 CPU-s, while 50,000 flat ``<p>``
take 3.1 s and 0.13 s. The pass only runs when the page has enough start tags (``<`` not followed by ``/``) to
exceed a bound.

Defaults (``warc_extract`` params ``max_elements``/``max_depth``/``max_total_depth``), from every HTML page of the
shared WARCs (1,549 pages, 1,120 of them in ``pages_with_gold/dev_pages.warc.gz``; ``bench/extract_bounds.py``):
elements median 557, 99th percentile 6,019, max 35,271 (an archive.org forum page, also the slowest real page:
1.3-2.1 trafilatura CPU-s); depth (upper bound) median 16, 99th percentile 38, max 229; total depth median 4,782,
99th percentile 98,028, max 289,062. The bounds (50,000 elements, depth 1,000, total depth 2,500,000) sit above
every real page (1.4x, 4x, 8.6x), and the slowest page built within them takes 6.2 CPU-s (48,051 ``<p>`` under
50 nested ``<div>``): ``timeout_s`` (60 CPU-s) sits ~10x above that and ~30x above the slowest real page.
"""

from __future__ import annotations

import math
import re

from curate.stages.warc.native import module as native_module

#: WHATWG HTML §13.1.2 void elements (no end tag, never open), plus obsolete ones parsers treat alike
VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
        "param",
        "keygen",
        "frame",
        "basefont",
        "bgsound",
        "isindex",
    }
)
#: a comment, a raw-text element with its content (WHATWG §13.1.2: script, style; escapable: textarea, title),
#: or a tag (a ``/`` before its ``>`` marks it self-closing). Unrolled loops and greedy classes, no lazy ``.*?``:
#: the pass takes ~1.8 CPU-s over the 248 dev pages with enough tags to need it, ~4 % of extracting the WARC
_TOKEN = re.compile(
    r"<!--[^-]*(?:-(?!->)[^-]*)*(?:-->)?"
    r"|<(script|style|textarea|title)\b[^>]*>[^<]*(?:<(?!/\1\s*>)[^<]*)*(?:</\1\s*>)?"
    r"|<(/?)([a-zA-Z][a-zA-Z0-9-]*)(?:[^>]*[^/>])?(/?)>",
    re.I,
)


def shape(html: str, native: bool = True) -> tuple[int, int, int]:
    """``(start tags, depth upper bound, total depth)`` of an HTML string (total depth: sum of element depths);
    ``native``: read by the compiled module's ``html_shape`` where it is built (the same tokens as the regex below,
    ~10x faster; ``tests/test_warc_fidelity.py`` compares them on fuzzed markup and every dev page)."""
    if native and native_module is not None:
        return native_module.html_shape(html)  # type: ignore[no-any-return]
    elements = depth = deepest = total = 0
    for raw, closing, name, self_closing in _TOKEN.findall(html):
        if raw:  # a raw-text element: one element, its content is no markup
            elements += 1
            total += depth
        elif not name:  # a comment
            continue
        elif closing:
            if depth and name.lower() not in VOID:
                depth -= 1
        else:
            elements += 1
            total += depth
            if not self_closing and name.lower() not in VOID:
                depth += 1
                if depth > deepest:
                    deepest = depth
    return elements, deepest, total


def over_bounds(html: str, max_elements: int, max_depth: int, max_total_depth: int, native: bool = True) -> str | None:
    """``"too_many_elements"``/``"too_deep"``/``"too_nested"`` when the page exceeds a bound, else None (cheap for
    small pages: ``n`` start tags cannot nest deeper than ``n`` nor sum to more than ``n²/2``, and every start tag is
    a ``<`` not followed by ``/``, so ``n`` ≤ ``count("<") - count("</")``: this skips the pass for 769 of the 1,120
    dev pages, ``count("<")`` alone for 367, which then need no second count; with the compiled module both counts
    come from one pass, ``_native.tag_marks``)."""
    limit = min(max_elements, max_depth, math.isqrt(2 * max_total_depth))
    if native and native_module is not None:
        tags, closing = native_module.tag_marks(html)  # both counts in one pass
        if tags <= limit or tags - closing <= limit:
            return None
    else:
        tags = html.count("<")
        if tags <= limit or tags - html.count("</") <= limit:
            return None
    elements, depth, total = shape(html, native)
    if elements > max_elements:
        return "too_many_elements"
    if depth > max_depth:
        return "too_deep"
    if total > max_total_depth:
        return "too_nested"
    return None

"""``warc_extract(domain: true)``: one page's structured extraction as documents with its page-signal columns.

The structured extractor (:mod:`curate.stages.domain.extract`) returns the page's text(s) — one, or one per
answer with ``qa_format: pairs`` — and the structural signals it read off the HTML. They become documents here:
the record's metadata, the text, and the signals as flat typed columns (RedStone's "tag" move:
:mod:`curate.stages.domain.detect` turns them into code / math / QA tags).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

SIGNAL_SCHEMA: list[tuple[str, pa.DataType]] = [
    ("code_blocks", pa.int32()),
    ("code_program_blocks", pa.int32()),
    ("code_other_blocks", pa.int32()),
    ("math_elements", pa.int32()),
    ("math_text_formulas", pa.int32()),
    ("tex_renderer", pa.bool_()),
    ("qa_source", pa.string()),
    ("qa_answers", pa.int32()),
]
SIGNAL_COLUMNS = tuple(name for name, _ in SIGNAL_SCHEMA)


def domain_documents(
    base: dict[str, Any], result: dict[str, Any], count: Callable[[str], None]
) -> Iterator[dict[str, Any]]:
    """Documents for one page: ``base`` (the record's columns) with each text and the page's signals."""
    signals = result.get("signals") or {}
    texts = [t for t in result.get("texts") or [] if t and t.strip()]
    if not texts:
        count("extract_empty")
        return
    for i, text in enumerate(texts, 1):
        doc = dict(base, text=text, **{c: signals.get(c) for c in SIGNAL_COLUMNS})
        if len(texts) > 1:
            doc["id"] = f"{base['id']}#qa{i}"
        count("documents")
        yield doc

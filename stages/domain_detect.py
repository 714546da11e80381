"""Page detectors: code / math / QA tags from the structural signals extraction read off the HTML.

RedStone (Chang et al. 2024) recalls domain pages in two moves: cheap tags first, then a fastText classifier
trained on seed pages (``fasttext_classifier`` with a model from ``curate train-classifier``). This is the first
move. The rules are the markup's: a page is *code* when it has a code block that is not a citation (BibTeX) nor
hinted as non-program output (``text``, ``output``) — tagging is for recall; the classifier and the code filters
judge, and ``code_program_blocks`` (:func:`~curate.stages.domain_signals.code_likeness` ≥ 0.5) says how
program-like the blocks are; *math* when it has formula markup (MathJax input, KaTeX, MathML, formula images) or TeX
delimiters in its text on a
page that loads a TeX renderer (MathJax / KaTeX: without one, ``$`` is a dollar sign); *QA* when it declares
schema.org ``QAPage``/``Question`` (JSON-LD or microdata) or carries StackExchange's question markup. A forum thread
read with ``forums: true`` is tagged ``forum``, not QA. Documents without HTML signals (WET input, other sources)
are judged from their text alone (fenced or code-like blocks, TeX formulas, the QA thread format).
"""

from __future__ import annotations

from typing import Any

QA_SOURCES = frozenset({"json-ld", "microdata", "stackexchange", "declared"})


def detect(signals: dict[str, Any]) -> dict[str, bool]:
    """``{"code", "math", "qa", "forum"}`` booleans from extraction signals (or :func:`text_signals`)."""
    renderer = bool(signals.get("tex_renderer"))
    text_formulas = int(signals.get("math_text_formulas") or 0)
    math = int(signals.get("math_elements") or 0) > 0 or (renderer and text_formulas > 0) or \
        ("tex_renderer" not in signals and text_formulas >= 2)
    source = signals.get("qa_source") or ""
    qa = source in QA_SOURCES or bool(signals.get("qa_thread"))
    code = int(signals.get("code_program_blocks") or 0) + int(signals.get("code_other_blocks") or 0) > 0
    return {"code": code, "math": math, "qa": qa,
            "forum": source == "forum"}

"""Page detectors: code / math / QA tags from the structural signals extraction read off the HTML.

RedStone (Chang et al. 2024) recalls domain pages in two moves: cheap tags first, then a fastText classifier trained on
seed pages (``domain_seeds`` labels them, ``curate train-classifier`` trains, ``fasttext_classifier`` scores;
``classifier_scores`` here joins the score to the tags). The rules are the markup's: a page is *code* when it has a code
block that is not a citation (BibTeX) nor hinted as non-program output (``text``, ``output``) — tagging is for recall;
the classifier and the code filters judge, and ``code_program_blocks``
(:func:`~curate.stages.domain.signals.code_likeness` ≥ 0.5) says how program-like the blocks are; *math* when it has
formula markup (MathJax input, KaTeX, MathML, formula images) or TeX delimiters in its text on a page that loads a TeX
renderer (MathJax / KaTeX: without one, ``$`` is a dollar sign); *QA* when it declares schema.org
``QAPage``/``Question`` (JSON-LD or microdata) or carries StackExchange's question markup. A forum thread read with
``forums: true`` is tagged ``forum``, not QA. Documents without HTML signals (WET input, other sources) are judged from
their text alone (fenced or code-like blocks, TeX formulas, the QA thread format).
"""

from __future__ import annotations

from typing import Any, Literal

import pyarrow as pa
from pydantic import Field

from curate.registry import register
from curate.stage import Params, Stage, StepOutput
from curate.stages.domain.signals import text_signals
from curate.stages.warc.domain import SIGNAL_COLUMNS
from curate.table import set_column

QA_SOURCES = frozenset({"json-ld", "microdata", "stackexchange", "declared"})


def detect(signals: dict[str, Any]) -> dict[str, bool]:
    """``{"code", "math", "qa", "forum"}`` booleans from extraction signals (or :func:`text_signals`)."""
    renderer = bool(signals.get("tex_renderer"))
    text_formulas = int(signals.get("math_text_formulas") or 0)
    math = (
        int(signals.get("math_elements") or 0) > 0
        or (renderer and text_formulas > 0)
        or ("tex_renderer" not in signals and text_formulas >= 2)
    )
    source = signals.get("qa_source") or ""
    qa = source in QA_SOURCES or bool(signals.get("qa_thread"))
    code = int(signals.get("code_program_blocks") or 0) + int(signals.get("code_other_blocks") or 0) > 0
    return {"code": code, "math": math, "qa": qa, "forum": source.startswith("forum")}


_KINDS = ("code", "math", "qa", "forum")


def page_signals(table: pa.Table) -> list[dict[str, Any]]:
    """Each document's signals: the page-signal columns ``warc_extract(domain: true)`` wrote, or, where they are
    missing, :func:`~curate.stages.domain.signals.text_signals` of its text."""
    if all(c in table.column_names for c in SIGNAL_COLUMNS):
        return table.select(list(SIGNAL_COLUMNS)).to_pylist()
    return [text_signals(t or "") for t in table.column("text").to_pylist()]


@register
class DomainDetect(Stage):
    """Tag each document with code / math / QA / forum signals (RedStone's first recall move) and, with
    ``classifier_scores``, a domain classifier's verdict (the second); optionally keep only documents with some tags.

    Reads the page-signal columns ``warc_extract(domain: true)`` writes (structure seen in the HTML); documents
    without them are judged from their text (:func:`~curate.stages.domain.signals.text_signals`). Adds boolean
    columns ``is_code``, ``is_math``, ``is_qa``, ``is_forum`` and one ``domain`` per document for ``mix`` (``qa``,
    else ``math``, else ``code``, else ``web``: the rarer, more specific corpus wins). ``classifier_scores`` maps a
    kind to a score column written by an earlier ``fasttext_classifier`` (a model from ``curate train-classifier``
    on seed pages, docs/redstone.md): a document whose score is at least ``min_score`` gets the tag even when its
    markup showed nothing (RedStone recalls with a classifier what tags miss), and ``tagged_by_classifier`` counts
    the documents only the classifier tagged. With ``keep``, a document with none of the listed tags is removed
    under ``domain_not_<kinds>``.
    """

    name = "domain_detect"
    kind = "map"
    requires = ("text",)
    adds = (*(f"is_{k}" for k in _KINDS), "domain")

    class Params(Params):
        keep: list[Literal["code", "math", "qa", "forum"]] = Field(
            default_factory=list, description="keep only documents tagged with one of these (empty: tag only)"
        )
        classifier_scores: dict[Literal["code", "math", "qa", "forum"], str] = Field(
            default_factory=dict,
            description="kind -> score column of a domain classifier run before this step (e.g. {code: code_score})",
        )
        min_score: float = Field(
            0.5, ge=0.0, le=1.0, description="classifier score at or above which a document gets the kind's tag"
        )

    def input_columns(self) -> set[str]:
        return {"text", *self.params.classifier_scores.values()}

    def process(self, table: pa.Table) -> StepOutput:
        tags = [detect(signals) for signals in page_signals(table)]
        by_classifier = 0
        for kind, column in self.params.classifier_scores.items():
            for t, score in zip(tags, table.column(column).to_pylist(), strict=True):
                if not t[kind] and score is not None and score >= self.params.min_score:
                    t[kind] = True
                    by_classifier += 1
        for kind in _KINDS:
            table = set_column(table, f"is_{kind}", pa.array([t[kind] for t in tags], pa.bool_()))
        domains = pa.array([next((k for k in ("qa", "math", "code") if t[k]), "web") for t in tags], pa.string())
        table = set_column(table, "domain", domains)
        keep = self.params.keep
        reason = "domain_not_" + "_".join(keep)
        reasons = [None if not keep or any(t[k] for k in keep) else reason for t in tags]
        counters = {"tagged_by_classifier": by_classifier} if self.params.classifier_scores else None
        return StepOutput.split(table, reasons, counters)

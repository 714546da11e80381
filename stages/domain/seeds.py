"""Seed labels for RedStone-style domain classifiers: strong structural positives vs pages without the kind.

RedStone (Chang et al. 2024) recalls domain pages with fastText classifiers trained on seed data: positives known to
be of the domain, negatives drawn at random from general web pages. Here the seeds come from the page's own markup,
so no list of sites is needed: ``domain_seeds`` labels each document, per kind, ``positive`` when its structural
signals for the kind are strong (not merely present), ``negative`` when its markup shows nothing of the kind (no
tag for it, not even a weak one: a page of the crawl that is not of the kind, as RedStone's random web negatives
mostly are; a hashed share ``negative_rate`` of them, so negatives are a random draw and the classes can be kept
near balance), and leaves it unlabelled (null) otherwise: a page tagged weakly teaches the classifier nothing
certain. Pages of the other domains are negatives too — a code classifier must learn to tell code pages from math
and QA pages, not only from news. ``curate train-classifier`` then trains on the label column (rows without a label
are dropped with ``--negative negative``).

The step also writes ``seed_text``: the text without the marks structured extraction adds (code fences and their
language hints, the thread format's ``Question:`` / ``Answer (…):`` heads). Train on it (``--text-column
seed_text``): the classifier is there to recall pages whose markup showed nothing, and their text has no such marks,
so a classifier that learnt the marks (every strong code positive has a fence) would miss exactly those pages.

Strong, per kind (round numbers from what the markup guarantees, not fitted):

* code: at least ``min_code_blocks`` (1) program-like code blocks
  (:func:`~curate.stages.domain.signals.code_likeness` ≥ 0.5 or a language hint);
* math: at least ``min_formulas`` (3) formulas from formula markup, or from TeX in the text of a page that loads a
  TeX renderer (a page with one formula is often a page that happens to quote one);
* qa: a thread read from schema.org QAPage / Question markup or StackExchange's, with at least one answer;
* forum: a forum thread (``forums: true``) with at least one reply.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field

from curate.classifiers.selection import hash_uniform
from curate.registry import register
from curate.stage import Params, Stage, StepOutput
from curate.stages.domain.detect import QA_SOURCES, detect, page_signals

Kind = Literal["code", "math", "qa", "forum"]
_MARKS = re.compile(r"(?m)^(?:`{3,}[^\n`]*$|Question: |Answer(?: \([^)\n]*\))?:$)")


def unmarked(text: str) -> str:
    """``text`` without code fences and thread heads (the marks structured extraction adds; see the module
    docstring)."""
    return _MARKS.sub("", text)


def strong(kind: str, signals: dict[str, Any], min_code_blocks: int = 1, min_formulas: int = 3) -> bool:
    """The page's markup leaves no doubt that it is of ``kind`` (see the module docstring)."""
    if kind == "code":
        return int(signals.get("code_program_blocks") or 0) >= min_code_blocks
    if kind == "math":
        text_formulas = int(signals.get("math_text_formulas") or 0) if signals.get("tex_renderer") else 0
        return int(signals.get("math_elements") or 0) + text_formulas >= min_formulas
    source = signals.get("qa_source") or ""
    answered = int(signals.get("qa_answers") or 0) >= 1
    if kind == "qa":
        return source in QA_SOURCES - {"declared"} and answered
    return source.startswith("forum") and answered


@register
class DomainSeeds(Stage):
    """Label seed documents for a domain classifier: ``seed_<kind>`` is ``positive`` (strong structural signals),
    ``negative`` (a random page whose markup shows nothing of the kind) or null (unsure), per kind in ``kinds``.

    Run it after ``warc_extract(domain: true)`` (recipes/redstone-seeds.yaml), then train with ``curate
    train-classifier <output>/*.parquet --text-column seed_text --label-column seed_code --positive positive
    --negative negative``; ``seed_text`` is the text without the marks extraction adds (module docstring).
    Thresholds and their source: module docstring of :mod:`curate.stages.domain.seeds`.
    """

    name = "domain_seeds"
    kind = "map"
    requires = ("text",)
    adds = ("seed_<kind>", "seed_text")

    class Params(Params):
        kinds: list[Kind] = Field(
            default_factory=lambda: ["code", "math", "qa"], description="kinds to label: one seed_<kind> column each"
        )
        negative_rate: float = Field(
            1.0,
            gt=0.0,
            le=1.0,
            description="share of the pages whose markup shows nothing of a kind labelled negative for it (hashed)",
        )
        min_code_blocks: int = Field(1, ge=1, description="code positives: at least this many program-like blocks")
        min_formulas: int = Field(3, ge=1, description="math positives: at least this many formulas from markup")
        seed: int = Field(0, description="seed of the negative draw (hashed with the document id)")

    def output_columns(self) -> set[str]:
        return {"seed_text", *(f"seed_{k}" for k in self.params.kinds)}

    def process(self, table: pa.Table) -> StepOutput:
        p = self.params
        signals = page_signals(table)
        ids = table.column("id").to_pylist() if "id" in table.column_names else [str(i) for i in range(len(signals))]
        drawn = hash_uniform([str(i) for i in ids], p.seed) < p.negative_rate
        for kind in p.kinds:
            labels = []
            for s, negative_drawn in zip(signals, drawn, strict=True):
                tags = detect(s)
                if strong(kind, s, p.min_code_blocks, p.min_formulas):
                    labels.append("positive")
                elif not tags[kind] and negative_drawn:
                    labels.append("negative")
                else:
                    labels.append(None)
            name = f"seed_{kind}"
            if name in table.column_names:
                table = table.drop_columns([name])
            table = table.append_column(name, pa.array(labels, pa.string()))
        texts = pa.array([unmarked(t or "") for t in table.column("text").to_pylist()], pa.string())
        if "seed_text" in table.column_names:
            table = table.drop_columns(["seed_text"])
        return StepOutput.split(table.append_column("seed_text", texts), [None] * table.num_rows)

"""Domain quality filters: code-aware and math-aware rules for RedStone-style code and math corpora.

General web heuristics judge code and math pages by prose rules (Gopher's alphabetic-word ratio drops a page of
code as it should for FineWeb); these judge them by their own. ``code_quality`` applies The Stack / StarCoder's file
filters to the fenced code blocks of a document — average line length ≤ 100, longest line ≤ 1,000, alphanumeric
share ≥ 0.25 (Kocetkov et al. 2022; Li et al. 2023) — and RedStone-Code's requirement that code comes with
explanation: a share of the text in code blocks between ``min_code_share`` and ``max_code_share`` and some prose
words. ``math_quality`` asks for formulas (``$…$``/``$$…$$`` as extraction writes them), balanced ``$``
delimiters outside code (an odd count means a formula was cut), prose around the formulas, and a bounded formula
share (a page that is a table of formulas with no words explains nothing).
"""

from __future__ import annotations

import re

import pyarrow as pa
from pydantic import Field, model_validator

from curate.registry import register
from curate.stage import Params, Ratio, Stage, StepOutput

_FENCE = re.compile(r"(?ms)^(`{3,})[^\n`]*\n(.*?)^\1$")
_FORMULA = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$([^$]+?)(?<!\\)\$", re.S)
_WORD = re.compile(r"[^\W\d_]{2,}")


def split_code(text: str) -> tuple[list[str], str]:
    """The fenced code blocks of a text and the text without them."""
    blocks = [m.group(2) for m in _FENCE.finditer(text)]
    return blocks, _FENCE.sub(" ", text)


class DomainJudge(Stage):
    """A document-by-document quality judge for one domain's documents: :meth:`check` gives a removal reason or
    None; with ``only_domain`` set, documents whose ``domain`` column (from ``domain_detect``) is another value
    pass unjudged."""

    kind = "map"
    requires = ("text",)

    class Params(Params):
        only_domain: str | None = Field(
            None,
            description="judge only documents whose `domain` column (from domain_detect) is this value; "
            "the others pass",
        )

    def check(self, text: str) -> str | None:
        raise NotImplementedError

    def input_columns(self) -> set[str]:
        return {"text", "domain"} if self.params.only_domain else {"text"}

    def process(self, table: pa.Table) -> StepOutput:
        texts = table.column("text").to_pylist()
        only = self.params.only_domain
        domains = table.column("domain").to_pylist() if only else [None] * len(texts)
        return StepOutput.split(
            table, [self.check(t or "") if not only or d == only else None for t, d in zip(texts, domains, strict=True)]
        )


@register
class CodeQuality(DomainJudge):
    """Code-aware quality rules (The Stack / StarCoder file filters on the code blocks, RedStone-Code's code with
    explanation); removal reasons ``code_<rule>``."""

    name = "code_quality"

    class Params(DomainJudge.Params):
        min_code_blocks: int = Field(1, ge=0, description="fewer fenced code blocks: code_no_blocks")
        max_avg_line_length: float | None = Field(
            100, ge=0, description="mean code line length above this (StarCoder: 100): code_avg_line_length"
        )
        max_line_length: int | None = Field(
            1000, ge=0, description="longest code line above this (StarCoder: 1000): code_max_line_length"
        )
        min_alnum_fraction: Ratio | None = Field(
            0.25, description="alphanumeric share of code characters below this (StarCoder: 0.25): code_alnum_fraction"
        )
        min_code_share: Ratio | None = Field(
            0.05, description="share of characters in code blocks below this: code_share_low"
        )
        max_code_share: float | None = Field(
            0.95, ge=0, description="share above this (code with no explanation): code_share_high"
        )
        min_prose_words: int | None = Field(20, ge=0, description="fewer words outside code blocks: code_no_prose")

        @model_validator(mode="after")
        def _ordered(self) -> CodeQuality.Params:
            self.check_order(("min_code_share", "max_code_share"))
            return self

    def check(self, text: str) -> str | None:
        p = self.params
        blocks, prose = split_code(text)
        if len(blocks) < p.min_code_blocks:
            return "code_no_blocks"
        code = "\n".join(blocks)
        lines = [line for line in code.split("\n") if line.strip()] or [""]
        if p.max_avg_line_length is not None and sum(map(len, lines)) / len(lines) > p.max_avg_line_length:
            return "code_avg_line_length"
        if p.max_line_length is not None and max(map(len, lines)) > p.max_line_length:
            return "code_max_line_length"
        chars = [c for c in code if not c.isspace()]
        if (
            p.min_alnum_fraction is not None
            and chars
            and sum(c.isalnum() for c in chars) / len(chars) < p.min_alnum_fraction
        ):
            return "code_alnum_fraction"
        share = len(code) / max(1, len(text))
        if p.min_code_share is not None and share < p.min_code_share:
            return "code_share_low"
        if p.max_code_share is not None and share > p.max_code_share:
            return "code_share_high"
        if p.min_prose_words is not None and len(_WORD.findall(prose)) < p.min_prose_words:
            return "code_no_prose"
        return None


@register
class MathQuality(DomainJudge):
    """Math-aware quality rules (formulas present and well delimited, prose around them); reasons ``math_<rule>``."""

    name = "math_quality"

    class Params(DomainJudge.Params):
        min_formulas: int = Field(1, ge=0, description="fewer $…$ / $$…$$ formulas: math_no_formulas")
        balanced_dollars: bool = Field(
            True, description="an odd number of unescaped $ outside code blocks (a cut formula): math_unbalanced"
        )
        max_formula_share: float | None = Field(
            0.8, ge=0, description="share of characters inside formulas above this: math_formula_share_high"
        )
        min_prose_words: int | None = Field(
            20, ge=0, description="fewer words outside formulas and code: math_no_prose"
        )

    def check(self, text: str) -> str | None:
        p = self.params
        _, outside_code = split_code(text)
        formulas = [m.group(0) for m in _FORMULA.finditer(outside_code)]
        if len(formulas) < p.min_formulas:
            return "math_no_formulas"
        if p.balanced_dollars and len(re.findall(r"(?<!\\)\$", outside_code)) % 2:
            return "math_unbalanced"
        inside = sum(map(len, formulas))
        if p.max_formula_share is not None and inside / max(1, len(outside_code)) > p.max_formula_share:
            return "math_formula_share_high"
        prose = _FORMULA.sub(" ", outside_code)
        if p.min_prose_words is not None and len(_WORD.findall(prose)) < p.min_prose_words:
            return "math_no_prose"
        return None

"""FineWeb's own quality filter (Penedo et al. 2024, "The FineWeb Datasets", section 3.3.4), as datatrove 0.10.1's
``FineWebQualityFilter`` implements it."""

from __future__ import annotations

from pydantic import Field

from curate.registry import register
from curate.stages.filters.base import HeuristicFilter, LanguageParams
from curate.stages.filters.features import TextFeatures
from curate.stages.filters.gopher import duplicates
from curate.stages.filters.words import terminal_punctuation


@register
class FineWebQuality(HeuristicFilter):
    """FineWeb's line heuristics: enough lines ending in terminal punctuation, not too many short lines, few
    characters in duplicated lines, not too many newlines per word.

    Defaults are FineWeb's (paper section 3.3.4 and datatrove's FineWebQualityFilter: line_punct_thr 0.12,
    short_line_thr 0.67 for lines <= 30 characters, char_duplicates_ratio 0.01, new_line_ratio 0.3; stop characters
    are datatrove's TERMINAL_PUNCTUATION). Reasons: empty, line_punct_ratio, short_line_ratio, char_dup_ratio,
    list_ratio (datatrove's names).
    """

    name = "fineweb_quality"
    version = 1

    class Params(LanguageParams):
        line_punct_thr: float = Field(
            0.12,
            ge=-1,
            le=1,
            description="drop when the share of lines ending in a stop char is below (-1: off, as in FineWeb2's table)",
        )
        line_punct_exclude_zero: bool = Field(False, description="keep documents where no line ends in a stop char")
        stop_chars: list[str] | None = Field(
            None, description="line-ending characters (default: datatrove's TERMINAL_PUNCTUATION, all scripts)"
        )
        short_line_thr: float = Field(0.67, ge=0, description="drop when the share of short lines is above this")
        short_line_length: int = Field(30, ge=0, description="a line this many characters or fewer is short")
        char_duplicates_ratio: float = Field(
            0.01, ge=0, description="characters in duplicated lines / all, above: drop"
        )
        new_line_ratio: float = Field(0.3, ge=0, description="newlines per word above this: drop (list-like pages)")

    def check(self, f: TextFeatures, p: Params) -> str | None:
        text = f.text
        lines = [line for line in text.split("\n") if line.strip() != ""]
        if not lines:
            return "empty"
        stop_chars = tuple(p.stop_chars) if p.stop_chars is not None else terminal_punctuation()
        ratio = sum(1 for line in lines if line.endswith(stop_chars)) / len(lines)
        if ratio < p.line_punct_thr and not (ratio == 0 and p.line_punct_exclude_zero):
            return "line_punct_ratio"
        ratio = sum(1 for line in lines if len(line) <= p.short_line_length) / len(lines)
        if ratio > p.short_line_thr:
            return "short_line_ratio"
        ratio = duplicates(lines)[1] / (len(text) - text.count("\n"))
        if ratio > p.char_duplicates_ratio:
            return "char_dup_ratio"
        n_words = f.n_words
        if text.count("\n") / (n_words or 1) > p.new_line_ratio:
            return "list_ratio"
        return None

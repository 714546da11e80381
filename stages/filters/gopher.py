"""Gopher quality and repetition filters (Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights
from Training Gopher", appendix A, table A1), as datatrove 0.10.1 implements them (``GopherQualityFilter``,
``GopherRepetitionFilter``): same rules, order, thresholds and reason names, computed on shared word ids.
"""

from __future__ import annotations

import re

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveInt, model_validator

from curate.registry import register
from curate.stage import Ratio
from curate.stages.filters.base import HeuristicFilter, LanguageParams
from curate.stages.filters.features import HAS_ALPHA, NON_SYMBOL, TextFeatures

STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")


@register
class GopherQuality(HeuristicFilter):
    """Gopher quality rules: word count, mean word length, symbol/word ratios, bullet and ellipsis lines, words with
    letters, stop words.

    Defaults are Gopher's (table A1 / section A.1.1: 50-100,000 words, mean word length 3-10, '#' and '...' to word
    ratio <= 0.1, <= 90% bullet lines, <= 30% lines ending in an ellipsis, >= 80% of words with a letter, >= 2 of
    the stop words) with datatrove's counting (words from its spaCy word splitting, counted without pure-punctuation
    words). Reasons: gopher_short_doc, gopher_long_doc, gopher_below_avg_threshold, gopher_above_avg_threshold,
    gopher_too_many_hashes, gopher_too_many_ellipsis, gopher_too_many_bullets, gopher_too_many_end_ellipsis,
    gopher_below_alpha_threshold, gopher_enough_stop_words (datatrove's names). A falsy threshold disables a rule.
    """

    name = "gopher_quality"
    version = 1

    class Params(LanguageParams):
        min_doc_words: int | None = Field(50, ge=0, description="fewer non-symbol words than this: gopher_short_doc")
        max_doc_words: int | None = Field(100_000, ge=0, description="more non-symbol words than this: gopher_long_doc")
        min_avg_word_length: float | None = Field(3, ge=0, description="mean non-symbol word length below this")
        max_avg_word_length: float | None = Field(10, ge=0, description="mean non-symbol word length above this")
        max_symbol_word_ratio: NonNegativeFloat | None = Field(0.1, description="'#' or ellipses per word above this")
        max_bullet_lines_ratio: NonNegativeFloat | None = Field(
            0.9, description="share of lines starting with a bullet"
        )
        max_ellipsis_lines_ratio: NonNegativeFloat | None = Field(
            0.3, description="share of lines ending with an ellipsis"
        )
        max_non_alpha_words_ratio: Ratio | None = Field(
            0.8, description="drop when the share of words containing a letter is below this (datatrove's name)"
        )
        min_stop_words: int | None = Field(2, ge=0, description="fewer distinct stop words than this")
        stop_words: list[str] = Field(list(STOP_WORDS), description="Gopher's stop words")

        @model_validator(mode="after")
        def _ordered(self) -> GopherQuality.Params:
            self.check_order(("min_doc_words", "max_doc_words"), ("min_avg_word_length", "max_avg_word_length"))
            return self

    def check(self, f: TextFeatures, p: Params) -> str | None:
        text = f.text
        n_words = f.n_words
        flags = f.word_flags
        non_symbol = (flags & NON_SYMBOL).astype(bool)
        n_non_symbol = int(non_symbol.sum())
        if p.min_doc_words and n_non_symbol < p.min_doc_words:
            return "gopher_short_doc"
        if p.max_doc_words and n_non_symbol > p.max_doc_words:
            return "gopher_long_doc"
        avg = float(f.word_lengths[non_symbol].mean()) if n_non_symbol else float("nan")
        if p.min_avg_word_length and avg < p.min_avg_word_length:
            return "gopher_below_avg_threshold"
        if p.max_avg_word_length and avg > p.max_avg_word_length:
            return "gopher_above_avg_threshold"
        denominator = n_words or 1
        if p.max_symbol_word_ratio and text.count("#") / denominator > p.max_symbol_word_ratio:
            return "gopher_too_many_hashes"
        if p.max_symbol_word_ratio and (text.count("...") + text.count("…")) / denominator > p.max_symbol_word_ratio:
            return "gopher_too_many_ellipsis"
        lines = f.lines
        n_lines = len(lines) or 1
        if p.max_bullet_lines_ratio:
            bullets = sum(1 for s in lines if s.lstrip().startswith(("•", "-")))
            if bullets / n_lines > p.max_bullet_lines_ratio:
                return "gopher_too_many_bullets"
        if p.max_ellipsis_lines_ratio:
            ellipsis = sum(1 for s in lines if s.rstrip().endswith(("...", "…")))
            if ellipsis / n_lines > p.max_ellipsis_lines_ratio:
                return "gopher_too_many_end_ellipsis"
        if p.max_non_alpha_words_ratio:
            alpha = int(np.count_nonzero(flags & HAS_ALPHA))
            if alpha / denominator < p.max_non_alpha_words_ratio:
                return "gopher_below_alpha_threshold"
        if p.min_stop_words and f.count_distinct(sorted(set(p.stop_words))) < p.min_stop_words:
            return "gopher_enough_stop_words"
        return None


_PARAGRAPHS = re.compile(r"\n{2,}")
_LINES = re.compile("\n+")


def duplicates(elements: list[str]) -> tuple[int, int]:
    """Repeated elements after their first occurrence: (how many, their characters) (datatrove find_duplicates)."""
    seen: set[str] = set()
    count = chars = 0
    for e in elements:
        if e in seen:
            count += 1
            chars += len(e)
        else:
            seen.add(e)
    return count, chars


def _bound(known: dict[int, int], n: int) -> int | None:
    """An upper bound for an n-gram count that cannot grow with n (see the callers), from those found for n' <= n."""
    smaller = [m for m in known if m <= n]
    return known[max(smaller)] if smaller else None


def top_ngram_exceeds(f: TextFeatures, n: int, limit: float, known_tops: dict[int, int] | None = None) -> bool:
    """Whether the most frequent n-gram (ties: the first) covers more than ``limit`` characters (its length joined
    by spaces times its count, as datatrove's find_top_duplicate). Bounded first by the longest n-gram times the
    highest count, which settles most documents without locating the winner. ``known_tops`` (n -> highest count)
    carries counts between calls: an n-gram occurs at most as often as its first n-1 words, so a shorter n-gram's
    count bounds this one's, often without sorting."""
    lengths = f.ngram_char_lengths(n, 1)
    if len(lengths) == 0:
        return False
    longest = int(lengths.max())
    bound = _bound(known_tops, n) if known_tops else None
    if bound is not None and longest * bound <= limit:
        return False
    s = f.sorted_ngram_hashes(n)
    boundaries = np.flatnonzero(s[1:] != s[:-1])
    runs = np.diff(np.concatenate(([-1], boundaries, [len(s) - 1])))
    top = int(runs.max())
    if known_tops is not None:
        known_tops[n] = top
    if longest * top <= limit:
        return False
    _, first, counts = np.unique(f.ngram_hashes(n), return_index=True, return_counts=True)
    winner = first[counts == top].min()
    return int(lengths[winner]) * top > limit


def repeated_ngram_chars(
    f: TextFeatures, n: int, limit: float | None = None, known_repeats: dict[int, int] | None = None
) -> int:
    """datatrove's find_all_duplicate: scan n-grams left to right; an n-gram already seen counts its characters
    (joined without spaces) and the scan jumps past it. Only n-grams that occur twice or more need the scan; with
    ``limit``, a document whose repeats cannot reach it (repeat count times the longest n-gram) returns 0 early.
    ``known_repeats`` (n -> occurrences beyond the first, summed over n-grams) carries counts between calls: that
    number cannot grow with n (an (n+1)-gram repeats only where its first n words do), so it bounds larger n."""
    lengths = f.ngram_char_lengths(n, 0)
    if len(lengths) < 2:
        return 0
    longest = int(lengths.max())
    bound = _bound(known_repeats, n) if known_repeats else None
    if bound == 0 or (bound is not None and limit is not None and bound * longest <= limit):
        return 0
    s = f.sorted_ngram_hashes(n)
    n_repeats = int(np.count_nonzero(s[1:] == s[:-1]))
    if known_repeats is not None:
        known_repeats[n] = n_repeats
    if n_repeats == 0:
        return 0
    if limit is not None and n_repeats * longest <= limit:
        return 0
    h = f.ngram_hashes(n)
    twice = s[1:][s[1:] == s[:-1]]  # hashes occurring more than once (sorted, with repeats)
    twice = twice[np.concatenate(([True], twice[1:] != twice[:-1]))]
    slot = np.searchsorted(twice, h).clip(0, len(twice) - 1)  # a small sorted array: cheap lookups
    repeated = np.flatnonzero(twice[slot] == h)
    keys = slot[repeated].tolist()
    seen: set[int] = set()
    chars = 0
    skip_until = -1
    for pos, key in zip(repeated.tolist(), keys, strict=True):
        if pos < skip_until:
            continue
        if key in seen:
            chars += int(lengths[pos])
            skip_until = pos + n
        else:
            seen.add(key)
    return chars


@register
class GopherRepetition(HeuristicFilter):
    """Gopher repetition rules: duplicate paragraphs and lines (share and characters), the most frequent 2-4-grams'
    character share, and the character share of repeated 5-10-grams.

    Defaults are Gopher's table A1 (duplicate line fraction 0.30, paragraph 0.30, line characters 0.20, paragraph
    characters 0.20; top 2/3/4-gram 0.20/0.18/0.16; duplicate 5..10-gram 0.15..0.10), counted as datatrove's
    GopherRepetitionFilter does. Reasons: empty, dup_para_frac, dup_para_char_frac, dup_line_frac,
    dup_line_char_frac, top_{n}_gram, duplicated_{n}_n_grams (datatrove's names). n-grams are compared by 64-bit
    hashes of word ids (a collision, odds about n^2/2^64 per document, could only over-count repetition).
    """

    name = "gopher_repetition"
    version = 1

    class Params(LanguageParams):
        dup_line_frac: NonNegativeFloat | None = Field(0.3, description="share of lines that repeat an earlier line")
        dup_para_frac: NonNegativeFloat | None = Field(
            0.3, description="share of paragraphs that repeat an earlier one"
        )
        dup_line_char_frac: NonNegativeFloat | None = Field(
            0.2, description="characters in repeated lines / all characters"
        )
        dup_para_char_frac: NonNegativeFloat | None = Field(0.2, description="characters in repeated paragraphs / all")
        top_n_grams: list[tuple[PositiveInt, NonNegativeFloat]] = Field(
            [(2, 0.2), (3, 0.18), (4, 0.16)], description="(n, max share of characters in the most common n-gram)"
        )
        dup_n_grams: list[tuple[PositiveInt, NonNegativeFloat]] = Field(
            [(5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)],
            description="(n, max share of characters in repeated n-grams)",
        )

    def check(self, f: TextFeatures, p: Params) -> str | None:
        try:
            return self._check(f, p)
        finally:
            f.drop_ngrams()  # no other filter reads them; features of recent batches stay cached

    def _check(self, f: TextFeatures, p: Params) -> str | None:
        text = f.text
        if not text:
            return "empty"
        size = len(text)
        paragraphs = _PARAGRAPHS.split(text.strip())
        count, chars = duplicates(paragraphs)
        if p.dup_para_frac and count / len(paragraphs) > p.dup_para_frac:
            return "dup_para_frac"
        if p.dup_para_char_frac and chars / size > p.dup_para_char_frac:
            return "dup_para_char_frac"
        lines = _LINES.split(text)
        count, chars = duplicates(lines)
        if p.dup_line_frac and count / len(lines) > p.dup_line_frac:
            return "dup_line_frac"
        if p.dup_line_char_frac and chars / size > p.dup_line_char_frac:
            return "dup_line_char_frac"
        n_words = f.n_words
        tops: dict[int, int] = {}
        for n, frac in p.top_n_grams:
            if n_words >= n and top_ngram_exceeds(f, n, frac * size, tops):
                return f"top_{n}_gram"
        repeats: dict[int, int] = {}
        for n, frac in p.dup_n_grams:
            if n_words >= n and repeated_ngram_chars(f, n, frac * size, repeats) / size > frac:
                return f"duplicated_{n}_n_grams"
        return None

"""C4's line-level cleaning (Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified
Text-to-Text Transformer", section 2.2; tensorflow_datasets ``c4_utils.py``), as datatrove 0.10.1's
``C4QualityFilter`` implements it: drops lines, rewrites the text, and drops whole documents for some rules.
"""

from __future__ import annotations

import re

from pydantic import Field

from curate.registry import register
from curate.stages.filters.base import HeuristicFilter, LanguageParams
from curate.stages.filters.features import TextFeatures
from curate.stages.filters.words import RuleTokenizer, is_punct, sentencizer_punct_chars

CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
END_PUNCTUATION = (".", "?", "!", '"', "'")
ELLIPSIS = "..."
POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")


class SentenceCounter:
    """spaCy's rule-based ``sentencizer`` (what datatrove's ``split_into_sentences`` runs) as a count: a sentence
    starts at the first non-punctuation token after a token in its punctuation list. Each whitespace chunk's effect
    on the (sentences so far, seen a period) state is computed once and memoised."""

    def __init__(self, tokenizer: RuleTokenizer):
        self.tokenizer = tokenizer
        self.punct_chars = sentencizer_punct_chars()
        self._memo: dict[str, tuple[int, bool, int, bool]] = {}
        # a run of letters that is no special case is one token that is neither punctuation nor a punct char: it
        # starts a sentence after a punct char and clears the flag (unless some punct char were a letter)
        self._letters = None if any(c.isalpha() for c in self.punct_chars) else (0, False, 1, False)

    def _chunk(self, chunk: str) -> tuple[int, bool, int, bool]:
        out = []
        for seen in (False, True):
            starts = 0
            for token in self.tokenizer.chunk_tokens(chunk):
                in_punct_chars = token in self.punct_chars
                if seen and not in_punct_chars and not is_punct(token):
                    starts += 1
                    seen = False
                elif in_punct_chars:
                    seen = True
            out += [starts, seen]
        return out[0], out[1], out[2], out[3]

    def count(self, line: str) -> int:
        memo = self._memo
        sentences = 1
        seen = False
        for chunk in line.split():
            m = memo.get(chunk)
            if m is None:
                if self._letters is not None and chunk.isalpha() and chunk not in self.tokenizer.specials:
                    m = memo[chunk] = self._letters
                else:
                    m = memo[chunk] = self._chunk(chunk)
            if seen:
                sentences += m[2]
                seen = m[3]
            else:
                sentences += m[0]
                seen = m[1]
        return sentences


_COUNTERS: dict[str, SentenceCounter] = {}


def sentence_counter(tokenizer: RuleTokenizer) -> SentenceCounter:
    c = _COUNTERS.get(tokenizer.language)
    if c is None:
        c = _COUNTERS[tokenizer.language] = SentenceCounter(tokenizer)
    return c


@register
class C4Quality(HeuristicFilter):
    """C4's heuristics: keep lines ending in terminal punctuation with >= 3 words, no word over 1,000 characters, no
    "javascript" and no cookie/terms-of-use boilerplate, with Wikipedia citation marks removed; drop documents with
    "lorem ipsum", a curly bracket, or fewer than 5 sentences left. The text is rewritten to the kept lines.

    Defaults are C4's (paper section 2.2 and tensorflow_datasets c4_utils.py, via datatrove's C4QualityFilter; FineWeb
    sets ``filter_no_terminal_punct: false``). Sentences are counted with spaCy's sentencizer rules, as datatrove does.
    Reasons: lorem_ipsum, curly_bracket, too_few_sentences (datatrove's names); dropped lines are counted in the
    step's counters (line-filter-*), as datatrove's stats do.
    """

    name = "c4_quality"
    version = 1

    class Params(LanguageParams):
        split_paragraph: bool = Field(True, description="apply the line rules to lines (C4); false: to sentences")
        remove_citations: bool = Field(True, description="remove Wikipedia-style citation marks like [1], [edit]")
        filter_no_terminal_punct: bool = Field(True, description="drop lines not ending in . ? ! \" ' (or ending ...)")
        min_num_sentences: int = Field(5, ge=-1, description="drop documents with fewer sentences left (-1: off)")
        min_words_per_line: int = Field(
            3, ge=-1, description="drop lines with fewer whitespace-separated words (-1: off)"
        )
        max_word_length: int = Field(1000, ge=-1, description="drop lines with a longer word (-1: off)")
        filter_lorem_ipsum: bool = Field(True, description="drop documents containing 'lorem ipsum'")
        filter_javascript: bool = Field(True, description="drop lines mentioning 'javascript'")
        filter_curly_bracket: bool = Field(True, description="drop documents containing '{'")
        filter_policy: bool = Field(True, description="drop lines with cookie / terms-of-use phrases")

    def process(self, table):  # noqa: ANN001, ANN201 - same contract as the base
        self._line_counts: dict[str, int] = {}
        out = super().process(table)
        out.counters.update({k: v for k, v in self._line_counts.items() if v})
        return out

    def rewrite(self, f: TextFeatures, p: Params) -> tuple[str | None, str | None]:
        counts = self._line_counts if hasattr(self, "_line_counts") else {}
        if p.split_paragraph:
            lines = f.text.splitlines()
            counter = sentence_counter(f.tokenizer)
        else:
            lines = _sentences(f.text, f.tokenizer)
            counter = None
        sentences = 0
        kept: list[str] = []
        for line in lines:
            line = line.strip()
            words = line.split()
            if p.max_word_length != -1 and max(map(len, words), default=0) > p.max_word_length:
                counts["line-filter-too_long_word"] = counts.get("line-filter-too_long_word", 0) + 1
                continue
            if p.remove_citations and "[" in line:
                line = CITATION.sub("", line)
            if p.filter_no_terminal_punct and (not line.endswith(END_PUNCTUATION) or line.endswith(ELLIPSIS)):
                counts["line-filter-no_terminal_punc"] = counts.get("line-filter-no_terminal_punc", 0) + 1
                continue
            if len(words) < p.min_words_per_line:
                counts["line-filter-too_few_words"] = counts.get("line-filter-too_few_words", 0) + 1
                continue
            lower = line.lower()
            if p.filter_lorem_ipsum and "lorem ipsum" in lower:
                return "lorem_ipsum", None
            if p.filter_javascript and "javascript" in lower:
                counts["line-filter-javascript"] = counts.get("line-filter-javascript", 0) + 1
                continue
            if p.filter_curly_bracket and "{" in line:
                return "curly_bracket", None
            if p.filter_policy and any(s in lower for s in POLICY_SUBSTRINGS):
                counts["line-filter-policy"] = counts.get("line-filter-policy", 0) + 1
                continue
            if p.min_num_sentences != -1:
                sentences += counter.count(line) if counter is not None else 1
            kept.append(line)
        if sentences < p.min_num_sentences:
            return "too_few_sentences", None
        return None, ("\n" if p.split_paragraph else " ").join(kept).strip()


def _sentences(text: str, tokenizer: RuleTokenizer) -> list[str]:
    """datatrove's split_into_sentences: the text cut at sentencizer boundaries (for split_paragraph=false)."""
    counter = sentence_counter(tokenizer)
    out: list[str] = []
    start = 0
    seen = False
    for m in re.finditer(r"\S+", text):
        for token in tokenizer.chunk_tokens(m.group()):
            in_punct_chars = token in counter.punct_chars
            if seen and not in_punct_chars and not is_punct(token):
                # the boundary is at this token; find its offset inside the chunk
                offset = text.find(token, m.start())
                out.append(text[start:offset])
                start = offset
                seen = False
            elif in_punct_chars:
                seen = True
    out.append(text[start:])
    return out

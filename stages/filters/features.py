"""Text features shared by every heuristic filter in a chain: words, word ids, word flags, lines.

A filter asks :func:`batch_features` for the features of its batch's texts. Features are computed lazily (a filter
that only needs lines never splits words) and kept for the texts of the last batch seen, keyed by (word-splitting
rules, text): Gopher repetition splits a batch's words, Gopher quality on the surviving rows of the same batch reuses
them, C4 rewrites texts so FineWeb's word count is computed once on the new text. Words become integer ids in one
process-wide vocabulary, whose per-word flags (symbol word? contains a letter?) and lengths live in numpy arrays, so
per-document statistics are numpy reductions and n-grams are rolling 64-bit hashes of id windows.
"""

from __future__ import annotations

import re
from functools import cached_property
from itertools import chain

import numpy as np

from curate.stages.filters.words import RuleTokenizer, punctuation, terminal_punctuation, tokenizer_for

NON_SYMBOL = 1  # the word has a character outside datatrove's PUNCTUATION_SET (Gopher's "non-symbol word")
HAS_ALPHA = 2  # the word has an alphabetic character
MAX_VOCAB = 5_000_000
#: features of up to this many recent texts are kept for the next filter in the chain
KEEP_DOCUMENTS = 10_000

_PUNCTUATION_SET = frozenset(punctuation()) | frozenset(terminal_punctuation())
#: stripping these from both ends leaves nothing exactly when every character is one of them
_PUNCTUATION_CHARS = "".join(sorted(_PUNCTUATION_SET))
_LETTER_OR_NUMERIC = re.compile(r"[^\W\d_]")  # isalpha() characters, plus non-decimal numerics such as "²"


def _has_alpha(word: str) -> bool:
    """``any(c.isalpha() for c in word)``, mostly at regex speed."""
    m = _LETTER_OR_NUMERIC.search(word)
    return m is not None and (m.group().isalpha() or any(c.isalpha() for c in word))
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


class Vocabulary:
    """Word -> id, with numpy arrays of per-word flags, lengths and hashes indexed by id, and, per word-splitting
    rule set, a memo of each whitespace chunk's word ids (so a warm document costs one lookup per chunk)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.ids: dict[str, int] = {}
        self.words: list[str] = []
        self.chunk_ids: dict[str, dict[str, tuple[int, ...]]] = {}
        self.flags = np.zeros(1024, np.uint8)
        self.lengths = np.zeros(1024, np.int64)
        self.hashes = np.zeros(1024, np.uint64)
        self.synced = 0
        self.generation = getattr(self, "generation", 0) + 1

    def _id(self, word: str) -> int:
        i = self.ids.get(word)
        if i is None:
            i = self.ids[word] = len(self.words)
            self.words.append(word)
        return i

    def encode(self, words: list[str]) -> np.ndarray:
        out = np.fromiter((self._id(w) for w in words), np.int64, len(words))
        self.sync()
        return out

    def encode_text(self, text: str, tokenizer: RuleTokenizer) -> np.ndarray:
        """Word ids of ``text`` under ``tokenizer``'s rules."""
        if tokenizer.has_multiword_specials(text):
            return self.encode(tokenizer.words(text))
        memo = self.chunk_ids.setdefault(tokenizer.language, {})
        chunks = text.split()
        missing = set(chunks).difference(memo)
        if missing:
            split = tokenizer.chunk_tokens
            tokens = {chunk: split(chunk) for chunk in missing}
            new = set(chain.from_iterable(tokens.values())).difference(self.ids)
            if new:
                start = len(self.words)
                self.words.extend(new)
                self.ids.update(zip(self.words[start:], range(start, len(self.words))))
                self.sync()
            get = self.ids.__getitem__
            for chunk, toks in tokens.items():
                memo[chunk] = tuple(map(get, toks))
        return np.fromiter(chain.from_iterable(map(memo.__getitem__, chunks)), np.int64)

    def sync(self) -> None:
        """Fill the per-word arrays for words added since the last call."""
        start, n = self.synced, len(self.words)
        if n == start:
            return
        if n > len(self.flags):
            size = max(n, 2 * len(self.flags))
            for name in ("flags", "lengths", "hashes"):
                old = getattr(self, name)
                new = np.zeros(size, old.dtype)
                new[:len(old)] = old
                setattr(self, name, new)
        new_words = self.words[start:n]
        self.flags[start:n] = [(NON_SYMBOL if w.strip(_PUNCTUATION_CHARS) else 0) | (HAS_ALPHA if _has_alpha(w) else 0)
                               for w in new_words]
        self.lengths[start:n] = [len(w) for w in new_words]
        self.hashes[start:n] = _splitmix64(np.arange(start, n, dtype=np.uint64) + np.uint64(self.generation << 40))
        self.synced = n


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK
        return z ^ (z >> np.uint64(31))


VOCAB = Vocabulary()
_NGRAM_MULT = np.uint64(0x100000001B3)


class TextFeatures:
    """Features of one text under one language's word splitting; each computed on first use."""

    def __init__(self, text: str, tokenizer: RuleTokenizer):
        self.text = text
        self.tokenizer = tokenizer
        self._generation = VOCAB.generation

    @cached_property
    def word_ids(self) -> np.ndarray:
        if VOCAB.generation != self._generation:
            raise RuntimeError("vocabulary was reset while features were alive")
        return VOCAB.encode_text(self.text, self.tokenizer)

    @property
    def n_words(self) -> int:
        return len(self.word_ids)

    @cached_property
    def words(self) -> list[str]:
        words = VOCAB.words
        return [words[i] for i in self.word_ids.tolist()]

    def count_distinct(self, words: list[str]) -> int:
        """How many of ``words`` occur in the text (Gopher's stop-word rule)."""
        ids = [VOCAB.ids[w] for w in words if w in VOCAB.ids]
        return int(np.isin(np.asarray(ids, np.int64), self.word_ids).sum()) if ids else 0

    @cached_property
    def word_lengths(self) -> np.ndarray:
        ids = self.word_ids  # first: encoding may grow the arrays
        return VOCAB.lengths[ids]

    @cached_property
    def word_flags(self) -> np.ndarray:
        ids = self.word_ids
        return VOCAB.flags[ids]

    @cached_property
    def length_cumsum(self) -> np.ndarray:
        return np.concatenate(([0], np.cumsum(self.word_lengths)))

    def ngram_hashes(self, n: int) -> np.ndarray:
        """64-bit hashes of the word n-grams (one per start position, ``len(words) - n + 1`` of them)."""
        cache = self.__dict__.setdefault("_ngrams", {})
        if n in cache:
            return cache[n]
        if n == 1:
            ids = self.word_ids
            h = VOCAB.hashes[ids]
        else:
            prev = self.ngram_hashes(n - 1)
            with np.errstate(over="ignore"):
                h = prev[:-1] * _NGRAM_MULT + VOCAB.hashes[self.word_ids[n - 1:]]  # ids exist: n-1 computed them
        cache[n] = h
        return h

    def has_repeated_ngram(self, n: int) -> bool:
        h = self.ngram_hashes(n)
        if len(h) < 2:
            return False
        s = np.sort(h)
        return bool((s[1:] == s[:-1]).any())

    def ngram_char_lengths(self, n: int, joiner: int) -> np.ndarray:
        """Characters of each n-gram joined with ``joiner`` characters between words."""
        cs = self.length_cumsum
        return cs[n:] - cs[:-n] + joiner * (n - 1)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()


_LAST: dict[tuple[str, str], TextFeatures] = {}


def batch_features(texts: list[str], language: str) -> list[TextFeatures]:
    """Features for ``texts`` split with ``language``'s rules; reuses those of the previous batch's texts."""
    global _LAST
    if len(VOCAB.ids) > MAX_VOCAB:
        VOCAB.reset()
        _LAST = {}
    tokenizer = tokenizer_for(language)
    code = tokenizer.language
    previous = _LAST
    current: dict[tuple[str, str], TextFeatures] = {}
    out = []
    for text in texts:
        key = (code, text)
        f = current.get(key) or previous.get(key)
        if f is None:
            f = TextFeatures(text, tokenizer)
        current[key] = f
        out.append(f)
    _LAST = current if len(previous) + len(current) > KEEP_DOCUMENTS else {**previous, **current}
    return out

"""Decontamination text: the words a benchmark item and a web document are compared on, and their n-gram hashes.

Normalisation folds what changes when a test item is pasted onto a web page but leaves the words alone: GSM8K's
calculator annotations ``<<48/2=24>>`` are removed (lm-eval-harness shows the answer with them, the web mostly
without), format characters (soft hyphen, zero-width space) are dropped and Unicode NFKC applied (fullwidth forms,
ligatures, NBSP: :func:`curate.stages.dedup.text.unicode_normalize`), then the dedup word normalisation without
digit folding (:func:`curate.stages.dedup.text.normalize`: lowercase, diacritics dropped, every punctuation or
symbol a word separator). Case, punctuation, whitespace, indentation, curly vs straight quotes and Unicode forms
therefore never matter; numbers do (``17 + 4`` is not ``71 + 4``). This is lm-eval-harness's janitor rule
(lowercase, punctuation stripped, whitespace split) and datatrove's ``simplify_text`` minus digit folding, plus
Unicode forms. Words are hashed by :func:`curate.stages.dedup.text.word_hashes` (vectorised, stable across
machines).

N-gram hashes are built incrementally from word hashes, so every n-gram length the index needs (13 by default, less
for short items) costs one multiply-add per word and length, plus a finaliser and a lookup per length in use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.stages.dedup.text import Words, normalize, splitmix64, unicode_normalize, word_hashes

#: GSM8K calculator annotations (``<<16-3-4=9>>``); never contain whitespace
CALCULATOR_ANNOTATION = r"<<[^<>\s]{1,200}>>"
_ANNOTATION_RE = re.compile(CALCULATOR_ANNOTATION)
_U64 = np.uint64
_MIX = _U64(0xD6E8FEB86659FD93)
_CHUNK = re.compile(r"\S+")


def _strings(texts: pa.Array | pa.ChunkedArray | list[str]) -> pa.Array:
    if isinstance(texts, list):
        texts = pa.array(texts, pa.large_string())
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks() if texts.num_chunks != 1 else texts.chunk(0)
    return pc.fill_null(texts.cast(pa.large_string()), "")


def normalise(texts: pa.Array | pa.ChunkedArray | list[str]) -> pa.Array:
    """Texts as decontamination compares them (see the module docstring); separators are left for
    :func:`word_hashes` to split at."""
    texts = pc.replace_substring_regex(_strings(texts), CALCULATOR_ANNOTATION, "")
    return normalize(unicode_normalize(texts), fold_digits=False)


def words(texts: pa.Array | pa.ChunkedArray | list[str]) -> Words:
    """64-bit hashes of the normalised words of each text (``hashes[offsets[d]:offsets[d+1]]`` for text ``d``)."""
    return word_hashes(normalise(texts))


def _key(acc: np.ndarray, n: int) -> np.ndarray:
    return splitmix64(acc ^ _U64((n * 0x9E3779B97F4A7C15) & ((1 << 64) - 1)))


@dataclass
class Ngrams:
    """The ``n``-grams of a batch: ``keys[k]`` is the hash of the ``n`` words starting at word ``start[k]``
    (global index into the batch's words) of text ``text[k]``."""

    n: int
    keys: np.ndarray  # uint64
    start: np.ndarray  # int64
    text: np.ndarray  # int64


def ngrams(w: Words, sizes: Iterable[int]) -> Iterator[Ngrams]:
    """For each length in ``sizes`` (ascending), the hashes of every word n-gram of that length within each text.
    One pass: the hash of the (k+1)-gram at a position extends its k-gram, so lengths share the work."""
    wanted = sorted({int(n) for n in sizes if n > 0})
    total = len(w.hashes)
    if not wanted or total == 0:
        return
    counts = np.diff(w.offsets)
    text = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    room = np.repeat(w.offsets[1:], counts) - np.arange(total, dtype=np.int64)  # words from here to the text's end
    padded = np.concatenate([w.hashes, np.zeros(wanted[-1], _U64)])
    acc = w.hashes.copy()
    n = 1
    for target in wanted:
        while n < target:
            acc *= _MIX
            acc += padded[n : n + total]
            n += 1
        valid = np.flatnonzero(room >= n)
        if not len(valid):
            return
        yield Ngrams(n, _key(acc[valid], n), valid, text[valid])


def chunk_words(text: str) -> tuple[Words, np.ndarray, np.ndarray]:
    """The words of one text with the character span of each: the text is cut at whitespace into chunks, every
    chunk is normalised and split like a whole text (whitespace always separates words, so the word sequence is the
    same as :func:`words` of the text), and each word gets its chunk's span. Returns ``(words, char_start,
    char_end)``; used where a match must be located in the original text (``action: cut``)."""
    spans = [(m.start(), m.end()) for m in _CHUNK.finditer(text)]
    w = words([text[s:e] for s, e in spans])
    counts = np.diff(w.offsets)
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    ends = np.array([e for _, e in spans], dtype=np.int64)
    one = Words(w.hashes, np.array([0, len(w.hashes)], dtype=np.int64))
    return one, np.repeat(starts, counts), np.repeat(ends, counts)


def strip_annotations(text: str) -> str:
    """``text`` without GSM8K calculator annotations (what lm-eval-harness's GSM8K target shows, cleaned)."""
    return _ANNOTATION_RE.sub("", text)


#: a word as :func:`curate.stages.dedup.text.word_hashes` sees one in normalised text: ASCII letters and digits, and
#: every non-ASCII character (non-ASCII separators were replaced by spaces during normalisation)
_WORD = re.compile(r"[0-9A-Za-z\u0080-\U0010ffff]+")


def letter_words(texts: list[str], w: Words) -> np.ndarray:
    """For each word of ``w`` (the :func:`words` of ``texts``): whether it is a real word, two characters or more and
    not a number (``x``, ``i``, ``900`` are not). Runs in
    Python, once per index build (benchmark suites are small); a text whose split disagrees counts as all letters."""
    flags = np.ones(len(w.hashes), dtype=bool)
    for i, normed in enumerate(normalise(texts).to_pylist()):
        found = _WORD.findall(normed)
        lo, hi = int(w.offsets[i]), int(w.offsets[i + 1])
        if len(found) == hi - lo:
            flags[lo:hi] = [len(t) > 1 and not t.isdigit() for t in found]
    return flags


def distinct_letter_words(w: Words, letters: np.ndarray, grams: Ngrams) -> np.ndarray:
    """For each n-gram of ``grams``: distinct real words (:func:`letter_words`) in it (vectorised: a word counts at
    its first occurrence inside the window)."""
    total = len(w.hashes)
    order = np.lexsort((np.arange(total), w.hashes))
    prev = np.full(total, -1, np.int64)
    same = w.hashes[order[1:]] == w.hashes[order[:-1]]
    prev[order[1:][same]] = order[:-1][same]
    count = np.zeros(len(grams.start), np.int64)
    for k in range(grams.n):
        pos = grams.start + k
        count += letters[pos] & (prev[pos] < grams.start)
    return count

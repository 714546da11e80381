"""Text features shared by every heuristic filter in a chain: words, word ids, word flags, lines.

A filter asks :func:`batch_features` for the features of its batch's texts. Features are computed lazily (a filter
that only needs lines never splits words) and kept for the texts of the last batch seen, keyed by (word-splitting
rules, text): Gopher repetition splits a batch's words, Gopher quality on the surviving rows of the same batch reuses
them, C4 rewrites texts so FineWeb's word count is computed once on the new text. Words become integer ids in one
process-wide vocabulary, whose per-word flags (symbol word? contains a letter?) and lengths live in numpy arrays, so
per-document statistics are numpy reductions and n-grams are rolling 64-bit hashes of id windows.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from itertools import chain

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


#: ASCII characters outside the punctuation set: an ASCII word holding one is a non-symbol word
_ASCII_NON_SYMBOL = "[" + "".join(re.escape(chr(c)) for c in range(128) if chr(c) not in _PUNCTUATION_SET) + "]"


def word_flags(words: list[str]) -> np.ndarray:
    """``NON_SYMBOL | HAS_ALPHA`` for each word. ASCII words are settled by two pyarrow regexes over the whole list;
    the others by Python's own predicates, which are the reference (RE2's Unicode tables and Python's
    ``str.isalpha`` disagree on some recently added letters)."""
    try:
        arr = pa.array(words, pa.string())
    except (pa.ArrowException, UnicodeEncodeError):  # e.g. lone surrogates: no UTF-8 form
        return np.fromiter(map(_python_flags, words), np.uint8, len(words))
    non_symbol = pc.match_substring_regex(arr, _ASCII_NON_SYMBOL).to_numpy(zero_copy_only=False)
    alpha = pc.match_substring_regex(arr, "[A-Za-z]").to_numpy(zero_copy_only=False)
    flags = (non_symbol * NON_SYMBOL | alpha * HAS_ALPHA).astype(np.uint8)
    for i in np.flatnonzero(~pc.string_is_ascii(arr).to_numpy(zero_copy_only=False)).tolist():
        flags[i] = _python_flags(words[i])
    return flags


def _python_flags(word: str) -> int:
    return (NON_SYMBOL if word.strip(_PUNCTUATION_CHARS) else 0) | (HAS_ALPHA if _has_alpha(word) else 0)


_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


class Vocabulary:
    """Word -> id, with numpy arrays of per-word flags, lengths and hashes indexed by id, and, per word-splitting
    rule set, a memo of each whitespace chunk's word ids (so a warm document costs one lookup per chunk)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.ids: dict[str, int] = {}
        self.words: list[str] = []
        self.chunk_ids: dict[str, _ChunkMemo] = {}
        self.n_chunks = self.n_flat = 0
        self.chunk_lengths = np.zeros(1024, np.int64)  # per chunk id: how many words
        self.chunk_offsets = np.zeros(1024, np.int64)  # per chunk id: where its word ids start in chunk_flat
        self.chunk_flat = np.zeros(4096, np.int64)
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
        return self.encode_texts([text], tokenizer)[0]

    def encode_texts(self, texts: list[str], tokenizer: RuleTokenizer) -> list[np.ndarray]:
        """Word ids of each of ``texts`` under ``tokenizer``'s rules, the whole batch at once: each whitespace chunk
        becomes a chunk id (one dict lookup, in C), chunks never seen are split and their words get ids in bulk, and
        the chunk ids expand to word ids with numpy (a chunk's words are a slice of one flat array)."""
        with gc_paused():
            return self._encode_texts(texts, tokenizer)

    def _encode_texts(self, texts: list[str], tokenizer: RuleTokenizer) -> list[np.ndarray]:
        out: list[np.ndarray | None] = [None] * len(texts)
        plain: list[int] = []
        for i, text in enumerate(texts):
            if tokenizer.has_multiword_specials(text):
                out[i] = self.encode(tokenizer.words(text))
            else:
                plain.append(i)
        if not plain:
            return out  # type: ignore[return-value]
        memo = self.chunk_ids.get(tokenizer.language)
        if memo is None:
            memo = self.chunk_ids[tokenizer.language] = _ChunkMemo(self)
        cids, n_chunks = _chunk_ids([texts[i] for i in plain], memo)
        if memo.pending:
            self._add_chunks(memo, tokenizer)
        lengths = self.chunk_lengths[cids]
        ends = np.cumsum(lengths)
        total = int(ends[-1]) if len(ends) else 0
        # word position p of the chunk occurrence j (starting at ends[j] - lengths[j]) reads chunk_flat[offset_j + p
        # - start_j]
        src = np.repeat(self.chunk_offsets[cids] - (ends - lengths), lengths) + np.arange(total, dtype=np.int64)
        words = self.chunk_flat[src]
        bounds = np.concatenate(([0], ends))[np.cumsum(n_chunks)]
        for i, piece in zip(plain, np.split(words, bounds[:-1]), strict=True):
            out[i] = piece
        return out  # type: ignore[return-value]

    def _add_chunks(self, memo: _ChunkMemo, tokenizer: RuleTokenizer) -> None:
        """Split the chunks ``memo`` has handed ids to since the last call and store their word ids."""
        chunks, memo.pending = memo.pending, []
        tokens = tokenizer.chunks_tokens(chunks)
        flat = list(chain.from_iterable(tokens))
        new = set(flat).difference(self.ids)
        if new:
            start = len(self.words)
            self.words.extend(new)
            self.ids.update(zip(self.words[start:], range(start, len(self.words))))
            self.sync()
        first = self.n_chunks
        self.n_chunks += len(chunks)
        n_flat = self.n_flat + len(flat)
        self.chunk_lengths = _grown(self.chunk_lengths, self.n_chunks)
        self.chunk_offsets = _grown(self.chunk_offsets, self.n_chunks)
        self.chunk_flat = _grown(self.chunk_flat, n_flat)
        lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
        self.chunk_lengths[first : self.n_chunks] = lengths
        self.chunk_offsets[first : self.n_chunks] = self.n_flat + np.cumsum(lengths) - lengths
        self.chunk_flat[self.n_flat : n_flat] = np.fromiter(map(self.ids.__getitem__, flat), np.int64, len(flat))
        self.n_flat = n_flat

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
                new[: len(old)] = old
                setattr(self, name, new)
        new_words = self.words[start:n]
        self.flags[start:n] = word_flags(new_words)
        self.lengths[start:n] = [len(w) for w in new_words]
        self.hashes[start:n] = _splitmix64(np.arange(start, n, dtype=np.uint64) + np.uint64(self.generation << 40))
        self.synced = n


class _ChunkMemo(dict):
    """Chunk -> chunk id for one word-splitting rule set; a chunk not seen before gets the next id and waits in
    ``pending`` until :meth:`Vocabulary._add_chunks` splits it."""

    def __init__(self, vocab: Vocabulary):
        super().__init__()
        self.vocab = vocab
        self.pending: list[str] = []

    def __missing__(self, chunk: str) -> int:
        i = self[chunk] = self.vocab.n_chunks + len(self.pending)
        self.pending.append(chunk)
        return i


def _chunk_ids(texts: list[str], memo: _ChunkMemo) -> tuple[np.ndarray, np.ndarray]:
    """The chunk id of every whitespace chunk of ``texts`` in order, and how many chunks each text has. pyarrow
    splits and finds the batch's distinct chunks in C++ (its whitespace is ``str.split``'s: checked on every code
    point); only distinct chunks are looked up in the memo, a Zipfian batch has 4-10x fewer of them."""
    try:
        arr = pa.array(texts, pa.large_string())
    except (pa.ArrowException, UnicodeEncodeError):  # no UTF-8 form (lone surrogates): split in Python
        lists = [t.split() for t in texts]
        n_chunks = np.fromiter(map(len, lists), np.int64, len(lists))
        return np.fromiter(map(memo.__getitem__, chain.from_iterable(lists)), np.int64, int(n_chunks.sum())), n_chunks
    parts = pc.utf8_split_whitespace(arr)
    chunks = pc.list_flatten(parts)
    non_empty = pc.not_equal(chunks, "")  # pyarrow keeps an empty piece before leading / after trailing whitespace
    chunks = chunks.filter(non_empty)
    parents = pc.list_parent_indices(parts).filter(non_empty).to_numpy()
    n_chunks = np.bincount(parents, minlength=len(texts)).astype(np.int64)
    encoded = pc.dictionary_encode(chunks)
    distinct = encoded.dictionary.to_pylist()
    ids = np.fromiter(map(memo.__getitem__, distinct), np.int64, len(distinct))
    return ids[encoded.indices.to_numpy()], n_chunks


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block. A cold batch allocates hundreds of thousands of
    tuples and strings (new chunks' tokens, new words), none of them in a cycle; each 700 allocations would
    otherwise trigger a collection that rescans the growing memo dicts, ~15% of a cold batch's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _grown(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` with room for at least ``n`` entries (doubling, zero-filled)."""
    if n <= len(a):
        return a
    new = np.zeros(max(n, 2 * len(a)), a.dtype)
    new[: len(a)] = a
    return new


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
        self._batch: list[TextFeatures] = []  # texts whose words are split together with this one's

    @cached_property
    def word_ids(self) -> np.ndarray:
        if VOCAB.generation != self._generation:
            raise RuntimeError("vocabulary was reset while features were alive")
        # every text of the batch still without words is split now, together: one pass over their chunks
        pending = [f for f in self._batch if "word_ids" not in f.__dict__ and f is not self]
        encoded = VOCAB.encode_texts([self.text] + [f.text for f in pending], self.tokenizer)
        for f, ids in zip(pending, encoded[1:], strict=True):
            f.__dict__["word_ids"] = ids
            f._batch = []
        self._batch = []
        return encoded[0]

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
                h = prev[:-1] * _NGRAM_MULT + VOCAB.hashes[self.word_ids[n - 1 :]]  # ids exist: n-1 computed them
        cache[n] = h
        return h

    def drop_ngrams(self) -> None:
        """Forget the n-gram hashes (they are the bulk of a document's features)."""
        self.__dict__.pop("_ngrams", None)
        self.__dict__.pop("_sorted_ngrams", None)

    def sorted_ngram_hashes(self, n: int) -> np.ndarray:
        """:meth:`ngram_hashes` sorted (kept: the repetition rules ask for it several times per n)."""
        cache = self.__dict__.setdefault("_sorted_ngrams", {})
        s = cache.get(n)
        if s is None:
            s = cache[n] = np.sort(self.ngram_hashes(n))
        return s

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
    batch = [f for f in out if "word_ids" not in f.__dict__]
    for f in batch:
        f._batch = batch
    _LAST = current if len(previous) + len(current) > KEEP_DOCUMENTS else {**previous, **current}
    return out

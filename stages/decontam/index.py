"""The decontamination index: word n-grams of benchmark items, and their lookup in batches of documents.

Which n-grams of an item are indexed (``L`` = the item's normalised words, query and gold together):

* ``L >= min_ngram``: every ``n``-gram with ``n = clamp(ceil(L * partial_fraction), min_ngram, ngram)``. Long items
  get GPT-3's 13-grams (Brown et al. 2020, appendix C; also lm-eval-harness's decontamination and datatrove's
  ``NGramsDecontIndexer``, 12 there). A 13-gram can never be found in a copy of fewer than 13 words, so a short
  item gets a shorter n: half its length, so that a page holding half of the item contiguously is still found, but
  never below ``min_ngram`` = 8, GPT-3's lower bound for short test sets (it used the 5th percentile of each task's
  item lengths, clamped to [8, 13]).
* ``min_item_words <= L < min_ngram``: the whole item is one n-gram of length ``L`` (a page must hold all of it,
  contiguously): a whole-item match, as GPT-3 did for items shorter than its N.
* ``L < min_item_words``: not indexed (``too_short`` in the summary): two or three common words ("ice box",
  "marker") are no evidence of contamination.

An n-gram shared by more than ``max_items_per_ngram`` items of the suite is a template phrase ("write a python
function to find the"), not evidence that a particular item leaked; it is dropped, like GPT-3 dropped 13-grams found
in too many training documents (``pruned`` in the summary).

The index is four parallel arrays (n-gram key sorted, item, n, kind: 15 bytes per entry) plus a filter of 8 bytes
per entry over the keys' top bits (at most 512 MB) that answers most lookups of a document's n-grams with one memory
access. A typical evaluation suite (a few hundred thousand items of ~100 words) is tens of millions of entries: about
a GB on one node. Beyond that, partition the keys by their top bits (as ``minhash_dedup`` partitions band keys) and
look each partition up in its own unit; n-gram keys are uniform hashes, so partitions are even.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from curate.stages.decontam.benchmarks import Item
from curate.stages.decontam.text import distinct_letter_words, letter_words, ngrams, words
from curate.stages.dedup.text import Words

_U64 = np.uint64


TEXT, QUERY, GOLD = 0, 1, 2  # what an index entry is: an n-gram of the item's text, its whole query, its whole gold


@dataclass(frozen=True)
class IndexConfig:
    """How items become n-grams (see the module docstring for where each default comes from)."""

    ngram: int = 13
    min_ngram: int = 8
    min_item_words: int = 4
    partial_fraction: float = 0.5
    max_items_per_ngram: int = 10
    #: words allowed between a query and its gold besides the other answer options (labels, numbering)
    pair_gap: int = 6
    #: distinct real words (2+ characters, not a number) an indexed n-gram needs; fewer: numbers and one-letter
    #: names, as in list literals, ``a[i][j]`` or ``{'a': 900, 'b': 900}``, which unrelated code and tables share
    min_letter_words: int = 4

    def item_n(self, length: np.ndarray) -> np.ndarray:
        """The n-gram length of items of ``length`` words (0: not indexed)."""
        half = np.ceil(length * self.partial_fraction).astype(np.int64)
        n = np.where(length >= self.min_ngram, np.clip(half, self.min_ngram, self.ngram), length)
        return np.where(length >= self.min_item_words, n, 0)


@dataclass
class Matches:
    """Items found in a batch of documents: document ``doc[k]`` holds item ``item[k]`` over its words
    ``[start[k], start[k] + length[k])`` (one row per matched n-gram or query/gold pair)."""

    doc: np.ndarray
    item: np.ndarray
    start: np.ndarray
    length: np.ndarray

    def __len__(self) -> int:
        return len(self.doc)


def _empty_matches() -> Matches:
    empty = np.zeros(0, np.int64)
    return Matches(empty, empty, empty, empty)


@dataclass
class NgramIndex:
    keys: np.ndarray  # uint64, sorted
    entry_item: np.ndarray  # int32: the item of each entry (a key shared by items appears once per item)
    entry_n: np.ndarray  # int16: words of the entry's n-gram
    entry_kind: np.ndarray  # int8: TEXT, QUERY or GOLD
    benchmark: list[str]  # per item
    item_id: list[str]
    item_n: np.ndarray  # int64 per item: n of its text n-grams (0: not indexed)
    item_words: np.ndarray  # int64 per item
    item_gap: np.ndarray  # int64 per item: most words between its query and its gold (-1: not paired)
    config: IndexConfig = field(default_factory=IndexConfig)
    pruned: int = 0
    _filter: np.ndarray | None = None
    _filter_shift: int = 0
    _ends: np.ndarray | None = None

    # -- building ----------------------------------------------------------------------------------------------
    @classmethod
    def build(cls, items: list[Item], config: IndexConfig | None = None) -> NgramIndex:
        config = config or IndexConfig()
        w = words([it.text for it in items])
        length = np.diff(w.offsets)
        item_n = config.item_n(length)
        letters = letter_words([it.text for it in items], w)
        parts = list(_text_entries(w, item_n, letters, config.min_letter_words))
        gap = np.full(len(items), -1, np.int64)
        if any(it.query and it.gold for it in items):
            parts += _pair_entries(items, item_n, config, gap)
        key = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, _U64)
        owner = np.concatenate([p[1] for p in parts]).astype(np.int32) if parts else np.zeros(0, np.int32)
        n = np.concatenate([p[2] for p in parts]).astype(np.int16) if parts else np.zeros(0, np.int16)
        kind = np.concatenate([p[3] for p in parts]).astype(np.int8) if parts else np.zeros(0, np.int8)
        order = np.lexsort((kind, owner, key))
        key, owner, n, kind = key[order], owner[order], n[order], kind[order]
        distinct = np.ones(len(key), dtype=bool)
        distinct[1:] = (key[1:] != key[:-1]) | (owner[1:] != owner[:-1]) | (kind[1:] != kind[:-1])
        key, owner, n, kind = key[distinct], owner[distinct], n[distinct], kind[distinct]
        # a key found in too many items is a template phrase, not evidence
        first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
        group = np.cumsum(first) - 1
        owners_per_key = (
            np.bincount(group, weights=np.r_[True, (owner[1:] != owner[:-1]) | first[1:]] if len(key) else None).astype(
                np.int64
            )
            if len(key)
            else np.zeros(0, np.int64)
        )
        common = owners_per_key[group] > config.max_items_per_ngram if len(key) else np.zeros(0, bool)
        pruned = int((owners_per_key > config.max_items_per_ngram).sum())
        keep = ~common
        return cls(
            key[keep],
            owner[keep],
            n[keep],
            kind[keep],
            [it.benchmark for it in items],
            [it.id for it in items],
            item_n.astype(np.int64),
            length.astype(np.int64),
            gap,
            config,
            pruned,
        )

    def summary(self) -> dict[str, dict[str, int]]:
        """Per benchmark: items, items indexed, whole-item (short) ones, too short to index, entries."""
        out: dict[str, dict[str, int]] = {}
        per_item = np.bincount(self.entry_item, minlength=len(self.benchmark))
        for i, bench in enumerate(self.benchmark):
            row = out.setdefault(
                bench, {"items": 0, "indexed": 0, "whole_item": 0, "paired": 0, "too_short": 0, "entries": 0}
            )
            row["items"] += 1
            n, length = int(self.item_n[i]), int(self.item_words[i])
            row["entries"] += int(per_item[i])
            if n == 0:
                row["too_short"] += 1
            elif per_item[i]:
                row["indexed"] += 1
                row["whole_item"] += int(length < self.config.min_ngram)
                row["paired"] += int(self.item_gap[i] >= 0)
        return out

    # -- storage -----------------------------------------------------------------------------------------------
    def tables(self) -> tuple[pa.Table, pa.Table]:
        """(entries, items) as Arrow tables, for a global step's scratch folder."""
        entries = pa.table(
            {
                "key": pa.array(self.keys, pa.uint64()),
                "item": pa.array(self.entry_item, pa.int32()),
                "n": pa.array(self.entry_n, pa.int16()),
                "kind": pa.array(self.entry_kind, pa.int8()),
            }
        )
        items = pa.table(
            {
                "benchmark": self.benchmark,
                "id": self.item_id,
                "n": self.item_n,
                "words": self.item_words,
                "gap": self.item_gap,
            }
        )
        return entries, items

    @classmethod
    def from_tables(cls, entries: pa.Table, items: pa.Table, config: IndexConfig) -> NgramIndex:
        col = lambda t, c: t.column(c).to_numpy()  # noqa: E731
        return cls(
            col(entries, "key"),
            col(entries, "item"),
            col(entries, "n"),
            col(entries, "kind"),
            items.column("benchmark").to_pylist(),
            items.column("id").to_pylist(),
            col(items, "n"),
            col(items, "words"),
            col(items, "gap"),
            config,
        )

    # -- lookup ------------------------------------------------------------------------------------------------
    def sizes(self) -> np.ndarray:
        return np.unique(self.entry_n).astype(np.int64)

    def _bits(self) -> tuple[np.ndarray, int]:
        if self._filter is None:
            bits = int(min(29, max(16, math.ceil(math.log2(max(1, len(self.keys)) * 8)))))  # <= 512 MB
            self._filter_shift = 64 - bits
            filt = np.zeros(1 << bits, dtype=bool)
            filt[(self.keys >> _U64(self._filter_shift)).astype(np.int64)] = True
            self._filter = filt
        return self._filter, self._filter_shift

    def _run_end(self) -> np.ndarray:
        """For each entry: one past the last entry with the same key."""
        if self._ends is None:
            starts = np.flatnonzero(np.r_[True, self.keys[1:] != self.keys[:-1]])
            self._ends = np.repeat(np.r_[starts[1:], len(self.keys)], np.diff(np.r_[starts, len(self.keys)]))
        return self._ends

    def match(self, w: Words) -> Matches:
        """Every item found in the documents of ``w``: an n-gram of its text, or its whole query followed by its
        whole gold within the item's gap."""
        if not len(self.keys):
            return _empty_matches()
        hits = self._hits(w)
        direct = hits[3] == TEXT
        found = [Matches(hits[0][direct], hits[1][direct], hits[2][direct], self.entry_n_of(hits, direct))]
        found.append(self._pairs(hits))
        return Matches(*(np.concatenate([getattr(m, f) for m in found]) for f in ("doc", "item", "start", "length")))

    @staticmethod
    def entry_n_of(hits: tuple[np.ndarray, ...], mask: np.ndarray) -> np.ndarray:
        return hits[4][mask]

    def _hits(self, w: Words) -> tuple[np.ndarray, ...]:
        """(doc, item, start word within the doc, kind, n) of every index entry found."""
        filt, shift = self._bits()
        out: list[tuple[np.ndarray, ...]] = []
        for grams in ngrams(w, self.sizes()):
            cand = np.flatnonzero(filt[(grams.keys >> _U64(shift)).astype(np.int64)])
            if not len(cand):
                continue
            cand = cand[np.argsort(grams.keys[cand], kind="stable")]  # sorted queries: cache-friendly search
            q = grams.keys[cand]
            lo = np.minimum(np.searchsorted(self.keys, q, "left"), len(self.keys) - 1)
            hit = self.keys[lo] == q
            hi = self._run_end()[lo]
            if not hit.any():
                continue
            cand, lo, hi = cand[hit], lo[hit], hi[hit]
            reps = hi - lo
            entry = np.repeat(lo - np.cumsum(np.r_[0, reps[:-1]]), reps) + np.arange(int(reps.sum()))
            at = np.repeat(cand, reps)
            keep = self.entry_n[entry] == grams.n
            entry, at = entry[keep], at[keep]
            doc = grams.text[at]
            out.append(
                (
                    doc,
                    self.entry_item[entry].astype(np.int64),
                    grams.start[at] - w.offsets[doc],
                    self.entry_kind[entry],
                    np.full(len(entry), grams.n, np.int64),
                )
            )
        if not out:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty, empty, empty
        return tuple(np.concatenate([o[k] for o in out]) for k in range(5))

    def _pairs(self, hits: tuple[np.ndarray, ...]) -> Matches:
        """Query hits followed, within the item's gap, by a gold hit of the same item in the same document."""
        doc, item, start, kind, n = hits
        is_q, is_g = kind == QUERY, kind == GOLD
        if not is_q.any() or not is_g.any():
            return _empty_matches()
        pair_id, inverse = np.unique(np.stack([doc, item]), axis=1, return_inverse=True)
        inverse = inverse.reshape(-1).astype(np.int64)
        q_end = start + n
        q_key = np.sort((inverse[is_q] << 32) | q_end[is_q])
        g_key = (inverse[is_g] << 32) | start[is_g]
        at = np.searchsorted(q_key, g_key, "right") - 1  # the last query ending at or before the gold's start
        ok = at >= 0
        at = np.maximum(at, 0)
        q_pair, q_end_at = q_key[at] >> 32, q_key[at] & 0xFFFFFFFF
        gap = start[is_g] - q_end_at
        g_item = item[is_g]
        ok &= (q_pair == inverse[is_g]) & (gap <= self.item_gap[g_item])
        q_len = n[is_q]  # every query hit of an item has the same length
        q_len_of = np.zeros(len(self.item_id), np.int64)
        q_len_of[item[is_q]] = q_len
        g_start = start[is_g][ok]
        first = q_end_at[ok] - q_len_of[g_item[ok]]
        return Matches(doc[is_g][ok], g_item[ok], first, g_start + n[is_g][ok] - first)


def _text_entries(w: Words, item_n: np.ndarray, letters: np.ndarray, min_letter_words: int):
    """Text n-grams of each item (of its own n), except those with fewer than ``min_letter_words`` distinct words
    holding a letter."""
    for grams in ngrams(w, np.unique(item_n[item_n > 0])):
        keep = item_n[grams.text] == grams.n
        keep &= distinct_letter_words(w, letters, grams) >= min(min_letter_words, grams.n)
        yield (grams.keys[keep], grams.text[keep], np.full(int(keep.sum()), grams.n), np.full(int(keep.sum()), TEXT))


def _pair_entries(items: list[Item], item_n: np.ndarray, config: IndexConfig, gap: np.ndarray) -> list[tuple]:
    """Whole-query and whole-gold keys of items whose query and gold are both shorter than the item's n (no n-gram
    lies inside either, so labels or answer options printed between them hide the item from text n-grams). The gap
    allowed between them: ``pair_gap`` words plus the other answer options with a label word each."""
    candidates = [i for i, it in enumerate(items) if it.query and it.gold and item_n[i] > 0]
    if not candidates:
        return []
    qw = words([items[i].query for i in candidates])
    gw = words([items[i].gold for i in candidates])
    q_len, g_len = np.diff(qw.offsets), np.diff(gw.offsets)
    n = item_n[candidates]
    paired = (q_len > 0) & (g_len > 0) & (q_len < n) & (g_len < n)
    out = []
    for seg_words, seg_len, kind in ((qw, q_len, QUERY), (gw, g_len, GOLD)):
        for grams in ngrams(seg_words, np.unique(seg_len[paired])):
            whole = (grams.start == seg_words.offsets[grams.text]) & (seg_len[grams.text] == grams.n)
            whole &= paired[grams.text]
            idx = np.array(candidates, np.int64)[grams.text[whole]]
            out.append((grams.keys[whole], idx, np.full(len(idx), grams.n), np.full(len(idx), kind)))
    for j in np.flatnonzero(paired):
        it = items[candidates[j]]
        others = [c for c in it.choices if c != it.gold]
        other_words = int(np.diff(words(others).offsets).sum()) if others else 0
        gap[candidates[j]] = config.pair_gap + other_words + len(others)
    return out

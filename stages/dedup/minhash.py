"""MinHash signatures and LSH band keys, vectorised with numpy.

A signature is the minimum over a document's shingle hashes of ``K`` hash functions ``h_i(x) = a_i * x + b_i``
modulo 2^64 (``a_i`` odd, so each ``h_i`` is a permutation of the 64-bit space; the shingle hashes are already
splitmix-mixed, so the permutations see uniform inputs). The work is laid out for the cache: documents go in
chunks of a few hundred, and for each of the ``K`` functions one multiply-add pass over the chunk's shingles is
followed by ``np.minimum.reduceat`` over document boundaries — about 1 ns per shingle and function, no Python per
document. The ``a_i, b_i`` come from a pure-Python splitmix64 stream of ``seed``: identical on every machine.

Bands follow Broder / Leskovec et al. (Mining of Massive Datasets, ch. 3): ``b`` bands of ``r`` rows, a pair of
Jaccard ``s`` shares a band key with probability ``1 - (1 - s^r)^b``. The default 14 x 8 is FineWeb's (threshold
about (1/14)^(1/8) = 0.72); :func:`optimal_bands` derives ``b x r`` from a target threshold as datasketch does.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa

from curate.stages.dedup.text import (
    normalize,
    shingle_hashes,
    splitmix64,
    splitmix_sequence,
    unicode_normalize,
    word_hashes,
)

_U64 = np.uint64
EMPTY = np.iinfo(np.uint64).max
#: documents per cache-resident chunk when computing signatures
_CHUNK_DOCS = 256


@lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` coefficients of ``num_perm`` hash functions (``a`` odd), from ``seed``."""
    values = splitmix_sequence(seed, 2 * num_perm)
    a = np.array([v | 1 for v in values[:num_perm]], dtype=_U64)
    b = np.array(values[num_perm:], dtype=_U64)
    return a, b


def signatures_from_shingles(shingles: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """``(docs, num_perm)`` uint64 MinHash signatures; a document without shingles gets all ``EMPTY``."""
    a, b = permutations(num_perm, seed)
    n_docs = len(offsets) - 1
    sig = np.full((n_docs, num_perm), EMPTY, dtype=_U64)
    counts = np.diff(offsets)
    for lo in range(0, n_docs, _CHUNK_DOCS):
        hi = min(lo + _CHUNK_DOCS, n_docs)
        docs = np.flatnonzero(counts[lo:hi] > 0) + lo
        if len(docs) == 0:
            continue
        s0, s1 = int(offsets[lo]), int(offsets[hi])
        chunk = shingles[s0:s1]
        starts = offsets[docs] - s0
        tmp = np.empty_like(chunk)
        out = np.empty((num_perm, len(docs)), dtype=_U64)
        for i in range(num_perm):
            np.multiply(chunk, a[i], out=tmp)
            np.add(tmp, b[i], out=tmp)
            np.minimum.reduceat(tmp, starts, out=out[i])
        sig[docs] = out.T
    return sig


def text_shingles(
    texts: pa.Array | pa.ChunkedArray, ngram: int, unicode: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Normalise, split and hash ``texts`` into word ``ngram`` shingle hashes: ``(hashes, offsets)``. With
    ``unicode``, format characters are dropped and NFKC applied before FineWeb's normalisation
    (:func:`~curate.stages.dedup.text.unicode_normalize`)."""
    return shingle_hashes(word_hashes(normalize(unicode_normalize(texts) if unicode else texts)), ngram)


def signatures(
    texts: pa.Array | pa.ChunkedArray,
    num_perm: int = 112,
    ngram: int = 5,
    seed: int = 1,
    max_chunk_bytes: int = 8 << 20,
    unicode: bool = False,
) -> np.ndarray:
    """MinHash signatures of a string array (FineWeb normalisation, preceded by NFKC and format-character removal
    when ``unicode`` is set; word ``ngram`` shingles)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks() if texts.num_chunks != 1 else texts.chunk(0)
    n = len(texts)
    out = np.empty((n, num_perm), dtype=_U64)
    # keep the per-byte temporaries small: split very large batches by text bytes
    lengths = np.asarray(
        pa.compute.binary_length(pa.compute.fill_null(texts, "")).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    lo = 0
    while lo < n:
        csum = np.cumsum(lengths[lo:])
        hi = lo + max(1, int(np.searchsorted(csum, max_chunk_bytes, side="right")))
        shingles, offsets = text_shingles(texts.slice(lo, hi - lo), ngram, unicode)
        out[lo:hi] = signatures_from_shingles(shingles, offsets, num_perm, seed)
        lo = hi
    return out


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(docs, bands)`` uint64 keys: band ``j`` of a signature hashed (with ``j``) to one 64-bit value."""
    n, k = sig.shape
    if bands * rows > k:
        raise ValueError(f"bands x rows = {bands * rows} needs at least that many permutations, have {k}")
    keys = np.empty((n, bands), dtype=_U64)
    for j in range(bands):
        acc = np.full(n, (j * 0x9E3779B97F4A7C15 + rows) & 0xFFFFFFFFFFFFFFFF, dtype=_U64)
        for r in range(rows):
            acc = splitmix64(acc ^ sig[:, j * rows + r])
        keys[:, j] = acc
    return keys


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of paired signatures (row-wise fraction of equal values)."""
    return (sig_a == sig_b).mean(axis=-1)


def partition_of(keys: np.ndarray, partitions: int) -> np.ndarray:
    """Range partition of 64-bit keys: partition ``p`` holds the keys whose top 32 bits are in the ``p``-th of
    ``partitions`` equal slices of [0, 2^32). Ranges (not modulo) let an index written with another partition
    count be read by overlapping ranges."""
    return partition_of_top32((keys >> _U64(32)).astype(np.int64), partitions)


def partition_of_top32(top32: np.ndarray, partitions: int) -> np.ndarray:
    """:func:`partition_of` for keys already reduced to their top 32 bits (any key type: integers, digests)."""
    return (top32 * partitions) >> 32


def partition_range(p: int, partitions: int) -> tuple[int, int]:
    """The ``[lo, hi)`` range of top-32-bit values of partition ``p`` of ``partitions``."""
    lo = -((-p << 32) // partitions)  # ceil(p * 2^32 / P)
    hi = -((-(p + 1) << 32) // partitions)
    return lo, hi


def collision_probability(s: float, bands: int, rows: int) -> float:
    return 1.0 - (1.0 - s**rows) ** bands


def optimal_bands(threshold: float, num_perm: int, false_positive_weight: float = 0.5) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands * rows <= num_perm`` minimising the weighted false positive and negative
    areas around ``threshold`` (datasketch's ``_optimal_param``), integrated numerically."""
    xs_lo = np.linspace(0.0, threshold, 200)
    xs_hi = np.linspace(threshold, 1.0, 200)
    best, best_err = (1, 1), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = np.trapezoid(1 - (1 - xs_lo**r) ** b, xs_lo)
            fn = np.trapezoid((1 - xs_hi**r) ** b, xs_hi)
            err = false_positive_weight * fp + (1 - false_positive_weight) * fn
            if err < best_err:
                best, best_err = (b, r), err
    return best

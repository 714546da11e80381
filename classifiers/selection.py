"""Keep rules shared by the classifier steps: threshold, and NeMo Curator's stochastic Pareto keep.

The stochastic rule is NeMo Curator's ``FastTextQualityFilter``: keep a document when a Pareto(alpha) draw exceeds
``1 - score`` (alpha = 3 by default there), so high scores are almost always kept and low scores sometimes. NeMo
draws from ``np.random``; here the draw is a hash of (seed, document id), so a rerun, a resumed run or a different
shard layout keeps exactly the same documents.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xxhash


def hash_uniform(ids: Sequence[str | None], seed: int = 0) -> np.ndarray:
    """A uniform number in [0, 1) per id, a pure function of (seed, id)."""
    out = np.fromiter((xxhash.xxh64_intdigest((i or "").encode(), seed) for i in ids), dtype=np.uint64, count=len(ids))
    return (out >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def pareto_keep(ids: Sequence[str | None], scores: np.ndarray, alpha: float = 3.0, seed: int = 0) -> np.ndarray:
    """NeMo Curator's rule ``np.random.pareto(alpha) > 1 - score``, with the draw made by inverse CDF from a hashed
    uniform (numpy's ``pareto`` is the Lomax distribution: ``(1 - u) ** (-1 / alpha) - 1``)."""
    u = hash_uniform(ids, seed)
    draw = (1.0 - u) ** (-1.0 / alpha) - 1.0
    return draw > 1.0 - np.asarray(scores, dtype=np.float64)

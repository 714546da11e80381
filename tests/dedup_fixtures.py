"""Real-text corpora with planted duplicates for the dedup tests, and a MinhashDedup that dies mid-phase."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pyarrow as pa

from curate.stages.dedup.steps import MinhashDedup

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HPLT = SHARED / "quality_labels" / "hplt_v2_inspection" / "hplt_v2_annotated.jsonl"


def real_docs(n: int, min_words: int = 80, max_chars: int = 4000) -> list[str]:
    """``n`` distinct real web documents (HPLT v2 inspection set, many languages) of at least ``min_words``."""
    out, seen = [], set()
    with open(HPLT, encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["text"][:max_chars]
            if len(text.split()) >= min_words and text not in seen:
                seen.add(text)
                out.append(text)
            if len(out) == n:
                break
    return out


def near_duplicate(text: str, rng: random.Random, edits: float) -> str:
    """A variant of ``text`` with a fraction ``edits`` of its words substituted, deleted or inserted."""
    words = text.split()
    out = []
    for w in words:
        r = rng.random()
        if r < edits / 3:
            out.append(f"x{rng.randrange(10**6)}y")
        elif r < 2 * edits / 3:
            continue
        elif r < edits:
            out += [w, f"q{rng.randrange(10**6)}z"]
        else:
            out.append(w)
    return " ".join(out)


def table_of(texts: list[str], ids: list[str], **extra: list) -> pa.Table:
    n = len(texts)
    cols = {"id": ids, "text": texts, "url": [f"https://site{i % 97}.example/{i}" for i in range(n)],
            "date": ["2024-01-01"] * n, "source": ["test"] * n}
    cols.update(extra)
    return pa.table(cols)


class DyingMinhashDedup(MinhashDedup):
    """MinhashDedup whose process dies (os._exit) right after the bucket files of ``die_after`` shards are
    written, once: a deterministic kill in the middle of the bucket phase."""

    name = "dying_minhash_dedup"

    class Params(MinhashDedup.Params):
        die_marker: str = ""
        die_after: int = 2

    def _signatures(self, ctx, shard):
        result = super()._signatures(ctx, shard)
        marker = self.params.die_marker
        if marker and not os.path.exists(marker):
            done = len({rel.split("/")[-1] for rel in ctx.list_work("buckets")})
            if done >= self.params.die_after:
                open(marker, "w").close()
                os._exit(9)
        return result

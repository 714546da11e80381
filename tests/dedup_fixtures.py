"""Real-text corpora with planted duplicates for the dedup tests, a MinhashDedup that dies mid-phase, and running
such a dying global step in a subprocess (the kill-then-resume tests of every dedup step)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
from conftest import shared_data

from curate.stages.dedup.steps import MinhashDedup

HPLT = ("quality_labels", "hplt_v2_inspection", "hplt_v2_annotated.jsonl")


def real_docs(n: int, min_words: int = 80, max_chars: int = 4000) -> list[str]:
    """``n`` distinct real web documents (HPLT v2 inspection set, many languages) of at least ``min_words``."""
    out, seen = [], set()
    with open(shared_data(*HPLT), encoding="utf-8") as f:
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
    cols = {
        "id": ids,
        "text": texts,
        "url": [f"https://site{i % 97}.example/{i}" for i in range(n)],
        "date": ["2024-01-01"] * n,
        "source": ["test"] * n,
    }
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


TESTS = Path(__file__).resolve().parent
_RUN_DYING = """
import json, sys
from curate.executors.local import LocalExecutor
from curate.io import discover_inputs
from curate.plan import StepSpec
from curate.registry import resolve
inputs, out, marker, plugin, key, params = sys.argv[1:7]
spec = StepSpec(key, 0, resolve(plugin), {**json.loads(params), "die_marker": marker}, {"keep_rejected": True})
from curate.runner import run_steps
run_steps([spec], discover_inputs([inputs]), out, LocalExecutor())
"""


def run_dying(plugin: str, key: str, params: dict, inputs: Path, out: Path, marker: Path, timeout: float = 120) -> int:
    """Run the global step ``plugin`` (``module:Class``, a subclass that dies once unless ``marker`` exists) over
    ``inputs`` into ``out`` in a subprocess; its exit code (9 when it died)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    args = [str(inputs), str(out), str(marker), plugin, key, json.dumps(params)]
    return subprocess.run(
        [sys.executable, "-c", _RUN_DYING, *args], env=env, capture_output=True, text=True, timeout=timeout
    ).returncode


def parquet_outputs(out: Path) -> dict[str, bytes]:
    """Every Parquet file of a run outside scratch, by relative path (to compare runs byte for byte)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet")) if "_work" not in p.parts}

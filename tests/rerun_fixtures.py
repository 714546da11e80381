"""Steps and corpora for the rerun-in-place tests: real documents with planted copies, and global steps whose
process dies in a chosen phase (loaded as plugins: ``rerun_fixtures:DyingMinhash``)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from dedup_fixtures import near_duplicate, real_docs
from pydantic import Field

from curate.stage import Phase
from curate.stages.dedup.steps import MinhashDedup

COPY_WORD = "mirrorcopy"


def planted_corpus(
    folder: Path, unique: int = 240, copies: int = 60, near: int = 30, shards: int = 4, seed: int = 0
) -> list[Path]:
    """``unique`` real documents plus ``copies`` exact copies (URLs containing :data:`COPY_WORD`) and ``near``
    near-copies, shuffled over ``shards`` Parquet files. Each document's id is unique."""
    docs = real_docs(unique)
    rng = random.Random(seed)
    rows = [{"id": f"doc-{i}", "text": t, "url": f"https://site{i % 31}.example/page/{i}"} for i, t in enumerate(docs)]
    for j in range(copies):
        i = rng.randrange(unique)
        rows.append({"id": f"copy-{j}", "text": docs[i], "url": f"https://{COPY_WORD}.s{j % 7}.example/{i}"})
    for j in range(near):
        i = rng.randrange(unique)
        rows.append(
            {"id": f"near-{j}", "text": near_duplicate(docs[i], rng, 0.02), "url": f"https://near{j % 5}.example/{i}"}
        )
    rng.shuffle(rows)
    for i, row in enumerate(rows):
        row["date"] = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in range(shards):
        path = folder / f"part-{s}.parquet"
        pq.write_table(pa.Table.from_pylist(rows[s::shards]), path)
        paths.append(path)
    return paths


class _Dying:
    """Dies (``os._exit(9)``, as a SIGKILL would) inside phase ``die_phase`` once ``die_after`` of its units have
    run in this process, unless ``die_marker`` exists; creates it first, so only the first run dies."""

    def phases(self) -> list[Phase]:
        return [Phase(p.name, p.over, self._maybe_die(p), p.partitions) for p in super().phases()]

    def _maybe_die(self, phase: Phase):
        def run(ctx, unit):
            result = phase.run(ctx, unit)
            params = self.params
            if phase.name == params.die_phase and params.die_marker and not os.path.exists(params.die_marker):
                counter = Path(params.die_marker + ".units")
                done = (int(counter.read_text()) if counter.exists() else 0) + 1
                counter.write_text(str(done))
                if done >= params.die_after:
                    Path(params.die_marker).touch()
                    os._exit(9)
            return result

        return run


class DyingMinhash(_Dying, MinhashDedup):
    name = "dying_minhash"

    class Params(MinhashDedup.Params):
        die_phase: str = Field("", description="phase to die in")
        die_after: int = Field(1, description="units of that phase run before dying")
        die_marker: str = Field("", description="file created when dying; its presence stops the dying")

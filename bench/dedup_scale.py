"""Full near-duplicate dedup at 100k, 300k and 1M documents of ~2 KB: time and peak memory side by side.

The corpus is synthetic but made of real text: sentences of 20 languages from ../shared/data/langid/lingua_testdata
recombined into ~2 KB documents (one language per document), with 10% planted near-duplicates (1% of words
edited). It is written as Parquet shards of ``--shard-docs`` documents; then ``minhash_dedup`` runs through the
engine (``run_steps``, local executor, one process) in a fresh subprocess per size, so peak RSS is per size. All
phases are included: signatures -> buckets -> candidates -> components -> cluster keys -> groups -> emit.

Usage: .venv/bin/python bench/dedup_scale.py [--sizes 100000,300000,1000000] [--partitions 16] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "langid" / "lingua_testdata" / "sentences"
LANGS = [
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "nl",
    "pl",
    "ru",
    "sv",
    "cs",
    "tr",
    "fi",
    "da",
    "hu",
    "ro",
    "id",
    "vi",
    "uk",
    "el",
]


def write_corpus(folder: Path, n: int, shard_docs: int, seed: int = 0) -> None:
    if (folder / "_complete").exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    pools = [(DATA / f"{lang}.txt").read_text(encoding="utf-8").splitlines() for lang in LANGS]
    rng = random.Random(seed)
    made: list[str] = []
    for s in range(0, n, shard_docs):
        texts, ids = [], []
        for i in range(s, min(n, s + shard_docs)):
            if made and rng.random() < 0.1:
                words = rng.choice(made[-5000:]).split()
                for _ in range(max(1, len(words) // 100)):
                    words[rng.randrange(len(words))] = f"w{rng.randrange(10**6)}"
                text = " ".join(words)
            else:
                pool = rng.choice(pools)
                parts, size = [], 0
                while size < 2000:
                    sentence = rng.choice(pool)
                    parts.append(sentence)
                    size += len(sentence.encode()) + 1
                text = " ".join(parts)
                made.append(text)
            texts.append(text)
            ids.append(f"doc{i:08d}")
        table = pa.table(
            {
                "id": ids,
                "text": texts,
                "url": [f"https://example.org/{i}" for i in ids],
                "date": ["2024-01-01"] * len(ids),
                "source": ["bench"] * len(ids),
            }
        )
        pq.write_table(table, folder / f"part-{s // shard_docs:05d}.parquet")
    (folder / "_complete").touch()


def peak_rss_gib() -> float:
    """This process's peak RSS. VmHWM (Linux) is reset by exec; ru_maxrss is not (it would report the parent's
    peak from building the corpus), so it is only the fallback."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def run_one(inputs: str, out: str, partitions: int) -> None:
    from curate.executors.local import LocalExecutor
    from curate.io import discover_inputs
    from curate.plan import StepSpec
    from curate.runner import run_steps
    from curate.stages.dedup import MinhashDedup

    shutil.rmtree(out, ignore_errors=True)
    spec = StepSpec("minhash_dedup", 0, MinhashDedup, {"partitions": partitions}, {})
    t = time.perf_counter()
    result = run_steps([spec], discover_inputs([inputs + "/*.parquet"]), out, LocalExecutor())
    secs = time.perf_counter() - t
    stats = result.step_stats(spec.key)
    peak = peak_rss_gib()
    print(json.dumps({"secs": secs, "peak_gb": peak, "docs_out": stats.docs_out, "removed": stats.removed}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,300000,1000000")
    ap.add_argument("--shard-docs", type=int, default=25000)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--workdir", default="/tmp/curate-dedup-scale")
    ap.add_argument("--keep", action="store_true", help="keep the outputs")
    ap.add_argument("--run-one", nargs=2, metavar=("INPUTS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_one:
        run_one(args.run_one[0], args.run_one[1], args.partitions)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(args.workdir)
    rows = {}
    for n in sizes:
        corpus = work / f"corpus-{n}"
        t = time.perf_counter()
        write_corpus(corpus, n, args.shard_docs)
        print(f"{n:>8} docs: corpus ready in {time.perf_counter() - t:.0f} s", flush=True)
        out = work / f"out-{n}"
        proc = subprocess.run(
            [sys.executable, __file__, "--partitions", str(args.partitions), "--run-one", str(corpus), str(out)],
            capture_output=True,
            text=True,
            env=os.environ,
        )
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-3000:])
        rows[n] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = rows[n]
        print(
            f"{n:>8} docs: {r['secs']:8.1f} s  {n / r['secs']:8.0f} docs/s  peak {r['peak_gb']:.2f} GiB  "
            f"kept {r['docs_out']}  removed {r['removed']}",
            flush=True,
        )
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    first, last = sizes[0], sizes[-1]
    growth = rows[last]["secs"] / rows[first]["secs"]
    print(f"{'docs':>8} {'secs':>8} {'docs/s':>8} {'peak GiB':>9}")
    for n in sizes:
        print(f"{n:>8} {rows[n]['secs']:8.1f} {n / rows[n]['secs']:8.0f} {rows[n]['peak_gb']:9.2f}")
    names = {100000: "100k", 300000: "300k", 1000000: "1m"}
    parts = " ".join(f"secs_{names.get(n, str(n))}={rows[n]['secs']:.1f}" for n in sizes)
    peak = max(r["peak_gb"] for r in rows.values())
    print(f"RESULT dedup_scale {parts} growth={growth:.2f} peak_gb={peak:.2f}")


if __name__ == "__main__":
    main()

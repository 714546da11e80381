"""Semantic dedup (``semantic_dedup``, SemDeDup) quality on the Clough–Stevenson corpus and throughput of the whole
step on CPU.

1. Clough–Stevenson (../shared/data/dedup/clough_stevenson_plagiarism_corpus): 5 Wikipedia source texts and 95
   short answers graded near-copy (cut), light revision, heavy revision, or not copied (non: written from the
   student's own knowledge of the same topic). The step runs on the 100 texts (all-MiniLM-L6-v2, the default
   encoder). An answer is *grouped with its source* when the step's output puts them in one duplicate group: both
   lead to the same kept document (a removed document's ``semantic_duplicate_of``, a kept one's own id).
   heavy_recall / light_recall = share of heavy / light answers grouped with their source; noncopy_fp = share of
   not-copied answers grouped with their source (wrongly: they are the same topic, not the same text). Printed
   for several ``eps``, with the pairwise view too (answer-source cosine above 1 - eps) and MinHash's grouping
   (``minhash_dedup``, FineWeb's setting) beside it; the RESULT line uses ``--eps``.
2. Throughput: ``--docs`` documents (default 100,000) of real text through the engine (``run_steps``, local
   executor, one process: embed -> kmeans -> assign -> dedup -> emit) on CPU; docs_per_s_cpu = documents / wall
   seconds of the whole step, docs_per_cpu_s = documents / CPU seconds of this process over the same span (user +
   system, all its threads: the tokenizer's and torch's; children too). On a machine shared with other work the
   wall figure falls with the load while the CPU figure mostly does not (what the step costs, not what it got), so
   quote both; run timing runs under ``nice -n 19 flock /tmp/curate-bench.lock`` on a shared machine.
   ../shared/data holds no 100k-document web corpus, so the corpus concatenates every real text source with a
   ``text`` field there is (:data:`REAL_SOURCES`, read from ../shared/data at run time:
   4,772 non-empty HPLT v2 web documents in 22 languages, the decontamination web corpus (673), GSM8K (8,792),
   PIQA (4,922), MBPP (974) and HumanEval (164) items: 20,297 texts, in that order, so ``--docs 20000`` is real
   texts only) and fills the rest with bench/dedup_scale.py's documents (real sentences of 20 languages from
   ../shared/data/langid/lingua_testdata recombined into ~2 KB documents) and, 10% of the filling, near-copies
   (1% of the words replaced) of an earlier document; shuffled, in 25k-document Parquet shards under
   ``--workdir``. ``--max-length`` sets the tokens embedded per document (the step's default is the model's
   256; CPU time is about linear in it). ``--dtype`` is the step's (auto: bf16 on CPUs with AMX, else fp32).

Usage: .venv/bin/python bench/semantic_dedup.py [--eps 0.1] [--docs 100000] [--max-length 128] [--skip-quality]
    [--skip-throughput]  (``--docs 2000 --skip-quality`` is a CI-sized run)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _shared import cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CLOUGH = DATA / "dedup" / "clough_stevenson_plagiarism_corpus"
#: JSONL files of real texts (a "text" field) under ../shared/data: the real part of the throughput corpus
REAL_SOURCES = (
    "quality_labels/hplt_v2_inspection/hplt_v2_annotated.jsonl",
    "benchmarks/corpus/docs.jsonl",
    "benchmarks/negatives/gsm8k_train.jsonl",
    "benchmarks/benchmarks/gsm8k_test.jsonl",
    "benchmarks/negatives/piqa_test.jsonl",
    "benchmarks/benchmarks/piqa_validation.jsonl",
    "benchmarks/negatives/mbpp_nontest.jsonl",
    "benchmarks/benchmarks/mbpp_test.jsonl",
    "benchmarks/benchmarks/humaneval.jsonl",
)


def clough() -> tuple[pa.Table, dict[str, tuple[str, str]]]:
    rows = [
        r for r in csv.DictReader(open(CLOUGH / "file_information.csv", encoding="utf-8")) if r["Category"] != "orig"
    ]
    ids = [f"orig_task{t}" for t in "abcde"] + [r["File"][:-4] for r in rows]
    texts = [(CLOUGH / f"{i}.txt").read_text(encoding="latin-1") for i in ids]
    return pa.table({"id": ids, "text": texts}), {r["File"][:-4]: (r["Task"], r["Category"]) for r in rows}


def grouped_shares(groups: dict[str, str], answers: dict[str, tuple[str, str]]) -> dict[str, float]:
    """Share of each category's answers whose group is their source's group."""
    hits: dict[str, list[bool]] = {}
    for doc, (task, category) in answers.items():
        hits.setdefault(category, []).append(groups[doc] == groups[f"orig_task{task}"])
    return {c: float(np.mean(v)) for c, v in hits.items()}


def semantic_groups(table: pa.Table, eps: float, max_length: int | None, dtype: str = "auto") -> dict[str, str]:
    from curate.stages.dedup import SemanticDedup

    out = SemanticDedup(eps=eps, max_length=max_length, dtype=dtype).run_table(table)
    rows = out.kept.to_pylist() + (out.rejected.to_pylist() if out.rejected is not None else [])
    return {r["id"]: r["semantic_duplicate_of"] or r["id"] for r in rows}


def minhash_groups(table: pa.Table) -> dict[str, str]:
    from curate.stages.dedup import MinhashDedup

    out = MinhashDedup().run_table(table)
    rows = out.kept.to_pylist() + (out.rejected.to_pylist() if out.rejected is not None else [])
    return {r["id"]: r["cluster_id"] for r in rows}


def pairwise_shares(
    table: pa.Table, answers: dict[str, tuple[str, str]], eps: float, max_length: int | None, dtype: str = "auto"
) -> dict[str, float]:
    from curate.stages.dedup import SemanticDedup

    step = SemanticDedup(max_length=max_length, dtype=dtype)
    vectors = dict(zip(table.column("id").to_pylist(), step.embed(table.column("text").to_pylist()), strict=True))
    hits: dict[str, list[bool]] = {}
    for doc, (task, category) in answers.items():
        hits.setdefault(category, []).append(float(vectors[doc] @ vectors[f"orig_task{task}"]) > 1 - eps)
    return {c: float(np.mean(v)) for c, v in hits.items()}


def write_corpus(folder: Path, n: int, shard_docs: int = 25_000, seed: int = 0) -> dict[str, int]:
    """``n`` documents: every real text of :data:`REAL_SOURCES` (up to ``n``), then dedup_scale's recombined real
    sentences, 10% near-copies of an earlier document; shuffled. Returns documents per source."""
    sys.path.insert(0, str(ROOT / "bench"))
    from dedup_scale import DATA as SENTENCES
    from dedup_scale import LANGS

    done = folder / "_complete"
    if done.exists():
        return json.loads(done.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    texts: list[str] = []
    counts: dict[str, int] = {}
    for source in REAL_SOURCES:
        with open(DATA / source, encoding="utf-8") as f:
            found = [t for t in (json.loads(line).get("text") for line in f) if t and t.strip()]
        found = found[: max(0, n - len(texts))]
        counts[source] = len(found)
        texts += found
    pools = [(SENTENCES / f"{lang}.txt").read_text(encoding="utf-8").splitlines() for lang in LANGS]
    copies = made = 0
    while len(texts) < n:
        if rng.random() < 0.1:
            words = rng.choice(texts).split()
            for _ in range(max(1, len(words) // 100)):
                words[rng.randrange(len(words))] = f"w{rng.randrange(10**6)}"
            texts.append(" ".join(words))
            copies += 1
            continue
        pool, parts, size = rng.choice(pools), [], 0
        while size < 2000:
            parts.append(rng.choice(pool))
            size += len(parts[-1].encode()) + 1
        texts.append(" ".join(parts))
        made += 1
    counts["lingua sentences recombined"], counts["near-copies"] = made, copies
    rng.shuffle(texts)
    for s in range(0, n, shard_docs):
        chunk = texts[s : s + shard_docs]
        ids = [f"doc{i:08d}" for i in range(s, s + len(chunk))]
        pq.write_table(pa.table({"id": ids, "text": chunk}), folder / f"part-{s // shard_docs:05d}.parquet")
    done.write_text(json.dumps(counts))
    return counts


def throughput(docs: int, max_length: int | None, dtype: str, workdir: Path) -> tuple[float, dict]:
    from curate.executors.local import LocalExecutor
    from curate.io import discover_inputs
    from curate.plan import StepSpec
    from curate.runner import run_steps
    from curate.stages.dedup import SemanticDedup

    corpus = workdir / f"corpus-{docs}"
    counts = write_corpus(corpus, docs)
    print(f"corpus {corpus}: {docs} documents: " + ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
    out = workdir / "out"
    shutil.rmtree(out, ignore_errors=True)
    params = {"max_length": max_length, "device": "cpu", "dtype": dtype}
    spec = StepSpec("semantic_dedup", 0, SemanticDedup, params, {})
    load = os.getloadavg()[0]
    cpu = cpu_seconds()
    t = time.perf_counter()
    result = run_steps([spec], discover_inputs([str(corpus / "*.parquet")]), str(out), LocalExecutor())
    secs = time.perf_counter() - t
    cpu = cpu_seconds() - cpu
    phases: dict[str, list[float]] = {}  # phase -> [wall s, CPU s] summed over its units
    for marker in sorted((out / "semantic_dedup" / "_work").glob("*/_phases/*/*.json")):
        unit = json.loads(marker.read_text())
        total = phases.setdefault(marker.parent.name, [0.0, 0.0])
        total[0] += unit["wall_seconds"]
        total[1] += unit.get("cpu_seconds") or 0.0
    order = ("embed", "kmeans", "assign", "dedup", "emit")
    phases = dict(sorted(phases.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
    stats = result.step_stats(spec.key)
    load = (load + os.getloadavg()[0]) / 2
    return secs, {"phases": phases, "docs_out": stats.docs_out, "removed": stats.removed, "load": load, "cpu": cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eps", type=float, default=0.1, help="eps of the RESULT line (the step's default)")
    ap.add_argument("--sweep", default="0.05,0.1,0.15,0.2")
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--max-length", type=int, default=128, help="tokens per document in the throughput run")
    ap.add_argument(
        "--quality-max-length",
        type=int,
        default=None,
        help="tokens per document on Clough–Stevenson (default: the model's 256)",
    )
    ap.add_argument("--dtype", default="auto", help="the step's dtype (auto: bf16 on CPUs with AMX, else fp32)")
    ap.add_argument("--workdir", default="/tmp/curate-semantic-bench")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-quality", action="store_true", help="throughput only (RESULT recalls are nan)")
    args = ap.parse_args()
    if not CLOUGH.exists():
        raise SystemExit(f"{CLOUGH} not found: this benchmark reads ../shared/data")
    table, answers = clough()
    results = {args.eps: {c: float("nan") for c in ("heavy", "light", "non")}}
    sweep = [] if args.skip_quality else sorted({float(e) for e in args.sweep.split(",")} | {args.eps})
    if sweep:
        mh = grouped_shares(minhash_groups(table), answers)
        print(
            "minhash_dedup (FineWeb 14x8): grouped with source  "
            + "  ".join(f"{c} {v:.3f}" for c, v in sorted(mh.items()))
        )
    for eps in sweep:
        t = time.perf_counter()
        shares = grouped_shares(semantic_groups(table, eps, args.quality_max_length, args.dtype), answers)
        pairs = pairwise_shares(table, answers, eps, args.quality_max_length, args.dtype)
        results[eps] = shares
        print(
            f"semantic_dedup eps={eps:<5} grouped: "
            + "  ".join(f"{c} {v:.3f}" for c, v in sorted(shares.items()))
            + "   pairwise cos>1-eps: "
            + "  ".join(f"{c} {v:.3f}" for c, v in sorted(pairs.items()))
            + f"   ({time.perf_counter() - t:.1f} s)",
            flush=True,
        )
    chosen = results[args.eps]
    rate = cpu_rate = float("nan")
    if not args.skip_throughput:
        secs, info = throughput(args.docs, args.max_length, args.dtype, Path(args.workdir))
        rate, cpu_rate = args.docs / secs, args.docs / info["cpu"]
        print(
            f"throughput: {args.docs} docs in {secs:.1f} s = {rate:.1f} docs/s; {info['cpu']:.1f} CPU-s = "
            f"{cpu_rate:.1f} docs per CPU-second (CPU, max_length {args.max_length}, dtype {args.dtype}); "
            "phases (wall / CPU s): "
            + ", ".join(f"{k} {w:.1f}/{c:.1f}" for k, (w, c) in info["phases"].items())
            + f"; kept {info['docs_out']}, removed {info['removed']}; load average {info['load']:.1f} "
            f"on {os.cpu_count()} CPUs",
            flush=True,
        )
    print(
        f"RESULT semantic_dedup heavy_recall={chosen['heavy']:.3f} light_recall={chosen['light']:.3f} "
        f"noncopy_fp={chosen['non']:.3f} docs_per_s_cpu={rate:.1f} docs_per_cpu_s={cpu_rate:.1f}"
    )


if __name__ == "__main__":
    main()

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
2. Throughput: ``--docs`` documents (default 100,000) of real text — sentences of 20 languages from
   ../shared/data/langid/lingua_testdata recombined into ~2 KB documents with 10% near-copies, bench/dedup_scale.py's
   corpus — through the engine (``run_steps``, local executor, one process: embed -> kmeans -> assign -> dedup ->
   emit) on CPU; docs_per_s_cpu = documents / wall seconds of the whole step. ``--max-length`` sets the tokens
   embedded per document (the step's default is the model's 256; CPU time is about linear in it).

Usage: .venv/bin/python bench/semantic_dedup.py [--eps 0.1] [--docs 100000] [--max-length 128] [--skip-throughput]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
CLOUGH = ROOT.parent / "shared" / "data" / "dedup" / "clough_stevenson_plagiarism_corpus"


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


def semantic_groups(table: pa.Table, eps: float, max_length: int | None) -> dict[str, str]:
    from curate.stages.dedup import SemanticDedup

    out = SemanticDedup(eps=eps, max_length=max_length).run_table(table)
    rows = out.kept.to_pylist() + (out.rejected.to_pylist() if out.rejected is not None else [])
    return {r["id"]: r["semantic_duplicate_of"] or r["id"] for r in rows}


def minhash_groups(table: pa.Table) -> dict[str, str]:
    from curate.stages.dedup import MinhashDedup

    out = MinhashDedup().run_table(table)
    rows = out.kept.to_pylist() + (out.rejected.to_pylist() if out.rejected is not None else [])
    return {r["id"]: r["cluster_id"] for r in rows}


def pairwise_shares(
    table: pa.Table, answers: dict[str, tuple[str, str]], eps: float, max_length: int | None
) -> dict[str, float]:
    from curate.stages.dedup import SemanticDedup

    step = SemanticDedup(max_length=max_length)
    vectors = dict(zip(table.column("id").to_pylist(), step.embed(table.column("text").to_pylist()), strict=True))
    hits: dict[str, list[bool]] = {}
    for doc, (task, category) in answers.items():
        hits.setdefault(category, []).append(float(vectors[doc] @ vectors[f"orig_task{task}"]) > 1 - eps)
    return {c: float(np.mean(v)) for c, v in hits.items()}


def throughput(docs: int, max_length: int | None, workdir: Path) -> tuple[float, dict]:
    sys.path.insert(0, str(ROOT / "bench"))
    from dedup_scale import write_corpus

    from curate.executors.local import LocalExecutor
    from curate.io import discover_inputs
    from curate.plan import StepSpec
    from curate.runner import run_steps
    from curate.stages.dedup import SemanticDedup

    corpus = workdir / f"corpus-{docs}"
    write_corpus(corpus, docs, 25_000)
    out = workdir / "out"
    shutil.rmtree(out, ignore_errors=True)
    spec = StepSpec("semantic_dedup", 0, SemanticDedup, {"max_length": max_length, "device": "cpu"}, {})
    t = time.perf_counter()
    result = run_steps([spec], discover_inputs([str(corpus / "*.parquet")]), str(out), LocalExecutor())
    secs = time.perf_counter() - t
    phases: dict[str, float] = {}
    for marker in (out / "semantic_dedup" / "_work").glob("*/_phases/*/*.json"):
        phases[marker.parent.name] = (
            phases.get(marker.parent.name, 0.0) + json.loads(marker.read_text())["wall_seconds"]
        )
    stats = result.step_stats(spec.key)
    return secs, {"phases": phases, "docs_out": stats.docs_out, "removed": stats.removed}


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
    ap.add_argument("--workdir", default="/tmp/curate-semantic-bench")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    if not CLOUGH.exists():
        raise SystemExit(f"{CLOUGH} not found: this benchmark reads ../shared/data")
    table, answers = clough()
    mh = grouped_shares(minhash_groups(table), answers)
    print(
        "minhash_dedup (FineWeb 14x8): grouped with source  " + "  ".join(f"{c} {v:.3f}" for c, v in sorted(mh.items()))
    )
    results = {}
    for eps in sorted({float(e) for e in args.sweep.split(",")} | {args.eps}):
        t = time.perf_counter()
        shares = grouped_shares(semantic_groups(table, eps, args.quality_max_length), answers)
        pairs = pairwise_shares(table, answers, eps, args.quality_max_length)
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
    rate = float("nan")
    if not args.skip_throughput:
        secs, info = throughput(args.docs, args.max_length, Path(args.workdir))
        rate = args.docs / secs
        print(
            f"throughput: {args.docs} docs in {secs:.1f} s = {rate:.1f} docs/s (CPU, max_length "
            f"{args.max_length}); phases (wall s): "
            + ", ".join(f"{k} {v:.1f}" for k, v in info["phases"].items())
            + f"; kept {info['docs_out']}, removed {info['removed']}",
            flush=True,
        )
    print(
        f"RESULT semantic_dedup heavy_recall={chosen['heavy']:.3f} light_recall={chosen['light']:.3f} "
        f"noncopy_fp={chosen['non']:.3f} docs_per_s_cpu={rate:.1f}"
    )


if __name__ == "__main__":
    main()

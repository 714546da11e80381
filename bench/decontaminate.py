"""Decontamination quality and speed on real benchmark test sets and a web corpus with items planted as they appear
online (../shared/data/benchmarks: GSM8K, HumanEval, MBPP, PIQA; see its README), beside datatrove's n-gram
decontamination and a plain Python 13-gram set lookup, on the same input.

Figures (item level: a planted item counts as found when the document is flagged *with that item*):

* ``recall``: planted whole items (variants ``verbatim`` and ``reformatted``) found;
* ``recall_partial``: planted contiguous 50-80 % slices (``partial``, ``partial_reformatted``) found;
* ``precision``: flagged documents that hold a planted item, over all flagged documents (documents the ground truth
  marks ``ambiguous``, label-0 pages that legitimately share a 13-gram with a test item, are left out);
* ``fp_hard_negative`` / ``fp_clean``: share of hard-negative (same-topic, not from the benchmarks) and of clean
  pages flagged; question-only plantings are shown apart (``recall_question``);
* ``docs_per_s``: documents looked up per second on one core, the index built once beforehand (its build time is
  printed apart).

datatrove 0.10.1: ``NGramsDecontIndexer`` cannot run offline (its ``run`` imports lighteval and loads the task
datasets from the Hub; its constructor refuses without lighteval), so its index is built with the indexer's own
``compute_hashes`` (gold + query|gold overlap n-grams, its default ``NGramsDecontConfig``: 12-grams,
``simplify_text``) and written in its ``.index.hashes`` format; ``NGramsDecontFilter`` then runs unchanged. Its default
hash (xxhash64) raises ``TypeError: Strings must be encoded before hashing`` with the installed xxhash (datatrove
passes ``str``), so both sides use its other hash, ``HashConfig(hash_fc="sha1")``.

Usage: .venv/bin/python bench/decontaminate.py [--data ../shared/data/benchmarks] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from curate.stages.decontam.benchmarks import BenchmarkSource, Item, load_all
from curate.stages.decontam.index import NgramIndex
from curate.stages.decontam.stage import found_items
from curate.stages.decontam.text import words

WHOLE, PARTIAL = ("verbatim", "reformatted"), ("partial", "partial_reformatted")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "benchmarks"


def score(flags: list[set[str]], docs: list[dict], truth: dict[str, dict]) -> dict[str, float]:
    """Item-level recall by variant group, precision and false-positive shares (see the module docstring)."""
    by_variant: dict[str, list[bool]] = defaultdict(list)
    fp: dict[str, list[bool]] = defaultdict(list)
    flagged = true_flagged = 0
    for doc, got in zip(docs, flags, strict=True):
        g = truth[doc["id"]]
        for it in g["items"]:
            by_variant[it["variant"]].append(it["id"] in got)
        if g["ambiguous"]:
            continue
        if got:
            flagged += 1
            true_flagged += g["label"] == 1
        if g["label"] == 0:
            fp[g["role"]].append(bool(got))
    rate = lambda xs: float(np.mean(xs)) if xs else float("nan")  # noqa: E731
    return {
        "recall": rate([x for v in WHOLE for x in by_variant[v]]),
        "recall_partial": rate([x for v in PARTIAL for x in by_variant[v]]),
        "recall_question": rate(by_variant["question_only"]),
        "precision": true_flagged / flagged if flagged else 1.0,
        "fp_hard_negative": rate(fp["hard_negative"]),
        "fp_clean": rate(fp["clean"]),
        **{f"recall_{v}": rate(x) for v, x in sorted(by_variant.items())},
    }


def run_curate(items: list[Item], docs: list[dict], repeat: int) -> tuple[list[set[str]], float, float]:
    t0 = time.perf_counter()
    index = NgramIndex.build(items)
    build = time.perf_counter() - t0
    texts = [d["text"] for d in docs]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        per_doc = found_items(index.match(words(texts)))
        best = min(best, time.perf_counter() - t0)
    flags = [{index.item_id[i] for i in per_doc.get(d, [])} for d in range(len(docs))]
    return flags, build, best


def _plain_tokens(text: str) -> list[str]:
    """lm-eval-harness janitor style: lowercase, punctuation stripped, whitespace split (plus NFKC)."""
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text).lower())


def run_plain(items: list[Item], docs: list[dict], repeat: int, n: int = 13) -> tuple[list[set[str]], float, float]:
    t0 = time.perf_counter()
    grams: dict[tuple[str, ...], str] = {}
    for it in items:
        toks = _plain_tokens(it.text)
        for k in range(len(toks) - n + 1):
            grams.setdefault(tuple(toks[k : k + n]), it.id)
    build = time.perf_counter() - t0
    best, flags = float("inf"), []
    for _ in range(repeat):
        t0 = time.perf_counter()
        flags = []
        for d in docs:
            toks = _plain_tokens(d["text"])
            flags.append({grams[g] for k in range(len(toks) - n + 1) if (g := tuple(toks[k : k + n])) in grams})
        best = min(best, time.perf_counter() - t0)
    return flags, build, best


def run_datatrove(items: list[Item], docs: list[dict], repeat: int) -> tuple[list[set[str]], float, float] | None:
    try:
        from datatrove.data import Document
        from datatrove.pipeline.decont.n_grams import NGramsDecontConfig, NGramsDecontFilter, NGramsDecontIndexer
        from datatrove.utils.hashing import HashConfig, create_hash_func
        from datatrove.utils.word_tokenizers import load_word_tokenizer
    except ImportError as exc:
        print(f"datatrove not available ({exc}): install the bench peers with dev/setup --bench", file=sys.stderr)
        return None
    config = NGramsDecontConfig(hash_config=HashConfig(hash_fc="sha1"))  # its xxhash default fails (docstring)
    indexer = object.__new__(NGramsDecontIndexer)  # its __init__ refuses without lighteval (see the docstring)
    indexer.config, indexer.tokenizer = config, load_word_tokenizer("en")
    indexer.hash_func = create_hash_func(config.hash_config)
    t0 = time.perf_counter()
    per_bench: dict[str, set[int]] = defaultdict(set)
    for it in items:
        per_bench[it.benchmark].update(indexer.compute_hashes(it.gold or it.text, it.query or None))
    with tempfile.TemporaryDirectory() as tmp:
        for bench, hashes in per_bench.items():
            np.array(sorted(hashes), dtype=config.hash_config.np_descr).tofile(f"{tmp}/{bench}.index.hashes")
        build = time.perf_counter() - t0
        filt = NGramsDecontFilter(tmp, config=config)
        filt.load_index_hashes()
        best, flags = float("inf"), []
        for _ in range(repeat):
            t0 = time.perf_counter()
            flags = []
            for d in docs:
                result = filt.filter(Document(text=d["text"], id=d["id"]))
                flags.append(set() if result is True else {"*"})
            best = min(best, time.perf_counter() - t0)
    return flags, build, best


def doc_level(flags: list[set[str]], docs: list[dict], truth: dict[str, dict]) -> dict[str, float]:
    """Document-level figures for a peer that names no item (datatrove names the task only)."""
    whole = [
        bool(f) for f, d in zip(flags, docs, strict=True) if any(i["variant"] in WHOLE for i in truth[d["id"]]["items"])
    ]
    part = [
        bool(f)
        for f, d in zip(flags, docs, strict=True)
        if any(i["variant"] in PARTIAL for i in truth[d["id"]]["items"])
    ]
    hard = [
        bool(f)
        for f, d in zip(flags, docs, strict=True)
        if truth[d["id"]]["role"] == "hard_negative" and not truth[d["id"]]["ambiguous"]
    ]
    return {
        "doc_recall": float(np.mean(whole)),
        "doc_recall_partial": float(np.mean(part)),
        "fp_hard_negative": float(np.mean(hard)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the best is kept")
    args = parser.parse_args()
    if not (args.data / "corpus" / "docs.jsonl").exists():
        sys.exit(f"benchmark data not found at {args.data} (see ../shared/data/README.md)")
    items = load_all([BenchmarkSource(path=str(args.data / "benchmarks" / "*.jsonl"))])
    docs = [json.loads(line) for line in open(args.data / "corpus" / "docs.jsonl")]
    truth = {g["id"]: g for g in map(json.loads, open(args.data / "corpus" / "ground_truth.jsonl"))}
    mb = sum(len(d["text"].encode()) for d in docs) / 1e6
    print(
        f"{len(items):,} benchmark items; {len(docs):,} documents ({mb:.1f} MB); "
        f"planted: {dict(Counter(i['variant'] for g in truth.values() for i in g['items']))}"
    )

    flags, build, secs = run_curate(items, docs, args.repeat)
    ours = score(flags, docs, truth)
    print(
        f"curate      index {build:.2f} s, lookup {secs:.3f} s = {len(docs) / secs:,.0f} docs/s  "
        + "  ".join(f"{k}={v:.4f}" for k, v in ours.items())
    )
    print("            document level: " + "  ".join(f"{k}={v:.4f}" for k, v in doc_level(flags, docs, truth).items()))
    plain = run_plain(items, docs, args.repeat)
    print(
        f"plain 13-gram set  index {plain[1]:.2f} s, lookup {plain[2]:.3f} s = {len(docs) / plain[2]:,.0f} docs/s  "
        + "  ".join(
            f"{k}={v:.4f}"
            for k, v in score(plain[0], docs, truth).items()
            if not k.startswith("recall_") or k == "recall_question"
        )
    )
    peer = run_datatrove(items, docs, args.repeat)
    ratio = ""
    if peer is not None:
        print(
            f"datatrove NGramsDecontFilter (12-grams)  index {peer[1]:.2f} s, lookup {peer[2]:.3f} s = "
            f"{len(docs) / peer[2]:,.0f} docs/s  "
            + "  ".join(f"{k}={v:.4f}" for k, v in doc_level(peer[0], docs, truth).items())
        )
        ratio = f" vs_datatrove={peer[2] / secs:.2f}"
    print(
        f"RESULT decontaminate recall={ours['recall']:.4f} precision={ours['precision']:.4f} "
        f"recall_partial={ours['recall_partial']:.4f} docs_per_s={len(docs) / secs:.0f} "
        f"fp_hard_negative={ours['fp_hard_negative']:.4f} recall_question={ours['recall_question']:.4f} "
        f"vs_plain13={plain[2] / secs:.2f}{ratio}"
    )


if __name__ == "__main__":
    main()

"""Packing quality: best-fit decreasing vs concat-and-chunk on the same tokenized corpus.

Documents: real multilingual text (Leipzig sentences, ../shared/data/langid/lingua_testdata, grouped into documents
with a seeded log-normal number of sentences, the length shape of filtered web text), tokenized with cl100k_base
(see bench/tokenize_speed.py). Reports padding (share of sequence slots left empty), how many documents end up
split over more than one sequence, and the planning time.

    .venv/bin/python bench/pack.py [--docs 20000] [--seq-len 2048]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from tokenize_fixtures import lingua_documents
    from tokenize_speed import cl100k_tokenizer_json

    from curate.stages import Tokenize
    from curate.stages.packing.pack import plan_best_fit, plan_concat

    docs = lingua_documents(args.docs, seed=args.seed)
    tokens = Tokenize(tokenizer=str(cl100k_tokenizer_json()), engine="tiktoken", threads=2).run_table(docs).kept
    lengths = np.asarray(tokens["token_count"].to_numpy(), dtype=np.int64)
    print(
        f"{len(lengths)} documents, {lengths.sum():,} tokens, median {int(np.median(lengths))}, "
        f"p99 {int(np.percentile(lengths, 99))}, longer than seq_len {int((lengths > args.seq_len).sum())}"
    )
    results = {}
    for name, plan_fn in (("bestfit", plan_best_fit), ("chunk", plan_concat)):
        t0 = time.perf_counter()
        plan = plan_fn(lengths, args.seq_len, np.random.default_rng(args.seed))
        elapsed = time.perf_counter() - t0
        results[name] = plan
        print(
            f"{name:8s} sequences {plan.n_sequences:,}  padding {plan.padding_fraction:.4%}  "
            f"split documents {plan.split_documents():,}  plan {elapsed:.2f} s"
        )
    best, chunk = results["bestfit"], results["chunk"]
    print(
        f"RESULT pack padding_bestfit={best.padding_fraction:.4f} split_docs_bestfit={best.split_documents()} "
        f"split_docs_chunk={chunk.split_documents()} padding_chunk={chunk.padding_fraction:.4f} "
        f"docs={len(lengths)} seq_len={args.seq_len}"
    )


if __name__ == "__main__":
    main()

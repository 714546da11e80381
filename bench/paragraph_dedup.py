"""Paragraph dedup (``paragraph_dedup``) against Dolma's expected duplicate spans, and beside a plain-Python reference
of the same rule.

1. Quality: Dolma's deduper test documents (../shared/data/dedup/dolma_dedup_fixtures: 10 real Common Crawl pages,
   two of them from one site) with the spans Dolma's paragraph Bloom filter marks (``dedupe-paragraphs``: text split
   at ``\\n``, a paragraph already seen is a duplicate span, first occurrence kept). curate runs with
   ``normalize: none, action: mark`` (Dolma's rule, exactly). A span is ``(document, start, end)``; Dolma counts the
   end of a document's last span in bytes beside characters, so ends are clipped to the text. precision = marked
   spans that Dolma expects / marked spans; recall = expected spans marked / expected spans. The default
   normalisation (CCNet's: FineWeb's lowercase, digits, punctuation and accents folded) is printed beside it.
2. Speed: ``--docs`` documents (default 100,000) of real text: lines of 1-3 sentences from
   ../shared/data/langid/lingua_testdata (20 languages), plus on each document 3-8 boilerplate lines of its "site"
   (1 of 2,000), taken from the real lines of the Dolma pages; 4 Parquet shards. curate = the whole step through
   the engine (``run_steps``, local executor, one process: spans -> counts -> tally -> domains -> emit, Parquet in
   and out, 16 partitions). Reference = the same rule in plain Python over the texts already in memory (a dict of
   whitespace-normalised lines seen, documents in input order; reading and writing not timed). Both outputs are
   compared document by document (agreement). speedup = reference seconds / curate seconds. speedup_with_io = the
   same plain-Python rule as a whole job (read each Parquet shard, the rule, write the kept texts as Parquet: what
   the step does, minus its bounded memory) in seconds / curate seconds. Printed beside them: the CPU seconds of
   each (``time.process_time``), which a machine shared with other work distorts less than wall time.

Usage: .venv/bin/python bench/paragraph_dedup.py [--docs 100000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from dedup_scale import DATA as SENTENCES  # the same 20 languages' real sentences
from dedup_scale import LANGS

ROOT = Path(__file__).resolve().parents[1]
DOLMA = ROOT.parent / "shared" / "data" / "dedup" / "dolma_dedup_fixtures" / "tests" / "data"


def dolma() -> tuple[pa.Table, set[tuple[str, int, int]]]:
    with gzip.open(DOLMA / "provided" / "deduper" / "documents" / "000.json.gz", "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    with gzip.open(DOLMA / "expected" / "dedupe-paragraphs.json.gz", "rt", encoding="utf-8") as f:
        expected = {e["id"]: e["attributes"]["bff_duplicate_paragraph_spans"] for e in map(json.loads, f)}
    length = {d["id"]: len(d["text"]) for d in docs}
    spans = {(i, s, min(e, length[i])) for i, v in expected.items() for s, e, _ in v}
    table = pa.table(
        {"id": [d["id"] for d in docs], "text": [d["text"] for d in docs], "url": [d["metadata"]["url"] for d in docs]}
    )
    return table, spans


def marked(table: pa.Table, **params) -> set[tuple[str, int, int]]:
    from curate.stages.dedup import ParagraphDedup

    out = ParagraphDedup(action="mark", **params).run_table(table)
    return {(r["id"], s["start"], s["end"]) for r in out.kept.to_pylist() for s in r["duplicate_span_offsets"]}


def precision_recall(got: set, want: set) -> tuple[float, float]:
    hit = len(got & want)
    return (hit / len(got) if got else 1.0), (hit / len(want) if want else 1.0)


def write_corpus(folder: Path, n: int, shards: int = 4, seed: int = 0) -> None:
    if (folder / "_complete").exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    pools = [(SENTENCES / f"{lang}.txt").read_text(encoding="utf-8").splitlines() for lang in LANGS]
    with gzip.open(DOLMA / "provided" / "deduper" / "documents" / "000.json.gz", "rt", encoding="utf-8") as f:
        real_lines = sorted({x for line in f for x in json.loads(line)["text"].split("\n") if 0 < len(x) < 200})
    rng = random.Random(seed)
    sites = [rng.sample(real_lines, 8) for _ in range(2000)]
    texts, ids, urls = [], [], []
    for i in range(n):
        site = rng.randrange(len(sites))
        pool = rng.choice(pools)
        body = [" ".join(rng.choice(pool) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(4, 20))]
        boiler = sites[site][: rng.randint(3, 8)]
        texts.append("\n".join(boiler[:2] + body + boiler[2:]))
        ids.append(f"doc{i:08d}")
        urls.append(f"https://site{site}.example/{i}")
    step = (n + shards - 1) // shards
    for s in range(shards):
        sl = slice(s * step, (s + 1) * step)
        pq.write_table(pa.table({"id": ids[sl], "text": texts[sl], "url": urls[sl]}), folder / f"part-{s}.parquet")
    (folder / "_complete").touch()


def reference(texts: list[str], seen: set[str] | None = None) -> list[str]:
    """The rule in plain Python: whitespace-normalised lines; a line already seen (earlier document, or earlier in
    the same one; ``seen`` carries the lines of earlier calls) is removed; blank lines stay."""
    seen = set() if seen is None else seen
    out = []
    for text in texts:
        kept = []
        for line in text.split("\n"):
            key = " ".join(line.split())
            if not key:
                kept.append(line)
            elif key not in seen:
                seen.add(key)
                kept.append(line)
        out.append("\n".join(kept))
    return out


def reference_script(corpus: Path, out: Path) -> None:
    """The reference as a whole script: Parquet in, the rule (one set across shards, in shard order), Parquet out."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    seen: set[str] = set()
    for path in sorted(corpus.glob("*.parquet")):
        table = pq.read_table(path, columns=["id", "text"])
        kept_texts = reference(table.column("text").to_pylist(), seen)
        pq.write_table(table.set_column(1, "text", pa.array(kept_texts, pa.string())), out / path.name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--workdir", default="/tmp/curate-paragraph-bench")
    args = ap.parse_args()
    if not DOLMA.exists():
        raise SystemExit(f"{DOLMA} not found: this benchmark reads ../shared/data")

    table, want = dolma()
    precision, recall = precision_recall(marked(table, normalize="none"), want)
    p_default, r_default = precision_recall(marked(table), want)
    print(
        f"Dolma paragraph spans: {len(want)} expected; normalize none: precision {precision:.3f} recall "
        f"{recall:.3f}; default (CCNet normalisation): precision {p_default:.3f} recall {r_default:.3f}"
    )

    from curate.executors.local import LocalExecutor
    from curate.io import discover_inputs
    from curate.plan import StepSpec
    from curate.runner import read_step_shard, run_steps
    from curate.stages.dedup import ParagraphDedup

    work = Path(args.workdir)
    corpus = work / f"corpus-{args.docs}"
    write_corpus(corpus, args.docs)
    inputs = pa.concat_tables([pq.read_table(p, columns=["id", "text"]) for p in sorted(corpus.glob("*.parquet"))])
    texts = inputs.column("text").to_pylist()
    lines = sum(t.count("\n") + 1 for t in texts)
    t, c = time.perf_counter(), time.process_time()
    ref = reference(texts)
    ref_secs, ref_cpu = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    reference_script(corpus, work / "script-out")
    script_secs, script_cpu = time.perf_counter() - t, time.process_time() - c

    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    spec = StepSpec(
        "paragraph_dedup",
        0,
        ParagraphDedup,
        {"normalize": ["whitespace"], "min_doc_chars": 0, "partitions": args.partitions},
        {},
    )
    t, c = time.perf_counter(), time.process_time()
    result = run_steps([spec], discover_inputs([str(corpus / "*.parquet")]), str(out), LocalExecutor())
    secs, cpu = time.perf_counter() - t, time.process_time() - c
    got = {}
    for shard in sorted(p.stem for p in corpus.glob("*.parquet")):
        for batch in read_step_shard(str(out), spec.key, shard, 1 << 20, ["id", "text"]):
            got.update(zip(batch.column("id").to_pylist(), batch.column("text").to_pylist(), strict=True))
    ids = inputs.column("id").to_pylist()
    agreement = sum(got.get(i) == r for i, r in zip(ids, ref, strict=True)) / len(ids)
    stats = result.step_stats(spec.key)
    print(
        f"speed: {args.docs} docs, {lines} lines; curate {secs:.2f} s ({args.docs / secs:,.0f} docs/s, whole step "
        f"with Parquet IO), plain-Python reference {ref_secs:.2f} s (in memory); agreement {agreement:.5f}; "
        f"duplicate spans {stats.counters.get('paragraph_dedup_duplicate_spans')}"
    )
    print(
        f"CPU seconds: curate {cpu:.2f}, reference {ref_cpu:.2f} (ratio {ref_cpu / cpu:.2f}); reference as a script "
        f"with Parquet IO {script_secs:.2f} s, {script_cpu:.2f} CPU-s (speedup vs script {script_secs / secs:.2f}, "
        f"CPU {script_cpu / cpu:.2f}); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"RESULT paragraph_dedup precision={precision:.3f} recall={recall:.3f} speedup={ref_secs / secs:.2f} "
        f"speedup_with_io={script_secs / secs:.2f}"
    )


if __name__ == "__main__":
    main()

"""Must-show 1 + 2: our four heuristic filters against datatrove 0.10.1's, same texts, same parameters, same process.

Texts: the HTML responses of ``../shared/data/warc/pages_with_gold/dev_pages.warc.gz`` and
``../shared/data/warc/real_crawls/*.warc.gz``, extracted once with trafilatura (FineWeb settings) and cached in a
temporary Parquet file (``--cache``). Each filter runs alone on all texts (agreement: same keep/drop decision; a
disagreement lists id, url, our reason and theirs), then the four run chained (Gopher repetition -> Gopher quality ->
C4 (no terminal-punctuation rule, as FineWeb) -> FineWeb quality) on one core, ours vs datatrove's, timed.

    .venv/bin/python bench/filter_parity.py [--repeat 2] [--limit N] [--cache /tmp/curate_bench_texts.parquet]

Last line: ``RESULT filter_parity min_agreement=... speedup=...``
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
WARCS = [
    DATA / "warc" / "pages_with_gold" / "dev_pages.warc.gz",
    *sorted(Path(p) for p in glob.glob(str(DATA / "warc" / "real_crawls" / "*.warc.gz"))),
]
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "curate_bench_filter_texts.parquet"


def _extract_one(item: tuple[str, str, bytes]) -> tuple[str, str, str | None]:
    import trafilatura

    rid, url, body = item
    try:
        text = trafilatura.extract(
            body.decode("utf-8", errors="replace"), favor_precision=True, include_comments=False, deduplicate=True
        )
    except Exception:  # noqa: BLE001 - a page that breaks the extractor is just skipped here
        text = None
    return rid, url, text


def load_texts(cache: Path, workers: int = 2) -> pa.Table:
    """id, url, text of every HTML response of the bench WARCs (extracted once, then read from ``cache``)."""
    if cache.exists():
        return pq.read_table(cache)
    try:
        from curate.stages.warc.extract import read_warc  # the project's own reader, once it exists

        tables = [read_warc(str(p)).select(["id", "url", "text"]) for p in WARCS]
        table = pa.concat_tables(tables)
    except ImportError:
        from concurrent.futures import ProcessPoolExecutor

        from warcio.archiveiterator import ArchiveIterator

        items = []
        for path in WARCS:
            with open(path, "rb") as f:
                for r in ArchiveIterator(f):
                    if r.rec_type != "response" or r.http_headers is None:
                        continue
                    if "html" not in (r.http_headers.get_header("Content-Type") or "").lower():
                        continue
                    items.append(
                        (
                            r.rec_headers.get_header("WARC-Record-ID"),
                            r.rec_headers.get_header("WARC-Target-URI"),
                            r.content_stream().read(),
                        )
                    )
        with ProcessPoolExecutor(workers) as ex:
            rows = [r for r in ex.map(_extract_one, items, chunksize=8) if r[2]]
        table = pa.table({"id": [r[0] for r in rows], "url": [r[1] for r in rows], "text": [r[2] for r in rows]})
    table = table.filter(pa.compute.is_valid(table.column("text")))
    pq.write_table(table, cache)
    return table


def ours_steps():
    from curate.stages.filters import C4Quality, FineWebQuality, GopherQuality, GopherRepetition

    return {
        "gopher_repetition": GopherRepetition(),
        "gopher_quality": GopherQuality(),
        "c4_quality": C4Quality(filter_no_terminal_punct=False),
        "fineweb_quality": FineWebQuality(),
    }


def datatrove_steps():
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    return {
        "gopher_repetition": GopherRepetitionFilter(),
        "gopher_quality": GopherQualityFilter(),
        "c4_quality": C4QualityFilter(filter_no_terminal_punct=False),
        "fineweb_quality": FineWebQualityFilter(),
    }


def datatrove_decide(step, text: str) -> tuple[str | None, str]:
    """(reason or None when kept, text after the step) for one document through one datatrove filter."""
    from datatrove.data import Document
    from datatrove.pipeline.filters.base_filter import get_filter_result

    doc = Document(text=text, id="x")
    keep, reason = get_filter_result(step.filter(doc))
    return (None if keep else (reason or "dropped")), doc.text


def ours_decide(step, table: pa.Table) -> tuple[list[str | None], list[str]]:
    out = step.run_table(table)
    reasons: dict[str, str | None] = dict.fromkeys(out.kept.column("id").to_pylist())
    texts = dict(zip(out.kept.column("id").to_pylist(), out.kept.column("text").to_pylist(), strict=True))
    if out.rejected is not None:
        reasons.update(
            zip(out.rejected.column("id").to_pylist(), out.rejected.column("reason").to_pylist(), strict=True)
        )
    ids = table.column("id").to_pylist()
    return [reasons[i] for i in ids], [texts.get(i, "") for i in ids]


def run_ours_chain(table: pa.Table, batch_size: int, steps: list | None = None) -> int:
    steps = steps if steps is not None else list(ours_steps().values())
    kept = 0
    for batch in table.to_batches(max_chunksize=batch_size):
        t = pa.Table.from_batches([batch])
        for step in steps:
            t = step.run_table(t).kept
        kept += t.num_rows
    return kept


def run_datatrove_chain(texts: list[str], steps: list | None = None) -> int:
    from datatrove.data import Document

    steps = steps if steps is not None else list(datatrove_steps().values())
    docs = (Document(text=t, id=str(i)) for i, t in enumerate(texts))
    for step in steps:
        docs = step.run(docs)
    return sum(1 for _ in docs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="Parquet cache of the extracted texts")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N texts (0: all)")
    ap.add_argument("--repeat", type=int, default=1, help="timed chain runs per side (RESULT uses the first)")
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--show", type=int, default=20, help="disagreements listed per filter")
    args = ap.parse_args()
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, both sides
    except (AttributeError, OSError):
        pass
    if not WARCS[0].exists():
        sys.exit(f"../shared/data not found: {WARCS[0]}")
    table = load_texts(args.cache)
    if args.limit:
        table = table.slice(0, args.limit)
    table = table.set_column(0, "id", pa.array([f"{i}:{x}" for i, x in enumerate(table.column("id").to_pylist())]))
    texts = table.column("text").to_pylist()
    urls = table.column("url").to_pylist()
    ids = table.column("id").to_pylist()
    print(f"{len(texts)} texts from {len(WARCS)} WARC files")

    # -- must-show 2: chained throughput, one core, same texts, same process -----------------------------------
    # CPU time of this (single-threaded) process: both sides on the same core, immune to other load on the machine.
    # The headline is the FIRST run of each: our word memo starts empty, as on a fresh worker.
    # One-time setup is outside the timed region on both sides: imports, building the steps, and one tiny
    # document through each chain (loads spaCy's English pipeline for datatrove, our vendored rules for us).
    warm = "Setting up the chain. " * 20
    theirs_chain = list(datatrove_steps().values())
    run_datatrove_chain([warm], theirs_chain)
    ours_chain = list(ours_steps().values())
    run_ours_chain(pa.table({"id": ["warm"], "text": [warm]}), args.batch_size, ours_chain)
    ours_times, theirs_times = [], []
    for _ in range(args.repeat):
        t0 = time.process_time()
        kept_theirs = run_datatrove_chain(texts, theirs_chain)
        theirs_times.append(time.process_time() - t0)
        t0 = time.process_time()
        kept_ours = run_ours_chain(table, args.batch_size, ours_chain)
        ours_times.append(time.process_time() - t0)
    ours_dps, theirs_dps = len(texts) / ours_times[0], len(texts) / theirs_times[0]
    print(
        f"chained, first run (CPU s): ours {ours_dps:.0f} docs/s ({kept_ours} kept), datatrove {theirs_dps:.0f} "
        f"docs/s ({kept_theirs} kept): {ours_dps / theirs_dps:.1f}x"
    )
    if args.repeat > 1:
        print(
            f"chained, best of {args.repeat} (word memo warm): ours {len(texts) / min(ours_times):.0f} docs/s, "
            f"datatrove {len(texts) / min(theirs_times):.0f} docs/s: "
            f"{min(theirs_times) / min(ours_times):.1f}x"
        )

    # -- must-show 1: each filter alone on all texts ---------------------------------------------------------
    ours, theirs = ours_steps(), datatrove_steps()
    agreements = {}
    for name in ours:
        our_reasons, our_texts = ours_decide(ours[name], table)
        disagree = []
        text_diffs = 0
        for i, text in enumerate(texts):
            their_reason, their_text = datatrove_decide(theirs[name], text)
            if (our_reasons[i] is None) != (their_reason is None):
                disagree.append((ids[i], urls[i], our_reasons[i], their_reason))
            elif our_reasons[i] is None and our_texts[i] != their_text:
                text_diffs += 1
        agreement = 1 - len(disagree) / len(texts)
        agreements[name] = agreement
        print(
            f"{name}: agreement {agreement:.4f} ({len(disagree)} of {len(texts)} differ"
            + (f", {text_diffs} kept texts rewritten differently" if name == "c4_quality" else "")
            + ")"
        )
        for d in disagree[: args.show]:
            print(f"    id={d[0]} url={d[1]} ours={d[2]} datatrove={d[3]}")
    min_agreement = min(agreements.values())
    print(f"RESULT filter_parity min_agreement={min_agreement:.4f} speedup={ours_dps / theirs_dps:.1f}")


if __name__ == "__main__":
    main()

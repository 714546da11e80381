"""WARC → text extraction: ``warc_extract`` vs datatrove ``WarcReader`` + ``Trafilatura``, same input, same run.

Input: ``../shared/data/warc/pages_with_gold/dev_pages.warc.gz`` (1,120 real HTML pages as WARC response records;
``--limit N`` uses a temporary WARC of its first N records). The two trafilatura sides take turns every
``--chunk`` records (default 40) within one pass over the WARC, ``--rounds`` passes (default 2; ours goes first in
a chunk on even passes, second on odd ones): datatrove's reader and extractor run as usual, and while its reader
crosses a chunk boundary our ``warc_extract`` extracts the same records (a WARC of that chunk's gzip members). Whole
runs taking turns left the ratio at the mercy of the machine's speed over a minute (the same work took 44.7 and
57.6 CPU-s a minute apart); chunks of a second or two see the same machine. Each side keeps its own state across
chunks, as in one uninterrupted run (trafilatura's ``deduplicate`` LRU is swapped per side; datatrove extracts in its
own child process). Times are summed per side (datatrove's = the pass minus our chunks, plus its reaped child):

1. datatrove 0.10.1: ``WarcReader`` → ``Trafilatura(favour_precision=True, timeout=1)`` (FineWeb's settings);
2. ours: ``warc_extract`` with the same trafilatura settings, its exact shortcuts (``compiled_xpaths``,
   ``compiled_lookup``, ``compiled_fallbacks``: ``stages/warc/trafilatura_fast.py``) and its default limits
   (bounds, then 60 CPU-s: no page of this WARC comes near either, its slowest takes 0.4-0.6 CPU-s; datatrove's
   1 s wall limit may drop a page or two, which its score and record count show);
3. ours: ``warc_extract(extractor=resiliparse)``.

Rates are HTML records read per second (reading + decoding + extraction), so a reader that drops records does
not look faster for it. The reported speedups use CPU seconds (this process + extraction children: datatrove's, and
our resiliparse's, reaped before the clock stops), which stay meaningful on a loaded machine; wall-clock rates are
printed beside them. Trafilatura's caches (``deduplicate`` keeps an LRU of seen text) are reset before each run.

Completeness (must-show 6): HTML records each reader hands to extraction. Quality (must-show 4): for the 990
trafilatura-eval pages, ``WARC-Gold-Id`` keys into ``dev_pages.gold.jsonl.gz``; score = share of gold snippets
judged right (``with`` snippets found in the text + ``without`` snippets absent) over all snippets of all pages
(pages without output count as all ``with`` missing) — trafilatura's own evaluation metric (accuracy).

Usage: .venv/bin/python bench/extract_speed.py [--limit 300] [--skip-datatrove] [--rounds 2] [--chunk 40]
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

from _shared import Stopwatch, chunk_files, taking_turns

from curate.stage import SourceFile
from curate.stages.warc.extract import WarcExtract

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEV = SHARED / "warc" / "pages_with_gold" / "dev_pages.warc.gz"
GOLD = SHARED / "warc" / "pages_with_gold" / "dev_pages.gold.jsonl.gz"


def sample_records(path: Path, n: int, out_dir: str) -> Path:
    """A WARC of ``n`` evenly spaced gzip members (one record each) of ``path`` (both gold sources represented)."""
    from curate.stages.warc.stream import gzip_members

    members = gzip_members(path.read_bytes())
    step = max(1, len(members) // n)
    out = Path(out_dir) / "dev_pages_sample.warc.gz"
    out.write_bytes(b"".join(members[::step][:n]))
    return out


def load_gold() -> dict[str, dict]:
    gold = {}
    with gzip.open(GOLD, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["source"] == "trafilatura_eval":
                gold[row["id"]] = row
    return gold


def score(texts: dict[str, str], gold: dict[str, dict], ids: set[str]) -> tuple[float, dict[str, int]]:
    """trafilatura-eval accuracy over the gold pages in ``ids`` (see the module docstring)."""
    c = {"with_found": 0, "with_missing": 0, "without_absent": 0, "without_found": 0}
    for gid in ids:
        page = gold[gid]
        text = texts.get(gid) or ""
        for snippet in page["with"]:
            c["with_found" if snippet in text else "with_missing"] += 1
        for snippet in page["without"]:
            c["without_found" if snippet in text else "without_absent"] += 1
    total = sum(c.values())
    return (c["with_found"] + c["without_absent"]) / max(total, 1), c


def gold_ids(path: Path) -> list[str]:
    step = WarcExtract(extract=False, keep_headers=["WARC-Gold-Id"])
    return [
        gid
        for out in step.read(SourceFile(str(path), lambda: open(path, "rb")))
        for gid in out.kept.column("warc_gold_id").to_pylist()
    ]


class Ours:
    """Our ``warc_extract`` over chunk files, one step (and one trafilatura ``deduplicate`` LRU) across chunks, as
    in one run over the whole WARC; ``clock`` sums wall and CPU seconds over the chunks."""

    def __init__(self, **params):
        self.step = WarcExtract(keep_headers=["WARC-Gold-Id"], **params)
        self.counters: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        self.clock = Stopwatch()
        self.new_pass()

    def new_pass(self) -> None:
        import trafilatura.deduplication as dedup

        from curate.stages.warc.trafilatura_xpath import forget_verdicts

        forget_verdicts()  # each pass starts as a fresh worker would: no verdicts remembered from the last pass
        self.lru = dedup.LRUCache(maxsize=dedup.LRU_TEST.maxsize)
        self.counters, self.texts = {}, {}

    def run(self, chunk: Path) -> None:
        import trafilatura.deduplication as dedup

        kept, dedup.LRU_TEST = dedup.LRU_TEST, self.lru
        try:
            with self.clock:
                for out in self.step.read(SourceFile(str(chunk), lambda: open(chunk, "rb"))):
                    for k, v in out.counters.items():
                        self.counters[k] = self.counters.get(k, 0) + v
                    texts = out.kept.column("text").to_pylist()
                    self.texts.update(zip(out.kept.column("warc_gold_id").to_pylist(), texts))
        finally:
            dedup.LRU_TEST = kept

    def close(self) -> None:
        with self.clock:
            self.step.close()  # reaps resiliparse's extractor process, so that its CPU time counts (RUSAGE_CHILDREN)


def run_pass(path: Path, chunks: list[Path], size: int, ours: Ours, ours_first: bool, with_datatrove: bool):
    """One pass over the WARC: datatrove's ``WarcReader`` → ``Trafilatura`` with our side's chunks run as its
    reader crosses each ``size`` records. Returns datatrove's (wall s, CPU s, records read, gold id → text)."""
    from trafilatura.meta import reset_caches

    reset_caches()
    ours.new_pass()
    if not with_datatrove:
        for chunk in chunks:
            ours.run(chunk)
        return 0.0, 0.0, 0, {}
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader

    logging.disable(logging.WARNING)
    try:
        from loguru import logger

        logger.remove()
    except ImportError:
        pass
    reader = WarcReader(str(path.parent), glob_pattern=path.name)
    extractor = Trafilatura(favour_precision=True, timeout=1.0)
    read = 0

    def counted():
        nonlocal read
        for doc in reader.run():
            read += 1
            yield doc

    ours_seconds, ours_cpu = ours.clock.seconds, ours.clock.cpu
    pass_clock = Stopwatch()
    url_to_text = {}
    with pass_clock:
        for doc in extractor.run(taking_turns(counted(), chunks, size, ours_first, ours.run)):
            url_to_text[doc.metadata["url"]] = doc.text
    seconds = pass_clock.seconds - (ours.clock.seconds - ours_seconds)
    cpu = pass_clock.cpu - (ours.clock.cpu - ours_cpu)
    # map back to gold ids through the URL (datatrove does not keep extra WARC headers)
    from warcio.archiveiterator import ArchiveIterator

    texts: dict[str, str] = {}
    with open(path, "rb") as f:
        for record in ArchiveIterator(f):
            gid = record.rec_headers.get_header("WARC-Gold-Id")
            url = record.rec_headers.get_header("WARC-Target-URI")
            if gid and url in url_to_text:
                texts[gid] = url_to_text[url]
    return seconds, cpu, read, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N records (0: all 1,120)")
    parser.add_argument("--skip-datatrove", action="store_true")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the WARC, alternating which side goes first")
    parser.add_argument("--chunk", type=int, default=40, help="records per turn of each side")
    args = parser.parse_args()
    if not DEV.exists():
        sys.exit(f"{DEV} not found (../shared/data)")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    gold = load_gold()
    with tempfile.TemporaryDirectory() as tmp:
        path = sample_records(DEV, args.limit, tmp) if args.limit else DEV
        chunks = chunk_files(path, args.chunk, tmp)

        # the sides take turns chunk by chunk within each pass, so the machine's speed hits both alike
        dt_s = dt_cpu = 0.0
        ours = Ours()
        for i in range(args.rounds):
            s, c, dt_read, dt_texts = run_pass(path, chunks, args.chunk, ours, i % 2 == 0, not args.skip_datatrove)
            dt_s, dt_cpu = dt_s + s, dt_cpu + c
            print(f"pass {i + 1}: ours {ours.clock.cpu:.1f} CPU-s, datatrove {dt_cpu:.1f} CPU-s so far", flush=True)
        ours.close()
        tr_s, tr_cpu, tr_c, tr_texts = ours.clock.seconds, ours.clock.cpu, ours.counters, ours.texts
        resiliparse = Ours(extractor="resiliparse")  # one run over the whole WARC: a figure printed beside
        resiliparse.run(path)
        resiliparse.close()
        rp_c, rp_texts = resiliparse.counters, resiliparse.texts
        rp_s, rp_cpu = resiliparse.clock.seconds, resiliparse.clock.cpu
        rp_s, rp_cpu = rp_s * args.rounds, rp_cpu * args.rounds  # rates below divide totals by rounds x records

        ids = {gid for gid in gold_ids(path) if gid in gold}
    html = tr_c.get("html_records", 0) * args.rounds  # summed over the rounds, like the times
    tr_score, tr_detail = score(tr_texts, gold, ids)
    rp_score, rp_detail = score(rp_texts, gold, ids)
    tr_rate, tr_cpu_rate = html / tr_s, html / tr_cpu
    rp_html = rp_c.get("html_records", 0) * args.rounds
    rp_rate, rp_cpu_rate = rp_html / rp_s, rp_html / rp_cpu
    records = html // args.rounds
    print(f"input: {path.name}, {records} HTML records x {args.rounds} rounds, {len(ids)} gold pages scored")
    print(
        f"ours trafilatura : {tr_s:7.1f} s wall {tr_rate:6.1f} records/s | {tr_cpu:7.1f} s CPU "
        f"{tr_cpu_rate:6.1f} records/CPU-s | {len(tr_texts)} docs out  counters={tr_c}"
    )
    print(
        f"ours resiliparse : {rp_s:7.1f} s wall {rp_rate:6.1f} records/s | {rp_cpu:7.1f} s CPU "
        f"{rp_cpu_rate:6.1f} records/CPU-s | {len(rp_texts)} docs out"
    )
    speedup = wall_speedup = float("nan")
    if not args.skip_datatrove:
        dt_read_all = dt_read * args.rounds
        dt_rate, dt_cpu_rate = dt_read_all / dt_s, dt_read_all / dt_cpu
        speedup, wall_speedup = tr_cpu_rate / dt_cpu_rate, tr_rate / dt_rate
        dt_score, dt_detail = score(dt_texts, gold, ids)
        print(
            f"datatrove        : {dt_s:7.1f} s wall {dt_rate:6.1f} records/s | {dt_cpu:7.1f} s CPU "
            f"{dt_cpu_rate:6.1f} records/CPU-s | {len(dt_texts)} docs out "
            f"(WarcReader handed {dt_read} of {records} HTML records to extraction)"
        )
        print(
            f"speedup ours/datatrove: {speedup:.2f} per CPU-second (reported), {wall_speedup:.2f} wall "
            f"(wall is noisy on a shared machine)"
        )
        print(f"records read: ours {records} vs datatrove {dt_read} (lost {records - dt_read})")
        print(f"score datatrove+trafilatura {dt_score:.4f} {dt_detail}")
    print(f"score ours trafilatura {tr_score:.4f} {tr_detail}")
    print(f"score ours resiliparse {rp_score:.4f} {rp_detail}")
    rp_speedup = rp_cpu_rate / tr_cpu_rate
    print(f"resiliparse/trafilatura: {rp_speedup:.2f} per CPU-second, {rp_rate / tr_rate:.2f} wall")
    print(
        f"RESULT extract_speed speedup={speedup:.2f} trafilatura_score={tr_score:.4f} "
        f"resiliparse_score={rp_score:.4f} resiliparse_speedup={rp_speedup:.2f}"
    )


if __name__ == "__main__":
    main()

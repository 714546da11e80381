"""WARC reading over HTTP vs local disk, and vs datatrove's WarcReader, on the same real WARC.

Three ways to read ``dev_pages.warc.gz`` (1,120 real HTML pages, 32 MB) to HTML documents (no text extraction,
so the reader is what is timed): curate's ``warc_extract`` (``extract: false``) from local disk; the same through
curate's remote reader (8 MiB ranged GETs with retries, :mod:`curate.remote`) from a loopback HTTP server that
serves the file the way data.commoncrawl.org does (``Range`` requests); datatrove 0.10.1's ``WarcReader`` from
local disk (its HTTP path needs aiohttp through fsspec, which this venv does not have). records/s counts the HTML
response records our reader finds for every side (the same numerator; datatrove's reader skips some of them, which
only makes its side do less). Each side runs ``--repeat`` times and keeps its best time; one core each.

    .venv/bin/python bench/cc_read.py [--warc PATH] [--repeat 3]

Last line: ``RESULT cc_read speedup_vs_datatrove=... remote_vs_local=... records_per_s_local=...
records_per_s_remote=... records_per_s_datatrove=...``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_WARC = ROOT.parent / "shared" / "data" / "warc" / "pages_with_gold" / "dev_pages.warc.gz"
sys.path.insert(0, str(ROOT / "tests"))  # the loopback stand-in for data.commoncrawl.org the tests use


def read_ours(uri: str) -> tuple[int, dict]:
    """(HTML records read, the reader's counters) for one file, local path or URL."""
    from curate.stage import SourceFile
    from curate.stages import WarcExtract
    from curate.storage import location

    stage = WarcExtract(extract=False)
    html, counters = 0, {}
    for output in stage.read(SourceFile(uri, location(uri).open_input)):
        html += output.counters.get("html_records", 0)
        for k, v in output.counters.items():
            counters[k] = counters.get(k, 0) + v
    return html, counters


def read_datatrove(path: Path) -> int:
    from datatrove.pipeline.readers import WarcReader

    return sum(1 for _ in WarcReader(str(path.parent), glob_pattern=path.name).run())


def best(fn, repeat: int) -> tuple[float, object]:  # noqa: ANN001 - a timing helper
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warc", type=Path, default=DEV_WARC)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not args.warc.exists():
        sys.exit(f"../shared/data not found: {args.warc}")
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core (the server thread shares it)
    except (AttributeError, OSError):
        pass
    from cc_fixtures import StandIn

    with tempfile.TemporaryDirectory() as tmp:
        served = Path(tmp) / "crawl-data" / "CC-MAIN-2024-10" / "segments" / "1" / "warc"
        served.mkdir(parents=True)
        shutil.copyfile(args.warc, served / args.warc.name)
        with StandIn(Path(tmp)) as server:
            url = f"{server.url}/crawl-data/CC-MAIN-2024-10/segments/1/warc/{args.warc.name}"
            t_local, (n, _) = best(lambda: read_ours(str(args.warc)), args.repeat)
            t_remote, (n_remote, counters) = best(lambda: read_ours(url), args.repeat)
            requests = server.faults.requests
        t_dt, n_dt = best(lambda: read_datatrove(args.warc), args.repeat)
    assert n_remote == n, (n_remote, n)
    local, remote, theirs = n / t_local, n / t_remote, n / t_dt
    print(f"{n} HTML response records in {args.warc.name} ({args.warc.stat().st_size / 1e6:.1f} MB)")
    print(f"curate, local disk:    {t_local:.2f} s, {local:,.0f} records/s")
    print(
        f"curate, loopback HTTP: {t_remote:.2f} s, {remote:,.0f} records/s "
        f"({requests // args.repeat} ranged GETs per read, retries {counters.get('remote_retries', 0)})"
    )
    print(f"datatrove, local disk: {t_dt:.2f} s, {theirs:,.0f} records/s ({n_dt} documents)")
    print(
        f"RESULT cc_read speedup_vs_datatrove={local / theirs:.2f} remote_vs_local={remote / local:.2f} "
        f"records_per_s_local={local:.0f} records_per_s_remote={remote:.0f} records_per_s_datatrove={theirs:.0f}"
    )


if __name__ == "__main__":
    main()

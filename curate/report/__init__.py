"""Run report: one self-contained HTML page (``OUT/_report/index.html``) that shows what a pipeline run did, and why.

It is built from ``OUT/_stats.json`` alone (the per-step :class:`curate.stats.StepStats` the engine merges from the
shards' ``_done`` markers): counts, removal reasons, counters, a bounded subsample of column values and a few sample
documents per reason. It never reads the corpus, so a run of millions of documents reports in about a second.
The page has no scripts and loads nothing: plots are matplotlib figures inlined as SVG, styles are inline CSS,
so it opens on an offline cluster node or as a CI artefact.

Sections: the funnel (documents, bytes and tokens after each step, removals by reason), distributions (language,
length, each step's added columns such as classifier scores and dedup cluster sizes), run facts (recipe,
fingerprints, wall/CPU time, docs/s, resumed shards, counters such as skipped records), and samples (removed documents
per reason beside kept ones, HTML-escaped; last, as they are long). Funnel cells carry ``data-field``/``data-value``
attributes and each funnel row ``id="funnel-<n>"`` and ``data-step-key``, so tests and tools can read the figures
off the rendered page.

The package: :mod:`~curate.report.model` (the steps read from ``_stats.json``, formatting),
:mod:`~curate.report.plots` (matplotlib SVGs) and :mod:`~curate.report.html` (the sections and
:func:`render_report`); this module holds the entry points (:func:`build_report`, ``curate report``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from curate.report.html import render_report
from curate.report.model import REPORT_DIR, REPORT_FILE, STATS_FILE, ReportError, StepView, read_stats, step_views
from curate.storage import location

__all__ = [
    "REPORT_DIR",
    "REPORT_FILE",
    "ReportError",
    "StepView",
    "build_report",
    "main",
    "main_report",
    "render_report",
    "step_views",
]


# -- entry points ------------------------------------------------------------------------------------------------


def build_report(out: str, compare_with: str | None = None) -> str:
    """Write ``OUT/_report/index.html`` for the run in ``out`` (a local path or URI) and return its path/URI.
    ``compare_with``: another run's output folder (the previous snapshot) to compare with
    (:mod:`curate.snapshot_compare`)."""
    root, data = read_stats(out)
    comparison = _comparison(compare_with, data) if compare_with else None
    page = render_report(data, out=root.uri, input_warnings=_input_warnings(root.uri, data), comparison=comparison)
    target = root.child(REPORT_DIR, REPORT_FILE)
    target.write_bytes(page.encode("utf-8"))
    return target.uri


def _input_warnings(out: str, data: dict[str, Any]) -> list[str]:
    """Per-input-file reading warnings (:func:`curate.stages.warc.health.run_warnings`) from the run's markers."""
    try:
        from curate.stages.warc.health import run_warnings
    except ImportError:
        return []
    steps = data.get("steps")
    return run_warnings(out, [s for s in steps if isinstance(s, dict)]) if isinstance(steps, list) else []


def main_report(argv: list[str] | None = None) -> int:
    """``curate report OUT``: (re)build the run report of an output folder."""
    parser = argparse.ArgumentParser(
        prog="curate report",
        description="Write OUT/_report/index.html from "
        "OUT/_stats.json: the funnel, removal reasons, distributions, samples, run facts.",
    )
    parser.add_argument("out", help="the run's output folder (local path or s3://...)")
    parser.add_argument(
        "--compare",
        metavar="PREVIOUS_OUT",
        help="add a comparison with another run's output "
        "folder (e.g. the previous snapshot's): documents, languages, removals, cross-snapshot "
        "duplicates",
    )
    args = parser.parse_args(argv)
    try:
        path = build_report(args.out, compare_with=args.compare)
    except ReportError as exc:
        print(f"curate report: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def _comparison(previous_out: str, data: dict[str, Any]) -> dict[str, Any]:
    from curate.snapshot_compare import compare, run_label

    loc = location(previous_out).child(STATS_FILE)
    if not loc.exists():
        raise ReportError(f"no run statistics at {loc.uri} to compare with: name the output folder of a finished run")
    previous = loc.read_json()
    return compare(previous, data, run_label(previous, previous_out), run_label(data, "this run"))


main = main_report  # the CLI delegates `curate report ...` to curate.report:main

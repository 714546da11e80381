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
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import io
import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curate.errors import CurateError
from curate.storage import location
from curate.table import DOCUMENT_SCHEMA

REPORT_DIR = "_report"
REPORT_FILE = "index.html"
#: counters that report exact token totals (the tokenize/pack steps), in order of preference
TOKEN_COUNTERS = ("tokens", "tokens_out", "token_count")
#: per-split token counters (the pack step: ``tokens:train``, ``tokens:valid``), summed when there is no total
TOKEN_SPLIT_COUNTER = re.compile(r"^tokens:[^:]+$")
TOKEN_COLUMN = "token_count"
MAX_CATEGORIES_PLOTTED = 20
MAX_REMOVAL_BARS = 30
MAX_LENGTH_SERIES = 5
#: columns never plotted: the core document columns, and identifier-like columns
CORE_COLUMNS = frozenset(DOCUMENT_SCHEMA.names)
IDENTIFIER = re.compile(r"(^|_)(id|ids|uuid|digest|hash|sha1|md5|timestamp|date)$", re.I)
#: recipe keys whose values are masked in the report (secrets belong in the environment, but be safe)
SECRET_KEY = re.compile(r"(api[_-]?key|secret|password|passwd|credential|access[_-]?key|(^|_)token$|auth)", re.I)

PALETTE = ["#4263eb", "#f76707", "#2f9e44", "#ae3ec9", "#1098ad", "#e64980", "#74b816", "#f59f00", "#495057", "#d6336c"]
REMOVED_COLOUR = "#e8590c"


class ReportError(CurateError, RuntimeError):
    """The report cannot be built (no ``_stats.json``, or one that is not a run's stats)."""


# -- entry points ------------------------------------------------------------------------------------------------


def build_report(out: str, compare_with: str | None = None) -> str:
    """Write ``OUT/_report/index.html`` for the run in ``out`` (a local path or URI) and return its path/URI.
    ``compare_with``: another run's output folder (the previous snapshot) to compare with
    (:mod:`curate.snapshot_compare`)."""
    root = location(out)
    stats_loc = root.child("_stats.json")
    if not stats_loc.exists():
        raise ReportError(
            f"no run statistics at {stats_loc.uri}: the report is built from the _stats.json that "
            f"`curate run` writes into its output folder; run the recipe first (or check the path)"
        )
    try:
        data = stats_loc.read_json()
    except ValueError as exc:
        raise ReportError(f"{stats_loc.uri} is not valid JSON ({exc}); rerun `curate run` to rewrite it") from exc
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

    loc = location(previous_out).child("_stats.json")
    if not loc.exists():
        raise ReportError(f"no run statistics at {loc.uri} to compare with: name the output folder of a finished run")
    previous = loc.read_json()
    return compare(previous, data, run_label(previous, previous_out), run_label(data, "this run"))


# -- the model the page is rendered from -------------------------------------------------------------------------


@dataclass
class StepView:
    """One step's entry of ``_stats.json`` as the page shows it: its stats plus the figures the report derives
    (tokens and where they come from, inferred docs/bytes in, the columns it added)."""

    index: int
    key: str
    name: str
    fingerprint: str
    s: dict[str, Any]
    tokens: float | None = None
    tokens_source: str = "none"  # counter | column | estimate | none
    new_columns: list[str] = field(default_factory=list)
    #: docs/bytes in as shown: the recorded figure, or (when a step recorded 0 but did output or remove documents,
    #: as global steps may) docs out + removed and the previous step's bytes out; ``*_inferred`` says which
    docs_in: int = 0
    docs_in_inferred: bool = False
    bytes_in: int | None = 0
    bytes_in_inferred: bool = False
    #: a global step's plan: the summaries of its ``once`` phases (quantile edges, mixing factors …)
    phases: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = 0) -> Any:
        value = self.s.get(name)
        return default if value is None else value

    @property
    def removed_total(self) -> int:
        return int(sum(self.get("removed", {}).values()))


def _steps(data: dict[str, Any]) -> list[StepView]:
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise ReportError("_stats.json has no 'steps' list: it is not a curate run's statistics")
    steps = []
    for i, entry in enumerate(data["steps"]):
        stats = entry.get("stats") or {}
        steps.append(
            StepView(
                i + 1,
                str(entry.get("key") or entry.get("step") or f"step{i + 1}"),
                str(entry.get("step") or entry.get("key") or ""),
                str(entry.get("fingerprint") or ""),
                stats,
                phases=entry.get("phases") or {},
            )
        )
    _assign_tokens(steps)
    previous = None
    for st in steps:
        st.docs_in, st.bytes_in = int(st.get("docs_in")), int(st.get("bytes_in"))
        if st.docs_in == 0 and st.get("docs_out") + st.removed_total > 0:
            st.docs_in, st.docs_in_inferred = int(st.get("docs_out") + st.removed_total), True
        if st.bytes_in == 0 and st.docs_in > 0:
            st.bytes_in = int(previous.get("bytes_out")) if previous is not None else None
            st.bytes_in_inferred = True
        previous = st
    seen: set[str] = set()
    for st in steps:
        cols = list(st.get("distributions", {}))
        st.new_columns = [c for c in cols if c not in seen and c != "length_chars"]
        seen.update(cols)
    return steps


def _assign_tokens(steps: list[StepView]) -> None:
    """Exact tokens where a step counts them; else mean ``token_count`` × docs; else bytes × a measured ratio."""
    ratio = None
    for st in steps:
        counters = st.get("counters", {})
        exact = next((counters[k] for k in TOKEN_COUNTERS if k in counters), None)
        splits = [n for k, n in counters.items() if TOKEN_SPLIT_COUNTER.match(k)]
        if exact is None and splits:
            exact = sum(splits)
        values = st.get("distributions", {}).get(TOKEN_COLUMN, {}).get("values")
        if exact is not None:
            st.tokens, st.tokens_source = float(exact), "counter"
        elif values:
            st.tokens, st.tokens_source = float(np.mean(values)) * st.get("docs_out"), "column"
        if st.tokens is not None and ratio is None and st.get("bytes_out"):
            ratio = st.tokens / st.get("bytes_out")
    if ratio is not None:
        for st in steps:
            if st.tokens is None and st.get("bytes_out"):
                st.tokens, st.tokens_source = st.get("bytes_out") * ratio, "estimate"


# -- formatting ----------------------------------------------------------------------------------------------------


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def fmt_int(n: float | int | None) -> str:
    return "—" if n is None else f"{int(round(n)):,}"


def fmt_short(n: float | None) -> str:
    if n is None:
        return "—"
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:.0f}" if float(n).is_integer() else f"{n:.3g}"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "—"
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def fmt_secs(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def fmt_pct(part: float, whole: float) -> str:
    if not whole:
        return "—"
    p = 100 * part / whole
    return f"{p:.1f}%" if p >= 0.1 or p == 0 else "<0.1%"


def fmt_time(iso: Any) -> str:
    try:
        return dt.datetime.fromisoformat(str(iso)).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    except ValueError:
        return str(iso or "—")


def _num_cell(field_name: str, value: float | None, text: str, title: str | None = None, extra: str = "") -> str:
    data_value = "" if value is None else (str(int(value)) if float(value).is_integer() else f"{value:.6g}")
    tip = f' title="{esc(title)}"' if title else ""
    return f'<td class="num" data-field="{field_name}" data-value="{data_value}"{tip}{extra}>{esc(text)}</td>'


# -- plots ---------------------------------------------------------------------------------------------------------


class Plots:
    """matplotlib figures (Agg, no pyplot state) rendered to inline SVG: text kept as text so the page's fonts
    apply, element ids prefixed per figure so many plots share one page, fixed margins for speed."""

    def __init__(self) -> None:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        self.Figure = Figure
        self.count = 0
        self.rc = {
            "svg.fonttype": "none",
            "font.size": 9,
            "font.family": "sans-serif",
            "font.sans-serif": ["Inter", "Helvetica Neue", "Arial", "DejaVu Sans"],
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.edgecolor": "#adb5bd",
            "axes.labelcolor": "#343a40",
            "xtick.color": "#495057",
            "ytick.color": "#495057",
            "axes.grid": True,
            "grid.color": "#e9ecef",
            "grid.linewidth": 0.8,
            "axes.axisbelow": True,
            "legend.frameon": False,
            "svg.hashsalt": "curate",
        }

    def figure(self, w: float, h: float, labels: list[str] | None = None):  # noqa: ANN201
        """A figure with one axes and fixed margins (constrained layout doubles the drawing time); ``labels`` are
        the y tick labels, whose length sets the left margin."""
        fig = self.Figure(figsize=(w, h))
        left = (max((len(t) for t in labels), default=0) * 0.062 + 0.22) if labels is not None else 0.62
        fig.subplots_adjust(left=min(0.6, left / w), right=1 - 0.25 / w, bottom=0.48 / h, top=1 - 0.1 / h)
        return fig

    def svg(self, fig) -> str:  # noqa: ANN001
        import matplotlib

        self.count += 1
        buf = io.StringIO()
        with matplotlib.rc_context({**self.rc, "svg.hashsalt": f"curate-{self.count}", "svg.id": f"plot{self.count}"}):
            fig.savefig(buf, format="svg", transparent=True)
        text = buf.getvalue()
        text = text[text.index("<svg") :]
        # element ids are unique within a figure only: prefix them so figures on one page never clash
        prefix = f"f{self.count}-"
        text = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
        text = re.sub(r'(xlink:href|href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{prefix}{m.group(2)}"', text)
        text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
        return text

    def apply(self):  # noqa: ANN201
        import matplotlib

        return matplotlib.rc_context(self.rc)


def _funnel_svg(plots: Plots, steps: list[StepView]) -> str:
    with plots.apply():
        n = len(steps)
        height = 0.3 * n + 1.0
        fig = plots.figure(9.5, height, [st.key for st in steps])
        fig.subplots_adjust(top=1 - 0.4 / height)
        ax = fig.add_subplot()
        y = np.arange(n)[::-1]
        start = max(steps[0].docs_in, steps[0].get("docs_out"), 1)
        docs_out = np.array([st.get("docs_out") for st in steps], dtype=float)
        removed = np.array([st.removed_total for st in steps], dtype=float)
        ax.barh(y, docs_out, color=PALETTE[0], height=0.62, label="documents kept")
        ax.barh(y, removed, left=docs_out, color=REMOVED_COLOUR, alpha=0.55, height=0.62, label="removed here")
        for yi, d in zip(y, docs_out):
            ax.text(d, yi, f"  {fmt_short(d)} ({100 * d / start:.0f}%)", va="center", fontsize=8, color="#212529")
        ax.set_yticks(y, [st.key for st in steps])
        ax.set_xlim(0, start * 1.22)
        ax.xaxis.set_major_formatter(_short_formatter())
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8)
        ax.set_xlabel("documents")
        return plots.svg(fig)


def _short_formatter():  # noqa: ANN202
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: fmt_short(v))


def _removals_svg(plots: Plots, steps: list[StepView]) -> str | None:
    rows = [(st, reason, n) for st in steps for reason, n in st.get("removed", {}).items() if n]
    if not rows:
        return None
    rows.sort(key=lambda r: -r[2])
    rows = rows[:MAX_REMOVAL_BARS]
    with plots.apply():
        fig = plots.figure(6.4, 0.24 * len(rows) + 0.8, [reason for _, reason, _ in rows])
        ax = fig.add_subplot()
        y = np.arange(len(rows))[::-1]
        colours = [PALETTE[(st.index - 1) % len(PALETTE)] for st, _, _ in rows]
        ax.barh(y, [n for _, _, n in rows], color=colours, height=0.7)
        ax.set_yticks(y, [f"{reason}" for _, reason, _ in rows], fontsize=8)
        for yi, (_, _, n) in zip(y, rows):
            ax.text(n, yi, f" {fmt_short(n)}", va="center", fontsize=7.5, color="#343a40")
        ax.set_xlim(0, rows[0][2] * 1.15)
        ax.xaxis.set_major_formatter(_short_formatter())
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("documents removed")
        return plots.svg(fig)


def _bins(values: np.ndarray) -> tuple[np.ndarray, bool]:
    lo, hi = float(values.min()), float(values.max())
    positive = values[values > 0]
    integral = bool(np.all(np.mod(values, 1) == 0))
    if integral and hi - lo <= 40:
        return np.arange(lo - 0.5, hi + 1.5), False
    if positive.size == values.size and hi / max(float(positive.min()), 1e-12) > 200:
        edges = np.geomspace(float(positive.min()), hi * 1.0001, 41)
        if integral:  # whole numbers (cluster sizes): edges between integers, no empty slivers
            edges = np.unique(np.floor(edges)) + 0.5
            edges = np.concatenate([[lo - 0.5], edges[edges > lo - 0.5]])
        return edges, True
    if lo == hi:
        return np.array([lo - 0.5, hi + 0.5]), False
    return np.linspace(lo, hi, 41), False


def _finite(values: Any) -> np.ndarray:
    """Sampled values as floats, without the NaN/inf a score column may hold (None: empty)."""
    try:
        a = np.asarray(values if values is not None else [], dtype=float).ravel()
    except (TypeError, ValueError):
        return np.zeros(0)
    return a[np.isfinite(a)]


def _numeric_svg(plots: Plots, series: list[tuple[str, np.ndarray]], xlabel: str) -> str:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    arrays = [(label, _finite(v)) for label, v in series if _finite(v).size]
    combined = np.concatenate([a for _, a in arrays])
    bins, log_x = _bins(combined)
    with plots.apply():
        fig = plots.figure(6.2, 2.7)
        ax = fig.add_subplot()
        for i, (label, a) in enumerate(arrays):
            share = np.histogram(a, bins=bins)[0] * (100.0 / a.size)
            if len(arrays) == 1:
                ax.stairs(share, bins, fill=True, color=PALETTE[0], alpha=0.85, label=label)
            else:
                ax.stairs(share, bins, linewidth=1.6, color=PALETTE[i % len(PALETTE)], label=label)
        if log_x:
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(_short_formatter())
            ax.xaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
            ax.xaxis.set_minor_formatter(NullFormatter())  # log minor labels are costly mathtext, and clutter
        counts, _ = np.histogram(combined, bins=bins)
        nonzero = counts[counts > 0]
        if nonzero.size and nonzero.max() > 0.3 * counts.sum() and nonzero.max() / nonzero.min() > 100:
            ax.set_yscale("log")  # heavy-tailed counts such as dedup cluster sizes
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel("% of documents")
        ax.set_xlabel(xlabel)
        if len(arrays) > 1:
            ax.legend(fontsize=7, loc="best")
        return plots.svg(fig)


def _categorical_svg(plots: Plots, counts: dict[str, int], xlabel: str) -> str:
    items = sorted(((k, n) for k, n in counts.items() if k != "(other)"), key=lambda kv: (-kv[1], kv[0]))
    top = items[:MAX_CATEGORIES_PLOTTED]
    other = counts.get("(other)", 0) + sum(n for _, n in items[MAX_CATEGORIES_PLOTTED:])
    if other:
        top.append(("(other)", other))
    total = sum(counts.values()) or 1
    with plots.apply():
        fig = plots.figure(6.2, 0.2 * len(top) + 0.8, [k for k, _ in top])
        ax = fig.add_subplot()
        y = np.arange(len(top))[::-1]
        ax.barh(y, [n for _, n in top], color=PALETTE[0], height=0.7)
        ax.set_yticks(y, [k for k, _ in top], fontsize=8)
        for yi, (_, n) in zip(y, top):
            ax.text(n, yi, f" {100 * n / total:.1f}%", va="center", fontsize=7.5, color="#343a40")
        ax.set_xlim(0, max(n for _, n in top) * 1.2)
        ax.xaxis.set_major_formatter(_short_formatter())
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(xlabel)
        return plots.svg(fig)


def _summary_line(values: Any) -> str:
    a = _finite(values)
    p10, p50, p90 = np.percentile(a, [10, 50, 90])
    return (
        f"{a.size:,} sampled · p10 {fmt_short(p10)} · median {fmt_short(p50)} · p90 {fmt_short(p90)} · "
        f"mean {fmt_short(float(a.mean()))}"
    )


# -- sections -------------------------------------------------------------------------------------------------------


def _summary_cards(data: dict[str, Any], steps: list[StepView]) -> str:
    first, last = steps[0], steps[-1]
    run = data.get("run") or {}
    docs_start = first.docs_in or first.get("docs_out")
    cpu = sum(st.get("cpu_seconds", 0.0) for st in steps)
    wall = run.get("wall_seconds")
    cards = [
        ("summary-docs-in", "documents in", fmt_int(docs_start), "read by the first step", docs_start),
        (
            "summary-docs-out",
            "documents out",
            fmt_int(last.get("docs_out")),
            f"{fmt_pct(last.get('docs_out'), docs_start)} kept",
            last.get("docs_out"),
        ),
        (
            "summary-bytes-out",
            "text out",
            fmt_bytes(last.get("bytes_out")),
            f"{fmt_pct(last.get('bytes_out'), first.bytes_in or first.get('bytes_out'))} of the first step's "
            f"{'input' if first.bytes_in else 'output'}",
            last.get("bytes_out"),
        ),
        (
            "summary-tokens-out",
            "tokens out",
            ("≈ " if last.tokens_source == "estimate" else "") + fmt_short(last.tokens),
            {
                "counter": "counted by the tokenizer",
                "column": "mean token_count × documents",
                "estimate": "estimated from bytes",
                "none": "no tokenize step ran",
            }[last.tokens_source],
            last.tokens,
        ),
        ("summary-wall", "wall time", fmt_secs(wall), f"{fmt_secs(cpu)} CPU over all steps", wall),
        (
            "summary-rate",
            "throughput",
            f"{fmt_short(docs_start / wall)} docs/s" if wall else "—",
            f"executor: {run.get('executor', '—')}",
            (docs_start / wall) if wall else None,
        ),
    ]
    out = ['<div class="cards">']
    for cid, label, value, sub, raw in cards:
        raw_attr = (
            "" if raw is None else f' data-value="{raw:.6g}"' if isinstance(raw, float) else f' data-value="{raw}"'
        )
        out.append(
            f'<div class="card" id="{cid}"{raw_attr}><div class="label">{esc(label)}</div>'
            f'<div class="value">{esc(value)}</div><div class="sub">{esc(sub)}</div></div>'
        )
    out.append("</div>")
    return "".join(out)


def _funnel_section(plots: Plots, steps: list[StepView]) -> str:
    start = max(steps[0].docs_in, 1)
    rows = []
    inferred = ' data-inferred="1" data-recorded="0"'
    for st in steps:
        docs_in, docs_out = st.docs_in, st.get("docs_out")
        tokens_text = (
            fmt_int(st.tokens)
            if st.tokens_source in ("counter",)
            else ("≈ " + fmt_short(st.tokens) if st.tokens is not None else "—")
        )
        token_tip = {
            "counter": "counted by the step",
            "column": "mean token_count × documents (sampled)",
            "estimate": "bytes × tokens/byte measured at the tokenize step",
            "none": "no token count",
        }
        removed = st.removed_total
        share = docs_out / start
        rows.append(
            f'<tr id="funnel-{st.index}" class="funnel-row" data-step-key="{esc(st.key)}" data-step="{esc(st.name)}">'
            f'<td class="idx">{st.index}</td><td><span class="step">{esc(st.name)}</span>'
            f'<span class="key">{esc(st.key)}</span></td>'
            + _num_cell(
                "docs_in",
                docs_in,
                fmt_int(docs_in),
                "the step recorded 0 documents in: shown is docs out + removed" if st.docs_in_inferred else None,
                inferred if st.docs_in_inferred else "",
            )
            + _num_cell("docs_out", docs_out, fmt_int(docs_out))
            + _num_cell("removed", removed, fmt_int(removed) if removed else "–", _reasons_tip(st))
            + f'<td class="num pct">{fmt_pct(docs_out, docs_in)}</td>'
            + f'<td class="bar"><div class="meter"><span style="width:{min(100, 100 * share):.1f}%"></span></div></td>'
            + _num_cell(
                "bytes_in",
                st.bytes_in,
                fmt_bytes(st.bytes_in),
                "the step recorded 0 bytes in: shown is the previous step's bytes out"
                if st.bytes_in_inferred
                else f"{st.bytes_in:,} bytes",
                inferred if st.bytes_in_inferred else "",
            )
            + _num_cell(
                "bytes_out", st.get("bytes_out"), fmt_bytes(st.get("bytes_out")), f"{st.get('bytes_out'):,} bytes"
            )
            + _num_cell(
                "tokens", st.tokens, tokens_text, token_tip[st.tokens_source], f' data-source="{st.tokens_source}"'
            )
            + "</tr>"
        )
    table = (
        '<table id="funnel-table" class="data"><thead><tr><th>#</th><th>step</th><th>docs in</th>'
        "<th>docs out</th><th>removed</th><th>kept</th><th>of input</th><th>bytes in</th><th>bytes out</th>"
        "<th>tokens out</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    note = (
        '<p class="note"><i>Italic</i> figures were not recorded by the step and are inferred (hover for how). '
        "Tokens marked ≈ are estimates (from a sampled <code>token_count</code> column or from "
        "bytes × the tokens-per-byte measured where tokens were counted); hover a cell for its source.</p>"
    )
    return (
        f'<section id="funnel"><h2>Funnel</h2><div class="panel">{table}{note}</div>'
        f'<div class="panel plot">{_funnel_svg(plots, steps)}</div></section>'
    )


def _reasons_tip(st: StepView) -> str | None:
    removed = sorted(st.get("removed", {}).items(), key=lambda kv: -kv[1])
    return "\n".join(f"{reason}: {n:,}" for reason, n in removed if n) or None


def _removals_section(plots: Plots, steps: list[StepView]) -> str:
    chart = _removals_svg(plots, steps)
    if chart is None:
        return '<section id="removals"><h2>Removals</h2><p class="empty">No step removed any document.</p></section>'
    total = sum(st.removed_total for st in steps) or 1
    rows = []
    for st in steps:
        removed = st.get("removed", {})
        for j, (reason, n) in enumerate(sorted(removed.items(), key=lambda kv: -kv[1])):
            colour = PALETTE[(st.index - 1) % len(PALETTE)]
            first = (
                (
                    f'<td rowspan="{len(removed)}" class="stepcell"><span class="dot" style="background:{colour}">'
                    f"</span>{esc(st.key)}</td>"
                )
                if j == 0
                else ""
            )
            rows.append(
                f'<tr class="removal-row" data-step-key="{esc(st.key)}" data-reason="{esc(reason)}">{first}'
                f'<td><a href="#samples-{esc(_slug(st.key))}-{esc(_slug(reason))}"><code>{esc(reason)}</code>'
                f"</a></td>"
                + _num_cell("removed", n, fmt_int(n))
                + f'<td class="num pct">{fmt_pct(n, st.docs_in)}</td>'
                f'<td class="num pct">{fmt_pct(n, total)}</td></tr>'
            )
    table = (
        '<table id="removals-table" class="data"><thead><tr><th>step</th><th>reason</th><th>documents</th>'
        "<th>of input</th><th>of removals</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    return (
        f'<section id="removals"><h2>Removals by reason</h2><div class="grid-wide"><div class="panel">{table}</div>'
        f'<div class="panel plot">{chart}</div></div></section>'
    )


def _distributions_section(plots: Plots, steps: list[StepView]) -> str:
    cards = []
    with_length = [
        st for st in steps if _finite(st.get("distributions", {}).get("length_chars", {}).get("values")).size
    ]
    if with_length:
        chosen = _spread(with_length, MAX_LENGTH_SERIES)
        series = [(f"after {st.key}", _finite(st.get("distributions")["length_chars"]["values"])) for st in chosen]
        cards.append(
            _card(
                "dist-length_chars",
                "Document length (characters)",
                "kept documents after each step",
                _numeric_svg(plots, series, "characters"),
                _summary_line(series[-1][1]) + f" (after {chosen[-1].key})",
            )
        )
    last = steps[-1]
    for st in steps:
        for col in st.new_columns:
            dist = st.get("distributions")[col]
            if _uninformative(col, dist):
                continue
            title = col.replace("_", " ")
            sub = f"added by {st.key}"
            if dist.get("kind") == "categorical" and dist.get("counts"):
                counts = dist["counts"]
                cards.append(
                    _card(
                        f"dist-{_slug(col)}",
                        title,
                        sub + f" · {len(counts)} values",
                        _categorical_svg(plots, counts, "documents"),
                        f"{sum(counts.values()):,} documents",
                    )
                )
                final = last.get("distributions", {}).get(col, {}).get("counts") if last is not st else None
                if final:  # e.g. the languages of the output, after every filter and dedup
                    cards.append(
                        _card(
                            f"dist-{_slug(col)}-output",
                            f"{title} of the output",
                            f"kept by the last step ({last.key}) · {len(final)} values",
                            _categorical_svg(plots, final, "documents"),
                            f"{sum(final.values()):,} documents",
                        )
                    )
            elif dist.get("kind") == "numeric" and _finite(dist.get("values")).size:
                series = [(f"after {st.key}", _finite(dist["values"]))]
                final = _finite(last.get("distributions", {}).get(col, {}).get("values"))
                if last is not st and final.size:
                    series.append((f"final ({last.key})", final))
                values = series[-1][1]
                distinct = np.unique(values)
                if set(distinct.tolist()) <= {0.0, 1.0}:
                    counts = {"true": int(np.sum(values)), "false": int(len(values) - np.sum(values))}
                    svg = _categorical_svg(plots, counts, "documents (sampled)")
                elif distinct.size <= 12 and np.all(np.mod(distinct, 1) == 0) and np.ptp(distinct) > 40:
                    # a few codes far apart (HTTP statuses, bucket ids): bars per value, not a sparse histogram
                    codes, n = np.unique(values, return_counts=True)
                    counts = {f"{int(c)}": int(k) for c, k in zip(codes, n)}
                    svg = _categorical_svg(plots, counts, "documents (sampled)")
                else:
                    svg = _numeric_svg(plots, series, col)
                cards.append(_card(f"dist-{_slug(col)}", title, sub, svg, _summary_line(values)))
    if not cards:
        return (
            '<section id="distributions"><h2>Distributions</h2><p class="empty">The run recorded no value '
            "distributions.</p></section>"
        )
    return (
        '<section id="distributions"><h2>Distributions</h2><p class="note">From a bounded, evenly strided '
        "subsample of the kept documents' values (categorical columns are counted exactly).</p>"
        '<div class="grid2">' + "".join(cards) + "</div></section>"
    )


def _uninformative(column: str, dist: dict[str, Any]) -> bool:
    """Columns not worth a plot: the core document columns and identifiers (ids, digests, timestamps), and
    categorical columns whose values are (nearly) all distinct."""
    if column in CORE_COLUMNS or IDENTIFIER.search(column):
        return True
    counts = {k: n for k, n in (dist.get("counts") or {}).items() if k != "(other)"}
    return dist.get("kind") == "categorical" and len(counts) >= 20 and max(counts.values()) <= 2


def _card(cid: str, title: str, sub: str, svg: str, foot: str) -> str:
    return (
        f'<div class="panel plot" id="{esc(cid)}"><h3>{esc(title)} <span class="muted">{esc(sub)}</span></h3>'
        f'{svg}<div class="foot">{esc(foot)}</div></div>'
    )


def _spread(items: list[StepView], k: int) -> list[StepView]:
    if len(items) <= k:
        return items
    picks = sorted({round(i * (len(items) - 1) / (k - 1)) for i in range(k)})
    return [items[i] for i in picks]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-") or "x"


def _doc_card(doc: dict[str, Any], kind: str) -> str:
    url = doc.get("url") or ""
    link = (
        f'<a href="{esc(url)}" rel="noopener noreferrer nofollow" target="_blank">{esc(_clip(url, 90))}</a>'
        if re.match(r"^https?://", url, re.I)
        else esc(_clip(url, 90)) or '<span class="muted">no url</span>'
    )
    excerpt = doc.get("excerpt")
    body = esc(excerpt) if excerpt else '<span class="muted">(no text)</span>'
    return (
        f'<div class="doc {kind}"><div class="url">{link}</div><div class="docid">{esc(doc.get("id"))}</div>'
        f"<blockquote>{body}</blockquote></div>"
    )


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _samples_section(steps: list[StepView]) -> str:
    blocks = []
    for st in steps:
        samples = st.get("samples", {}) or {}
        removed = samples.get("removed", {}) or {}
        kept = samples.get("kept", []) or []
        counts = st.get("removed", {})
        if not removed and not kept:
            continue
        reasons = sorted(set(removed) | {r for r, n in counts.items() if n}, key=lambda r: -counts.get(r, 0))
        left = []
        for reason in reasons:
            docs = removed.get(reason, [])
            cards = "".join(_doc_card(d, "removed") for d in docs) or '<p class="muted">no sample recorded</p>'
            left.append(
                f'<div class="reason" id="samples-{esc(_slug(st.key))}-{esc(_slug(reason))}">'
                f'<h4><code>{esc(reason)}</code> <span class="muted">{fmt_int(counts.get(reason, 0))} removed '
                f"({fmt_pct(counts.get(reason, 0), st.docs_in)})</span></h4>{cards}</div>"
            )
        right = "".join(_doc_card(d, "kept") for d in kept) or '<p class="muted">no kept sample</p>'
        open_attr = " open" if reasons else ""
        summary = (
            (
                f'{esc(st.key)} <span class="muted">{len(reasons)} reason{"s" if len(reasons) != 1 else ""}'
                f" · {fmt_int(st.removed_total)} removed</span>"
            )
            if reasons
            else f'{esc(st.key)} <span class="muted">kept documents</span>'
        )
        left_html = "".join(left) or '<p class="muted">this step removed nothing</p>'
        blocks.append(
            f'<details class="samples-step" data-step-key="{esc(st.key)}"{open_attr}><summary>{summary}'
            f'</summary><div class="pair"><div><h3 class="removed-h">removed</h3>{left_html}</div>'
            f'<div><h3 class="kept-h">kept</h3>{right}</div></div></details>'
        )
    if not blocks:
        return '<section id="samples"><h2>Samples</h2><p class="empty">The run recorded no samples.</p></section>'
    return (
        '<section id="samples"><h2>Samples</h2><p class="note">A few documents per removal reason beside a few '
        "the same step kept (excerpts). Look at more with <code>curate inspect OUT/&lt;step&gt;/rejected --reason "
        "R</code>.</p>" + "".join(blocks) + "</section>"
    )


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("***" if SECRET_KEY.search(str(k)) and v not in (None, "") else _redact(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _recipe_text(recipe: Any) -> str:
    try:
        import yaml

        return yaml.safe_dump(_redact(recipe), sort_keys=False, allow_unicode=True, width=110)
    except Exception:  # noqa: BLE001 - any dump is better than none
        import json

        return json.dumps(_redact(recipe), indent=2, default=str)


def _run_section(data: dict[str, Any], steps: list[StepView]) -> str:
    run = data.get("run") or {}
    facts = [
        ("started", fmt_time(run.get("started"))),
        ("finished", fmt_time(run.get("finished"))),
        ("wall time", fmt_secs(run.get("wall_seconds"))),
        ("executor", run.get("executor", "—")),
        ("resumed shards", fmt_int(run.get("resumed_shards", 0))),
        ("CPU time", fmt_secs(sum(st.get("cpu_seconds", 0.0) for st in steps))),
    ]
    facts_html = "".join(
        f'<div class="fact"><span class="label">{esc(k)}</span><span>{esc(v)}</span></div>' for k, v in facts
    )
    total_cpu = sum(st.get("cpu_seconds", 0.0) for st in steps) or 1.0
    rows = []
    for st in steps:
        wall, cpu = st.get("wall_seconds", 0.0), st.get("cpu_seconds", 0.0)
        rate = st.docs_in / wall if wall else None
        rows.append(
            f'<tr class="timing-row" data-step-key="{esc(st.key)}"><td class="idx">{st.index}</td>'
            f"<td>{esc(st.key)}</td><td><code>{esc(st.fingerprint)}</code></td>"
            + _num_cell("shards", st.get("shards"), fmt_int(st.get("shards")))
            + _num_cell("shards_skipped", st.get("shards_skipped"), fmt_int(st.get("shards_skipped")))
            + _num_cell("wall_seconds", wall, fmt_secs(wall))
            + _num_cell("cpu_seconds", cpu, fmt_secs(cpu))
            + f'<td class="bar"><div class="meter cpu"><span style="width:{100 * cpu / total_cpu:.1f}%">'
            f"</span></div></td>"
            + _num_cell("docs_per_second", rate, f"{fmt_short(rate)}/s" if rate else "—")
            + "</tr>"
        )
    timing = (
        '<table id="timing-table" class="data"><thead><tr><th>#</th><th>step</th><th>fingerprint</th>'
        "<th>shards</th><th>resumed</th><th>wall</th><th>CPU</th><th>CPU share</th><th>docs in/s</th></tr>"
        "</thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    counter_rows = []
    for st in steps:
        for name, n in sorted(st.get("counters", {}).items()):
            if name.startswith("_"):  # engine-internal bookkeeping
                continue
            flag = ' class="warn"' if re.search(r"skip|error|fail|truncat|invalid|corrupt", name) else ""
            counter_rows.append(
                f'<tr{flag} data-step-key="{esc(st.key)}" data-counter="{esc(name)}">'
                f"<td>{esc(st.key)}</td><td><code>{esc(name)}</code></td>" + _num_cell("count", n, fmt_int(n)) + "</tr>"
            )
    counters = (
        (
            '<table id="counters-table" class="data"><thead><tr><th>step</th><th>counter</th><th>count</th></tr>'
            "</thead><tbody>" + "".join(counter_rows) + "</tbody></table>"
        )
        if counter_rows
        else '<p class="muted">No counters (skipped records, errors …) were reported.</p>'
    )
    plans = _plans_html(steps)
    recipe = data.get("recipe") or {}
    content = recipe.get("content") if isinstance(recipe, dict) and isinstance(recipe.get("content"), dict) else recipe
    source = recipe.get("source") if isinstance(recipe, dict) and content is not recipe else None
    recipe_html = (
        f'<div class="muted">{esc(source)}</div>' if source else ""
    ) + f'<pre class="recipe">{esc(_recipe_text(content))}</pre>'
    return (
        f'<section id="run"><h2>Run facts</h2><div class="facts">{facts_html}</div>'
        f'<div class="panel">{timing}</div>'
        f'<div class="grid2"><div class="panel"><h3>Counters <span class="muted">skipped records and other '
        f'events</span></h3>{counters}</div><div class="panel"><h3>Recipe <span class="muted">as resolved'
        f"</span></h3>{recipe_html}</div></div>{plans}</section>"
    )


#: characters of a plan shown as JSON before it is cut (plans are small by contract; this bounds a bad one)
PLAN_CHARS = 4000


def _plans_html(steps: list[StepView]) -> str:
    """Each global step's plan: a table of per-group figures when it has them (``mix``), else its JSON."""
    panels = []
    for st in steps:
        for phase, summary in st.phases.items():
            groups = summary.get("groups") if isinstance(summary, dict) else None
            if isinstance(groups, dict) and groups and all(isinstance(v, dict) for v in groups.values()):
                fields = list(next(iter(groups.values())))
                head = "".join(f"<th>{esc(f)}</th>" for f in fields)
                rows = "".join(
                    f"<tr><td>{esc(g)}</td>" + "".join(_plan_cell(f, v.get(f)) for f in fields) + "</tr>"
                    for g, v in groups.items()
                )
                body = (
                    f'<table class="data plan-table"><thead><tr><th>group</th>{head}</tr></thead>'
                    f"<tbody>{rows}</tbody></table>"
                )
                extra = {k: v for k, v in summary.items() if k not in ("groups", "factors")}
                body += f'<pre class="recipe">{esc(json.dumps(extra, indent=1)[:PLAN_CHARS])}</pre>' if extra else ""
            else:
                body = f'<pre class="recipe">{esc(json.dumps(summary, indent=1)[:PLAN_CHARS])}</pre>'
            panels.append(
                f'<div class="panel" data-step-key="{esc(st.key)}" data-phase="{esc(phase)}"><h3>'
                f'{esc(st.key)} <span class="muted">{esc(phase)} (plan of a global step)</span></h3>'
                f"{body}</div>"
            )
    return "".join(panels)


def _plan_cell(field_name: str, value: Any) -> str:
    """A plan table cell: numbers right-aligned and sortable, anything else (names, lists) as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _num_cell(field_name, value, fmt_short(value))
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return f'<td data-field="{esc(field_name)}">{esc(text)}</td>'


CSS = """
:root{--fg:#212529;--muted:#6c757d;--line:#e9ecef;--bg:#f8f9fa;--accent:#4263eb;--kept:#2f9e44;--removed:#e8590c}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);
background:var(--bg)}
header{background:#1b1f3b;color:#fff;padding:22px 32px 18px}
header h1{margin:0;font-size:22px;font-weight:600;letter-spacing:.2px}
header .meta{color:#c5cae9;font-size:13px;margin-top:4px}
header code{color:#fff;background:rgba(255,255,255,.1);padding:1px 6px;border-radius:4px}
nav{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid var(--line);padding:8px 32px}
nav a{color:var(--fg);text-decoration:none;margin-right:22px;font-weight:500;font-size:13px}
nav a:hover{color:var(--accent)}
main{max-width:1400px;margin:0 auto;padding:18px 32px 60px}
h2{font-size:18px;margin:30px 0 12px;font-weight:600}
h3{font-size:14px;margin:0 0 8px;font-weight:600}
h4{font-size:13px;margin:12px 0 6px;font-weight:600}
.muted{color:var(--muted);font-weight:400}
.note{color:var(--muted);font-size:12.5px;margin:8px 0 0}
.empty{color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin-top:6px}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:12px 16px;
box-shadow:0 1px 2px rgba(0,0,0,.03)}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.5px}
.card .value{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums;margin:2px 0}
.card .sub{color:var(--muted);font-size:12px}
.panel{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 16px;margin-bottom:14px;
overflow-x:auto;box-shadow:0 1px 2px rgba(0,0,0,.03)}
.plot svg{max-width:100%;height:auto;display:block}
.plot .foot{color:var(--muted);font-size:12px;margin-top:4px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
.grid2>.panel{margin-bottom:0}
.grid-wide{display:grid;grid-template-columns:minmax(0,1.25fr) minmax(0,1fr);gap:14px}
@media (max-width:1100px){.grid-wide{grid-template-columns:1fr}}
table.data{border-collapse:collapse;width:100%;font-size:13px}
table.data th{text-align:left;font-weight:600;color:var(--muted);font-size:11.5px;text-transform:uppercase;
letter-spacing:.4px;border-bottom:2px solid var(--line);padding:6px 10px;white-space:nowrap}
table.data td{border-bottom:1px solid var(--line);padding:6px 10px;vertical-align:middle}
table.data tbody tr:hover td{background:#f1f3f5}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th:nth-child(n+3){text-align:right}
#removals-table th:nth-child(2),#counters-table th:nth-child(2),#timing-table th:nth-child(3){text-align:left}
td.pct{color:var(--muted)}
td[data-inferred]{font-style:italic;color:#5c7cfa}
td.idx{color:var(--muted);width:28px}
td.bar{width:140px}
.meter{background:#edf2ff;border-radius:4px;height:10px;overflow:hidden;min-width:100px}
.meter span{display:block;height:100%;background:var(--accent);border-radius:4px}
.meter.cpu{background:#fff4e6}.meter.cpu span{background:#f76707}
.step{font-weight:600}
#removals-table a{color:var(--fg);text-decoration:none}#removals-table a:hover{color:var(--accent)}
.key{color:var(--muted);font-size:11.5px;margin-left:8px;font-family:ui-monospace,monospace}
.stepcell{font-weight:600;white-space:nowrap;vertical-align:top!important}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:7px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
tr.warn td{background:#fff9db}
.warn-panel{background:#fff9db;border-color:#f59f00}
.warn-panel li{overflow-wrap:anywhere}
.facts{display:flex;flex-wrap:wrap;gap:10px 28px;margin-bottom:12px}
.fact{display:flex;flex-direction:column}.fact .label{color:var(--muted);font-size:11.5px;text-transform:uppercase}
pre.recipe{background:#f8f9fa;border:1px solid var(--line);border-radius:6px;padding:10px 12px;font-size:12px;
overflow:auto;max-height:420px;margin:0}
details.samples-step{background:#fff;border:1px solid var(--line);border-radius:10px;margin-bottom:10px;
padding:0 16px}
details.samples-step>summary{cursor:pointer;padding:10px 0;font-weight:600}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:18px;padding-bottom:12px}
.removed-h{color:var(--removed)}.kept-h{color:var(--kept)}
.doc{border-left:3px solid var(--line);padding:4px 10px;margin:6px 0 10px}
.doc.removed{border-color:var(--removed)}.doc.kept{border-color:var(--kept)}
.doc .url{font-size:12.5px;overflow-wrap:anywhere}.doc .url a{color:var(--accent);text-decoration:none}
.doc .docid{color:var(--muted);font-size:11px;font-family:ui-monospace,monospace;overflow-wrap:anywhere}
.doc blockquote{margin:4px 0 0;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12.5px;color:#343a40;
max-height:7.6em;overflow:hidden}
footer{color:var(--muted);font-size:12px;text-align:center;padding:20px}
"""


def _warnings_section(warnings: list[str]) -> str:
    """Input files that read badly (nothing read, or most records lost to one damage reason), first on the page."""
    if not warnings:
        return ""
    items = "".join(f'<li class="input-warning">{esc(w)}</li>' for w in warnings)
    return (
        f'<section id="input-warnings"><div class="panel warn-panel"><h3>{len(warnings)} input file'
        f'{"s" if len(warnings) != 1 else ""} read badly <span class="muted">(<code>curate run --strict</code> '
        f"fails on these)</span></h3><ul>{items}</ul></div></section>"
    )


def render_report(
    data: dict[str, Any],
    out: str = "",
    input_warnings: list[str] | None = None,
    comparison: dict[str, Any] | None = None,
) -> str:
    """The report page for a run's ``_stats.json`` content (a pure function: no IO); ``input_warnings`` are the
    per-input-file reading warnings (:mod:`curate.stages.warc.health`), shown above the funnel; ``comparison``
    (:func:`curate.snapshot_compare.compare`: the previous snapshot's run) adds a section after the summary."""
    steps = _steps(data)
    if not steps:
        raise ReportError("_stats.json lists no steps: the run did not get as far as its first step")
    recipe = data.get("recipe") or {}
    run = data.get("run") or {}
    name = recipe.get("name") if isinstance(recipe, dict) else None
    plots = Plots()
    body = [
        f'<section id="summary">{_summary_cards(data, steps)}</section>',
        _warnings_section(input_warnings or []),
        _funnel_section(plots, steps),
        _removals_section(plots, steps),
        _distributions_section(plots, steps),
        _run_section(data, steps),
        _samples_section(steps),
    ]
    if comparison is not None:
        from curate.snapshot_compare import comparison_section

        body.insert(1, comparison_section(comparison))
    title = f"curate report — {name}" if name else "curate report"
    meta = (
        f"output <code>{esc(out or recipe.get('output', ''))}</code> · {len(steps)} steps · finished "
        f"{esc(fmt_time(run.get('finished')))}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{esc(title)}</h1><div class="meta">{meta}</div></header>'
        '<nav><a href="#funnel">Funnel</a><a href="#removals">Removals</a><a href="#distributions">Distributions'
        '</a><a href="#run">Run facts</a><a href="#samples">Samples</a></nav>'
        f"<main>{''.join(body)}</main><footer>generated by curate from _stats.json at "
        f"{esc(dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC'))}</footer></body></html>\n"
    )


main = main_report  # the CLI delegates `curate report ...` to curate.report:main

if __name__ == "__main__":
    sys.exit(main_report())

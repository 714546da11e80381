"""The run report's plots: matplotlib figures (Agg, no pyplot state) inlined as SVG."""

from __future__ import annotations

import io
import re
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np

from curate.report.model import StepView, finite, fmt_short

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter
    from matplotlib.typing import RcKeyType

MAX_CATEGORIES_PLOTTED = 20
MAX_REMOVAL_BARS = 30
PALETTE = ["#4263eb", "#f76707", "#2f9e44", "#ae3ec9", "#1098ad", "#e64980", "#74b816", "#f59f00", "#495057", "#d6336c"]
REMOVED_COLOUR = "#e8590c"


# -- figures --------------------------------------------------------------------------------------------------------


class Plots:
    """matplotlib figures (Agg, no pyplot state) rendered to inline SVG: text kept as text so the page's fonts
    apply, element ids prefixed per figure so many plots share one page, fixed margins for speed."""

    def __init__(self) -> None:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        self.Figure = Figure
        self.count = 0
        self.rc: dict[RcKeyType, Any] = {
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

    def figure(self, w: float, h: float, labels: list[str] | None = None) -> Figure:
        """A figure with one axes and fixed margins (constrained layout doubles the drawing time); ``labels`` are
        the y tick labels, whose length sets the left margin."""
        fig = self.Figure(figsize=(w, h))
        left = (max((len(t) for t in labels), default=0) * 0.062 + 0.22) if labels is not None else 0.62
        fig.subplots_adjust(left=min(0.6, left / w), right=1 - 0.25 / w, bottom=0.48 / h, top=1 - 0.1 / h)
        return fig

    def svg(self, fig: Figure) -> str:
        import matplotlib

        self.count += 1
        buf = io.StringIO()
        rc: dict[RcKeyType, Any] = {**self.rc, "svg.hashsalt": f"curate-{self.count}", "svg.id": f"plot{self.count}"}
        with matplotlib.rc_context(rc):
            fig.savefig(buf, format="svg", transparent=True)
        text = buf.getvalue()
        text = text[text.index("<svg") :]
        # element ids are unique within a figure only: prefix them so figures on one page never clash
        prefix = f"f{self.count}-"
        text = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
        text = re.sub(r'(xlink:href|href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{prefix}{m.group(2)}"', text)
        text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
        return text

    def apply(self) -> AbstractContextManager[Any]:
        import matplotlib

        return matplotlib.rc_context(self.rc)


def funnel_svg(plots: Plots, steps: list[StepView]) -> str:
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


def _short_formatter() -> FuncFormatter:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: fmt_short(v))


def removals_svg(plots: Plots, steps: list[StepView]) -> str | None:
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


def numeric_svg(plots: Plots, series: list[tuple[str, np.ndarray]], xlabel: str) -> str:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    arrays = [(label, finite(v)) for label, v in series if finite(v).size]
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


def categorical_svg(plots: Plots, counts: dict[str, int], xlabel: str) -> str:
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

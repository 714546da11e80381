"""The run report's model: a run's ``_stats.json`` read into :class:`StepView` rows (with the figures the report
derives: tokens, inferred docs/bytes in, added columns), and the number formatting every section uses."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curate.errors import CurateError
from curate.storage import Location, location

REPORT_DIR = "_report"
REPORT_FILE = "index.html"
STATS_FILE = "_stats.json"
#: counters that report exact token totals (the tokenize/pack steps), in order of preference
TOKEN_COUNTERS = ("tokens", "tokens_out", "token_count")
#: per-split token counters (the pack step: ``tokens:train``, ``tokens:valid``), summed when there is no total
TOKEN_SPLIT_COUNTER = re.compile(r"^tokens:[^:]+$")
TOKEN_COLUMN = "token_count"


class ReportError(CurateError, RuntimeError):
    """The report cannot be built (no ``_stats.json``, or one that is not a run's stats)."""


def read_stats(out: str) -> tuple[Location, dict[str, Any]]:
    """The output folder ``out`` (a local path or URI) and its run's ``_stats.json`` content."""
    root = location(out)
    stats_loc = root.child(STATS_FILE)
    if not stats_loc.exists():
        raise ReportError(
            f"no run statistics at {stats_loc.uri}: the report is built from the _stats.json that "
            f"`curate run` writes into its output folder; run the recipe first (or check the path)"
        )
    try:
        data = stats_loc.read_json()
    except ValueError as exc:
        raise ReportError(f"{stats_loc.uri} is not valid JSON ({exc}); rerun `curate run` to rewrite it") from exc
    return root, data


# -- the steps the page is rendered from -------------------------------------------------------------------------


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


def step_views(data: dict[str, Any]) -> list[StepView]:
    """The steps of a run's ``_stats.json`` content, with docs/bytes in inferred where a step recorded none."""
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


def finite(values: Any) -> np.ndarray:
    """Sampled values as floats, without the NaN/inf a score column may hold (None: empty)."""
    try:
        a = np.asarray(values if values is not None else [], dtype=float).ravel()
    except (TypeError, ValueError):
        return np.zeros(0)
    return a[np.isfinite(a)]

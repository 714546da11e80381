"""The run report's page: its sections (summary cards, funnel, removals, distributions, run facts, samples) and
:func:`render_report`, which puts them together with inline CSS into one self-contained HTML page."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import numpy as np

from curate.report.model import (
    ReportError,
    StepView,
    esc,
    finite,
    fmt_bytes,
    fmt_int,
    fmt_pct,
    fmt_secs,
    fmt_short,
    fmt_time,
    step_views,
)
from curate.report.plots import PALETTE, Plots, categorical_svg, funnel_svg, numeric_svg, removals_svg
from curate.table import DOCUMENT_SCHEMA

MAX_LENGTH_SERIES = 5
#: columns never plotted: the core document columns, and identifier-like columns
CORE_COLUMNS = frozenset(DOCUMENT_SCHEMA.names)
IDENTIFIER = re.compile(r"(^|_)(id|ids|uuid|digest|hash|sha1|md5|timestamp|date)$", re.I)
#: recipe keys whose values are masked in the report (secrets belong in the environment, but be safe)
SECRET_KEY = re.compile(r"(api[_-]?key|secret|password|passwd|credential|access[_-]?key|(^|_)token$|auth)", re.I)


# -- sections ----------------------------------------------------------------------------------------------------


def _num_cell(field_name: str, value: float | None, text: str, title: str | None = None, extra: str = "") -> str:
    data_value = "" if value is None else (str(int(value)) if float(value).is_integer() else f"{value:.6g}")
    tip = f' title="{esc(title)}"' if title else ""
    return f'<td class="num" data-field="{field_name}" data-value="{data_value}"{tip}{extra}>{esc(text)}</td>'


def _summary_line(values: Any) -> str:
    a = finite(values)
    p10, p50, p90 = np.percentile(a, [10, 50, 90])
    return (
        f"{a.size:,} sampled · p10 {fmt_short(p10)} · median {fmt_short(p50)} · p90 {fmt_short(p90)} · "
        f"mean {fmt_short(float(a.mean()))}"
    )


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
        f'<div class="panel plot">{funnel_svg(plots, steps)}</div></section>'
    )


def _reasons_tip(st: StepView) -> str | None:
    removed = sorted(st.get("removed", {}).items(), key=lambda kv: -kv[1])
    return "\n".join(f"{reason}: {n:,}" for reason, n in removed if n) or None


def _removals_section(plots: Plots, steps: list[StepView]) -> str:
    chart = removals_svg(plots, steps)
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
    with_length = [st for st in steps if finite(st.get("distributions", {}).get("length_chars", {}).get("values")).size]
    if with_length:
        chosen = _spread(with_length, MAX_LENGTH_SERIES)
        series = [(f"after {st.key}", finite(st.get("distributions")["length_chars"]["values"])) for st in chosen]
        cards.append(
            _card(
                "dist-length_chars",
                "Document length (characters)",
                "kept documents after each step",
                numeric_svg(plots, series, "characters"),
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
                        categorical_svg(plots, counts, "documents"),
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
                            categorical_svg(plots, final, "documents"),
                            f"{sum(final.values()):,} documents",
                        )
                    )
            elif dist.get("kind") == "numeric" and finite(dist.get("values")).size:
                series = [(f"after {st.key}", finite(dist["values"]))]
                final = finite(last.get("distributions", {}).get(col, {}).get("values"))
                if last is not st and final.size:
                    series.append((f"final ({last.key})", final))
                values = series[-1][1]
                distinct = np.unique(values)
                if set(distinct.tolist()) <= {0.0, 1.0}:
                    counts = {"true": int(np.sum(values)), "false": int(len(values) - np.sum(values))}
                    svg = categorical_svg(plots, counts, "documents (sampled)")
                elif distinct.size <= 12 and np.all(np.mod(distinct, 1) == 0) and np.ptp(distinct) > 40:
                    # a few codes far apart (HTTP statuses, bucket ids): bars per value, not a sparse histogram
                    codes, n = np.unique(values, return_counts=True)
                    counts = {f"{int(c)}": int(k) for c, k in zip(codes, n)}
                    svg = categorical_svg(plots, counts, "documents (sampled)")
                else:
                    svg = numeric_svg(plots, series, col)
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
    steps = step_views(data)
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

"""What changed from one snapshot's run to the next: documents, languages, removal reasons, cross-snapshot duplicates.

Built from two runs' ``_stats.json`` (like the report, it never reads the corpus). The *cross-snapshot duplicate
rate* is the share of the documents entering the first dedup step with a persistent index that were removed as
copies of an earlier snapshot (removal reasons ending in ``_of_index``: see docs/dedup.md, "Persistent index").
``curate nightly`` stores the comparison in its state and summary line and adds it to the snapshot's report.
"""

from __future__ import annotations

from typing import Any

INDEX_SUFFIX = "_of_index"
#: languages and removal reasons shown (the largest changes first)
TOP = 12


def _steps(stats: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in stats.get("steps") or [] if isinstance(s, dict) and isinstance(s.get("stats"), dict)]


def documents(stats: dict[str, Any]) -> int:
    """Documents in the run's final output."""
    steps = _steps(stats)
    return int(steps[-1]["stats"]["docs_out"]) if steps else 0


def source_documents(stats: dict[str, Any]) -> int:
    """Documents the first step produced (read from the input)."""
    steps = _steps(stats)
    return int(steps[0]["stats"]["docs_out"]) if steps else 0


def removals(stats: dict[str, Any]) -> dict[str, int]:
    """Removed documents per reason, over every step."""
    out: dict[str, int] = {}
    for step in _steps(stats):
        for reason, n in (step["stats"].get("removed") or {}).items():
            out[reason] = out.get(reason, 0) + int(n)
    return out


def languages(stats: dict[str, Any]) -> dict[str, int]:
    """Documents per language as the language-ID step kept them (empty without one)."""
    for step in _steps(stats):
        dist = (step["stats"].get("distributions") or {}).get("language")
        if dist and dist.get("kind") == "categorical":
            return {str(k): int(v) for k, v in dist["counts"].items()}
    return {}


def cross_snapshot_duplicates(stats: dict[str, Any]) -> tuple[int, int]:
    """(documents removed as copies of earlier snapshots, documents entering the first indexed dedup step)."""
    removed = 0
    entering = None
    for step in _steps(stats):
        hits = sum(int(n) for r, n in (step["stats"].get("removed") or {}).items() if r.endswith(INDEX_SUFFIX))
        indexed = bool((step.get("config") or {}).get("params", {}).get("dedup_index")) or hits
        if indexed and entering is None:
            entering = int(step["stats"]["docs_in"])
        removed += hits
    return removed, entering or 0


def summary(stats: dict[str, Any]) -> dict[str, Any]:
    """The figures of one run that a comparison and the nightly summary line use."""
    dupes, entering = cross_snapshot_duplicates(stats)
    return {
        "documents": documents(stats),
        "source_documents": source_documents(stats),
        "cross_snapshot_duplicates": dupes,
        "cross_snapshot_duplicate_rate": round(dupes / entering, 4) if entering else 0.0,
    }


def run_label(stats: dict[str, Any], fallback: str) -> str:
    """The Common Crawl snapshot a run built (``input.commoncrawl.snapshot`` of its recipe), else ``fallback``."""
    content = (stats.get("recipe") or {}).get("content") or {}
    spec = (content.get("input") or {}).get("commoncrawl") if isinstance(content, dict) else None
    snapshot = spec.get("snapshot") if isinstance(spec, dict) else None
    return str(snapshot) if snapshot and snapshot != "latest" else fallback


def compare(
    previous: dict[str, Any], current: dict[str, Any], previous_id: str = "previous", current_id: str = "current"
) -> dict[str, Any]:
    """The comparison of two runs' ``_stats.json`` contents (JSON-ready)."""
    before, after = summary(previous), summary(current)
    lang_before, lang_after = languages(previous), languages(current)
    reasons_before, reasons_after = removals(previous), removals(current)
    return {
        "previous": previous_id,
        "current": current_id,
        "documents": _change(before["documents"], after["documents"]),
        "source_documents": _change(before["source_documents"], after["source_documents"]),
        "cross_snapshot_duplicates": after["cross_snapshot_duplicates"],
        "cross_snapshot_duplicate_rate": after["cross_snapshot_duplicate_rate"],
        "languages": _shares(lang_before, lang_after),
        "removals": {
            r: _change(reasons_before.get(r, 0), reasons_after.get(r, 0)) for r in _top(reasons_before, reasons_after)
        },
    }


def _change(before: int, after: int) -> dict[str, Any]:
    return {
        "previous": before,
        "current": after,
        "change": after - before,
        "ratio": round(after / before, 4) if before else None,
    }


def _top(a: dict[str, int], b: dict[str, int]) -> list[str]:
    keys = set(a) | set(b)
    return sorted(keys, key=lambda k: (-abs(b.get(k, 0) - a.get(k, 0)), -b.get(k, 0), k))[:TOP]


def _shares(a: dict[str, int], b: dict[str, int]) -> dict[str, dict[str, float]]:
    ta, tb = sum(a.values()) or 1, sum(b.values()) or 1
    return {k: {"previous": round(a.get(k, 0) / ta, 4), "current": round(b.get(k, 0) / tb, 4)} for k in _top(a, b)}


def comparison_section(comparison: dict[str, Any]) -> str:
    """The report's "Compared with the previous snapshot" section (HTML, values escaped)."""
    from html import escape

    def row(label: str, c: dict[str, Any]) -> str:
        ratio = f"{c['ratio']:.2f}×" if c.get("ratio") is not None else "new"
        return (
            f"<tr><td>{escape(label)}</td><td class=num>{c['previous']:,}</td><td class=num>{c['current']:,}</td>"
            f"<td class=num>{c['change']:+,}</td><td class=num>{ratio}</td></tr>"
        )

    head = "<tr><th></th><th>previous</th><th>this snapshot</th><th>change</th><th>ratio</th></tr>"
    rows = [row("documents (output)", comparison["documents"]), row("documents read", comparison["source_documents"])]
    rows += [row(f"removed: {reason}", c) for reason, c in comparison["removals"].items()]
    langs = "".join(
        f"<tr><td>{escape(k)}</td><td class=num>{v['previous']:.1%}</td><td class=num>{v['current']:.1%}</td></tr>"
        for k, v in comparison["languages"].items()
    )
    lang_table = (
        (
            f"<h3>Languages (share of documents after language ID)</h3><table><tr><th></th><th>previous</th>"
            f"<th>this snapshot</th></tr>{langs}</table>"
        )
        if langs
        else ""
    )
    return (
        f'<section id="compare"><h2>Compared with {escape(str(comparison["previous"]))}</h2>'
        f"<p>{comparison['cross_snapshot_duplicates']:,} documents removed as copies of earlier snapshots "
        f'(cross-snapshot duplicate rate <b data-field="cross_snapshot_duplicate_rate" '
        f'data-value="{comparison["cross_snapshot_duplicate_rate"]}">'
        f"{comparison['cross_snapshot_duplicate_rate']:.1%}</b>).</p>"
        f"<table>{head}{''.join(rows)}</table>{lang_table}</section>"
    )

"""Per-page extraction CPU time over every HTML page of the shared WARCs, and of synthetic pages at the bounds:
the measurement behind ``warc_extract``'s ``max_elements``/``max_depth``/``max_total_depth`` and ``timeout_s``.

Every HTML response of every ``../shared/data/warc/**`` file (1,120 pages of ``dev_pages.warc.gz`` plus the real
crawls and edge cases) is decoded as ``warc_extract`` decodes it, measured (characters, elements, depth upper
bound: ``warc.bounds.shape``) and extracted once per extractor (trafilatura with FineWeb's settings and compiled
XPaths, as ``warc_extract`` runs it; resiliparse ``main_content``), timed in CPU seconds of this process
(``time.process_time``). trafilatura's dedup cache is reset per file, as ``warc_extract`` does. Then pages built
at the bounds (as many elements as ``max_elements`` allows, under chains as deep as ``max_depth`` allows
within ``max_total_depth``, ``max_html_bytes`` of text)
show what the worst page *within* the bounds costs (``max_html_bytes`` bounds text length: 5 M characters of
text cost less than a second).

    .venv/bin/python bench/extract_bounds.py [--top 10]

Last line: ``RESULT extract_bounds slowest_real_trafilatura_cpu_s=... slowest_real_resiliparse_cpu_s=...
slowest_in_bounds_cpu_s=... timeout_s=... margin_real=... margin_in_bounds=...``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from curate.stage import SourceFile
from curate.stages.warc.bounds import over_bounds, shape
from curate.stages.warc.extract import WarcExtract
from curate.stages.warc.extractors import make_extractor

WARC_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "warc"
SUFFIXES = (".warc", ".warc.gz", ".arc.gz")
TRAFILATURA = {
    "favor_precision": True,
    "include_comments": False,
    "deduplicate": True,
    "fast": False,
    "include_tables": True,
    "compiled_xpaths": True,
}
RESILIPARSE = {"main_content": True, "alt_texts": False, "comments": False}


def pages(path: Path) -> list[tuple[str, str]]:
    """``(url, decoded html)`` of every HTML response ``warc_extract`` would hand to extraction."""
    step = WarcExtract(extract=False)
    out = []
    for batch in step.read(SourceFile(str(path), lambda: open(path, "rb"))):
        out += zip(batch.kept.column("url").to_pylist(), batch.kept.column("text").to_pylist())
    return out


def cpu_time(fn, html: str) -> float:
    start = time.process_time()
    fn(html)
    return time.process_time() - start


def synthetic(max_elements: int, max_depth: int, max_total_depth: int, max_chars: int) -> dict[str, str]:
    """Pages just inside the bounds, in the shapes that cost extractors most: many elements, and many elements
    under a deep chain (both extractors' time grows with total depth)."""
    word = "lorem ipsum dolor sit amet consectetur adipiscing elit "
    p = "<p>" + word + "</p>"
    n = max_elements - 3  # html, body, and a wrapper

    def under_chain(depth: int) -> tuple[str, str]:
        """As many ``<p>`` as the bounds allow under ``depth`` nested ``<div>``."""
        siblings = min(max_elements - depth - 2, (max_total_depth - depth * (depth + 3) // 2) // (depth + 2))
        html = "<html><body>" + "<div>" * depth + p * siblings + "</div>" * depth + "</body></html>"
        return f"{siblings:,} <p> under {depth:,} nested <div>", html

    pages = {
        f"{n:,} flat <p>": "<html><body><div>" + p * n + "</div></body></html>",
        f"{n // 2:,} table rows": "<html><body><table>"
        + f"<tr><td>{word}</td></tr>" * (n // 2)
        + "</table></body></html>",
        f"{n // 2:,} links in <li>": "<html><body><ul>"
        + f"<li><a href='/x'>{word}</a></li>" * (n // 2)
        + "</ul></body></html>",
        f"{max_chars // 1_000_000} M chars in 1,000 <p>": "<html><body>"
        + ("<p>" + word * (max_chars // 1000 // len(word) - 1) + "</p>") * 1000
        + "</body></html>",
    }
    for depth in (20, 50, 200, max_depth - 3):
        label, html = under_chain(depth)
        pages[label] = html
    return pages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=10, help="slowest pages listed")
    ap.add_argument("--skip-synthetic", action="store_true")
    args = ap.parse_args()
    if not WARC_DIR.exists():
        sys.exit(f"{WARC_DIR} not found (../shared/data)")
    params = WarcExtract.Params()
    from trafilatura.deduplication import LRU_TEST

    extractors = {
        "trafilatura": make_extractor("trafilatura", TRAFILATURA),
        "resiliparse": make_extractor("resiliparse", RESILIPARSE),
    }
    rows = []
    for path in sorted(p for p in WARC_DIR.rglob("*") if p.name.endswith(SUFFIXES)):
        LRU_TEST.clear()
        found = pages(path)
        for url, html in found:
            elements, depth, total_depth = shape(html)
            times = {name: cpu_time(fn, html) for name, fn in extractors.items()}
            rows.append(
                {
                    "file": path.name,
                    "url": url,
                    "chars": len(html),
                    "elements": elements,
                    "depth": depth,
                    "total_depth": total_depth,
                    **times,
                }
            )
        print(f"{path.relative_to(WARC_DIR)}: {len(found)} pages", flush=True)
    print(f"\n{len(rows)} pages")
    for key in ("chars", "elements", "depth", "total_depth", "trafilatura", "resiliparse"):
        values = sorted(r[key] for r in rows)
        p99 = values[int(0.99 * (len(values) - 1))]
        print(f"{key:12s} median {statistics.median(values):>12,.3f}  p99 {p99:>12,.3f}  max {values[-1]:>12,.3f}")
    slowest = sorted(rows, key=lambda r: -r["trafilatura"])[: args.top]
    print(
        f"\nslowest {args.top} (trafilatura CPU s, resiliparse CPU s, chars, elements, depth, total depth, file, url):"
    )
    for r in slowest:
        print(
            f"  {r['trafilatura']:6.3f} {r['resiliparse']:6.3f} {r['chars']:>9,} {r['elements']:>7,} "
            f"{r['depth']:>5,} {r['total_depth']:>9,}  {r['file']}  {r['url']}"
        )
    real_tr = max(r["trafilatura"] for r in rows)
    real_rp = max(r["resiliparse"] for r in rows)
    worst = 0.0
    if not args.skip_synthetic:
        print(
            f"\npages at the bounds (max_elements {params.max_elements:,}, max_depth {params.max_depth:,}, "
            f"max_total_depth {params.max_total_depth:,}, max_html_bytes {params.max_html_bytes:,}): CPU s"
        )
        LRU_TEST.clear()
        bounds = params.max_elements, params.max_depth, params.max_total_depth
        for label, html in synthetic(*bounds, params.max_html_bytes).items():
            assert over_bounds(html, *bounds) is None and len(html) <= params.max_html_bytes, (label, shape(html))
            times = {name: cpu_time(fn, html) for name, fn in extractors.items()}
            worst = max(worst, *times.values())
            print(f"  {label:40s} " + "  ".join(f"{k} {v:6.2f}" for k, v in times.items()), flush=True)
    print(
        f"\ntimeout_s default {params.timeout_s}: {params.timeout_s / max(real_tr, real_rp):.0f}x the slowest real "
        f"page" + (f", {params.timeout_s / worst:.1f}x the slowest page at the bounds" if worst else "")
    )
    print(
        f"RESULT extract_bounds slowest_real_trafilatura_cpu_s={real_tr:.2f} slowest_real_resiliparse_cpu_s="
        f"{real_rp:.3f} slowest_in_bounds_cpu_s={worst:.2f} timeout_s={params.timeout_s:g} "
        f"margin_real={params.timeout_s / max(real_tr, real_rp):.0f} "
        f"margin_in_bounds={params.timeout_s / worst if worst else float('nan'):.1f}"
    )


if __name__ == "__main__":
    main()

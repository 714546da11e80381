"""How long `curate report` takes for a run of 1M documents (budget: < 10 s).

Fabricates the ``OUT/_stats.json`` of a 1M-document run (18 steps over 2,000 shards by default: extraction,
language ID, two blocks of heuristic filters, exact + MinHash dedup, two classifiers, tokenize, pack), each step with
full-size value distributions (5,000 sampled values per numeric column, 50 categories), removal reasons and sample
documents, exactly as the engine's StepStats merge leaves them, then times ``build_report`` in this process: the
first call (cold: includes importing matplotlib, as a fresh `curate report` does) and the best of the warm calls.

The report reads stats and samples only, never the corpus, so its cost does not grow with the number of documents;
``--docs 100000000`` shows that. There is no peer to run side by side: datatrove writes a stats.json and NeMo
Curator timing logs, neither renders a report page, so the ratio printed is against the 10 s budget.

    .venv/bin/python bench/report_speed.py [--docs 1000000] [--shards 2000] [--filter-blocks 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from report_fixtures import fabricate_stats  # noqa: E402

from curate.report import build_report  # noqa: E402

BUDGET_SECONDS = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000, help="documents in the fabricated run")
    parser.add_argument("--shards", type=int, default=2000, help="shards per step")
    parser.add_argument("--filter-blocks", type=int, default=2, help="repeat the heuristic filter block (more steps)")
    parser.add_argument("--repeat", type=int, default=3, help="warm builds timed after the cold one")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        stats = fabricate_stats(n_docs=args.docs, shards=args.shards, repeat_filters=args.filter_blocks)
        stats_bytes = json.dumps(stats).encode()
        (Path(tmp) / "_stats.json").write_bytes(stats_bytes)
        t0 = time.perf_counter()
        page = Path(build_report(tmp))
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            build_report(tmp)
            warm.append(time.perf_counter() - t0)
        size = page.stat().st_size
    best = min(warm) if warm else cold
    print(
        f"run: {args.docs:,} documents, {len(stats['steps'])} steps x {args.shards:,} shards; "
        f"_stats.json {len(stats_bytes) / 1e6:.1f} MB; page {size / 1e6:.2f} MB"
    )
    print(f"build_report: cold {cold:.2f} s (incl. matplotlib import), warm best {best:.2f} s over {len(warm)}")
    print(f"budget {BUDGET_SECONDS:.0f} s: {BUDGET_SECONDS / cold:.1f}x headroom (cold)")
    print(
        f"RESULT report_speed secs_1m={cold:.3f} warm_secs={best:.3f} steps={len(stats['steps'])} "
        f"docs={args.docs} budget_ratio={BUDGET_SECONDS / cold:.2f}"
    )


if __name__ == "__main__":
    main()

"""The driver's marker reads on an object store: one by one vs ``Layout.read_markers`` (32 at a time).

A run's driver reads every shard's ``_done`` marker to decide what to resume and again to merge ``_stats.json``; on
S3 each read is a HEAD and a GET (pyarrow's S3 client), each a round trip of tens of milliseconds. This bench serves
``--shards`` markers of a realistic size from the S3 stand-in (``bench/s3_standin.py``, in this process) that answers
each request after a fixed ``--latency-ms`` (20 by default: S3's typical first-byte latency for small objects),
through the same pyarrow S3 filesystem a run uses, and times reading them all one by one and with ``read_markers``.
(moto's server is no use here: it spends ~6 ms of CPU per request, so it, not latency, would set the pace on this
2-core machine.)

    .venv/bin/python bench/driver_markers.py [--shards 1000] [--latency-ms 20]

Last line: ``RESULT driver_markers shards=... sequential_s=... parallel_s=... speedup=...``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import s3_standin  # noqa: E402 - a sibling module, found through the path set above


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shards", type=int, default=1000)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    args = ap.parse_args()
    server = s3_standin.serve(args.latency_ms / 1000)
    os.environ.update(s3_standin.s3_env(server.server_port))
    from curate.runner import MARKER_READERS, Layout

    layout = Layout("s3://bench/run")
    marker = {
        "fingerprint": "0123456789abcdef",
        "rows": 2000,
        "stats": {
            "docs_in": 2000,
            "docs_out": 1500,
            "removed": {"gopher_short_doc": 500},
            "samples": {"kept": [{"id": "x", "text": "y" * 300}] * 3},
        },
    }
    locs = [layout.marker("gopher_quality", f"shard-{i:06d}") for i in range(args.shards)]
    s3_standin.STORE.load((loc.path, json.dumps(marker).encode()) for loc in locs)
    t0 = time.perf_counter()
    sequential = [layout.read_marker(loc) for loc in locs]
    t_seq = time.perf_counter() - t0
    t0 = time.perf_counter()
    parallel = layout.read_markers(locs)
    t_par = time.perf_counter() - t0
    assert sequential == parallel and all(m == marker for m in parallel), "markers read back differently"
    server.shutdown()
    print(
        f"{args.shards} markers, {args.latency_ms:g} ms per request (HEAD + GET each): one by one {t_seq:.2f} s, "
        f"read_markers ({MARKER_READERS} at a time) {t_par:.2f} s"
    )
    print(
        f"RESULT driver_markers shards={args.shards} sequential_s={t_seq:.2f} parallel_s={t_par:.2f} "
        f"speedup={t_seq / t_par:.1f}"
    )


if __name__ == "__main__":
    main()

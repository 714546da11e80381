"""Planning at scale: the driver of a 100,000-shard run on an S3 stand-in, with the work left out.

An S3 stand-in (``bench/s3_standin.py``: LIST pages of 1,000 keys, a round trip per request, ``--latency-ms`` each,
20 by default) runs in its own process and holds 100,000 WARC inputs and what a previous run of the recipe below
left in the output: for ``--done all`` every shard finished in every step (the run finished: a rerun has nothing to
do), for ``--done half`` the first half of the shards through the local steps and nothing of the dedup step (a run
killed halfway, which wrote no manifest). Markers are realistic (~15 KB: stats with samples and a distribution of
1,000 values); ``--no-manifest`` leaves out the marker manifests a finished run writes (a folder from curate
versions before them).

The driver then runs ``curate.pipeline.run_recipe`` as ``curate run`` does (input discovery, column contract,
placement checks, plan and fingerprints, the output lock, ``tidy_output``, resume decisions, unit lists per
segment and phase, the final tidying, stats and their manifests) in a separate process whose only change is the
executor: it records the units it is handed and runs none. ``plan_s`` is that process's wall time for the whole
``run_recipe``; ``driver_peak_mb`` its peak resident memory (``getrusage``), Python and pyarrow included;
``driver_cpu_s`` the CPU time it used (on a busy machine the wall time is mostly waiting for a core; ``load`` is
the load average at the end).

    .venv/bin/python bench/plan_scale.py [--shards 100000] [--done all|half] [--latency-ms 20] [--no-manifest]

``--passes 2`` runs the driver twice on the same store: the second pass sees the manifests the first wrote.
Figures (the last pass's) are in docs/cluster.md, "Planning at scale".

Last line: ``RESULT plan_scale shards=... plan_s=... driver_peak_mb=... units=... requests=...``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import s3_standin  # noqa: E402 - a sibling module, found through the path set above

RECIPE = """\
name: plan-scale
input: {paths: ["s3://bench/crawl/*.warc.gz"]}
output: s3://bench/out
steps:
  - warc_extract: {}
  - url_filter: {banned_words: [xxx]}
  - gopher_repetition: {}
  - gopher_quality: {}
  - minhash_dedup: {partitions: 16}
execution: {report: false}
"""
BUCKET = "bench"
OUT = "s3://bench/out"


def crawl_uri(i: int) -> str:
    return f"s3://{BUCKET}/crawl/CC-MAIN-20261101000000-20261101010000-{i:06d}.warc.gz"


def marker_template() -> dict:
    """A marker as a 2,000-document shard's step writes it: counts, removals, samples, 1,000 length values."""
    excerpt = ("Petite histoire du canal du Midi: relier l'Atlantique à la Méditerranée sans contourner " * 5)[:400]
    sample = {
        "id": "<urn:uuid:0b6b4c2e-8d0e-4a4e-9c55-3f1f0e5a7d21>",
        "url": "https://example.org/a",
        "excerpt": excerpt,
    }
    return {
        "files": None,
        "fingerprint": None,
        "finished": "2026-11-01T01:00:00+00:00",
        "has_output": True,
        "node": "0f3c9d2b8a7e6f5d4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a2918",
        "rows": 1700,
        "shard": None,
        "step": None,
        "stats": {
            "bytes_in": 9_600_000,
            "bytes_out": 8_100_000,
            "counters": {},
            "cpu_seconds": 41.2,
            "distributions": {
                "language": {"kind": "categorical", "counts": {f"l{i:02d}": 90 - 3 * i for i in range(20)}},
                "length_chars": {"kind": "numeric", "values": [float(800 + (i * 7919) % 6000) for i in range(1000)]},
            },
            "docs_in": 2000,
            "docs_out": 1700,
            "removed": {"short": 200, "repetition": 100},
            "samples": {"kept": [sample] * 3, "removed": {"short": [sample] * 3, "repetition": [sample] * 3}},
            "shards": 1,
            "shards_skipped": 0,
            "wall_seconds": 44.8,
        },
    }


# ---------------------------------------------------------------------------------------------------------------
# The stand-in's process: what a previous run left


def seed(shards: int, done: str, manifests: bool, recipe_path: str) -> None:
    """Load the store with the inputs and a previous run's output (markers rendered on demand: 500k markers of
    15 KB would not fit in memory)."""
    from curate.io import InputFile, shard_names
    from curate.manifest import MANIFEST, ShardMarker, manifest_bytes
    from curate.pipeline import plan_steps
    from curate.plan import shard_fingerprints
    from curate.recipe import load_recipe
    from curate.stats import StepStats, merge_all

    specs = plan_steps(load_recipe(recipe_path))
    uris = [crawl_uri(i) for i in range(shards)]
    body = b"WARC/1.0\r\n" * 100
    inputs = [InputFile(uri, name, len(body), s3_standin.BULK_MTIME) for uri, name in zip(uris, shard_names(uris))]
    names = [f.shard for f in inputs]
    fps = shard_fingerprints(specs, inputs)
    template = marker_template()
    mtime_ns = int(s3_standin.BULK_MTIME * 1e9)
    items: list[tuple[str, object]] = [(s3_standin.object_key(u), body) for u in uris]
    later: list[tuple[str, object]] = []
    summary = None
    for spec in specs:
        if done == "half" and spec.kind == "global":
            continue
        finished = names if done == "all" else names[: shards // 2]
        step_template = json.dumps(
            {**template, "step": spec.key, "shard": "@SHARD@", "fingerprint": "@FP@", "files": ["@SHARD@.parquet"]},
            indent=1,
            sort_keys=True,
        )
        entries: list[ShardMarker | None] = []
        for shard in finished:
            marker = _Marker(step_template, shard, fps[spec.index][shard])
            size = len(bytes(marker))
            items.append((f"{BUCKET}/out/{spec.key}/_done/{shard}.json", marker))
            items.append((f"{BUCKET}/out/{spec.key}/{shard}.parquet", b"PAR1" * 8))
            entries.append(ShardMarker(fps[spec.index][shard], (f"{shard}.parquet",), True, size, mtime_ns))
        if manifests and done == "all":
            if summary is None:  # every step's shards have the same stats: merged once
                one = StepStats.from_dict(template["stats"])
                summary = {"stats": merge_all(one for _ in finished).to_dict(), "nodes": {template["node"]: shards}}
            later.append((f"{BUCKET}/out/{spec.key}/{MANIFEST}", manifest_bytes(finished, entries, summary)))
    s3_standin.STORE.load(items)
    s3_standin.STORE.load(later, s3_standin.BULK_MTIME + 3600)  # manifests come after the markers they index


class _Marker:
    """A marker's bytes, rendered when read (``bytes(marker)``)."""

    __slots__ = ("fp", "shard", "template")

    def __init__(self, template: str, shard: str, fp: str):
        self.template, self.shard, self.fp = template, shard, fp

    def __bytes__(self) -> bytes:
        return self.template.replace("@SHARD@", self.shard).replace("@FP@", self.fp).encode()


def serve_main(args: argparse.Namespace) -> None:
    seed(args.shards, args.done, args.manifest, args.recipe)
    server = s3_standin.serve(args.latency_ms / 1000)
    print(server.server_port, flush=True)
    sys.stdin.read()  # until the bench closes our stdin


# ---------------------------------------------------------------------------------------------------------------
# The driver's process


class PlanOnly:
    """An executor that records the units it is handed and runs none."""

    name = "plan-only"

    def __init__(self) -> None:
        self.units = 0
        self.calls: list[tuple[float, int]] = []
        self.t0 = time.perf_counter()

    def run(self, fn, tasks, resources, concurrency, shared=None):  # noqa: ANN001 - the Executor protocol's signature
        self.units += len(tasks)
        self.calls.append((time.perf_counter() - self.t0, len(tasks)))
        return iter(())

    def nodes(self) -> int:
        return 1

    def running_reports(self, progress: object) -> None:
        return None

    def close(self) -> None:
        pass


def drive_main(args: argparse.Namespace) -> None:
    import curate.pipeline
    from curate.recipe import load_recipe

    start = resource.getrusage(resource.RUSAGE_SELF)
    rss0, cpu0 = start.ru_maxrss / 1024, start.ru_utime + start.ru_stime
    executor = PlanOnly()
    curate.pipeline.make_executor = lambda *a, **k: executor
    t0 = time.perf_counter()
    executor.t0 = t0
    result = curate.pipeline.run_recipe(load_recipe(args.recipe))
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 1024
    first = executor.calls[0][0] if executor.calls else None
    print(
        json.dumps(
            {
                "plan_s": wall,
                "cpu_s": usage.ru_utime + usage.ru_stime - cpu0,
                "first_units_s": first,
                "peak_mb": peak,
                "imports_mb": rss0,
                "units": executor.units,
                "resumed": result.resumed_shards,
                "docs_out": [s["stats"]["docs_out"] for s in result.steps],
            }
        )
    )


# ---------------------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shards", type=int, default=100_000)
    ap.add_argument("--done", choices=("all", "half"), default="all")
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--no-manifest", dest="manifest", action="store_false")
    ap.add_argument("--passes", type=int, default=1, help="driver runs one after the other on the same store")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--recipe", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        return serve_main(args)
    if args.drive:
        return drive_main(args)
    with tempfile.TemporaryDirectory() as tmp:
        recipe = Path(tmp) / "plan-scale.yaml"
        recipe.write_text(RECIPE)
        me = [sys.executable, __file__, "--recipe", str(recipe)]
        t0 = time.perf_counter()
        server = subprocess.Popen(
            [*me, "--serve", "--shards", str(args.shards), "--done", args.done, "--latency-ms", str(args.latency_ms)]
            + ([] if args.manifest else ["--no-manifest"]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        port = int(server.stdout.readline())
        print(f"stand-in holds a previous run ({args.done} done) after {time.perf_counter() - t0:.0f} s", flush=True)
        env = {**os.environ, **s3_standin.s3_env(port)}
        try:
            for n in range(args.passes):
                before = _requests(port)
                out = subprocess.run([*me, "--drive"], env=env, capture_output=True, text=True)
                if out.returncode != 0:
                    raise SystemExit(out.stderr[-4000:])
                got = json.loads(out.stdout.strip().splitlines()[-1])
                made = {k: v - before.get(k, 0) for k, v in _requests(port).items() if v - before.get(k, 0)}
                print(
                    f"pass {n + 1}: {got['plan_s']:.1f} s ({got['cpu_s']:.1f} s of CPU), peak {got['peak_mb']:.0f} MB "
                    f"(after imports "
                    f"{got['imports_mb']:.0f} MB), {got['units']} units handed out (first list after "
                    f"{got['first_units_s'] or 0:.1f} s), {got['resumed']} shards resumed, requests {made}",
                    flush=True,
                )
        finally:
            server.stdin.close()
            server.wait()
    print(
        f"RESULT plan_scale shards={args.shards} plan_s={got['plan_s']:.1f} driver_peak_mb={got['peak_mb']:.0f} "
        f"driver_cpu_s={got['cpu_s']:.1f} load={os.getloadavg()[0]:.1f} "
        f"done={args.done} seeded_manifest={int(args.manifest)} passes={args.passes} latency_ms={args.latency_ms:g} "
        f"units={got['units']} "
        f"requests={sum(made.values())}"
    )


def _requests(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_requests", timeout=30) as r:
        return json.loads(r.read())


if __name__ == "__main__":
    main()

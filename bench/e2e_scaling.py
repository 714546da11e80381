"""WARC -> filtered Parquet on 1 and 2 Ray workers: wall docs/s, and CPU time to tell scaling from machine load.

Input: the 1,120 HTML records of ``dev_pages.warc.gz`` dealt round-robin into ``--shards`` WARC files (gzip members
as they are, in a temporary folder), so every shard costs about the same. Steps as ``bench/e2e_speed.py`` (FineWeb
extraction, language ID en >= 0.65, Gopher repetition and quality, C4, FineWeb quality), run by the engine
(``run_steps``) on one local Ray instance with ``num_cpus=2``; the number of workers is the step's ``concurrency``
option (1 or 2). A warm-up run (two shards, two workers) starts the two worker processes before any clock starts:
the executor keeps a pool's processes between runs (``curate/executors/ray.py``), so the timed runs use them (a one-
worker run one of them) without paying a Ray worker's start and curate's, trafilatura's and lxml's imports (~2.3
CPU-s each, a fixed cost that would otherwise be 8 % of a one-worker run and 15 % of a two-worker run of this
30-second job; measured with fresh workers per run the ratio was 1.66-1.78). Each run still sets its steps up on the
workers (the fastText model loads) and tears them down at its end, which also makes ``warc_extract`` forget its
remembered XPath verdicts: every run starts with none, as a fresh worker does. Runs alternate 1, 2, 2, 1 workers,
``--cycles`` times (default 2: this machine's speed drifts by ±10 % within a minute, and more alternations average
it out), and the ratio uses the mean rate of each.

32 shards by default (35 documents each): two workers finish at different times, and the one left alone on the
last shard idles the other core for half a shard on average; with 16 shards that tail was ~4 % of a two-worker
run of this 15-second job (a real run has thousands of shards per worker, where it is nothing). Each shard costs the
engine its fixed share (six Parquet files and markers, in both runs alike).

CPU evidence (the machine has 2 cores and other users): the CPU seconds of this process and every process under it
(the Ray workers, raylet, GCS; sampled from ``/proc`` once a second, so workers that exit still count) are counted
per run. ``cpu_2_vs_1`` near 1 means two workers do no more work than one (no serialisation or scheduling overhead
worth the name); ``busy_2`` = CPU seconds / (2 x wall) is the share of two cores the run got: below ~0.95 the
machine, not the engine, held it back, and ``cpu_scaling`` = 2 x cpu_1 / cpu_2 is what the wall ratio would be with
both cores ours (two workers each doing a document for the CPU it costs them), before the tail where one worker
finishes the last shard alone.

    .venv/bin/python bench/e2e_scaling.py [--shards 32] [--cycles 2]

Last line: ``RESULT e2e_scaling workers_2_vs_1=... cpu_scaling=... docs_per_s_1=... docs_per_s_2=...``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

ROOT = Path(__file__).resolve().parents[1]
DEV_WARC = ROOT.parent / "shared" / "data" / "warc" / "pages_with_gold" / "dev_pages.warc.gz"
TICKS = os.sysconf("SC_CLK_TCK")


def split_warc(warc: Path, shards: int, folder: Path) -> None:
    from curate.stages.warc.stream import gzip_members

    members = gzip_members(warc.read_bytes())
    folder.mkdir(parents=True)
    for i in range(shards):
        (folder / f"dev-{i:03d}.warc.gz").write_bytes(b"".join(members[i::shards]))


class TreeCPU:
    """CPU seconds (user + system) of this process and every process under it, from /proc.

    Ray workers come and go: a thread samples the tree every ``interval`` seconds and keeps each process's last
    reading, so a worker that exits still counts (all but its last ``interval``; a killed worker's time does not
    reach its parent's ``cutime``: the raylet does not wait for its workers). One sample reads every process's
    ``stat`` (~2-3 ms with Ray's processes up): once a second it takes ~0.3 % of a core from the run it measures,
    five times a second it took ~1.5 %."""

    def __init__(self, interval: float = 1.0):
        self.seen: dict[tuple[int, int], float] = {}  # (pid, start time) -> CPU seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(interval,), daemon=True)
        self._thread.start()

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.sample()

    def sample(self) -> None:
        children: dict[int, list[int]] = {}
        info: dict[int, tuple[int, float]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
            pid = int(entry)
            children.setdefault(int(fields[1]), []).append(pid)
            info[pid] = (int(fields[19]), (int(fields[11]) + int(fields[12])) / TICKS)
        stack = [os.getpid()]
        while stack:
            pid = stack.pop()
            if pid in info:
                started, cpu = info[pid]
                self.seen[(pid, started)] = cpu
            stack.extend(children.get(pid, []))

    def total(self) -> float:
        self.sample()
        return sum(self.seen.values())

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def specs(workers: int) -> list:
    from curate.plan import StepSpec
    from curate.stages import C4Quality, FineWebQuality, GopherQuality, GopherRepetition, LanguageId, WarcExtract

    steps = [
        WarcExtract(extractor="trafilatura", favour_precision=True, concurrency=workers),
        LanguageId(model="lid176-ftz", keep=["en"], min_score=0.65),
        GopherRepetition(),
        GopherQuality(),
        C4Quality(filter_no_terminal_punct=False),
        FineWebQuality(),
    ]
    return [StepSpec.from_stage(step, f"s{i}", i) for i, step in enumerate(steps)]


def timed_run(inputs: list, out: Path, workers: int, executor, meter: TreeCPU) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the process tree, HTML records read)."""
    from curate.runner import run_steps

    cpu, start = meter.total(), time.perf_counter()
    result = run_steps(specs(workers), inputs, str(out), executor)
    wall, cpu = time.perf_counter() - start, meter.total() - cpu
    html = result.step_stats("s0").counters.get("html_records", 0)
    return wall, cpu, html


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warc", type=Path, default=DEV_WARC)
    parser.add_argument("--shards", type=int, default=32)
    parser.add_argument("--cycles", type=int, default=2, help="rounds of runs with 1, 2, 2 and 1 workers")
    args = parser.parse_args()
    if not args.warc.exists():
        sys.exit(f"../shared/data not found: {args.warc}")
    from curate.executors.base import make_executor
    from curate.io import discover_inputs

    with tempfile.TemporaryDirectory() as tmp:
        split_warc(args.warc, args.shards, Path(tmp) / "in")
        inputs = discover_inputs([f"{tmp}/in/*.warc.gz"])
        executor = make_executor("ray", num_cpus=2)
        meter = TreeCPU()
        try:
            timed_run(inputs[:2], Path(tmp) / "warmup", 2, executor, meter)
            runs: dict[int, list[tuple[float, float, int]]] = {1: [], 2: []}
            for i, workers in enumerate((1, 2, 2, 1) * args.cycles):
                runs[workers].append(timed_run(inputs, Path(tmp) / f"out{i}", workers, executor, meter))
                wall, cpu, html = runs[workers][-1]
                print(
                    f"{workers} worker(s): {wall:6.1f} s wall, {html / wall:5.1f} docs/s, {cpu:6.1f} CPU-s "
                    f"({cpu / html * 1000:.1f} CPU-ms/doc, {cpu / (workers * wall):.2f} of {workers} core(s) busy)"
                )
        finally:
            meter.close()
            executor.close()
    rate = {w: sum(h / wall for wall, _, h in r) / len(r) for w, r in runs.items()}
    cpu_doc = {w: sum(c / h for _, c, h in r) / len(r) for w, r in runs.items()}
    busy = {w: sum(c / (w * wall) for wall, c, _ in r) / len(r) for w, r in runs.items()}
    ratio = rate[2] / rate[1]
    cpu_ratio = cpu_doc[2] / cpu_doc[1]
    cpu_scaling = 2 / cpu_ratio  # docs per CPU-second of two busy workers vs one: the wall ratio on idle cores
    print(
        f"{args.shards} shards of {args.warc.name}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} "
        "(others' work on this machine lowers busy_2 and the wall ratio)"
    )
    print(f"cpu_2_vs_1={cpu_ratio:.3f} (CPU per document, 2 workers vs 1) busy_1={busy[1]:.2f} busy_2={busy[2]:.2f}")
    print(
        f"RESULT e2e_scaling workers_2_vs_1={ratio:.2f} cpu_scaling={cpu_scaling:.2f} "
        f"docs_per_s_1={rate[1]:.1f} docs_per_s_2={rate[2]:.1f}"
    )


if __name__ == "__main__":
    main()

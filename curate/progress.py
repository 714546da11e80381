"""Progress while a run goes: per step, shards done/total, documents in/out, docs/s and ETA.

On a terminal it draws rich progress bars; otherwise (nightly job logs, CI) it prints a plain line per step at
most every ``interval`` seconds and when a step finishes.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass
class _StepProgress:
    total: int
    done: int = 0
    skipped: int = 0
    docs_in: int = 0
    docs_out: int = 0
    started: float = field(default_factory=time.perf_counter)
    last_line: float = 0.0
    phase: str = ""
    #: documents in/out so far of shards still running, by shard (so a single big shard shows movement)
    running: dict[str | None, tuple[int, int]] = field(default_factory=dict)
    finished: set[str | None] = field(default_factory=set)

    @property
    def live_in(self) -> int:
        return self.docs_in + sum(n for n, _ in self.running.values())

    @property
    def live_out(self) -> int:
        return self.docs_out + sum(n for _, n in self.running.values())

    def rate(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.live_in / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        ran = self.done - self.skipped
        remaining = self.total - self.done
        if ran <= 0 or remaining <= 0:
            return None
        return (time.perf_counter() - self.started) / ran * remaining

    def line(self, key: str) -> str:
        eta = self.eta()
        phase = f" [{self.phase}]" if self.phase else ""
        return (
            f"{key}{phase}: shards {self.done}/{self.total} (skipped {self.skipped}) "
            f"docs {self.live_in:,} in → {self.live_out:,} out, {self.rate():,.0f} docs/s"
            + (f", ETA {_duration(eta)}" if eta is not None else "")
        )


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """Reports step progress to a terminal (rich) or as plain periodic lines."""

    def __init__(
        self, enabled: bool = True, stream: TextIO | None = None, interval: float = 10.0, rich: bool | None = None
    ):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.interval = interval
        self.steps: dict[str, _StepProgress] = {}
        use_rich = self.stream.isatty() if rich is None else rich
        self._rich: Any = None
        self._task_ids: dict[str, Any] = {}
        if enabled and use_rich:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(
                TextColumn("[bold]{task.fields[key]:<22}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[docs]}"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=False,
            )
            self._rich.start()

    def start_step(self, key: str, total: int, skipped: int = 0) -> None:
        self.steps[key] = _StepProgress(total=total, done=skipped, skipped=skipped)
        if self._rich is not None:
            self._task_ids[key] = self._rich.add_task(key, total=total, completed=skipped, key=key, docs="")
        elif self.enabled and skipped:
            self._print(f"{key}: {skipped}/{total} shards already done, skipped")

    def phase(self, key: str, phase: str, total: int, done: int) -> None:
        step = self.steps[key]
        step.phase = f"{phase} {done}/{total}"
        self._update(key, force=True)

    def shard_done(self, key: str, stats: dict[str, Any], shard: str | None = None) -> None:
        step = self.steps[key]
        step.done += 1
        step.docs_in += int(stats.get("docs_in", 0))
        step.docs_out += int(stats.get("docs_out", 0))
        step.running.pop(shard, None)  # its final stats replace what it reported while running
        step.finished.add(shard)
        self._update(key)

    def running(self, shard: str, counts: dict[str, tuple[int, int]]) -> None:
        """A shard still running reports its steps' documents in/out so far (see :class:`Reporter`)."""
        for key, (docs_in, docs_out) in counts.items():
            step = self.steps.get(key)
            if step is not None and shard not in step.finished:  # a late report of a finished shard is stale
                step.running[shard] = (docs_in, docs_out)
                self._update(key)

    def finish_step(self, key: str) -> None:
        step = self.steps[key]
        step.phase = ""
        self._update(key, force=True)

    def _update(self, key: str, force: bool = False) -> None:
        if not self.enabled:
            return
        step = self.steps[key]
        if self._rich is not None:
            docs = f"{step.live_in:,} → {step.live_out:,} docs, {step.rate():,.0f}/s" + (
                f" [{step.phase}]" if step.phase else ""
            )
            self._rich.update(self._task_ids[key], completed=step.done, docs=docs)
            return
        now = time.perf_counter()
        if force or now - step.last_line >= self.interval:
            step.last_line = now
            self._print(step.line(key))

    def note(self, line: str) -> None:
        """A line of information before the bars (the Ray dashboard's address …)."""
        if self.enabled:
            self._print(line)

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None


#: seconds between two reports of a running shard
REPORT_INTERVAL = 1.0


class RunningReports:
    """Where running shards' counts go: straight into a :class:`Progress` (in-process executors) or, given
    ``actor`` (a Ray actor handle), into that actor, which the driver drains while it waits."""

    def __init__(self, progress: Progress | None = None, actor: Any = None):
        self._progress, self._actor = progress, actor

    def __call__(self, shard: str, counts: dict[str, tuple[int, int]]) -> None:
        if self._actor is not None:
            self._actor.put.remote(shard, counts)  # fire and forget: progress never slows the work
        elif self._progress is not None:
            self._progress.running(shard, counts)


class Reporter:
    """Worker side: report a shard's running counts at most every :data:`REPORT_INTERVAL` seconds."""

    def __init__(self, sink: RunningReports | None, shard: str):
        self.sink, self.shard = sink, shard
        self._last = time.perf_counter()

    def maybe(self, counts: Any) -> None:
        if self.sink is None or time.perf_counter() - self._last < REPORT_INTERVAL:
            return
        self._last = time.perf_counter()
        self.sink(self.shard, counts())

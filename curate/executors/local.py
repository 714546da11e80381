"""In-process executor: runs work units one after another in this Python process (tests, notebooks, debugging)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from curate.errors import StepFailed
from curate.executors.base import Task
from curate.progress import RunningReports
from curate.stage import Resources


class LocalExecutor:
    """Runs every task sequentially in the calling process; the same stage code as on Ray, no cluster."""

    name = "local"

    def run(
        self,
        fn: Callable[..., Any],
        tasks: list[Task],
        resources: Resources,
        concurrency: int | None,
        shared: Any = None,
    ) -> Iterator[tuple[Task, Any]]:
        for task in tasks:
            try:
                yield task, fn(task.payload) if shared is None else fn(shared, task.payload)
            except StepFailed as exc:  # the unit failed; the others go on (see Executor.run)
                yield task, exc

    def nodes(self) -> int:
        return 1

    def running_reports(self, progress: Any) -> RunningReports:
        return RunningReports(progress)  # same process: straight into the progress display

    def close(self) -> None:
        from curate.plan import teardown_stages

        teardown_stages()

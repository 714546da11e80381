"""The executor contract: run a list of independent work units with declared resources, yield results as they
complete. The engine's driver plans what to run; executors only decide where."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from curate.stage import Resources


@dataclass
class Task:
    """One unit of work: the payload handed to the worker function, and a description for errors and logs."""

    payload: Any
    description: str


class Executor(Protocol):
    name: str

    def run(
        self,
        fn: Callable[..., Any],
        tasks: list[Task],
        resources: Resources,
        concurrency: int | None,
        shared: Any = None,
    ) -> Iterator[tuple[Task, Any]]:
        """Run ``fn(task.payload)`` for every task; yield ``(task, result)`` in completion order. A unit that fails
        (``StepFailed``, or its worker lost for good) is yielded with the exception as its result, and the other
        units go on: the driver decides what a failure stops.

        ``shared``: a value every task needs (a global step's phase: every input file, earlier phases' summaries),
        then each task runs ``fn(shared, task.payload)``. The executor ships it once per call, not in each payload:
        a payload holding it would make a phase over ``n`` shards ship ``n`` copies of something ``n`` long. Tasks
        must not modify it."""
        ...

    def nodes(self) -> int:
        """How many machines run the units (1 in-process): local paths are only safe on one."""
        ...

    def running_reports(self, progress: Any) -> Any:
        """A :class:`curate.progress.RunningReports` that gets running shards' counts to ``progress``."""
        ...

    def close(self) -> None: ...


def make_executor(name: str, address: str | None = None, **options: Any) -> Executor:
    if name == "local":
        from curate.executors.local import LocalExecutor

        return LocalExecutor()
    if name == "ray":
        from curate.executors.ray import RayExecutor

        return RayExecutor(address=address, **options)
    raise ValueError(f"unknown executor {name!r}: expected 'ray' or 'local'")

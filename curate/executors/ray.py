"""Ray executor: CPU work units run as Ray tasks; model steps (``stateful`` resources or GPUs) run on a pool of
actors so each model loads once per actor. With no address (and no ``RAY_ADDRESS``) it starts a local Ray
instance sized to this machine; with one it joins that cluster.

Worker processes outlive a pool's run: when its last unit is done, each actor's steps are torn down (models freed,
as before) but the actor stays, idle, for the executor's next run with the same resources (the next ``run_steps``
of a notebook, a stateful global step's next phase), which then skips starting a Ray worker process and importing
curate, pyarrow, lxml and trafilatura again (~2.3 CPU-s per actor on the dev machine: ``bench/e2e_scaling.py``).
Idle actors still hold their CPUs/GPUs, so they are stopped before anything else runs (tasks, or a pool of other
resources) and when the executor closes or is dropped.

Retries: a task whose worker process dies is resubmitted by Ray (``max_retries``); an actor that dies is
restarted and its in-flight call retried (``max_restarts``/``max_task_retries``). Because a unit of work writes
its outputs under temporary names and its marker last, a retried unit simply redoes the shard.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from typing import Any

from curate.errors import CurateError, StepFailed
from curate.executors.base import Task
from curate.progress import RunningReports
from curate.stage import Resources


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast, with what to do, when a ``host:port`` cluster address does not answer (Ray itself retries for
    minutes, printing connection warnings)."""
    if address == "auto" or "://" in address or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except (OSError, ValueError) as exc:
        raise CurateError(
            f"cannot reach the Ray cluster at {address} ({exc}): start one with `ray start --head`, "
            "point --address / RAY_ADDRESS at its head node, or run with --executor local"
        ) from None


def _call(fn: Callable[..., Any], payload: Any, shared: tuple[Any, ...] = ()) -> Any:
    """A unit on a worker: ``fn(payload)``, or ``fn(value, payload)`` where ``shared`` holds the object-store
    reference of the call's shared value (inside a tuple, so Ray hands over the reference, not a copy per task)."""
    return fn(payload) if not shared else fn(_shared_value(shared[0]), payload)


#: shared values this worker process read, by object id, most recent last (a phase's units reuse one)
_SHARED: OrderedDict[str, Any] = OrderedDict()
#: how many a worker keeps: the running phase's and the one before (each is megabytes at 100,000 shards)
SHARED_KEPT = 2


def _shared_value(ref: Any) -> Any:
    """The value behind ``ref``, read from the object store and unpickled once per worker process."""
    key = ref.hex()
    if key in _SHARED:
        _SHARED.move_to_end(key)
        return _SHARED[key]
    import ray

    value = _SHARED[key] = ray.get(ref)
    while len(_SHARED) > SHARED_KEPT:
        _SHARED.popitem(last=False)
    return value


class _Reports:
    """An actor holding the latest counts each running shard reported; the driver drains it while it waits."""

    def __init__(self) -> None:
        self._latest: dict[str, dict] = {}

    def put(self, shard: str, counts: dict) -> None:
        self._latest[shard] = counts

    def drain(self) -> dict[str, dict]:
        latest, self._latest = self._latest, {}
        return latest


#: seconds the driver waits for a result before it refreshes running shards' counts
POLL_S = 1.0


class _Worker:
    """An actor that keeps its process (and every step it built, see ``StepSpec.build``) between calls."""

    def call(self, fn: Callable[..., Any], payload: Any, shared: tuple[Any, ...] = ()) -> Any:
        return _call(fn, payload, shared)

    def teardown(self) -> None:
        from curate.plan import teardown_stages

        teardown_stages()


def _teardown(ray: Any, actors: list[Any]) -> bool:
    """Let the actors' steps free their models; False when one did not (dead, or still busy after a minute)."""
    try:
        ray.get([actor.teardown.remote() for actor in actors], timeout=60)
        return True
    except Exception:  # noqa: BLE001 - a dead actor has nothing left to free
        return False


def _stop(ray: Any, actors: list[Any], teardown: bool = True) -> None:
    """Let the actors' steps free their models (``teardown``), then kill the actors."""
    if teardown and actors:
        _teardown(ray, actors)
    for actor in actors:
        ray.kill(actor)


def _alive(ray: Any, actors: list[Any], timeout: float = 30.0) -> list[Any]:
    """The idle actors that still answer (one may have died with its node since the last run); kills the rest."""
    pings = [actor.__ray_ready__.remote() for actor in actors]
    answered, _ = ray.wait(pings, num_returns=len(pings), timeout=timeout) if pings else ([], [])
    ok = set()
    for ref in answered:
        try:
            ray.get(ref)
            ok.add(ref)
        except Exception:  # noqa: BLE001 - an actor that died answers with its error
            pass
    _stop(ray, [actor for ref, actor in zip(pings, actors) if ref not in ok], teardown=False)
    return [actor for ref, actor in zip(pings, actors) if ref in ok]


class RayExecutor:
    """Runs work units on Ray: tasks for stateless CPU work, an actor pool for stateful/GPU steps."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None, max_retries: int = 3):
        import ray

        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        self.max_retries = max_retries
        self._started_here = False
        self.dashboard_url: str | None = None
        if not ray.is_initialized():
            address = address or os.environ.get("RAY_ADDRESS")
            common: dict[str, Any] = {
                "logging_level": logging.WARNING,
                "log_to_driver": bool(os.environ.get("CURATE_RAY_LOGS")),
            }
            if address:
                _check_reachable(address)
                # Plugins on the driver's PYTHONPATH (same paths on every node, as with a shared image or folder)
                extra: dict[str, Any] = (
                    {"runtime_env": {"env_vars": {"PYTHONPATH": os.environ["PYTHONPATH"]}}}
                    if os.environ.get("PYTHONPATH")
                    else {}
                )
                context = ray.init(address=address, **common, **extra)
            else:
                # Local instance: workers import what the driver can (plugins, test modules) via PYTHONPATH. The
                # dashboard starts only with `ray[default]` installed and CURATE_RAY_DASHBOARD=1 (it costs seconds).
                path = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
                context = ray.init(
                    num_cpus=num_cpus,
                    runtime_env={"env_vars": {"PYTHONPATH": path}},
                    include_dashboard=bool(os.environ.get("CURATE_RAY_DASHBOARD")),
                    **common,
                )
                self._started_here = True
            url = getattr(context, "dashboard_url", None)
            self.dashboard_url = f"http://{url}" if url and "://" not in url else url
        self._ray = ray
        self._reports: Any = None
        self._progress: Any = None
        #: idle actors by their options (resources, restarts), kept for the next run with the same options
        self._idle: dict[tuple[tuple[str, str], ...], list[Any]] = {}

    def running_reports(self, progress: Any) -> RunningReports:
        if self._reports is None:
            self._reports = self._ray.remote(_Reports).options(num_cpus=0).remote()
        self._progress = progress
        return RunningReports(actor=self._reports)

    def _wait(self, refs: list[Any]) -> list[Any]:
        """``ray.wait`` for one result; with live progress, wake up every ``POLL_S`` to pass on running counts."""
        if self._reports is None:
            return self._ray.wait(refs, num_returns=1)[0]
        while True:
            done, _ = self._ray.wait(refs, num_returns=1, timeout=POLL_S)
            try:
                for shard, counts in self._ray.get(self._reports.drain.remote(), timeout=POLL_S).items():
                    self._progress.running(shard, counts)
            except Exception:  # noqa: BLE001 - a progress hiccup (actor restarting) never fails a run
                pass
            if done:
                return done

    def run(
        self,
        fn: Callable[..., Any],
        tasks: list[Task],
        resources: Resources,
        concurrency: int | None,
        shared: Any = None,
    ) -> Iterator[tuple[Task, Any]]:
        if not tasks:
            return
        # the shared value goes to the object store once; each task gets its reference (~100 bytes), and each
        # worker process reads it once (``_shared_value``). The reference lives until the last unit is done.
        held = () if shared is None else (self._ray.put(shared),)
        if resources.stateful or resources.gpus:
            yield from self._run_on_actors(fn, tasks, resources, concurrency, held)
        else:
            yield from self._run_as_tasks(fn, tasks, resources, concurrency, held)

    def _options(self, resources: Resources) -> dict[str, Any]:
        options: dict[str, Any] = {"num_cpus": resources.cpus, "num_gpus": resources.gpus}
        if resources.memory_gb:
            options["memory"] = int(resources.memory_gb * 1024**3)
        if resources.custom:
            options["resources"] = dict(resources.custom)
        return options

    def _run_as_tasks(
        self,
        fn: Callable[..., Any],
        tasks: list[Task],
        resources: Resources,
        concurrency: int | None,
        shared: tuple[Any, ...] = (),
    ) -> Iterator[tuple[Task, Any]]:
        ray = self._ray
        self._stop_idle()  # idle actors hold CPUs the tasks need
        remote = ray.remote(_call).options(max_retries=self.max_retries, **self._options(resources))
        queue = deque(tasks)  # popped from the left: a list would move 100,000 tasks per pop
        limit = concurrency or len(tasks)
        pending: dict[Any, Task] = {}
        while queue or pending:
            while queue and len(pending) < limit:
                task = queue.popleft()
                pending[remote.remote(fn, task.payload, shared)] = task
            done = self._wait(list(pending))
            for ref in done:
                task = pending.pop(ref)
                yield task, self._get(ref, task)

    def _run_on_actors(
        self,
        fn: Callable[..., Any],
        tasks: list[Task],
        resources: Resources,
        concurrency: int | None,
        shared: tuple[Any, ...] = (),
    ) -> Iterator[tuple[Task, Any]]:
        ray = self._ray
        options = {"max_restarts": self.max_retries, "max_task_retries": self.max_retries, **self._options(resources)}
        key = tuple(sorted((name, repr(value)) for name, value in options.items()))
        self._stop_idle(keep=key)
        size = min(len(tasks), concurrency or self._pool_size(resources))
        idle = _alive(ray, self._idle.pop(key, []))
        actors, spare = idle[:size], idle[size:]
        actor_class = ray.remote(_Worker).options(**options)
        actors += [actor_class.remote() for _ in range(size - len(actors))]
        queue = deque(tasks)  # popped from the left: a list would move 100,000 tasks per pop
        pending: dict[Any, tuple[Task, Any]] = {}
        free = list(actors)
        finished = False
        try:
            while queue or pending:
                while queue and free:
                    actor = free.pop()
                    task = queue.popleft()
                    pending[actor.call.remote(fn, task.payload, shared)] = (task, actor)
                done = self._wait(list(pending))
                for ref in done:
                    task, actor = pending.pop(ref)
                    free.append(actor)
                    yield task, self._get(ref, task)
            finished = True
        finally:
            if finished and _teardown(ray, actors):  # the last unit is done: steps freed, the processes stay
                self._idle[key] = actors + spare
            else:  # stopped early (units may still run on them), or an actor that cannot tear down: not kept
                _stop(ray, actors + spare, teardown=not finished)

    def _stop_idle(self, keep: tuple[tuple[str, str], ...] | None = None) -> None:
        """Stop the idle actors of every other set of options than ``keep`` (their steps are already torn down)."""
        for key in [k for k in self._idle if k != keep]:
            _stop(self._ray, self._idle.pop(key), teardown=False)

    def nodes(self) -> int:
        """Alive nodes of the cluster."""
        return sum(1 for node in self._ray.nodes() if node.get("Alive"))

    def _pool_size(self, resources: Resources) -> int:
        available = self._ray.cluster_resources()
        for name, amount in resources.custom:  # node labels bound the pool as GPUs do
            return max(1, int(available.get(name, 0) // amount))
        if resources.gpus:
            return max(1, int(available.get("GPU", 0) // resources.gpus))
        return max(1, int(available.get("CPU", 1) // max(resources.cpus, 0.01)))

    def _get(self, ref: Any, task: Task) -> Any:
        """The unit's result, or a ``StepFailed`` naming the unit when it failed (returned, not raised)."""
        try:
            return self._ray.get(ref)
        except self._ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None) or exc
            return StepFailed(str(cause) if isinstance(cause, StepFailed) else f"{task.description}: {cause!r}")
        except self._ray.exceptions.RayError as exc:  # worker or actor lost after its retries
            return StepFailed(f"{task.description}: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        if self._ray.is_initialized():
            self._stop_idle()
        if self._reports is not None and self._ray.is_initialized():
            self._ray.kill(self._reports)
            self._reports = None
        if self._started_here and self._ray.is_initialized():
            self._ray.shutdown()

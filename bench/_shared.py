"""Pieces the benches share; not a bench itself (it prints no ``RESULT`` line).

CPU seconds for the per-CPU-second figures (a machine shared with other work distorts them less than wall time), a
stopwatch summing wall and CPU seconds over the stretches one side of a comparison runs, and the turn-taking that
``extract_speed`` and ``e2e_speed`` use to run us and datatrove on the same records within seconds of each other."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (every thread) and of its finished, waited-for children (datatrove
    extracts in a child process; so does our resiliparse side)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Stopwatch:
    """Wall and CPU seconds (:func:`cpu_seconds`) summed over the ``with`` blocks it times."""

    def __init__(self) -> None:
        self.seconds = self.cpu = 0.0
        self._start = (0.0, 0.0)

    def __enter__(self) -> Stopwatch:
        self._start = (time.perf_counter(), cpu_seconds())
        return self

    def __exit__(self, *exc: object) -> None:
        wall, cpu = self._start
        self.seconds += time.perf_counter() - wall
        self.cpu += cpu_seconds() - cpu


def chunk_files(path: Path, size: int, out_dir: str) -> list[Path]:
    """``path``'s gzip members (one WARC record each) as WARCs of ``size`` records, in order."""
    from curate.stages.warc.stream import gzip_members

    members = gzip_members(path.read_bytes())
    chunks = []
    for i in range(0, len(members), size):
        chunk = Path(out_dir) / f"chunk_{i // size:04d}.warc.gz"
        chunk.write_bytes(b"".join(members[i : i + size]))
        chunks.append(chunk)
    return chunks


def taking_turns(
    docs: Iterable[T], chunks: list[Path], size: int, ours_first: bool, run: Callable[[Path], None]
) -> Iterator[T]:
    """``docs`` (the peer's reader) unchanged, with ``run`` called on the next of ``chunks`` every ``size``
    documents: before the chunk's first document when ``ours_first``, after its last otherwise. Chunks left over
    (records the peer's reader skipped) run at the end."""
    pending = iter(chunks)
    for read, doc in enumerate(docs):
        if ours_first and read % size == 0 and (chunk := next(pending, None)) is not None:
            run(chunk)
        yield doc
        if not ours_first and (read + 1) % size == 0 and (chunk := next(pending, None)) is not None:
            run(chunk)
    for chunk in pending:
        run(chunk)

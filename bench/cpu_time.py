"""CPU seconds for the benches' per-CPU-second figures, which a machine shared with other work distorts less than
wall time."""

from __future__ import annotations

import resource


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (every thread) and of its finished, waited-for children (datatrove
    extracts in a child process; so does our resiliparse side)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

"""The output folder's layout: where a step's shards, rejected documents, markers and scratch files live, and
reading markers (many at once: on object stores each read is a round trip).

    OUT/<step>/<shard>.parquet            the step's kept documents for one shard
    OUT/<step>/rejected/<shard>.parquet   removed documents with a ``reason`` column (when keep_rejected)
    OUT/<step>/_done/<shard>.json         marker: fingerprint + stats; written last, so its presence means done
    OUT/<step>/_work/<run>/...            a global step's scratch space, private to one run id (the step's
                                          fingerprint over all its input); unit markers in _work/<run>/_phases/
    OUT/_stats.json                       stats merged per step
    OUT/_lock.json                        the run holding the folder (curate.outdir)
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import quote

from curate.storage import Location, location

PHASE_MARKERS = "_phases"
WORK = "_work"


@dataclass(frozen=True)
class Layout:
    out: str

    def root(self) -> Location:
        return self._root

    @cached_property
    def _root(self) -> Location:
        """Made once: an S3 filesystem takes milliseconds to make, and a driver makes paths for 100,000 shards."""
        return location(self.out)

    def shard(self, key: str, shard: str) -> Location:
        return self.root().child(key, f"{shard}.parquet")

    def partition_shard(self, key: str, column: str, value: object, shard: str) -> Location:
        """``OUT/<step>/<column>=<value>/<shard>.parquet``: Hive-style, so polars, DuckDB, pyarrow datasets and
        HF datasets read the folder as one table with ``column`` (values URI-escaped as Hive does)."""
        return self.root().child(key, partition_folder(column, value), f"{shard}.parquet")

    def shard_files(self, key: str, shard: str, marker: dict | None) -> list[Location]:
        """The files a step's marker vouches for: those it lists (partitioned output), else the one shard file
        (nothing when the step kept no document of the shard)."""
        if marker is None:
            return [self.shard(key, shard)]
        return [self.root().child(key, rel) for rel in marker_files(marker, shard)]

    def rejected(self, key: str, shard: str) -> Location:
        return self.root().child(key, "rejected", f"{shard}.parquet")

    def marker(self, key: str, shard: str) -> Location:
        return self.root().child(key, "_done", f"{shard}.json")

    def work(self, key: str, run: str, *parts: str) -> Location:
        """A global step's scratch space for one run id: no run can read another's work files or markers."""
        return self.root().child(key, WORK, run, *parts)

    def phase_marker(self, key: str, run: str, phase: str, unit: Any) -> Location:
        """Kept apart from the step's own scratch files (``_work/<run>/_phases/``), which ``list_work`` never
        shows."""
        return self.work(key, run, PHASE_MARKERS, phase, f"{unit_name(unit)}.json")

    def read_marker(self, loc: Location) -> dict | None:
        try:
            return loc.read_json()
        except (FileNotFoundError, OSError, ValueError):
            return None

    def read_markers(self, locs: list[Location]) -> list[dict | None]:
        """:meth:`read_marker` of many markers, ``MARKER_READERS`` at a time: on an object store each read is a
        round trip of tens of milliseconds, so a driver checking 100k shards one by one would wait for hours."""
        if len(locs) < 2:
            return [self.read_marker(loc) for loc in locs]
        with ThreadPoolExecutor(min(MARKER_READERS, len(locs))) as pool:
            return list(pool.map(self.read_marker, locs))


#: markers the driver reads at once (resume checks, stats)
MARKER_READERS = 32


def marker_files(marker: dict, shard: str) -> list[str]:
    """The output files a shard's marker vouches for, relative to the step's folder: those it lists (``files``:
    partitioned output), else ``<shard>.parquet`` (nothing when the step kept no document of the shard)."""
    if "files" in marker:
        return list(marker["files"])
    return [f"{shard}.parquet"] if marker.get("has_output", True) else []


#: Hive's folder name for a null partition value
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def partition_folder(column: str, value: object) -> str:
    """``language=deu_Latn``; values URI-escaped (``/`` and other unsafe characters), nulls as Hive's default."""
    return f"{column}={NULL_PARTITION if value is None else quote(str(value), safe='')}"


def unit_name(unit: Any) -> str:
    """A phase unit's file name: the shard, the partition number, or ``once``."""
    return "once" if unit is None else str(unit)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

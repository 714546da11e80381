"""Marker manifests: a step's ``_done`` markers compacted into one file, so a driver planning 100,000 shards reads
one object per step instead of one per shard (docs/architecture.md, "Marker manifests").

    OUT/<step>/_done/_markers.manifest   one row per marker the run's plan vouched for when it finished: shard,
                                         fingerprint, the files the marker names, whether its stats removed
                                         documents, and the marker's size and modification time as listed; the
                                         step's merged stats over exactly those rows in the file's metadata

Individual markers stay authoritative. A row is used only for a marker that the listing of the step folder (made
before anything is read) still shows with the row's size and modification time, and whose modification time is
more than :data:`TRUST_MARGIN_NS` older than the manifest's own (so a marker rewritten after the manifest was
written, within the store's timestamp granularity, is never mistaken for the one the row describes). Every other
marker is read as before: one written after the manifest, a rewritten one, one the manifest lacks. A marker that
is gone is gone whatever the manifest says. A missing, unreadable or foreign manifest only means reading every
marker. So a stale manifest can cost reads, never lose a shard nor bring one back.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from curate.layout import Layout, marker_files
from curate.stats import StepStats

#: the manifest's path relative to its step folder
MANIFEST = "_done/_markers.manifest"
#: a row vouches only for markers older than the manifest by more than this (S3 times have 1 s resolution)
TRUST_MARGIN_NS = 2_000_000_000
#: markers read and parsed at once when they must be read one by one (bounds the driver's memory)
CHUNK = 2000
_META = b"curate.manifest"
_VERSION = 1  # a manifest of another version is ignored (every marker is read)
_SCHEMA = pa.schema(
    [
        ("shard", pa.string()),
        ("fingerprint", pa.string()),
        ("files", pa.string()),  # the marker's files, one per line (names never hold a line break)
        ("removed", pa.bool_()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
    ]
)


class ShardMarker(NamedTuple):
    """What the driver keeps of one shard's marker: enough to tidy and to resume (its stats stay in the file).
    A tuple: 100,000 of them per step are made and held."""

    fingerprint: str | None
    files: tuple[str, ...]
    removed: bool
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, marker: dict, shard: str, size: int, mtime_ns: int) -> ShardMarker:
        removed = sum(((marker.get("stats") or {}).get("removed") or {}).values()) > 0
        return cls(marker.get("fingerprint"), tuple(marker_files(marker, shard)), removed, size, mtime_ns)


@dataclass
class StepMarkers:
    """The markers of one step folder, in the run's shard order (``None`` where a shard has none), and the
    merged stats of the manifest they came from when every one of them did (:meth:`reusable_stats`)."""

    entries: list[ShardMarker | None]
    manifest_shards: list[str] | None = None
    manifest_stats: dict[str, Any] | None = None
    from_manifest: int = 0
    read: int = 0

    def fingerprints(self) -> list[str | None]:
        return [e.fingerprint if e is not None else None for e in self.entries]

    def reusable_stats(self, kept: list[str]) -> dict[str, Any] | None:
        """The manifest's merged stats when the markers to merge (``kept``: shards, in run order) are exactly its
        rows, in its order, all taken from it (nothing rewritten or added since): merging them again would give
        the same result."""
        if self.manifest_stats is None or self.read:
            return None
        return self.manifest_stats if kept == self.manifest_shards else None


def listed(layout: Layout, key: str) -> dict[str, tuple[int, int]]:
    """Every file of a step folder: relative path → (size, modification time in ns).

    On an object store a listing is a round trip per 1,000 keys, one page after the other, so the folder is listed
    as parallel listings: its top level (the shards) beside ``_done/`` (the markers), then each other subfolder
    (``rejected/``, ``_work/``, partitions) at once."""
    folder = layout.root().child(key)
    base = folder.path.rstrip("/") + "/"

    def below(path: str, recursive: bool = True) -> list[pafs.FileInfo]:
        try:
            return folder.fs.get_file_info(pafs.FileSelector(path, recursive=recursive, allow_not_found=True))
        except (FileNotFoundError, NotADirectoryError):
            return []

    with ThreadPoolExecutor(LISTERS) as pool:
        done = pool.submit(below, base + "_done")
        top = below(folder.path, recursive=False)
        folders = [i.path for i in top if i.type == pafs.FileType.Directory and i.path != base + "_done"]
        infos = [i for i in top if i.type == pafs.FileType.File] + done.result()
        for found in pool.map(below, folders):
            infos += found
    return {
        i.path[len(base) :]: (i.size or 0, i.mtime_ns or 0)
        for i in infos
        if i.type == pafs.FileType.File and i.path.startswith(base)
    }


#: listings of one step folder made at once
LISTERS = 8


def read_step_markers(layout: Layout, key: str, shards: list[str], files: dict[str, tuple[int, int]]) -> StepMarkers:
    """The markers of ``shards`` in step ``key``, given the folder's listing ``files`` (made before this reads
    anything): from the manifest where it still describes the marker, else read one by one."""
    rows, manifest_shards, stats, trusted_before = _read_manifest(layout, key, files)
    entries: list[ShardMarker | None] = [None] * len(shards)
    to_read: list[int] = []
    hits = 0
    for i, shard in enumerate(shards):
        info = files.get(f"_done/{shard}.json")
        if info is None:
            continue  # no marker: whatever a manifest says, the shard is not done
        row = rows.get(shard)
        if row is not None and (row.size, row.mtime_ns) == info and row.mtime_ns < trusted_before:
            entries[i] = row
            hits += 1
        else:
            to_read.append(i)
    for i, marker in zip(to_read, _read_many(layout, key, [shards[i] for i in to_read]), strict=True):
        if isinstance(marker, dict):  # (anything else is no marker of ours: the shard is redone)
            size, mtime_ns = files[f"_done/{shards[i]}.json"]
            entries[i] = ShardMarker.of(marker, shards[i], size, mtime_ns)
    return StepMarkers(entries, manifest_shards, stats, hits, len(to_read))


def _read_many(layout: Layout, key: str, shards: list[str]) -> Iterator[dict | None]:
    """Markers read ``CHUNK`` at a time, so only a chunk of parsed markers is alive at once."""
    for start in range(0, len(shards), CHUNK):
        yield from layout.read_markers([layout.marker(key, s) for s in shards[start : start + CHUNK]])


def iter_marker_stats(layout: Layout, key: str, shards: list[str]) -> Iterator[tuple[StepStats, str]]:
    """``(stats, node)`` of each shard's marker, read a chunk at a time (missing markers are skipped)."""
    for marker in _read_many(layout, key, shards):
        if marker is not None:
            yield StepStats.from_dict(marker["stats"]), marker.get("node") or "unknown"


def _read_manifest(
    layout: Layout, key: str, files: dict[str, tuple[int, int]]
) -> tuple[dict[str, ShardMarker], list[str] | None, dict | None, int]:
    """The manifest's rows by shard, its shard order, its merged stats, and the time before which its rows may be
    trusted; nothing (every marker is then read) when it is missing, unreadable or of another version."""
    info = files.get(MANIFEST)
    if info is None:
        return {}, None, None, 0
    try:
        table = pq.read_table(io.BytesIO(layout.root().child(key, MANIFEST).read_bytes()))
        meta = json.loads((table.schema.metadata or {})[_META])
        if meta.get("version") != _VERSION or not table.schema.equals(_SCHEMA, check_metadata=False):
            return {}, None, None, 0
        shards, fps, files, removed, sizes, mtimes = (
            table.column(name).to_numpy(zero_copy_only=False).tolist() for name in _SCHEMA.names
        )
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return {}, None, None, 0
    rows = {
        shard: ShardMarker(fp, tuple(names.split("\n")) if names else (), rem, size, mtime)
        for shard, fp, names, rem, size, mtime in zip(shards, fps, files, removed, sizes, mtimes, strict=True)
    }
    return rows, shards, meta.get("stats"), info[1] - TRUST_MARGIN_NS


def write_manifest(
    layout: Layout, key: str, shards: list[str], entries: list[ShardMarker | None], stats: dict[str, Any] | None
) -> None:
    """Write step ``key``'s manifest: a row per marker in ``entries`` (in ``shards`` order) and ``stats``, the
    merged stats of exactly those markers (``None``: not merged yet). Only called when no unit writes in the
    step's folder (before the work, or after it)."""
    layout.root().child(key, MANIFEST).write_bytes(manifest_bytes(shards, entries, stats))


def manifest_bytes(shards: list[str], entries: list[ShardMarker | None], stats: dict[str, Any] | None) -> bytes:
    """The manifest file of :func:`write_manifest`."""
    kept = [(s, e) for s, e in zip(shards, entries, strict=True) if e is not None]
    table = pa.table(
        [
            pa.array([s for s, _ in kept], pa.string()),
            pa.array([e.fingerprint for _, e in kept], pa.string()),
            pa.array(["\n".join(e.files) for _, e in kept], pa.string()),
            pa.array([e.removed for _, e in kept], pa.bool_()),
            pa.array([e.size for _, e in kept], pa.int64()),
            pa.array([e.mtime_ns for _, e in kept], pa.int64()),
        ],
        schema=_SCHEMA.with_metadata({_META: json.dumps({"version": _VERSION, "stats": stats})}),
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()

"""The output folder's invariant: it always holds what a fresh run of the current recipe would write.

Three mechanisms keep it (docs/architecture.md, "The output folder"):

* **One run per folder.** :class:`OutputLock` holds ``OUT/_lock.json`` for the whole run; a second run on the same
  folder is refused with who holds it. A lock whose process is gone (same host) or whose heartbeat stopped (another
  host, :data:`STALE_AFTER_S`) is stale and taken over.
* **Only vouched-for files.** :func:`prune` runs before and after the work: in every step folder it keeps the
  shards, rejected files and markers whose marker matches the current plan (and whose files are really there), the
  current run's scratch of a global step and the files its units listed; everything else in the step folder goes:
  shards of removed inputs, outputs of an earlier configuration, a marker whose shard was deleted (so the shard is
  redone), rejected files that are no longer asked for, other runs' scratch, temporaries of killed runs. Folders
  of steps the recipe no longer has are removed. Nothing outside ``OUT/<step>/`` and curate's own ``OUT/_*``
  names is ever touched.
* **No folder inside its own input.** :func:`check_placement` refuses an output that the input patterns would read
  back (or that holds input files), and an empty output.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pyarrow.fs as pafs

from curate.errors import CurateError, RecipeError
from curate.io import InputFile
from curate.layout import PHASE_MARKERS, WORK, Layout
from curate.manifest import MANIFEST, ShardMarker, StepMarkers, listed, read_step_markers, write_manifest
from curate.storage import Location, is_temporary, location

if TYPE_CHECKING:
    from curate.plan import StepSpec

LOCK_NAME = "_lock.json"
#: seconds between lock heartbeats
HEARTBEAT_S = 15.0
#: a lock from another host whose heartbeat is older than this is stale (its run died without releasing it)
STALE_AFTER_S = 120.0
#: names curate writes at the top of an output folder besides step folders
ROOT_FILES = ("_stats.json", "_recipe.json")


class OutputLocked(CurateError):
    """Another run is using the output folder."""

    exit_code = 75  # EX_TEMPFAIL: try again later


class OutputLock:
    """``OUT/_lock.json``: who runs in the folder (host, pid, start) and a heartbeat, refreshed every
    :data:`HEARTBEAT_S` seconds while the run lasts.

    Local folders are locked atomically (``O_CREAT | O_EXCL``). Object stores have no atomic create through
    ``pyarrow.fs``: the lock is written, then read back after a pause to check that no other run overwrote it, which
    catches two runs started seconds apart but not within the same instant."""

    def __init__(self, out: str):
        self.loc = location(out).child(LOCK_NAME)
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _content(self, started: str) -> dict[str, Any]:
        return {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": started,
            "token": self.token,
            "heartbeat": time.time(),
        }

    def acquire(self) -> None:
        started = _now()
        for _ in range(2):
            holder = self._read()
            if holder is not None and not _is_stale(holder):
                raise OutputLocked(
                    f"output folder {self.loc.uri.rsplit('/', 1)[0]} is in use by another curate run (pid "
                    f"{holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}): wait for it "
                    f"to finish, or use another --output. A lock whose run died is taken over automatically "
                    f"(same host: at once; another host: {STALE_AFTER_S:.0f} s after its last heartbeat)."
                )
            if holder is not None:
                self.loc.delete()
            if self._create(self._content(started)):
                break
        else:
            raise OutputLocked(f"could not take the lock {self.loc.uri}: another run took it at the same time")
        self._thread = threading.Thread(target=self._beat, args=(started,), name="curate-lock", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        holder = self._read()
        if holder is not None and holder.get("token") == self.token:
            self.loc.delete()

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _read(self) -> dict | None:
        try:
            return self.loc.read_json()
        except (FileNotFoundError, OSError, ValueError):
            return None

    def _create(self, content: dict) -> bool:
        import json

        data = json.dumps(content, indent=1).encode()
        if self.loc.is_local:
            os.makedirs(os.path.dirname(self.loc.path), exist_ok=True)
            try:
                fd = os.open(self.loc.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            return True
        self.loc.write_bytes(data)
        time.sleep(1.0)
        holder = self._read()
        return holder is not None and holder.get("token") == self.token

    def _beat(self, started: str) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            holder = self._read()
            if holder is None or holder.get("token") != self.token:
                return  # taken over (we were presumed dead): never overwrite another run's lock
            self.loc.write_json(self._content(started))


def _is_stale(holder: dict) -> bool:
    if holder.get("host") == socket.gethostname():
        return not _pid_alive(int(holder.get("pid") or 0))
    return time.time() - float(holder.get("heartbeat") or 0) > STALE_AFTER_S


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------------------------
# Placement


def check_placement(out: str, patterns: list[str], inputs: list[InputFile], source: str = "recipe") -> None:
    """Refuse an empty output, an output the input patterns would read back, and an output holding input files."""
    if not str(out).strip():
        raise RecipeError(f"{source}: output is empty: name an output folder (or s3:// prefix), e.g. out/my-corpus")
    out_loc = location(out)
    out_dir = out_loc.uri.rstrip("/") + "/"
    inside = [f.uri for f in inputs if f.uri.startswith(out_dir)]
    if inside:
        raise RecipeError(
            f"{source}: input files such as {inside[:2]} are inside the output folder {out_loc.uri}: "
            "a run would read its own output back as input; write the output somewhere else"
        )
    for pattern in patterns:
        base = _reading_root(pattern)
        if base is not None and (out_loc.uri + "/").startswith(base.rstrip("/") + "/"):
            raise RecipeError(
                f"{source}: the output folder {out_loc.uri} is inside the input {pattern!r}, which "
                "reads every file below it: each rerun would take the previous output as new input. "
                "Write the output outside the input folder, or make the input pattern narrower "
                "(e.g. data/*.warc.gz)"
            )


def _reading_root(pattern: str) -> str | None:
    """The folder below which ``pattern`` matches files at any depth (a folder given as input, or the part before
    a ``**``), or ``None`` when it only matches at fixed depths."""
    loc = location(pattern)
    if "**" in loc.uri:
        return loc.uri.split("**", 1)[0].rstrip("/") or "/"
    if any(c in loc.uri for c in "*?["):
        return None
    try:
        is_dir = loc.fs.get_file_info(loc.path).type == pafs.FileType.Directory
    except OSError:
        return None
    return loc.uri if is_dir else None


# ---------------------------------------------------------------------------------------------------------------
# Pruning


def prune(
    out: str,
    keys: list[str],
    vouched: dict[str, set[str]],
    scratch: dict[str, str | None],
    listed_files: dict[str, set[str]],
) -> list[str]:
    """Delete what the current plan does not vouch for; returns the removed paths (relative to ``out``).

    ``vouched[key]``: files of step ``key`` (relative to its folder) that valid markers vouch for;
    ``scratch[key]``: the current run id of a global step, whose ``_work/<run id>/`` is kept;
    ``listed_files[key]``: extra output files the current run's units wrote (``PhaseContext.write_file``)."""
    root = location(out)
    removed = _prune_root(root, keys)
    for key in keys:
        removed += [
            f"{key}/{rel}"
            for rel in _prune_step(
                root.child(key), vouched.get(key, set()), scratch.get(key), listed_files.get(key, set())
            )
        ]
    return removed


def _prune_root(root: Location, keys: list[str]) -> list[str]:
    """Folders of steps the recipe no longer has (they hold a ``_done/``) and temporaries at the top."""
    removed: list[str] = []
    for info in _children(root):
        name = posixpath.basename(info.path)
        if (
            info.type == pafs.FileType.Directory
            and name not in keys
            and not name.startswith("_")
            and root.child(name, "_done").exists()
        ):
            root.child(name).delete()  # a step the recipe no longer has
            removed.append(name + "/")
        elif info.type == pafs.FileType.File and is_temporary(name):
            root.child(name).delete()
            removed.append(name)
    return removed


def _prune_step(
    folder: Location, vouched: set[str], run: str | None, listed: set[str], files: Iterable[str] | None = None
) -> list[str]:
    """Delete from a step folder what is not vouched for. ``files``: the folder's files (relative), when the caller
    listed it already (a listing of a 100,000-shard folder is hundreds of round trips on an object store)."""
    removed = []
    work = folder.child("_work")
    for info in _children(work):  # other runs' scratch: whole folders at once
        name = posixpath.basename(info.path)
        if name != run:
            Location(folder.fs, info.path, f"{work.uri}/{name}").delete()
            removed.append(f"_work/{name}/")
    base = folder.path.rstrip("/") + "/"
    if files is None:
        files = [info.path[len(base) :] for info in folder.list_files(recursive=True)]
    keep_prefix = f"_work/{run}/" if run else None
    for rel in files:
        if rel in vouched or rel in listed:
            continue
        if keep_prefix and rel.startswith(keep_prefix) and not is_temporary(rel):
            continue
        if rel.startswith(f"{WORK}/") and rel.split("/", 2)[1] != run:
            continue  # another run's scratch: its whole folder went above
        folder.fs.delete_file(base + rel)
        removed.append(rel)
    if removed and folder.is_local:
        _remove_empty_folders(folder.path)
    return removed


def _remove_empty_folders(top: str) -> None:
    """Folders a prune emptied (old partitions ``column=value/``), below ``top``; object stores have none."""
    for dirpath, _, _ in sorted(os.walk(top), key=lambda t: -len(t[0])):
        if dirpath != top and not os.listdir(dirpath):
            os.rmdir(dirpath)


def _children(loc: Location) -> list[pafs.FileInfo]:
    try:
        return loc.fs.get_file_info(pafs.FileSelector(loc.path, allow_not_found=True))
    except (FileNotFoundError, NotADirectoryError):
        return []


def tidy_output(
    layout: Layout, specs: list[StepSpec], fps: list[dict[str, str]], runs: dict[str, str], shards: list[str]
) -> dict[str, StepMarkers]:
    """Remove from the output folder everything the plan does not vouch for (see :mod:`curate.outdir`): a
    marker vouches for its shard's files when its fingerprint is the plan's and the files it names are there.
    Returns, per step, the markers that remain (``None`` for a shard without one), in ``shards`` order, so the
    driver decides what to resume without reading them again.

    Each step folder is listed once; markers come from its manifest where the listing shows them unchanged
    since it was written, and are read one by one otherwise (:mod:`curate.manifest`). Steps are tidied one
    after the other while the next ones are listed, so the driver holds a few folders' listings at a time."""
    keys = [s.key for s in specs]
    _prune_root(layout.root(), keys)
    remaining: dict[str, StepMarkers] = {}
    with ThreadPoolExecutor(1) as ahead:  # the next step's folder is listed while this one is tidied
        listing = [ahead.submit(listed, layout, spec.key) if i < 2 else None for i, spec in enumerate(specs)]
        for i, spec in enumerate(specs):
            future = listing[i]
            assert future is not None  # submitted when the step two before it was tidied (or up front)
            files = future.result()
            listing[i] = None
            if i + 2 < len(specs):
                listing[i + 2] = ahead.submit(listed, layout, specs[i + 2].key)
            remaining[spec.key] = _tidy_step(layout, spec, fps, runs, shards, files)
    return remaining


def _tidy_step(
    layout: Layout,
    spec: StepSpec,
    fps: list[dict[str, str]],
    runs: dict[str, str],
    shards: list[str],
    files: dict[str, tuple[int, int]],
) -> StepMarkers:
    """:func:`tidy_output` for one step folder, given its listing."""
    if not files:
        return StepMarkers([None] * len(shards))
    found = read_step_markers(layout, spec.key, shards, files)
    keep_rejected = bool(spec.options.get("keep_rejected"))
    step_fps = fps[spec.index]
    kept: list[str] = [MANIFEST]
    for i, (shard, entry) in enumerate(zip(shards, found.entries, strict=True)):
        if entry is not None and not _vouched_files(entry, shard, step_fps[shard], files, keep_rejected, kept):
            found.entries[i] = None
    vouched = set(kept)
    listed_extra: set[str] = set()
    if spec.key in runs and any(_is_extra_file(f) for f in files):
        listed_extra = _listed_files(layout, spec.key, runs[spec.key], files)
    _prune_step(layout.root().child(spec.key), vouched, runs.get(spec.key), listed_extra, files)
    if found.read >= INDEX_AFTER_READS:  # e.g. a killed run's markers: read once, not again after the work
        write_manifest(layout, spec.key, shards, found.entries, None)
    return found


#: markers read one by one in a step folder after which tidying writes their manifest (without merged stats)
INDEX_AFTER_READS = 1000


def _vouched_files(
    marker: ShardMarker,
    shard: str,
    fingerprint: str,
    files: Mapping[str, Any],
    keep_rejected: bool,
    vouched: list[str],
) -> bool:
    """Whether ``marker`` vouches for its shard (the plan's fingerprint, every file it names there); if so its
    files (marker, outputs, rejected file when asked for) are added to ``vouched``."""
    if marker.fingerprint != fingerprint:
        return False
    rejected_file = f"rejected/{shard}.parquet"
    wants_rejected = keep_rejected and marker.removed
    for name in marker.files:
        if name not in files:
            return False  # a file the marker names was deleted: the shard is redone
    if wants_rejected and rejected_file not in files:
        return False
    vouched.append(f"_done/{shard}.json")
    vouched.extend(marker.files)
    if wants_rejected:
        vouched.append(rejected_file)
    return True


def _is_extra_file(rel: str) -> bool:
    """A file in a step folder that is neither a shard (partitioned or not), a rejected shard, a marker nor
    scratch."""
    if rel.startswith(("_done/", "rejected/", f"{WORK}/")):
        return False
    folder, _, name = rel.rpartition("/")
    return not name.endswith(".parquet") or bool(folder) and ("/" in folder or "=" not in folder)


def _listed_files(layout: Layout, key: str, run: str, files: Iterable[str]) -> set[str]:
    """Files the units of run ``run`` wrote beside the step's shards, as their phase markers list them."""
    prefix = f"{WORK}/{run}/{PHASE_MARKERS}/"
    paths = [f for f in files if f.startswith(prefix) and f.endswith(".json") and not is_temporary(f)]
    markers = layout.read_markers([layout.root().child(key, p) for p in paths])
    return {f for m in markers if m is not None and m.get("fingerprint") == run for f in m.get("files", [])}

"""Common Crawl as input: snapshots from ``collinfo.json``, files from ``<kind>.paths.gz``, shards by segment.

Common Crawl's published layout (https://commoncrawl.org/get-started): the list of crawls is
``https://index.commoncrawl.org/collinfo.json`` (a JSON list of ``{"id": "CC-MAIN-2024-10", "name", "timegate",
"cdx-api", "from", "to"}``, newest first); each crawl's files are listed, one path per line relative to the bucket
root, in ``crawl-data/<id>/warc.paths.gz`` (``crawl-data/<id>/segments/<segment>/warc/<file>.warc.gz``) and
``wet.paths.gz`` (``.../wet/<file>.warc.wet.gz``). The same paths are served by ``https://data.commoncrawl.org/``
and the public bucket ``s3://commoncrawl/`` (read anonymously, no credentials needed). A *base* is one of those
two or any mirror laid out the same way (a local folder, another bucket, an HTTP server); a mirror keeps its
``collinfo.json`` at ``crawl-info/collinfo.json``. This is NeMo Curator's ``get_common_crawl_urls`` approach
(collinfo, then ``warc.paths.gz``), with S3 and mirrors as bases as in datatrove's readers.

A published crawl's ``paths.gz`` never changes, so remote copies are cached in ``$CURATE_CACHE_DIR`` (default
``~/.cache/curate``) under ``commoncrawl/``; ``collinfo.json`` is always fetched fresh (a nightly job asks it what
is new). Failures are :class:`CurateError` lines with their own exit codes: unreachable (69), access denied (77),
no such snapshot (2).
"""

from __future__ import annotations

import gzip
import json
import os
import posixpath
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from curate.cache import cache_dir
from curate.errors import AccessDenied, RecipeError, Unavailable
from curate.io import InputFile, shard_name
from curate.storage import Location, location

#: where the official bases list their crawls
COLLINFO_URL = "https://index.commoncrawl.org/collinfo.json"
OFFICIAL_BASES = ("s3://commoncrawl", "https://data.commoncrawl.org", "http://data.commoncrawl.org")
#: where a mirror keeps its list of crawls, relative to its base
MIRROR_COLLINFO = "crawl-info/collinfo.json"
SNAPSHOT_ID = re.compile(r"^CC-MAIN-\d{4}(-\d{2,4})?$")


class RemoteUnavailable(Unavailable):
    """A Common Crawl base or its ``collinfo.json`` cannot be reached (offline, DNS, refused, timed out)."""


class CommonCrawlSpec(BaseModel):
    """``input: {commoncrawl: {...}}`` in a recipe."""

    model_config = ConfigDict(extra="forbid")

    snapshot: str = Field("latest", description="a crawl id such as CC-MAIN-2024-10, or `latest`")
    kind: Literal["warc", "wet"] = Field("warc", description="warc (HTML responses) or wet (Common Crawl's text)")
    segments: int | Literal["all"] = Field(
        "all", description="`all`, or N segments spread evenly over the crawl (trial runs)"
    )
    files_per_segment: int | None = Field(None, gt=0, description="at most this many files of each segment chosen")
    base: str = Field(
        "https://data.commoncrawl.org",
        description="s3://commoncrawl, https://data.commoncrawl.org, "
        "or a mirror laid out the same way (local or remote)",
    )
    collinfo: str | None = Field(
        None,
        description="where the list of crawls is (default: index.commoncrawl.org "
        "for the official bases, BASE/crawl-info/collinfo.json for mirrors)",
    )

    @field_validator("snapshot")
    @classmethod
    def _snapshot(cls, value: str) -> str:
        if value != "latest" and not SNAPSHOT_ID.match(value):
            raise ValueError(f"expected `latest` or a crawl id like CC-MAIN-2024-10, got {value!r}")
        return value

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value <= 0:
            raise ValueError("segments must be `all` or a positive number")
        return value

    def base_uri(self) -> str:
        base = self.base.rstrip("/")
        return base if "://" in base else os.path.abspath(os.path.expanduser(base))

    def collinfo_uri(self) -> str:
        if self.collinfo:
            return self.collinfo
        base = self.base_uri()
        return COLLINFO_URL if base in OFFICIAL_BASES else f"{base}/{MIRROR_COLLINFO}"


@dataclass(frozen=True)
class Snapshot:
    """One crawl as ``collinfo.json`` lists it."""

    id: str
    name: str = ""
    start: str | None = None
    end: str | None = None


# ---------------------------------------------------------------------------------------------------------------
# Reading remote files with errors a user can act on


def read_remote(uri: str, what: str) -> bytes:
    """The bytes at ``uri`` (local, s3:// or http(s)://); unreachable, denied and missing as one clear line."""
    try:
        if uri.startswith(("http://", "https://")):
            from curate.remote import http_get

            return http_get(uri, attempts=4)
        return location(uri).read_bytes()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{what} not found at {uri}") from exc
    except PermissionError as exc:
        raise AccessDenied(
            f"{what}: access denied at {uri} ({_short(exc)}); for s3:// unset bad AWS credentials "
            "(the commoncrawl bucket is read anonymously) or fix them, or use "
            "base: https://data.commoncrawl.org"
        ) from None
    except OSError as exc:
        if _denied(exc):
            raise AccessDenied(
                f"{what}: access denied at {uri} ({_short(exc)}); for s3:// unset bad AWS "
                "credentials (the commoncrawl bucket is read anonymously) or fix them, or use "
                "base: https://data.commoncrawl.org"
            ) from None
        if _missing(exc):
            raise FileNotFoundError(f"{what} not found at {uri}") from exc
        raise RemoteUnavailable(
            f"cannot reach {uri} for {what} ({_short(exc)}): check the network (a nightly job "
            "can simply retry later), or use a local mirror as base"
        ) from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _denied(exc: OSError) -> bool:
    text = str(exc)
    return any(
        m in text
        for m in (
            "ACCESS_DENIED",
            "AccessDenied",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "HTTP 403",
            "HTTP 401",
            "403 Forbidden",
        )
    )


def _missing(exc: OSError) -> bool:
    text = str(exc)
    return any(m in text for m in ("NoSuchKey", "RESOURCE_NOT_FOUND", "HTTP 404", "Path does not exist"))


# ---------------------------------------------------------------------------------------------------------------
# Snapshots


def list_snapshots(spec: CommonCrawlSpec) -> list[Snapshot]:
    """The crawls ``collinfo.json`` lists, oldest first."""
    uri = spec.collinfo_uri()
    try:
        data = json.loads(read_remote(uri, "the list of Common Crawl snapshots (collinfo.json)"))
    except FileNotFoundError as exc:
        raise RecipeError(
            f"{exc}: a mirror keeps it at BASE/{MIRROR_COLLINFO}, or name it with input.commoncrawl.collinfo"
        ) from None
    except ValueError as exc:
        raise RecipeError(f"{uri} is not a collinfo.json (a JSON list of crawls): {exc}") from None
    if not isinstance(data, list) or not all(isinstance(c, dict) and "id" in c for c in data):
        raise RecipeError(f'{uri} is not a collinfo.json: expected a JSON list of {{"id": "CC-MAIN-..."}}')
    snapshots = [
        Snapshot(c["id"], c.get("name", ""), c.get("from"), c.get("to"))
        for c in data
        if SNAPSHOT_ID.match(str(c["id"]))
    ]
    return sorted(snapshots, key=_order)


def _order(snapshot: Snapshot) -> tuple:
    """Chronological: by the crawl's start when collinfo gives one, else by its id (CC-MAIN-YYYY-WW)."""
    return (snapshot.start or "", snapshot.id)


def resolve_snapshot(spec: CommonCrawlSpec, snapshots: list[Snapshot] | None = None) -> str:
    """The crawl id ``spec.snapshot`` names (``latest``: the newest one listed); a clear error for a wrong id."""
    snapshots = list_snapshots(spec) if snapshots is None else snapshots
    ids = [s.id for s in snapshots]
    if not ids:
        raise RecipeError(f"{spec.collinfo_uri()} lists no snapshot")
    if spec.snapshot == "latest":
        return ids[-1]
    if spec.snapshot not in ids:
        import difflib

        close = difflib.get_close_matches(spec.snapshot, ids, n=3, cutoff=0.8)
        hint = f" (closest: {', '.join(close)})" if close else f" (newest: {', '.join(ids[-3:])})"
        raise RecipeError(f"no snapshot {spec.snapshot} in {spec.collinfo_uri()}{hint}; `curate snapshots` lists them")
    return spec.snapshot


# ---------------------------------------------------------------------------------------------------------------
# Files of a snapshot


def paths_uri(base: str, snapshot: str, kind: str) -> str:
    return f"{base.rstrip('/')}/crawl-data/{snapshot}/{kind}.paths.gz"


def read_paths_file(uri: str) -> list[str]:
    """The lines of a ``<kind>.paths.gz`` (or plain ``.paths``) file; remote copies are cached (they never change)."""
    cached = _cache_path(uri)
    if cached is not None and os.path.exists(cached):
        with open(cached, "rb") as f:
            data = f.read()
    else:
        data = read_remote(uri, "the file list")
        if cached is not None:
            os.makedirs(os.path.dirname(cached), exist_ok=True)
            tmp = f"{cached}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, cached)
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise RecipeError(
                f"{uri}: a damaged gzip file ({exc}); delete the cached copy {cached} if there is one and retry"
            ) from None
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _cache_path(uri: str) -> str | None:
    if "://" not in uri or uri.startswith("file://"):
        return None
    scheme, _, rest = uri.partition("://")
    return str(cache_dir("commoncrawl", scheme, *[p for p in rest.split("/") if p not in ("", ".", "..")]))


def select_segments(paths: list[str], segments: int | str, files_per_segment: int | None) -> list[str]:
    """``segments`` segments spread evenly over the crawl's sorted segment list (every one for ``all``), and at
    most ``files_per_segment`` files of each (the first in path order): a deterministic trial sample."""
    by_segment: dict[str, list[str]] = {}
    for path in paths:
        by_segment.setdefault(_segment_of(path), []).append(path)
    names = sorted(by_segment)
    if segments != "all" and int(segments) < len(names):
        n = int(segments)
        names = [names[(i * len(names)) // n] for i in range(n)]
    chosen = []
    for name in names:
        files = sorted(by_segment[name])
        chosen.extend(files[:files_per_segment] if files_per_segment else files)
    return chosen


def _segment_of(path: str) -> str:
    parts = path.split("/")
    return parts[parts.index("segments") + 1] if "segments" in parts[:-1] else posixpath.dirname(path)


def input_files(spec: CommonCrawlSpec, snapshot: str) -> list[InputFile]:
    """The input files of ``snapshot`` as ``spec`` selects them, named ``<segment>__<kind>__<file>``."""
    base = spec.base_uri()
    uri = paths_uri(base, snapshot, spec.kind)
    try:
        lines = read_paths_file(uri)
    except FileNotFoundError:
        raise RecipeError(
            f"{snapshot} has no {spec.kind}.paths.gz at {uri}: the crawl may still be being published, "
            "or the base is not laid out like Common Crawl's (crawl-data/<id>/<kind>.paths.gz)"
        ) from None
    if not lines:
        raise RecipeError(f"{uri} lists no files")
    return files_from_paths(base, select_segments(lines, spec.segments, spec.files_per_segment))


def files_from_paths(base: str, paths: list[str]) -> list[InputFile]:
    """Input files for bucket-relative ``paths`` under ``base``. Local files are stat'ed (their size and mtime are
    their identity); remote Common Crawl files are immutable, so their URI is enough and no request is made."""
    root = location(base)
    files = []
    for path in paths:
        uri = f"{base.rstrip('/')}/{path.lstrip('/')}"
        size = mtime = None
        if root.is_local:
            try:
                st = os.stat(uri)
            except FileNotFoundError:
                raise RecipeError(
                    f"{uri} is listed in the snapshot's paths file but missing from the mirror {base}"
                ) from None
            size, mtime = st.st_size, st.st_mtime
        files.append(InputFile(uri, shard_name(_relative_name(path)), size, mtime))
    names = [f.shard for f in files]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})[:3]
        raise RecipeError(f"files of {base} map to the same shard name: {dupes}")
    return files


def _relative_name(path: str) -> str:
    """``crawl-data/CC-MAIN-2024-10/segments/S/warc/F.warc.gz`` → ``S/warc/F.warc.gz`` (the same on every base)."""
    parts = path.split("/")
    return "/".join(parts[parts.index("segments") + 1 :]) if "segments" in parts[:-1] else path


def expand_paths_file(uri: str) -> list[InputFile]:
    """The files a ``warc.paths.gz`` given in ``input.paths`` lists. Its lines are relative to the root that holds
    ``crawl-data/`` (the bucket, the host, or a mirror's folder), which is taken from the paths file's own URI."""
    loc: Location = location(uri)
    full = loc.uri
    marker = "/crawl-data/"
    base = full.split(marker, 1)[0] if marker in full else posixpath.dirname(full)
    return files_from_paths(base, read_paths_file(full))


def is_paths_file(pattern: str) -> bool:
    return pattern.lower().endswith((".paths.gz", ".paths"))

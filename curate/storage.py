"""Storage through ``pyarrow.fs``: local paths and ``s3://`` URIs alike.

Writes are atomic where the store allows: local files are written to a temporary name and renamed; on object
stores a PUT only becomes visible once complete, so a killed run never leaves a half-written file that looks
done (the engine only trusts outputs whose ``_done`` marker it wrote afterwards).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from typing import IO, Any, cast

import pyarrow.fs as pafs

_GLOB_CHARS = re.compile(r"[*?\[]")
#: the suffix of every temporary file curate writes; nothing else with ``.tmp`` in its name is ever deleted
TMP_MARK = ".curate-tmp-"
_TMP_NAME = re.compile(r"\.curate-tmp-[0-9a-f]{8}$")


def temporary_path(path: str) -> str:
    """Where a file is written before it is renamed (or copied, on object stores) to ``path``."""
    return f"{path}{TMP_MARK}{uuid.uuid4().hex[:8]}"


def is_temporary(path: str) -> bool:
    """Whether ``path`` is one of curate's temporaries (see :func:`temporary_path`), never a user's file."""
    return bool(_TMP_NAME.search(path))


@dataclass(frozen=True)
class Location:
    """A filesystem plus a path inside it, made from a user's URI or local path."""

    fs: pafs.FileSystem
    path: str
    uri: str

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, pafs.LocalFileSystem)

    def child(self, *parts: str) -> Location:
        path = "/".join([self.path.rstrip("/"), *parts])
        uri = "/".join([self.uri.rstrip("/"), *parts])
        return Location(self.fs, path, uri)

    def exists(self) -> bool:
        return self.fs.get_file_info(self.path).type != pafs.FileType.NotFound

    def makedirs(self) -> None:
        if self.is_local:
            os.makedirs(self.path, exist_ok=True)
        else:
            self.fs.create_dir(self.path, recursive=True)

    def open_input(self) -> IO[bytes]:
        """Open for sequential reading. Remote files get a block reader that retries and resumes transient
        failures and counts them in its ``counters`` (:mod:`curate.remote`)."""
        if self.is_local:
            return self.fs.open_input_file(self.path)
        from curate.remote import http_reader, is_http, object_reader

        reader = http_reader(self.path) if is_http(self.fs) else object_reader(self.fs, self.path, self.uri)
        return cast(IO[bytes], reader)  # a binary file object (io.RawIOBase), though not nominally an IO[bytes]

    def read_bytes(self) -> bytes:
        with self.fs.open_input_stream(self.path) as f:
            return f.read()

    def write_bytes(self, data: bytes) -> None:
        """Write atomically (temporary name + rename locally; a single PUT on object stores)."""
        if self.is_local:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            tmp = temporary_path(self.path)
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, self.path)
        else:
            with self.fs.open_output_stream(self.path) as f:
                f.write(data)

    def read_json(self) -> Any:
        return json.loads(self.read_bytes())

    def write_json(self, value: Any) -> None:
        self.write_bytes(json.dumps(value, indent=1, sort_keys=True, default=str).encode())

    def delete(self) -> None:
        info = self.fs.get_file_info(self.path)
        if info.type == pafs.FileType.Directory:
            self.fs.delete_dir(self.path)
        elif info.type == pafs.FileType.File:
            self.fs.delete_file(self.path)

    def list_files(self, recursive: bool = False) -> list[pafs.FileInfo]:
        if not self.exists():
            return []
        infos = self.fs.get_file_info(pafs.FileSelector(self.path, recursive=recursive, allow_not_found=True))
        return sorted((i for i in infos if i.type == pafs.FileType.File), key=lambda i: i.path)


def _s3_max_attempts(default: int = 10) -> int:
    """Attempts per S3 request: ``$AWS_MAX_ATTEMPTS`` when it is a positive integer, else ``default``."""
    value = os.environ.get("AWS_MAX_ATTEMPTS", "")
    return int(value) if value.isdigit() and int(value) > 0 else default


def _s3_filesystem() -> pafs.S3FileSystem:
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    kwargs: dict[str, Any] = {}
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        kwargs.update(endpoint_override=host or scheme, scheme=scheme if host else "https")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        kwargs["region"] = region
    if not os.environ.get("AWS_ACCESS_KEY_ID") and not os.path.exists(os.path.expanduser("~/.aws/credentials")):
        kwargs["anonymous"] = True  # public buckets such as commoncrawl
    # throttling (503 SlowDown) and resets are retried by the AWS SDK per request as well as by curate.remote;
    # AWS_MAX_ATTEMPTS (the SDKs' own variable) shortens it: an unreachable endpoint takes ~60 s at 10 attempts
    kwargs["retry_strategy"] = pafs.AwsStandardS3RetryStrategy(max_attempts=_s3_max_attempts())
    return pafs.S3FileSystem(**kwargs)


def location(uri: str) -> Location:
    """Resolve a local path or a URI (``s3://bucket/key``, ``file://``) to a :class:`Location`."""
    uri = str(uri)
    if uri.startswith("s3://"):
        return Location(_s3_filesystem(), uri[len("s3://") :].rstrip("/"), uri.rstrip("/"))
    if uri.startswith(("http://", "https://")):  # read-only, ranged GETs with retries (curate.remote)
        from curate.remote import http_filesystem

        return Location(http_filesystem(), uri, uri)
    if "://" in uri and not uri.startswith("file://"):
        fs, path = pafs.FileSystem.from_uri(uri)
        return Location(fs, path, uri)
    path = os.path.abspath(os.path.expanduser(uri[len("file://") :] if uri.startswith("file://") else uri))
    return Location(pafs.LocalFileSystem(), path, path)


def expand(pattern: str) -> list[tuple[Location, int | None, float | None]]:
    """Files matching a path or glob (``*``, ``**``, ``?``, ``[]``), local or remote, sorted.

    Returns ``(location, size, mtime)`` per file; a plain directory expands to every file below it.
    """
    loc = location(pattern)
    if not _GLOB_CHARS.search(loc.path):
        info = loc.fs.get_file_info(loc.path)
        if info.type == pafs.FileType.File:
            return [(loc, info.size, _mtime(info))]
        if info.type == pafs.FileType.Directory:
            return [
                (_sibling(loc, i.path), i.size, _mtime(i))
                for i in loc.list_files(recursive=True)
                if not os.path.basename(i.path).startswith((".", "_"))
            ]
        return []
    parts = loc.path.split("/")
    first_glob = next(i for i, p in enumerate(parts) if _GLOB_CHARS.search(p))
    base = "/".join(parts[:first_glob]) or "/"
    infos = loc.fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    regex = _glob_to_regex(loc.path)
    return [
        (_sibling(loc, i.path), i.size, _mtime(i))
        for i in sorted(infos, key=lambda i: i.path)
        if i.type == pafs.FileType.File and regex.fullmatch(i.path)
    ]


def _sibling(loc: Location, path: str) -> Location:
    uri = path if loc.is_local else ("s3://" + path if loc.uri.startswith("s3://") else path)
    return Location(loc.fs, path, uri)


def _mtime(info: pafs.FileInfo) -> float | None:
    return info.mtime.timestamp() if info.mtime is not None else None


def _glob_to_regex(pattern: str) -> re.Pattern[str]:
    """``**`` crosses folders; ``*``, ``?`` and ``[...]`` stay within one (shell globs with globstar)."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out))


_DENIED = (
    "ACCESS_DENIED",
    "AccessDenied",
    "INVALID_ACCESS_KEY_ID",
    "SIGNATURE_DOES_NOT_MATCH",
    "HTTP response code: 403",
)
_NETWORK = ("NETWORK_CONNECTION", "Could not connect", "Couldn't connect", "curlCode", "timed out", "resolve host")


def storage_error(exc: OSError, what: str) -> Exception:
    """A store's ``OSError`` (pyarrow's S3 messages) as an error a user can act on, naming ``what`` was read or
    written: access denied (exit 77), the store unreachable (69), a bucket that does not exist (2); anything else
    comes back unchanged."""
    from curate.errors import AccessDenied, RecipeError, Unavailable

    text = str(exc)
    cause = text.split(": ", 1)[-1].split(" (Request ID")[0]
    if any(mark in text for mark in _DENIED):
        return AccessDenied(
            f"{what}: access denied by the store ({cause}). Check the credentials (AWS_ACCESS_KEY_ID / "
            "AWS_PROFILE / the instance role) and that they may list, read and write this bucket"
        )
    if any(mark in text for mark in _NETWORK):
        return Unavailable(f"{what}: the store cannot be reached ({cause}); check AWS_ENDPOINT_URL and the network")
    if "NO_SUCH_BUCKET" in text or "bucket does not exist" in text:
        return RecipeError(f"{what}: the bucket does not exist ({cause}); check the bucket name, or create it")
    return exc

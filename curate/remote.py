"""Reading remote files robustly: HTTP(S) as a ``pyarrow.fs`` filesystem, and block readers that retry and resume.

A remote input is read in blocks of :data:`BLOCK_BYTES` (8 MiB: AWS's guidance for byte-range GETs is 8 or 16 MB,
*Best practices design patterns: optimizing Amazon S3 performance*; fsspec's HTTP default is 5 MiB), each one ranged
GET (``Range: bytes=a-b``; S3 through pyarrow's ``read_at``). Holding no connection open for the minutes it takes
to extract a 1 GB WARC is what makes reading at scale robust: a block either arrives or is asked for again. A
transient failure (503 ``SlowDown``, 429, 5xx, a reset, a timeout, a body cut short) is retried with full-jitter
backoff (:mod:`curate.retry`); a block cut short keeps the bytes that arrived and asks only for the rest (a resumed
read). Every retry is counted (``remote_retries``, ``remote_retries_<kind>``, ``remote_resumed_reads``) in the
reader's ``counters``, which ``warc_extract`` adds to the step's stats. A file that changes between blocks (its
ETag) fails the read instead of splicing two versions.

:class:`HttpFileSystem` gives ``http://`` and ``https://`` URIs a ``pyarrow.fs`` filesystem (HEAD for file info,
block readers for input), so they work wherever curate takes a path; HTTP has no listing, so globs are refused.
"""

from __future__ import annotations

import http.client
import io
import ssl
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from curate import retry

#: bytes per ranged GET (see the module docstring for the source)
BLOCK_BYTES = 8 << 20
#: seconds a connection may stay silent before the read counts as dropped (and is retried)
TIMEOUT_S = 60.0
USER_AGENT = "curate (https://github.com/; Common Crawl pretraining-corpus pipeline)"


class RemoteChanged(OSError):
    """The remote file changed while it was being read (its ETag or size differs between blocks)."""


# ---------------------------------------------------------------------------------------------------------------
# A block reader: the file object source steps read


#: fetch(offset, length, sink) appends bytes [offset, offset+length) to sink (as they arrive: a failure keeps the
#: part that did) and returns (total size or None, version tag or None)
Fetch = Callable[[int, int, bytearray], tuple[int | None, str | None]]


class BlockReader(io.RawIOBase):
    """A read-only file object over ranged reads, retried and resumed (see the module docstring)."""

    def __init__(
        self,
        name: str,
        fetch: Fetch,
        size: int | None = None,
        block: int = BLOCK_BYTES,
        backoff: retry.Backoff | None = None,
    ):
        super().__init__()
        self.name = name
        self.size = size
        self.counters: dict[str, int] = {}
        self._fetch = fetch
        self._block = block
        self._backoff = backoff or retry.policy()
        self._buffer = b""
        self._pos = 0  # file offset of the end of what was fetched
        self._tag: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            chunks = []
            while chunk := self.read(self._block):
                chunks.append(chunk)
            return b"".join(chunks)
        if not self._buffer:
            self._buffer = self._next_block()
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def _next_block(self) -> bytes:
        if self.size is not None and self._pos >= self.size:
            return b""
        want = self._block if self.size is None else min(self._block, self.size - self._pos)
        sink = bytearray()
        failures = 0
        while True:
            start = len(sink)
            try:
                size, tag = self._fetch(self._pos + start, want - start, sink)
                self._check_version(size, tag)
                break
            except Exception as exc:  # noqa: BLE001 - transient failures are retried, the rest propagate
                if not retry.is_transient(exc):
                    raise
                failures = 0 if len(sink) > start else failures + 1  # progress resets the attempt budget
                if failures >= self._backoff.attempts:
                    raise retry.RetriesExhausted(
                        f"{self.name}: reading bytes {self._pos + len(sink)}- still failing after "
                        f"{self._backoff.attempts} attempts ({type(exc).__name__}: {exc})"
                    ) from exc
                retry.count(self.counters, exc)
                if len(sink) > start:
                    self.counters["remote_resumed_reads"] = self.counters.get("remote_resumed_reads", 0) + 1
                time.sleep(self._backoff.delay(failures, getattr(exc, "retry_after", None)))
        self._pos += len(sink)
        return bytes(sink)

    def _check_version(self, size: int | None, tag: str | None) -> None:
        if size is not None:
            if self.size is not None and size != self.size:
                raise RemoteChanged(
                    f"{self.name}: its size changed while it was read ({self.size} -> {size} bytes); "
                    "rerun to read the new version from the start"
                )
            self.size = size
        if tag is not None:
            if self._tag is not None and tag != self._tag:
                raise RemoteChanged(
                    f"{self.name}: it changed while it was read (ETag {self._tag} -> {tag}); "
                    "rerun to read the new version from the start"
                )
            self._tag = tag


# ---------------------------------------------------------------------------------------------------------------
# HTTP(S)


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"{url}: no host name in the URL")
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=TIMEOUT_S, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT_S)
    target = parts.path or "/"
    return conn, target + (f"?{parts.query}" if parts.query else "")


def _status_error(url: str, response: http.client.HTTPResponse) -> OSError:
    status = response.status
    body = response.read(2048).decode("utf-8", "replace")
    code = _xml_code(body)
    detail = f"HTTP {status}" + (f" {code}" if code else f" {response.reason}")
    if status in retry.RETRYABLE_STATUS:
        kind = "throttled" if status in (429, 503) else "server_error"
        after = response.getheader("Retry-After")
        return retry.TransientError(f"{url}: {detail}", kind, float(after) if after and after.isdigit() else None)
    if status == 404:
        return FileNotFoundError(f"{url}: not found ({detail})")
    if status in (401, 403):
        return PermissionError(
            f"{url}: access denied ({detail}): check the URL, or the credentials given to the server"
        )
    return OSError(f"{url}: {detail}")


def _xml_code(body: str) -> str | None:
    """The ``<Code>`` of an S3-style XML error body (``SlowDown``, ``AccessDenied``, ``InvalidAccessKeyId``)."""
    start = body.find("<Code>")
    end = body.find("</Code>", start)
    return body[start + 6 : end] if start >= 0 and end > start else None


class HttpFetch:
    """Ranged GETs of one URL over one kept-alive connection (reopened after a failure)."""

    def __init__(self, url: str):
        self.url = url
        self._conn: http.client.HTTPConnection | None = None
        self._target = "/"

    def __call__(self, offset: int, length: int, sink: bytearray) -> tuple[int | None, str | None]:
        conn, target = self._open()
        try:
            conn.request(
                "GET", target, headers={"Range": f"bytes={offset}-{offset + length - 1}", "User-Agent": USER_AGENT}
            )
            response = conn.getresponse()
            if response.status not in (200, 206):
                raise _status_error(self.url, response)
            size = _total_size(response)
            if response.status == 200 and offset:  # a server that ignores ranges: skip to the offset
                _discard(response, offset)
            expected = length if size is None else min(length, size - offset)
            got = 0
            while got < expected:
                chunk = response.read(min(1 << 16, expected - got))
                if not chunk and size is None and response.status == 200:  # no length given: this is the end
                    self.close()
                    return offset + got, response.getheader("ETag")
                if not chunk:
                    raise retry.TransientError(
                        f"{self.url}: connection closed {expected - got} bytes before the end of the requested range",
                        "dropped",
                    )
                sink += chunk
                got += len(chunk)
            if response.status == 200 and size is not None and offset + got < size:
                self.close()  # the rest of a whole-file answer is not wanted
            return size, response.getheader("ETag")
        except BaseException:
            self.close()
            raise

    def _open(self) -> tuple[http.client.HTTPConnection, str]:
        if self._conn is None:
            self._conn, self._target = _connection(self.url)
        return self._conn, self._target

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _total_size(response: http.client.HTTPResponse) -> int | None:
    content_range = response.getheader("Content-Range") or ""
    if "/" in content_range and content_range.rsplit("/", 1)[1].strip().isdigit():
        return int(content_range.rsplit("/", 1)[1])
    length = response.getheader("Content-Length")
    return int(length) if response.status == 200 and length and length.isdigit() else None


def _discard(response: http.client.HTTPResponse, n: int) -> None:
    while n > 0:
        chunk = response.read(min(n, 1 << 20))
        if not chunk:
            raise retry.TransientError("connection closed while skipping to the requested offset", "dropped")
        n -= len(chunk)


def http_reader(url: str, size: int | None = None) -> BlockReader:
    """A :class:`BlockReader` over ``url`` (ranged GETs, retried and resumed)."""
    return BlockReader(url, HttpFetch(url), size)


def http_get(url: str, attempts: int | None = None) -> bytes:
    """The whole body of ``url`` (small files: ``collinfo.json``, ``warc.paths.gz``), transient failures retried."""
    backoff = retry.policy()
    if attempts is not None:
        backoff.attempts = attempts

    def get() -> bytes:
        conn, target = _connection(url)
        try:
            conn.request("GET", target, headers={"User-Agent": USER_AGENT})
            response = conn.getresponse()
            if response.status != 200:
                raise _status_error(url, response)
            length = response.getheader("Content-Length")
            body = response.read()
            if length and length.isdigit() and len(body) < int(length):
                raise retry.TransientError(f"{url}: body cut short ({len(body)} of {length} bytes)", "dropped")
            return body
        finally:
            conn.close()

    return retry.call(get, url, backoff=backoff)  # type: ignore[return-value]


def http_head(url: str) -> tuple[int | None, float | None] | None:
    """``(size, mtime)`` of ``url``, or None when it does not exist (404)."""
    import email.utils

    def head() -> tuple[int | None, float | None] | None:
        conn, target = _connection(url)
        try:
            conn.request("HEAD", target, headers={"User-Agent": USER_AGENT})
            response = conn.getresponse()
            response.read()
            if response.status == 404:
                return None
            if response.status != 200:
                raise _status_error(url, response)
            length = response.getheader("Content-Length")
            modified = response.getheader("Last-Modified")
            mtime = email.utils.parsedate_to_datetime(modified).timestamp() if modified else None
            return (int(length) if length and length.isdigit() else None), mtime
        finally:
            conn.close()

    return retry.call(head, url)  # type: ignore[return-value]


class HttpHandler(pafs.FileSystemHandler):
    """``pyarrow.fs`` over HTTP(S): paths are full URLs; read-only; no listing (HTTP has none)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HttpHandler)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def get_type_name(self) -> str:
        return "http"

    def normalize_path(self, path: str) -> str:
        return path

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        infos = []
        for path in paths:
            found = http_head(path)
            if found is None:
                infos.append(pafs.FileInfo(path, pafs.FileType.NotFound))
            else:
                size, mtime = found
                infos.append(pafs.FileInfo(path, pafs.FileType.File, size=size, mtime=None if mtime is None else mtime))
        return infos

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        raise OSError(
            f"{selector.base_dir}: HTTP has no directory listing; name the files, or give a "
            "warc.paths.gz / input.commoncrawl to list them"
        )

    def open_input_stream(self, path: str) -> pa.NativeFile:
        return pa.PythonFile(http_reader(path), mode="r")

    def open_input_file(self, path: str) -> pa.NativeFile:
        return pa.PythonFile(io.BufferedReader(http_reader(path), BLOCK_BYTES), mode="r")

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise OSError("HTTP(S) locations are read-only: write outputs to a local folder or s3://")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = delete_file = _read_only
    move = copy_file = open_output_stream = open_append_stream = _read_only


def http_filesystem() -> pafs.PyFileSystem:
    return pafs.PyFileSystem(HttpHandler())


def is_http(fs: pafs.FileSystem) -> bool:
    return isinstance(fs, pafs.PyFileSystem) and isinstance(fs.handler, HttpHandler)


# ---------------------------------------------------------------------------------------------------------------
# Object stores through pyarrow (S3)


class ArrowFetch:
    """Ranged reads of one object through a ``pyarrow.fs`` filesystem (``read_at`` is one ranged GET on S3)."""

    def __init__(self, fs: pafs.FileSystem, path: str):
        self.fs = fs
        self.path = path
        self._file: pa.NativeFile | None = None

    def __call__(self, offset: int, length: int, sink: bytearray) -> tuple[int | None, str | None]:
        try:
            if self._file is None:
                self._file = self.fs.open_input_file(self.path)
            size = self._file.size()
            sink += self._file.read_at(min(length, max(size - offset, 0)), offset)
            return size, None
        except BaseException:
            self._file = None
            raise


def object_reader(fs: pafs.FileSystem, path: str, uri: str) -> BlockReader:
    """A :class:`BlockReader` over an object of a ``pyarrow.fs`` filesystem (S3 and the like)."""
    return BlockReader(uri, ArrowFetch(fs, path))

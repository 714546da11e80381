"""An S3 stand-in for driver benchmarks: in-memory objects served over loopback HTTP with S3's request costs.

It answers what pyarrow's S3 filesystem sends for a run's driver: HEAD and GET of an object (404 ``NoSuchKey``
otherwise), ``ListObjectsV2`` in pages of at most 1,000 keys (prefix, delimiter, continuation token: a listing of
100,000 keys is 100 sequential round trips, as on S3), PUT (plain, ``aws-chunked`` or chunked bodies), server-side
copy, DELETE and multi-object delete, and multipart uploads. Every request waits ``latency_s`` first (S3's typical
first-byte latency for small objects is 10–30 ms) and is counted by kind, so a benchmark can print how many round
trips a driver made. moto's server implements far more of S3 but spends ~6 ms of CPU per request, which on a
2-core machine would set the pace instead of the latency, and it holds objects as heavy Python models; this one
spends tens of microseconds.

Run it in its own process (:func:`serve` there) so its CPU and memory are not counted as the driver's. Run as a
script, it checks its own cost model through curate's S3 client: a listing of ``--objects`` keys must take one
round trip per 1,000 keys and at least the latency each; last line ``RESULT s3_standin objects=... list_requests=...
list_s=... ms_per_request=...``.
"""

from __future__ import annotations

import bisect
import email.utils
import hashlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

#: a ``Last-Modified`` time for objects loaded in bulk (seconds since the epoch)
BULK_MTIME = 1_795_000_000.0
PAGE = 1000


class Store:
    """Objects by ``bucket/key``: body, modification time and size, with the keys kept sorted for listings. A body
    is bytes, or any object whose ``bytes()`` renders it when read (a benchmark's 500,000 markers)."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[Any, float, int]] = {}
        self.keys: list[str] = []
        self.lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.uploads: dict[str, dict[int, bytes]] = {}
        self.entries: dict[str, str] = {}

    def put(self, key: str, body: bytes, mtime: float | None = None) -> None:
        with self.lock:
            self.entries.pop(key, None)
            if key not in self.data:
                bisect.insort(self.keys, key)
            self.data[key] = (body, time.time() if mtime is None else mtime, len(body))

    def load(self, items: Iterable[tuple[str, Any]], mtime: float = BULK_MTIME) -> None:
        """Many objects at once (a previous run's output), without a request each."""
        with self.lock:
            for key, body in items:
                self.data[key] = (body, mtime, len(bytes(body)))
                self.entries.pop(key, None)
            self.keys = sorted(self.data)

    def entry_xml(self, key: str, rel: str) -> str:
        """The object's ``<Contents>`` in a listing (kept: a listing page is then a join of 1,000 strings)."""
        entry = self.entries.get(key)
        if entry is None:
            _, mtime, size = self.data[key]
            entry = self.entries[key] = (
                f"<Contents><Key>{_xml(rel)}</Key><LastModified>{_iso(mtime)}</LastModified>"
                f'<ETag>"0"</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>'
            )
        return entry

    def delete(self, key: str) -> None:
        with self.lock:
            self.entries.pop(key, None)
            if self.data.pop(key, None) is not None:
                del self.keys[bisect.bisect_left(self.keys, key)]


STORE = Store()
LATENCY_S = 0.02


def _http_date(t: float) -> str:
    return email.utils.formatdate(t, usegmt=True)


@lru_cache(maxsize=4096)
def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


def _xml(text: str) -> str:
    return escape(text) if "&" in text or "<" in text or ">" in text else text


class Handler(BaseHTTPRequestHandler):
    """Path-style requests (``/bucket/key``), each after ``LATENCY_S``."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait for a delayed ACK

    def log_message(self, *args: object) -> None:
        pass

    # -- plumbing ----------------------------------------------------------------------------------------------
    def _target(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        return unquote(parts.path.lstrip("/")), parse_qs(parts.query, keep_blank_values=True)

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, head: bool = False):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def _error(self, status: int, code: str, head: bool = False) -> None:
        body = f"<?xml version='1.0'?><Error><Code>{code}</Code></Error>".encode()
        self._send(status, body, {"Content-Type": "application/xml"}, head)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = self._read_chunks()
        else:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "") + self.headers.get("x-amz-content-sha256", "")
        return _decode_aws_chunked(raw) if "aws-chunked" in encoding or "STREAMING" in encoding else raw

    def _read_chunks(self) -> bytes:
        out = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():
                    pass
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline()

    def _begin(self, kind: str) -> None:
        STORE.requests[kind] += 1
        if LATENCY_S:
            time.sleep(LATENCY_S)

    # -- verbs -------------------------------------------------------------------------------------------------
    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._begin("HEAD")
        self._object(head=True)

    def do_GET(self) -> None:  # noqa: N802
        key, query = self._target()
        if key == "_requests":  # not S3: the requests counted so far, for the benchmark
            self._send(200, json.dumps(dict(STORE.requests)).encode())
            return
        if "/" not in key or "list-type" in query or "prefix" in query or "delimiter" in query:
            self._begin("LIST")
            self._list(key.split("/", 1)[0], query)
        else:
            self._begin("GET")
            self._object(head=False)

    def _object(self, head: bool) -> None:
        key, _ = self._target()
        if "/" not in key.rstrip("/"):  # the bucket itself
            self._send(200, headers={"x-amz-bucket-region": "us-east-1"}, head=head)
            return
        found = STORE.data.get(key)
        if found is None:
            self._error(404, "NoSuchKey", head)
            return
        body, mtime, _ = found
        body = bytes(body)
        headers = {
            "Last-Modified": _http_date(mtime),
            "ETag": f'"{hashlib.md5(body).hexdigest()}"',
            "Content-Type": "application/octet-stream",
        }
        byte_range = self.headers.get("Range")
        if byte_range and not head:
            first, _, last = byte_range.split("=", 1)[1].partition("-")
            start, end = int(first), min(int(last) if last else len(body) - 1, len(body) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(body)}"
            self._send(206, body[start : end + 1], headers)
            return
        if head:
            self.send_response(200)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return
        self._send(200, body, headers)

    def _list(self, bucket: str, query: dict[str, list[str]]) -> None:
        prefix = query.get("prefix", [""])[0]
        delimiter = query.get("delimiter", [""])[0]
        limit = min(int(query.get("max-keys", [PAGE])[0]), PAGE)
        start = query.get("continuation-token", query.get("start-after", [""]))[0]
        full_prefix = f"{bucket}/{prefix}"
        contents: list[str] = []
        prefixes: list[str] = []
        last, truncated = "", False
        with STORE.lock:
            keys = STORE.keys
            i = bisect.bisect_right(keys, f"{bucket}/{start}") if start else bisect.bisect_left(keys, full_prefix)
            while i < len(keys) and keys[i].startswith(full_prefix):
                if len(contents) + len(prefixes) >= limit:
                    truncated = True
                    break
                rel = keys[i][len(bucket) + 1 :]
                rest = rel[len(prefix) :]
                if delimiter and delimiter in rest:
                    common = prefix + rest.split(delimiter, 1)[0] + delimiter
                    prefixes.append(common)
                    last = common + "\uffff"  # sorts after every key below the common prefix
                    i = bisect.bisect_left(keys, f"{bucket}/{last}")  # as S3 does: not one key at a time
                    continue
                contents.append(STORE.entry_xml(keys[i], rel))
                last = rel
                i += 1
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>'
            f"<Name>{bucket}</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{len(contents) + len(prefixes)}"
            f"</KeyCount><MaxKeys>{limit}</MaxKeys><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
            + (f"<NextContinuationToken>{escape(last)}</NextContinuationToken>" if truncated else "")
            + "".join(contents)
            + "".join(f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in prefixes)
            + "</ListBucketResult>"
        )
        self._send(200, xml.encode(), {"Content-Type": "application/xml"})

    def do_PUT(self) -> None:  # noqa: N802
        key, query = self._target()
        body = self._body()
        if "/" not in key.rstrip("/"):
            self._begin("PUT")
            self._send(200)  # create bucket
            return
        source = self.headers.get("x-amz-copy-source")
        if source:
            self._begin("COPY")
            found = STORE.data.get(unquote(source).lstrip("/"))
            if found is None:
                self._error(404, "NoSuchKey")
                return
            STORE.put(key, bytes(found[0]))
            xml = f'<CopyObjectResult><LastModified>{_iso(time.time())}</LastModified><ETag>"0"</ETag>'
            self._send(200, (xml + "</CopyObjectResult>").encode(), {"Content-Type": "application/xml"})
            return
        if "uploadId" in query:
            self._begin("PUT")
            STORE.uploads.setdefault(query["uploadId"][0], {})[int(query["partNumber"][0])] = body
            self._send(200, headers={"ETag": f'"{hashlib.md5(body).hexdigest()}"'})
            return
        self._begin("PUT")
        STORE.put(key, body)
        self._send(200, headers={"ETag": f'"{hashlib.md5(body).hexdigest()}"'})

    def do_POST(self) -> None:  # noqa: N802
        key, query = self._target()
        body = self._body()
        if "delete" in query:
            self._begin("DELETE")
            bucket = key.split("/", 1)[0]
            removed = []
            for chunk in body.split(b"<Key>")[1:]:
                name = chunk.split(b"</Key>", 1)[0].decode()
                name = name.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
                STORE.delete(f"{bucket}/{name}")
                removed.append(f"<Deleted><Key>{escape(name)}</Key></Deleted>")
            xml = "<DeleteResult>" + "".join(removed) + "</DeleteResult>"
            self._send(200, xml.encode(), {"Content-Type": "application/xml"})
            return
        self._begin("PUT")
        bucket, _, rel = key.partition("/")
        if "uploads" in query:
            upload = uuid.uuid4().hex
            STORE.uploads[upload] = {}
            xml = (
                f"<InitiateMultipartUploadResult><Bucket>{bucket}</Bucket><Key>{escape(rel)}</Key>"
                f"<UploadId>{upload}</UploadId></InitiateMultipartUploadResult>"
            )
            self._send(200, xml.encode(), {"Content-Type": "application/xml"})
            return
        parts = STORE.uploads.pop(query["uploadId"][0], {})
        STORE.put(key, b"".join(parts[n] for n in sorted(parts)))
        xml = f'<CompleteMultipartUploadResult><Key>{escape(rel)}</Key><ETag>"0"</ETag>'
        self._send(200, (xml + "</CompleteMultipartUploadResult>").encode(), {"Content-Type": "application/xml"})

    def do_DELETE(self) -> None:  # noqa: N802
        self._begin("DELETE")
        key, query = self._target()
        if "uploadId" in query:
            STORE.uploads.pop(query["uploadId"][0], None)
        else:
            STORE.delete(key)
        self._send(204)


def _decode_aws_chunked(raw: bytes) -> bytes:
    """The payload of an ``aws-chunked`` body: ``<hex size>[;chunk-signature=…]\\r\\n<data>\\r\\n`` … ``0…``."""
    out, i = bytearray(), 0
    while i < len(raw):
        end = raw.index(b"\r\n", i)
        size = int(raw[i:end].split(b";")[0], 16)
        if size == 0:
            break
        out += raw[end + 2 : end + 2 + size]
        i = end + 2 + size + 2
    return bytes(out)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up on a request (a timeout it retries) is the client's business


def serve(latency_s: float, port: int = 0) -> ThreadingHTTPServer:
    """Start serving :data:`STORE` on loopback in a background thread; the server's port is ``server_port``."""
    global LATENCY_S
    LATENCY_S = latency_s
    server = _Server(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def s3_env(port: int) -> dict[str, str]:
    """The environment that points curate's (pyarrow's) S3 client at a stand-in on ``port``."""
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def object_key(uri: str) -> str:
    """``s3://bucket/a/b`` → ``bucket/a/b`` (the store's key)."""
    return uri[len("s3://") :] if uri.startswith("s3://") else uri


def main(argv: list[str] | None = None) -> int:
    """List ``--objects`` keys through curate's own S3 client and check pages and latency (see the module doc)."""
    import argparse
    import math
    import os

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--objects", type=int, default=2500)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args(argv)
    server = serve(args.latency_ms / 1000)
    os.environ.update(s3_env(server.server_port))
    from curate.storage import location

    STORE.load((f"bench/objects/{i:07d}", b"x") for i in range(args.objects))
    started = time.perf_counter()
    listed = location("s3://bench/objects").list_files(recursive=True)
    list_s = time.perf_counter() - started
    server.shutdown()
    pages = STORE.requests["LIST"]  # one page per 1,000 keys, plus one for the folder-exists check
    ms_per_request = 1000 * list_s / max(1, sum(STORE.requests.values()))
    print(f"listed {len(listed):,} objects in {list_s:.2f} s; requests {dict(STORE.requests)}")
    extra_pages = pages - math.ceil(args.objects / PAGE)
    ok = len(listed) == args.objects and 0 <= extra_pages <= 1 and ms_per_request >= args.latency_ms
    print(
        f"RESULT s3_standin objects={len(listed)} list_requests={pages} list_s={list_s:.2f} "
        f"ms_per_request={ms_per_request:.1f} ok={int(ok)}"
    )
    return 0 if ok else 1


__all__ = ["BULK_MTIME", "STORE", "Handler", "Store", "main", "object_key", "s3_env", "serve"]

if __name__ == "__main__":
    raise SystemExit(main())

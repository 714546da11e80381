"""A local Common Crawl mirror built from real WARCs of ../shared/data, laid out exactly like Common Crawl's, and a
loopback HTTP(S)/S3 stand-in that serves it while throttling.

Mirror layout (https://commoncrawl.org/get-started)::

    crawl-info/collinfo.json                                   [{"id": "CC-MAIN-2024-18", ...}, ...] newest first
    crawl-data/<id>/warc.paths.gz, wet.paths.gz                one bucket-relative path per line
    crawl-data/<id>/segments/<segment>/warc/CC-MAIN-...-0000N.warc.gz
    crawl-data/<id>/segments/<segment>/wet/CC-MAIN-...-0000N.warc.wet.gz

Snapshot A (CC-MAIN-2024-10) holds the real records of two crawls (allenai's wget crawl of 22 pages, a genuine
CC-MAIN-2020-34 excerpt), record by record, over two segments of two files each. Snapshot B (CC-MAIN-2024-18)
holds another real crawl (15 pages) plus pages of A re-crawled: ``EXACT`` exact copies and ``NEAR`` near copies
(one sentence added to a paragraph of a long page), each with a new record id and date as a new crawl would give
them. WET files hold each response's visible text as ``conversion`` records, the way Common Crawl derives them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import socket
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from conftest import shared_data

SNAPSHOT_A = "CC-MAIN-2024-10"
SNAPSHOT_B = "CC-MAIN-2024-18"
#: pages of A re-crawled in B unchanged / with a sentence added
EXACT = 3
NEAR = 3
ADDED_SENTENCE = b" This page was updated after the crawl and now carries one more sentence."
COLLINFO = {
    SNAPSHOT_A: {
        "id": SNAPSHOT_A,
        "name": "February/March 2024 Index",
        "from": "2024-02-20T00:00:00",
        "to": "2024-03-05T00:00:00",
    },
    SNAPSHOT_B: {
        "id": SNAPSHOT_B,
        "name": "April 2024 Index",
        "from": "2024-04-12T00:00:00",
        "to": "2024-04-25T00:00:00",
    },
}
SEGMENTS = {SNAPSHOT_A: ["1707947473347.0", "1707947473518.8"], SNAPSHOT_B: ["1712296815211.1", "1712296817129.2"]}
#: crawl start and end stamps in Common Crawl's file names (CC-MAIN-<start>-<end>-<serial>.warc.gz)
STAMPS = {SNAPSHOT_A: "20240220211055-20240221001055", SNAPSHOT_B: "20240412211055-20240413001055"}


# ---------------------------------------------------------------------------------------------------------------
# WARC records


@dataclass
class Record:
    head: bytes  # WARC header lines, without the final blank line
    body: bytes

    def header(self, name: str) -> str | None:
        m = re.search(rb"(?im)^" + re.escape(name.encode()) + rb":\s*(.*?)\r?$", self.head)
        return m.group(1).decode() if m else None

    def with_header(self, name: str, value: str) -> Record:
        pattern = rb"(?im)^" + re.escape(name.encode()) + rb":.*?$"
        return Record(re.sub(pattern, f"{name}: {value}".encode(), self.head, count=1), self.body)

    def to_bytes(self) -> bytes:
        head = re.sub(rb"(?im)^Content-Length:.*?$", f"Content-Length: {len(self.body)}".encode(), self.head, count=1)
        return head + b"\r\n\r\n" + self.body + b"\r\n\r\n"


def read_records(path: Path) -> list[Record]:
    """The records of a (multi-member gzip) WARC file, split by their Content-Length."""
    data = gzip.decompress(path.read_bytes())
    records, pos = [], 0
    while True:
        start = data.find(b"WARC/1.", pos)
        if start < 0:
            return records
        end = data.find(b"\r\n\r\n", start)
        head = data[start:end]
        length = int(re.search(rb"(?im)^Content-Length:\s*(\d+)", head).group(1))
        body = data[end + 4 : end + 4 + length]
        records.append(Record(head, body))
        pos = end + 4 + length


def is_html_response(record: Record) -> bool:
    return record.header("WARC-Type") == "response" and b"text/html" in record.body[:2000].lower()


def write_warc(path: Path, records: list[Record]) -> None:
    """One gzip member per record, as Common Crawl writes them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(gzip.compress(r.to_bytes(), mtime=0) for r in records))


def recrawl(record: Record, snapshot: str, date: str) -> Record:
    """The same response as a later crawl records it: a new record id and date."""
    new_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{snapshot}/{record.header('WARC-Record-ID')}")
    return record.with_header("WARC-Record-ID", f"<urn:uuid:{new_id}>").with_header("WARC-Date", date)


def near_copy(record: Record) -> Record:
    """The page with one sentence added to the main text: inside the longest line the extractor keeps (after a
    piece of it found once in the HTML), so the extracted texts differ by that sentence. HTTP Content-Length kept
    right."""
    from curate.stage import SourceFile
    from curate.stages import WarcExtract

    text = "".join(
        t
        for out in WarcExtract().read(SourceFile.from_bytes("page.warc", record.to_bytes()))
        for t in out.kept.column("text").to_pylist()
    )
    http_head, _, html = record.body.partition(b"\r\n\r\n")
    windows = (
        line[i : i + 30].encode()
        for line in sorted(text.splitlines(), key=len, reverse=True)
        for i in range(0, max(len(line) - 30, 0), 10)
    )
    for snippet in windows:
        at = html.find(snippet)
        if at >= 0 and html.count(snippet) == 1:
            at += len(snippet)
            break
    else:
        raise AssertionError("no line of the extracted text found verbatim in the page")
    html = html[:at] + ADDED_SENTENCE + html[at:]
    http_head = re.sub(rb"(?im)^Content-Length:.*?$", f"Content-Length: {len(html)}".encode(), http_head, count=1)
    return Record(record.head, http_head + b"\r\n\r\n" + html)


def wet_record(record: Record, date: str) -> Record | None:
    """A WET ``conversion`` record of a response: its visible text (tags, scripts and styles removed)."""
    import lxml.html

    _, _, html = record.body.partition(b"\r\n\r\n")
    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None
    for bad in tree.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    lines = [" ".join(line.split()) for line in tree.text_content().splitlines()]
    text = "\n".join(line for line in lines if line).encode()
    if not text:
        return None
    target = record.header("WARC-Target-URI") or ""
    refers = record.header("WARC-Record-ID") or ""
    new_id = uuid.uuid5(uuid.NAMESPACE_URL, f"wet/{refers}")
    head = (
        f"WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: {target}\r\nWARC-Date: {date}\r\n"
        f"WARC-Record-ID: <urn:uuid:{new_id}>\r\nWARC-Refers-To: {refers}\r\n"
        f"WARC-Block-Digest: sha1:{hashlib.sha1(text).hexdigest()}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(text)}"
    ).encode()
    return Record(head, text)


# ---------------------------------------------------------------------------------------------------------------
# The mirror


@dataclass
class Mirror:
    root: Path
    files: dict[str, list[str]] = field(default_factory=dict)  # snapshot -> bucket-relative WARC paths
    html_pages: dict[str, int] = field(default_factory=dict)  # snapshot -> HTML response records

    def publish(self, *snapshots: str) -> None:
        """Write ``crawl-info/collinfo.json`` listing ``snapshots`` (newest first, as Common Crawl does)."""
        entries = [COLLINFO[s] for s in sorted(snapshots, reverse=True)]
        path = self.root / "crawl-info" / "collinfo.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(entries, indent=1))

    def copy(self, target: Path) -> Mirror:
        shutil.copytree(self.root, target)
        return Mirror(target, dict(self.files), dict(self.html_pages))


def build_mirror(root: Path) -> Mirror:
    """Build the two-snapshot mirror under ``root`` from ../shared/data (skips the test when it is absent)."""
    a_sources = [
        shared_data("warc", "real_crawls", "dolma__sample-0000.warc.gz"),
        shared_data("warc", "common_crawl_format", "resiliparse__CC-MAIN-2020-34_excerpt.warc.gz"),
    ]
    b_source = shared_data("warc", "real_crawls", "dolma__sample-0001.warc.gz")
    a_records = [r for path in a_sources for r in read_records(path)]
    b_records = read_records(b_source)
    # A's longest dolma pages are copied into B: exact copies of some, a sentence added to the others
    dolma_a = [r for r in read_records(a_sources[0]) if is_html_response(r)]
    longest = sorted(dolma_a, key=lambda r: -len(r.body))[: EXACT + NEAR]
    b_date = "2024-04-20T10:00:00Z"
    copies = [recrawl(r, SNAPSHOT_B, b_date) for r in longest[:EXACT]]
    copies += [recrawl(near_copy(r), SNAPSHOT_B, b_date) for r in longest[EXACT:]]
    mirror = Mirror(root)
    for snapshot, records in ((SNAPSHOT_A, a_records), (SNAPSHOT_B, _interleave(b_records, copies))):
        mirror.files[snapshot] = _write_snapshot(root, snapshot, records)
        mirror.html_pages[snapshot] = sum(is_html_response(r) for r in records)
    mirror.publish(SNAPSHOT_A)
    return mirror


def _interleave(records: list[Record], extra: list[Record]) -> list[Record]:
    """``extra`` spread through ``records`` (a re-crawl's copies sit among its new pages)."""
    out = list(records)
    for i, record in enumerate(extra):
        out.insert((i + 1) * len(out) // (len(extra) + 1), record)
    return out


def _write_snapshot(root: Path, snapshot: str, records: list[Record]) -> list[str]:
    """Split ``records`` over 2 segments x 2 files (a warcinfo-less CC file is fine for readers), write the WARC
    and WET files and both paths lists; returns the WARC paths."""
    crawl = root / "crawl-data" / snapshot
    n_files = 4
    chunks = [records[(i * len(records)) // n_files : ((i + 1) * len(records)) // n_files] for i in range(n_files)]
    warc_paths, wet_paths = [], []
    for i, chunk in enumerate(chunks):
        segment = SEGMENTS[snapshot][i // 2]
        name = f"CC-MAIN-{STAMPS[snapshot]}-{i:05d}"
        warc = f"crawl-data/{snapshot}/segments/{segment}/warc/{name}.warc.gz"
        wet = f"crawl-data/{snapshot}/segments/{segment}/wet/{name}.warc.wet.gz"
        write_warc(root / warc, chunk)
        date = chunk[0].header("WARC-Date") or "2024-01-01T00:00:00Z"
        write_warc(root / wet, [w for r in chunk if is_html_response(r) if (w := wet_record(r, date))])
        warc_paths.append(warc)
        wet_paths.append(wet)
    for kind, paths in (("warc", warc_paths), ("wet", wet_paths)):
        (crawl / f"{kind}.paths.gz").write_bytes(gzip.compress(("\n".join(paths) + "\n").encode(), mtime=0))
    return warc_paths


# ---------------------------------------------------------------------------------------------------------------
# A loopback stand-in for data.commoncrawl.org / S3 that throttles


@dataclass
class Faults:
    """What the stand-in does to requests: every ``throttle_every``-th GET/HEAD gets 503 SlowDown; the first
    ``drop_bodies`` file GETs of at least ``drop_min_bytes`` are cut off halfway (connection closed); ``deny``
    answers 403 InvalidAccessKeyId to everything."""

    throttle_every: int = 0
    drop_bodies: int = 0
    drop_min_bytes: int = 50_000
    deny: bool = False
    requests: int = 0
    throttled: int = 0
    dropped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class StandIn:
    """Serves ``root`` over HTTP on 127.0.0.1: ``GET``/``HEAD`` with ``Range``, as data.commoncrawl.org does, and
    S3 path-style GetObject/HeadObject (``/<bucket>/<key>``) for ``bucket``."""

    def __init__(self, root: Path, faults: Faults | None = None, bucket: str = "commoncrawl"):
        self.root = root
        self.faults = faults or Faults()
        self.bucket = bucket
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                stand_in.serve(self, head=True)

            def do_GET(self) -> None:
                stand_in.serve(self, head=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _error(self, handler: BaseHTTPRequestHandler, status: int, code: str, head: bool) -> None:
        body = f'<?xml version="1.0"?><Error><Code>{code}</Code><Message>{code}</Message></Error>'.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/xml")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if not head:
            handler.wfile.write(body)

    def serve(self, handler: BaseHTTPRequestHandler, head: bool) -> None:
        f = self.faults
        path = handler.path.split("?", 1)[0]
        with f.lock:
            f.requests += 1
            throttle = bool(f.throttle_every) and f.requests % f.throttle_every == 0
            f.throttled += throttle
        if f.deny:
            return self._error(handler, 403, "InvalidAccessKeyId", head)
        if throttle:
            return self._error(handler, 503, "SlowDown", head)
        if path.startswith(f"/{self.bucket}/"):
            path = path[len(self.bucket) + 1 :]
        file = (self.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.root.resolve()) or not file.is_file():
            return self._error(handler, 404, "NoSuchKey", head)
        data = file.read_bytes()
        start, end, status = 0, len(data) - 1, 200
        m = re.match(r"bytes=(\d+)-(\d*)", handler.headers.get("Range") or "")
        if m:
            start, end, status = int(m.group(1)), min(int(m.group(2) or len(data) - 1), len(data) - 1), 206
        body = data[start : end + 1]
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("ETag", f'"{hashlib.md5(data).hexdigest()}"')
        handler.send_header("Last-Modified", "Sat, 20 Apr 2024 10:00:00 GMT")
        handler.send_header("Accept-Ranges", "bytes")
        if status == 206:
            handler.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        handler.end_headers()
        if head:
            return None
        with f.lock:
            drop = f.dropped < f.drop_bodies and len(body) >= f.drop_min_bytes
            f.dropped += drop
        if drop:  # half the body, then the connection goes away
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return None
        handler.wfile.write(body)
        return None


def free_port() -> int:
    """A loopback port nothing listens on (for "offline" tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

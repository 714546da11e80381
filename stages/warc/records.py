"""Records of WARC (1.0/1.1/0.18), WET and ARC (v1/v2) files, parsed from an :class:`ArchiveStream`.

The parser reads the record headers (WARC named fields, or the one-line ARC header), then — only for records the
caller wants — the HTTP status line and headers, then at most ``max_body`` bytes of the payload; the rest of the
block is skipped without being kept, so a record that claims 431 MB costs time to inflate but no memory. A record
whose bytes end early (truncated file) or overlap a damaged gzip member is reported with ``problem`` set; after
any problem the parser resynchronises on the next ``WARC/`` (or ARC header) line. A declared length proven wrong
(see :func:`iter_records`) loses only its record, whatever the compression layout.

Quirks handled: CRLF or bare LF header lines (ClueWeb09 WARC/0.18 HTTP headers use LF), missing or malformed
``Content-Length``, header continuation lines, blank lines between records, ARC ``filedesc://`` version blocks.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from curate.stages.warc.http import MAX_LEADING_BLANK_LINES, add_field, is_protocol_only, status_code
from curate.stages.warc.stream import ArchiveStream

MAX_HEADER_BYTES = 1 << 16
#: a declared block length beyond this is damage, never a record: WARC 1.0/1.1 recommend files of about 1 GB (a
#: larger block is split into ``continuation`` records), so no archive holds a 64 GiB block (the largest record of
#: the shared WARCs is 431 MB); reading resumes at the next record header instead of skipping 10^15 bytes
MAX_BLOCK_BYTES = 1 << 36
_VERSION_LINE = re.compile(rb"WARC/\d+\.\d+\r?\n")
_TYPE_FIELD = re.compile(rb"(?im)^warc-type:")
_ID_FIELD = re.compile(rb"(?im)^warc-record-id:")
_ARC_LINE = re.compile(rb"^(\S+) (\S+) (\d{14}|\d{12}|\d{8}|-) (\S*)(?: .*)? (\d+)\s*$")


@dataclass
class Record:
    """One archive record: its headers, and (when read) its HTTP status, HTTP headers and payload bytes."""

    rec_type: str  # response, request, revisit, conversion, warcinfo, metadata, resource, arc-response ...
    headers: dict[str, str]  # WARC named fields (lower-cased names); ARC records get equivalent fields
    length: int  # declared block length
    is_arc: bool = False
    http_status: int | None = None
    http_headers: dict[str, str] = field(default_factory=dict)
    payload: bytes = b""
    payload_length: int = 0  # declared payload bytes (block minus HTTP headers)
    oversize: bool = False  # payload longer than max_body: ``payload`` holds its first max_body bytes, or nothing
    problem: str | None = None  # "truncated", "corrupt", "bad_length" (bytes not trustworthy), "bad_http_headers"

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


#: decides whether the parser reads on: called with the record headers (then read the HTTP headers?) and again
#: once the HTTP headers are parsed (then read the payload?); a False skips the rest of the block unread
WantBlock = Callable[[Record], bool]


def iter_records(
    stream: ArchiveStream,
    want_block: WantBlock,
    want_payload: WantBlock,
    max_body: int,
    read_oversize: bool = False,
    counters: dict[str, int] | None = None,
) -> Iterator[Record]:
    """Yield every record of the stream (wanted blocks read and parsed, the others skipped).

    ``max_body`` bounds the payload bytes kept per record; with ``read_oversize`` an oversize payload keeps its
    first ``max_body`` bytes (else none). ``Record.problem`` marks truncated or corrupt records, and
    ``bad_length`` when the declared Content-Length is proven wrong: beyond :data:`MAX_BLOCK_BYTES`, past the end
    of a plain file, into the next record's gzip member, or past the end of a stream of unknown size (one gzip
    member for the whole file, a pipe) with a record header after the damaged record's headers. Reading resumes at
    that next record header (a ``WARC/`` line followed by a header block with WARC-Type and WARC-Record-ID), so
    only that record is lost. A length that fits is never second-guessed, even when the block holds ``WARC/``
    lines (an archived WARC file). Runs of bytes between records that are no record header are counted in
    ``counters["garbage_between_records"]``.
    """
    in_garbage = False
    held: Record | None = None  # a record whose length is wrong or runs past the end: yielded at the next header
    while True:
        line = stream.readline()
        if not line:
            if held is not None:  # no record header followed: the file was cut inside this record
                held.problem = held.problem or "truncated"
                yield held
            return
        if not line.strip():
            continue
        damage_before = stream.damage
        if line.startswith(b"WARC/") and (held is None or _is_header(line + stream.peek(MAX_HEADER_BYTES))):
            record = _warc_headers(stream, line)
        else:
            match = _ARC_LINE.match(line)
            if match is None:
                if not in_garbage and held is None and counters is not None:  # skip to the next record header
                    counters["garbage_between_records"] = counters.get("garbage_between_records", 0) + 1
                in_garbage = True
                continue
            record = _arc_record(stream, match)
        in_garbage = False
        if held is not None:  # another record followed: the held one declared a length it did not have
            held.problem = "bad_length"
            yield held
            held = None
        if record.length < 0:
            record.problem = "corrupt"
            yield record
            continue
        if record.length > MAX_BLOCK_BYTES:  # resync on the next record header (decided above)
            record.problem = "bad_length"
            held = record
            continue
        left = stream.size_left()
        if left is not None and record.length > left:  # truncated, or bad_length if a record header follows
            held = record
            continue
        watch = left is None and not stream.multi_member  # nothing but the end of the stream bounds this block
        if watch:
            stream.watch()
        stream.fence, stream.fenced = True, False
        remaining = record.length
        if want_block(record):
            remaining = _read_block(stream, record, remaining, want_payload, max_body, read_oversize)
        skipped = stream.skip(remaining)
        stream.fence = False
        kept, cut = stream.unwatch() if watch else (bytearray(), False)
        if stream.fenced:
            record.problem = "bad_length"  # the block ran into the next record's gzip member
        elif skipped < remaining:
            at = _first_header(kept)
            if at is None:
                record.problem = "truncated"
            else:  # the stream ended inside the block, after a record header: resume there
                stream.unread(kept[at:])
                record.problem = "bad_length"
                if cut and counters is not None:  # records past WATCH_CAP after the damaged one are lost
                    counters["bad_length_lookahead_cut"] = counters.get("bad_length_lookahead_cut", 0) + 1
        elif stream.damage != damage_before:
            record.problem = "corrupt"
        yield record


def _is_header(data: bytes | bytearray) -> bool:
    """Whether ``data`` starts with a WARC record header: a version line (``WARC/1.0``, ``WARC/1.1``, ``WARC/0.18``)
    and a header block (up to the first blank line) with WARC-Type and WARC-Record-ID fields."""
    if _VERSION_LINE.match(data) is None:
        return False
    ends = [at for at in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if at >= 0]
    block = data[: min(ends, default=len(data))]
    return _TYPE_FIELD.search(block) is not None and _ID_FIELD.search(block) is not None


def _first_header(data: bytes | bytearray) -> int | None:
    """Offset of the first line of ``data`` that starts a WARC record header (:func:`_is_header`), if any."""
    at = 0
    while 0 <= at < len(data):
        if _is_header(data[at : at + MAX_HEADER_BYTES]):
            return at
        at = data.find(b"\nWARC/", at)
        at = at + 1 if at >= 0 else -1
    return None


def _warc_headers(stream: ArchiveStream, version_line: bytes) -> Record:
    headers: dict[str, str] = {"warc-version": version_line.strip().decode("latin-1")}
    last = None
    total = 0
    while True:
        line = stream.readline()
        total += len(line)
        if not line or not line.strip() or total > MAX_HEADER_BYTES:
            break
        if line[:1] in (b" ", b"\t") and last is not None:  # folded continuation line
            headers[last] += " " + line.strip().decode("utf-8", "replace")
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        last = name.strip().decode("latin-1").lower()
        headers[last] = value.strip().decode("utf-8", "replace")
    try:
        length = int(headers.get("content-length", "").strip())
    except ValueError:
        length = -1
    return Record(headers.get("warc-type", "").strip().lower(), headers, length)


def _arc_record(stream: ArchiveStream, match: re.Match[bytes]) -> Record:
    url, ip, date, mime, length = (g.decode("utf-8", "replace") for g in match.groups())
    headers = {
        "warc-target-uri": url,
        "warc-ip-address": ip,
        "warc-date": _arc_date(date),
        "arc-content-type": mime,
        "warc-record-id": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url + ' ' + date)}>",
    }
    rec_type = "warcinfo" if url.startswith("filedesc://") else "response"
    return Record(rec_type, headers, int(length), is_arc=True)


def _arc_date(date: str) -> str:
    if len(date) < 8 or not date.isdigit():
        return date
    d = date.ljust(14, "0")
    return f"{d[0:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}Z"


def _read_block(
    stream: ArchiveStream, record: Record, remaining: int, want_payload: WantBlock, max_body: int, read_oversize: bool
) -> int:
    """Parse HTTP status + headers (when the block is an HTTP message) and read the payload; returns bytes left.

    A WARC ``application/http`` block whose first line is no status line at all is marked ``bad_http_headers``
    (:mod:`curate.stages.warc.http`); an ARC block of a non-HTTP URL (``dns:``, ``filedesc:``) is the payload."""
    body_start = b""
    if _is_http_block(record) and remaining > 0:
        first = stream.readline(min(remaining, MAX_HEADER_BYTES))
        remaining -= len(first)
        for _ in range(MAX_LEADING_BLANK_LINES):
            if first.strip() or remaining <= 0:
                break
            first = stream.readline(min(remaining, MAX_HEADER_BYTES))
            remaining -= len(first)
        status = status_code(first)
        if status is not None or is_protocol_only(first):
            record.http_status = status
            remaining = _http_headers(stream, record, remaining)
        elif record.is_arc and not record.header("warc-target-uri", "").lower().startswith(("http:", "https:")):
            body_start = first  # ARC dns:/filedesc: records: the block is the payload
        else:
            record.problem = "bad_http_headers"
            return remaining
    record.payload_length = remaining + len(body_start)
    if not want_payload(record):
        return remaining
    if record.payload_length > max_body:
        record.oversize = True
        if not read_oversize:
            return remaining
    want = max(0, min(remaining, max_body - len(body_start)))
    body = stream.read(want)
    record.payload = body_start + body if body_start else body
    return remaining - len(body)


def _is_http_block(record: Record) -> bool:
    """ARC records, and WARC response/revisit records whose block is ``application/http`` (the default when the
    record has no Content-Type)."""
    if record.is_arc:
        return True
    return (
        record.rec_type in ("response", "revisit")
        and "application/http" in record.header("content-type", "application/http").lower()
    )


def _http_headers(stream: ArchiveStream, record: Record, remaining: int) -> int:
    total = 0
    last = None
    while remaining > 0:
        line = stream.readline(min(remaining, MAX_HEADER_BYTES))
        if not line:
            break
        remaining -= len(line)
        total += len(line)
        if not line.strip() or total > MAX_HEADER_BYTES:
            break
        last = add_field(record.http_headers, line.rstrip(b"\r\n"), last)
    return remaining

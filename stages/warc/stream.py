"""Byte streams under the WARC reader: plain or (multi-member, possibly damaged) gzip, read incrementally.

Web archives are concatenated gzip members, usually one per record. A damaged member (bad deflate data, CRC
mismatch) or a truncated file must not end the whole file: :class:`ArchiveStream` counts the damage and resumes
at the next gzip member header (``1f 8b 08``), so the record parser above it loses only the records that overlap
the damage. Decompression is bounded (``max_length``) so a member that inflates to hundreds of MB never sits in
memory; callers read lines, bounded reads, or skip bytes without keeping them.

Where nothing marks where a record ends (one gzip member for the whole file, a plain stream of unknown size) a
declared length is only proven wrong when the stream ends inside the block: :meth:`ArchiveStream.watch` keeps the
block's first bytes (at most :data:`WATCH_CAP`), so the parser can put them back with
:meth:`ArchiveStream.unread` and resume at the record header that followed the damaged record's headers.
"""

from __future__ import annotations

import zlib

try:  # Intel ISA-L's inflate (the `fast` extra): the same bytes as zlib's for about half the CPU
    from isal import isal_zlib as inflate

    INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, inflate.error)
except ImportError:  # pragma: no cover - the extra is not installed
    inflate = zlib  # type: ignore[no-redef]
    INFLATE_ERRORS = (zlib.error,)
from typing import IO

GZIP_MAGIC = b"\x1f\x8b\x08"
CHUNK = 1 << 20
#: the most bytes :meth:`ArchiveStream.watch` keeps while a block of unproven length is read: when the length is
#: proven wrong, the records within 32 MiB after the damaged record's headers are recovered, later ones are lost
#: (the parser counts that)
WATCH_CAP = 1 << 25


class ArchiveStream:
    """Decompressed bytes of a plain or gzip file with ``readline``/``read``/``skip``; never raises on damage.

    ``damage`` counts corrupt gzip members (resynchronised at the next member), ``truncated`` is set when the
    file ends inside a gzip member. Both are visible to the record parser, which compares ``damage`` before and
    after a record to know whether that record's bytes are trustworthy.
    """

    def __init__(self, raw: IO[bytes]):
        self._raw = raw
        self._pending = raw.read(CHUNK) or b""  # compressed bytes not yet fed to the decompressor
        self.is_gzip = self._pending[:2] == GZIP_MAGIC[:2]
        self._dec = inflate.decompressobj(31) if self.is_gzip else None
        self._member_started = False
        self._buf = bytearray()
        self._pos = 0
        self._raw_eof = False
        self.damage = 0
        self.truncated = False
        self.offset = 0  # decompressed bytes consumed by the reader so far
        #: a second gzip member was found: each block is bounded by the fence below (one gzip member for the whole
        #: file, or a plain stream of unknown size, bounds a block only by the end of the stream)
        self.multi_member = False
        self._member_ended = False  # a gzip member was read to its end
        #: while True, the stream stops (as at the end of the file) before a gzip member that starts a new record
        #: (``WARC/``): a record's bytes end with its member in record-at-a-time compression (WARC 1.1 annex D.2),
        #: so a block that claims more (an absurd Content-Length) loses only itself
        self.fence = False
        self.fenced = False  # the last fill stopped at such a member
        self._at_member_start = False
        self._end: int | bool | None = None  # size of a plain file (None: not asked yet, False: unknown)
        self._kept: bytearray | None = None  # while watching: the bytes consumed since watch()
        self._kept_full = False  # the kept bytes reached WATCH_CAP and stopped growing

    # -- filling the buffer ------------------------------------------------------------------------------------
    def _read_raw(self) -> bytes:
        if self._raw_eof:
            return b""
        data = self._raw.read(CHUNK)
        if not data:
            self._raw_eof = True
        return data or b""

    def _fill(self) -> bool:
        """Append more decompressed bytes to the buffer; False at the end of the file."""
        if self._pos > CHUNK and self._pos * 2 > len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0
        if not self.is_gzip:
            data = self._pending or self._read_raw()
            self._pending = b""
            if not data:
                return False
            self._buf += data
            return True
        while True:
            if not self._pending:
                self._pending = self._read_raw()
                if not self._pending:
                    if self._member_started:
                        self.truncated = True
                        self._member_started = False
                    return False
            if self._at_member_start and self.fence and self._next_member_is_record():
                self.fenced = True
                return False
            self._at_member_start = False
            try:
                out = self._dec.decompress(self._pending, CHUNK)
            except INFLATE_ERRORS:
                self._resync(skip_first=True)
                continue
            self.multi_member = self.multi_member or self._member_ended
            self._member_started = True
            if self._dec.eof:  # the rest of the input (next members) is in unused_data, not unconsumed_tail
                self._pending = self._dec.unused_data
                self._dec = inflate.decompressobj(31)
                self._member_started = False
                self._at_member_start = True
                self._member_ended = True
                self._skip_padding()
            else:
                self._pending = self._dec.unconsumed_tail
            if out:
                self._buf += out
                return True

    def _next_member_is_record(self) -> bool:
        """Whether the gzip member at the start of ``_pending`` begins with a WARC record header (peeked with a
        separate decompressor: nothing is consumed)."""
        while len(self._pending) < 512:
            more = self._read_raw()
            if not more:
                break
            self._pending += more
        try:
            head = inflate.decompressobj(31).decompress(self._pending[:4096], 16)
        except INFLATE_ERRORS:
            return False
        return head.startswith(b"WARC/")

    def size_left(self) -> int | None:
        """Bytes left to read in a plain (uncompressed) seekable file; None when unknown (gzip, streams)."""
        if self.is_gzip or self._end is False:
            return None
        try:
            here = self._raw.tell()
            if self._end is None:
                self._end = self._raw.seek(0, 2)
                self._raw.seek(here)
        except (AttributeError, OSError, ValueError):
            self._end = False
            return None
        return self._end - here + len(self._pending) + len(self._buf) - self._pos

    def _skip_padding(self) -> None:
        """Between members some writers leave NUL or newline padding; anything else is damage."""
        while True:
            stripped = self._pending.lstrip(b"\x00\r\n ")
            if stripped:
                self._pending = stripped
                if not stripped.startswith(GZIP_MAGIC[: len(stripped)]):
                    self._resync(skip_first=False)
                return
            self._pending = self._read_raw()
            if not self._pending:
                return

    def _resync(self, skip_first: bool) -> None:
        """Drop compressed bytes up to the next gzip member header and start a fresh decompressor there."""
        self.damage += 1
        self._dec = inflate.decompressobj(31)
        self._member_started = False
        start = 1 if skip_first else 0
        while True:
            at = self._pending.find(GZIP_MAGIC, start)
            if at >= 0:
                self._pending = self._pending[at:]
                return
            tail = self._pending[-2:]
            more = self._read_raw()
            if not more:
                self._pending = b""
                return
            self._pending = tail + more
            start = 0

    # -- looking ahead over a block of unproven length ---------------------------------------------------------
    def watch(self) -> None:
        """Start keeping the bytes consumed from here on, at most :data:`WATCH_CAP` of them."""
        self._kept, self._kept_full = bytearray(), False

    def unwatch(self) -> tuple[bytearray, bool]:
        """Stop watching; the kept bytes and whether they were cut at :data:`WATCH_CAP`."""
        kept, full = self._kept or bytearray(), self._kept_full
        self._kept, self._kept_full = None, False
        return kept, full

    def unread(self, data: bytes | bytearray) -> None:
        """Put ``data`` back in front of the unread bytes: the next reads return it first."""
        self._buf[: self._pos] = data
        self._pos = 0
        self.offset -= len(data)

    def peek(self, n: int) -> bytes:
        """The next ``n`` bytes (fewer at the end of the file) without consuming them."""
        while len(self._buf) - self._pos < n and self._fill():
            pass
        return bytes(self._buf[self._pos : self._pos + n])

    def _consumed(self, start: int, end: int) -> None:
        """While watching, keep ``_buf[start:end]`` (being consumed) up to :data:`WATCH_CAP`."""
        room = WATCH_CAP - len(self._kept)
        if end - start > room:
            self._kept_full = True
            end = start + room
        self._kept += self._buf[start:end]

    # -- reading -----------------------------------------------------------------------------------------------
    def readline(self, limit: int = 1 << 16) -> bytes:
        """One line including its ``\\n`` (at most ``limit`` bytes); ``b""`` at the end of the file."""
        while True:
            end = min(len(self._buf), self._pos + limit)
            at = self._buf.find(b"\n", self._pos, end)
            if at >= 0:
                return self._take(at + 1 - self._pos)
            if end - self._pos >= limit or not self._fill():
                return self._take(min(limit, len(self._buf) - self._pos))

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the file)."""
        while len(self._buf) - self._pos < n and self._fill():
            pass
        return self._take(min(n, len(self._buf) - self._pos))

    def skip(self, n: int) -> int:
        """Discard up to ``n`` bytes without keeping them; returns how many were skipped."""
        skipped = 0
        while skipped < n:
            avail = len(self._buf) - self._pos
            if avail == 0:
                if not self._fill():
                    break
                continue
            step = min(avail, n - skipped)
            if self._kept is not None:
                self._consumed(self._pos, self._pos + step)
            self._pos += step
            skipped += step
            if self._pos == len(self._buf):
                self._buf.clear()
                self._pos = 0
        self.offset += skipped
        return skipped

    def _take(self, n: int) -> bytes:
        if self._kept is not None:
            self._consumed(self._pos, self._pos + n)
        out = bytes(self._buf[self._pos : self._pos + n])
        self._pos += n
        self.offset += n
        return out


def gzip_members(data: bytes) -> list[bytes]:
    """The raw gzip members of a multi-member file, in order (a ``.warc.gz`` has one per record): for sampling
    records or building damaged inputs in tests and benches."""
    members, pos = [], 0
    while pos < len(data):
        dec = inflate.decompressobj(31)
        dec.decompress(data[pos:])
        end = len(data) - len(dec.unused_data)
        members.append(data[pos:end])
        pos = end
    return members

"""Shard IO: discovering input files, naming shards, and streaming documents in and out of Parquet.

A shard is one Parquet file of documents. Input files (WARC, Parquet, JSONL) are named after their path relative
to the inputs' common folder, so names are stable across runs and unique within one.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq

from curate.storage import Location, expand, location, temporary_path

PARQUET_COMPRESSION = "zstd"
WARC_SUFFIXES = (".warc.gz", ".warc", ".arc.gz", ".arc", ".warc.wet.gz", ".wet.gz", ".wet", ".warc.wat.gz")
PARQUET_SUFFIXES = (".parquet",)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson")


@dataclass(frozen=True)
class InputFile:
    """One input file of a run: where it is, its shard name, and what identifies its content (size, mtime)."""

    uri: str
    shard: str
    size: int | None
    mtime: float | None

    @property
    def format(self) -> str:
        return file_format(self.uri)

    def identity(self) -> dict:
        return {"uri": self.uri, "size": self.size, "mtime": self.mtime}


def file_format(path: str) -> str:
    lower = path.lower()
    if lower.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if lower.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if lower.endswith(WARC_SUFFIXES):
        return "warc"
    return "unknown"


def discover_inputs(patterns: list[str], unmatched: list[str] | None = None) -> list[InputFile]:
    """Every file matched by ``patterns`` (paths, folders, globs; local or ``s3://``), with unique shard names;
    the patterns that matched nothing are appended to ``unmatched``."""
    found: dict[str, tuple[Location, int | None, float | None]] = {}
    for pattern in patterns:
        matched = expand(pattern)
        if not matched and unmatched is not None:
            unmatched.append(pattern)
        for loc, size, mtime in matched:
            found.setdefault(loc.uri, (loc, size, mtime))
    uris = sorted(found)
    files = [InputFile(uri, name, found[uri][1], found[uri][2]) for uri, name in zip(uris, shard_names(uris))]
    names = [f.shard for f in files]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        clash = [f.uri for f in files if f.shard == dupes[0]]
        raise ValueError(
            f"input files {clash} map to the same shard name {dupes[0]!r}"
            + (f" (and {len(dupes) - 1} more names)" if len(dupes) > 1 else "")
            + ": rename one of them, or narrow input.paths"
        )
    return files


def shard_names(uris: list[str]) -> list[str]:
    """Each file's shard name: its path relative to the files' common folder (local or any scheme alike)."""
    if not uris:
        return []
    folders = [posixpath.dirname(_path_of(u)) for u in uris]
    common = posixpath.commonpath(folders) if len(uris) > 1 else folders[0]
    names = []
    for uri in uris:
        path = _path_of(uri)
        rel = path[len(common) :].lstrip("/") if common and path.startswith(common) else posixpath.basename(path)
        names.append(shard_name(rel))
    return names


def _path_of(uri: str) -> str:
    """The path part of a URI (``s3://bucket/a/b`` → ``/bucket/a/b``), so folders compare alike everywhere."""
    scheme, sep, rest = uri.partition("://")
    return "/" + rest if sep else uri


#: suffixes whose record kind is kept in the shard name, so the WARC, WET and WAT files of one segment differ
_KIND_SUFFIXES = {
    ".warc.wet.gz": "wet",
    ".wet.gz": "wet",
    ".wet": "wet",
    ".warc.wat.gz": "wat",
    ".arc.gz": "arc",
    ".arc": "arc",
}


def shard_name(relative_path: str) -> str:
    """``seg-1/warc/CC-MAIN-00001.warc.gz`` → ``seg-1__warc__CC-MAIN-00001``; a WET file keeps its kind
    (``….warc.wet.gz`` → ``…-wet``). Only letters, digits, ``-``, ``_``, ``.`` and ``=`` remain, so a name is a safe
    single path component."""
    name = relative_path
    for suffix in sorted(WARC_SUFFIXES + PARQUET_SUFFIXES + JSONL_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)] + (f"-{_KIND_SUFFIXES[suffix]}" if suffix in _KIND_SUFFIXES else "")
            break
    name = name.replace("/", "__").replace("\\", "__")
    return re.sub(r"[^A-Za-z0-9._=-]", "_", name).lstrip(".") or "shard"


def iter_table_file(
    uri: str, batch_size: int, columns: list[str] | None = None, missing_ok: bool = False
) -> Iterator[pa.Table]:
    """Stream a Parquet or JSONL file as tables of at most ``batch_size`` rows (memory stays bounded). ``columns``
    are read alone (Parquet: the other column chunks are never decoded); with ``missing_ok`` those the file does not
    have are left out instead of failing."""
    loc = location(uri)
    fmt = file_format(uri)
    if fmt == "parquet":
        with loc.fs.open_input_file(loc.path) as f:  # random access (ranged GETs on object stores)
            parquet = pq.ParquetFile(f)
            if columns is not None and missing_ok:
                names = set(parquet.schema_arrow.names)
                columns = [c for c in columns if c in names]
            for batch in parquet.iter_batches(batch_size=batch_size, columns=columns):
                yield pa.Table.from_batches([batch])
    elif fmt == "jsonl":
        for table in _iter_jsonl(loc, batch_size, None if missing_ok else columns):
            yield table.select([c for c in columns if c in table.column_names]) if columns and missing_ok else table
    else:
        raise ValueError(
            f"{uri}: cannot read documents from this file type; expected .parquet or .jsonl "
            "(WARC files need a source step such as warc_extract as the first step)"
        )


def _iter_jsonl(loc: Location, batch_size: int, columns: list[str] | None) -> Iterator[pa.Table]:
    import gzip

    with loc.fs.open_input_stream(loc.path) as raw:
        stream = gzip.GzipFile(fileobj=raw) if loc.path.endswith(".gz") else io.BufferedReader(_RawStream(raw))
        lines: list[bytes] = []
        for line in stream:
            if line.strip():
                lines.append(line)
            if len(lines) >= batch_size:
                yield _jsonl_table(lines, columns)
                lines = []
        if lines:
            yield _jsonl_table(lines, columns)


class _RawStream(io.RawIOBase):
    """A pyarrow input stream as a Python raw stream (pyarrow's own ``readline`` is not implemented)."""

    def __init__(self, stream):
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _jsonl_table(lines: list[bytes], columns: list[str] | None) -> pa.Table:
    try:
        table = pajson.read_json(io.BytesIO(b"".join(lines if lines[-1].endswith(b"\n") else lines + [b"\n"])))
    except pa.ArrowInvalid:
        table = pa.Table.from_pylist([json.loads(line) for line in lines])
    if "id" in table.column_names and not pa.types.is_string(table.schema.field("id").type):
        table = table.set_column(table.column_names.index("id"), "id", table.column("id").cast(pa.string()))
    return table.select(columns) if columns else table


def folder_shards(loc: Location) -> list[Location]:
    """The Parquet shards of a folder. In a step's output folder (``OUT/<step>``, or its ``rejected/``) only the
    shards whose ``_done`` marker exists: a shard without one is not vouched for (a run writing it was cut off)."""
    base = loc.path.rstrip("/") + "/"
    rejected = posixpath.basename(loc.path.rstrip("/")) == "rejected"
    step = (
        loc
        if not rejected
        else Location(loc.fs, posixpath.dirname(loc.path.rstrip("/")), posixpath.dirname(loc.uri.rstrip("/")))
    )
    done = step.child("_done")
    relative = [i.path[len(base) :] for i in loc.list_files(recursive=not rejected) if i.path.endswith(".parquet")]
    if done.exists():  # a step folder: exactly the files its markers vouch for, partitions (column=value/) included
        vouched = _vouched(done, rejected)
        relative = [r for r in relative if r in vouched]
    else:
        relative = [r for r in relative if "/" not in r]
    return [Location(loc.fs, base + r, loc.uri.rstrip("/") + "/" + r) for r in relative]


def _vouched(done: Location, rejected: bool) -> set[str]:
    """The files a step folder's markers list (kept: :func:`curate.layout.marker_files`; rejected:
    ``<shard>.parquet``)."""
    from curate.layout import Layout, marker_files

    markers = [i.path for i in done.list_files() if i.path.endswith(".json")]
    shards = [posixpath.basename(p)[: -len(".json")] for p in markers]
    if rejected:
        return {f"{shard}.parquet" for shard in shards}
    read = Layout(done.uri).read_markers([Location(done.fs, p, p) for p in markers])
    return {
        f for shard, marker in zip(shards, read, strict=True) if marker is not None for f in marker_files(marker, shard)
    }


def read_documents(path: str, columns: list[str] | None = None) -> pa.Table:
    """All documents of a Parquet/JSONL file, a shard folder or a glob as one Table."""
    loc = location(path)
    if loc.fs.get_file_info(loc.path).type.name == "Directory":
        files = [shard.uri for shard in folder_shards(loc)]
    else:
        files = [f.uri for f in discover_inputs([path])]
    tables = [t for f in files for t in iter_table_file(f, 65536, columns)]
    if not tables:
        return pa.table({c: pa.array([], pa.string()) for c in (columns or ["id", "text"])})
    return pa.concat_tables(tables, promote_options="permissive")


class ShardWriter:
    """Writes one Parquet shard incrementally, batch by batch, under a temporary name; ``commit()`` moves it into
    place (a rename locally, a server-side copy on object stores), so a shard is only ever visible complete.

    On object stores an upload that is closed becomes visible, even after a failure (pyarrow completes a multipart
    upload when its stream is closed or collected), which is why the final key is never written directly.
    A commit that got no batch writes nothing and removes what an earlier run left at the final name: the final
    name then always holds this commit's result or nothing."""

    def __init__(self, loc: Location, transient: bool = False):
        """``transient``: a scratch file read back once by the same run, written uncompressed, without dictionary
        pages or column statistics (none of them helps such a reader, and each costs CPU)."""
        self.loc = loc
        self.transient = transient
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._tmp_path = temporary_path(loc.path)
        self._stream: pa.NativeFile | None = None  # the upload stream on object stores (locally: a path)

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            self._schema = table.schema.with_metadata({**(table.schema.metadata or {}), **WRITER_METADATA})
            if self.loc.is_local:
                os.makedirs(os.path.dirname(self._tmp_path), exist_ok=True)
                sink: str | pa.NativeFile = self._tmp_path
            else:
                sink = self._stream = self.loc.fs.open_output_stream(self._tmp_path)
            options: dict[str, Any] = (
                {"compression": "none", "use_dictionary": False, "write_statistics": False}
                if self.transient
                else {"compression": PARQUET_COMPRESSION}
            )
            self._writer = pq.ParquetWriter(sink, self._schema, **options)
        if table.schema != self._schema:
            table = _conform(table, self._schema, self.loc.uri)
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def commit(self) -> bool:
        """Finish the file; returns whether a file was written (False when no batch came)."""
        if self._writer is None:
            self.loc.delete()
            return False
        self._writer.close()
        if self.loc.is_local:
            os.replace(self._tmp_path, self.loc.path)
        else:
            assert self._stream is not None
            self._stream.close()
            self.loc.fs.move(self._tmp_path, self.loc.path)
        return True

    def abort(self) -> None:
        """Drop the temporary file; the final name keeps whatever it held before."""
        if self._writer is None:
            return
        for close in (self._writer.close, self._stream.close if self._stream is not None else None):
            try:
                if close is not None:
                    close()
            except Exception:  # noqa: BLE001 - the file is being thrown away; the original error matters
                pass
        Location(self.loc.fs, self._tmp_path, self._tmp_path).delete()


#: key-value metadata in every Parquet file curate writes (how a stale shard is told from a user's file)
WRITER_METADATA = {b"curate.writer": b"curate"}


def _conform(table: pa.Table, schema: pa.Schema, where: str) -> pa.Table:
    """Make a later batch fit the first batch's schema (column order, null-typed columns, safe casts)."""
    if set(table.column_names) != set(schema.names):
        missing = set(schema.names) - set(table.column_names)
        extra = set(table.column_names) - set(schema.names)
        raise ValueError(
            f"{where}: a batch has different columns than the first one (missing {sorted(missing)}, "
            f"extra {sorted(extra)}); a step must add the same columns to every batch"
        )
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(
            f"{where}: a batch's column types differ from the first batch's ({exc}); "
            "give added columns an explicit Arrow type"
        ) from exc

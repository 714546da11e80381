"""A persistent dedup index: the keys (exact hashes or MinHash band keys) of the documents earlier runs *kept*,
each with the document it came from, partitioned by key range and labelled by the output that contributed it.

Layout under ``<dedup_index>/<step>/``::

    _index.json                               what made the keys (step, parameters, hash version)
    _contributors/<label>.json                who a label is (output folder, step) and what it last wrote
    part-P<P>-<p>/<label>-<token>.parquet     one file per (contributor, partition): columns ``key``, ``doc``

``P`` is the partition count of the run that wrote the file and ``p`` its key range (``partition_range``): a later
run with another partition count reads the overlapping ranges and filters, so the index never has to be rewritten
and no layout parameter changes what is a duplicate. ``doc`` is a 64-bit hash of the contributing document's id
(:func:`doc_hashes`); ``label`` names the contributor, an output folder plus step (:func:`contributor_label`);
``token`` is a content hash of the file.

What the index promises (docs/dedup.md, "Persistent index"):

* It holds the keys of documents that are in some contributor's output: only *kept* documents are added, so a
  removed copy never makes its original a duplicate later.
* A run never matches itself: entries whose contributor is the running output never make a document a duplicate
  (they are the state this run replaces, and are retired once it has written its own), and neither do entries
  contributed by a document that is part of this run (same id), whoever wrote them.
* Such entries say instead which of this run's documents an earlier run kept: within a group of duplicates, a
  previously kept document is kept again, before the keep policy is asked. Re-processing a snapshot — into the same
  folder or a fresh one, with any partition count, any subset or order of its documents — therefore keeps what the
  first run kept (of the documents still there), while a new snapshot's copies of earlier ones are removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import xxhash

from curate.fingerprint import fingerprint
from curate.stages.dedup.minhash import partition_range
from curate.storage import Location, is_temporary, location

_PART = re.compile(r"^part-P(\d+)-(\d+)$")
_FILE = re.compile(r"^([0-9a-f]{16})-([0-9a-f]{24})\.parquet$")


class IndexMismatch(ValueError):
    pass


def contributor_label(out: str, step_key: str) -> str:
    """The label of what an output folder's step adds to an index (stable across reruns into that folder)."""
    return fingerprint("dedup-index-contributor", location(out).uri, step_key)


def doc_hashes(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """64-bit xxh3 of each document id (as a string): how index entries name their document."""
    values = ids.cast(pa.large_string()).cast(pa.large_binary()).to_pylist()
    return np.fromiter((xxhash.xxh3_64_intdigest(v or b"") for v in values), dtype=np.uint64, count=len(values))


class DedupIndex:
    """Reads and extends one step's slice of a persistent index (local path or ``s3://`` URI) for one contributor."""

    def __init__(self, uri: str, step: str, config: dict, label: str):
        self.root: Location = location(uri).child(step)
        self.config = config
        self.label = label
        self.uri = self.root.uri

    def check_config(self) -> None:
        """Create ``_index.json`` or verify that it describes the same keys as this run's."""
        meta_loc = self.root.child("_index.json")
        if meta_loc.exists():
            stored = meta_loc.read_json()
            if stored != self.config:
                raise IndexMismatch(
                    f"dedup index {self.uri} was built with {stored}, this run uses {self.config}: keys would not "
                    "match. Use the same parameters as the runs that built the index, or point dedup_index at a "
                    "new folder."
                )
        else:
            self.root.makedirs()
            meta_loc.write_json(self.config)

    def _files(self) -> list[tuple[int, int, str, str, pafs.FileInfo]]:
        """Every index file: (partition count, partition, label, token, info)."""
        if not self.root.exists():
            return []
        out = []
        for info in self.root.fs.get_file_info(pafs.FileSelector(self.root.path, recursive=True, allow_not_found=True)):
            parent, name = info.path.rsplit("/", 2)[-2:]
            part, file = _PART.match(parent), _FILE.match(name)
            if info.type == pafs.FileType.File and part and file and not is_temporary(name):
                out.append((int(part.group(1)), int(part.group(2)), file.group(1), file.group(2), info))
        return sorted(out, key=lambda t: t[4].path)

    def read(self, p: int, partitions: int, top32: Callable[[pa.Array], np.ndarray]) -> pa.Table | None:
        """Entries (``key``, ``doc``, ``own``) in range ``p`` of ``partitions`` (``top32(keys)`` gives a key array's
        top 32 bits); ``own`` marks this contributor's earlier entries, which never make a document a duplicate
        (they only say which documents its last run kept)."""
        lo, hi = partition_range(p, partitions)
        parts = []
        for count, q, label, _, info in self._files():
            qlo, qhi = partition_range(q, count)
            if qhi <= lo or qlo >= hi:
                continue
            with self.root.fs.open_input_file(info.path) as f:
                table = pq.read_table(f, columns=["key", "doc"])
            if (qlo, qhi) != (lo, hi):
                t = top32(table.column("key"))
                table = table.filter(pa.array((t >= lo) & (t < hi)))
            parts.append(table.append_column("own", pa.array(np.full(table.num_rows, label == self.label))))
        return pa.concat_tables(parts).combine_chunks() if parts else None

    def write(self, p: int, partitions: int, keys: pa.Array, docs: np.ndarray) -> str:
        """Add this contributor's entries of partition ``p``; returns the file's token."""
        table = pa.table({"key": keys, "doc": pa.array(docs, pa.uint64())})
        table = table.sort_by([("key", "ascending"), ("doc", "ascending")])
        table = table.filter(_first_of_runs(table))
        if table.num_rows == 0:
            return ""
        token = _token(table)
        loc = self.root.child(f"part-P{partitions}-{p:05d}", f"{self.label}-{token}.parquet")
        if not loc.exists():
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink, compression="zstd")
            loc.write_bytes(sink.getvalue().to_pybytes())
        return token

    def retire(self, tokens: set[str], about: dict) -> int:
        """After this run wrote its entries (``tokens``), remove the files an earlier run of the same contributor
        wrote: the contributor's output is now this run's. Returns the number of files removed."""
        retired = 0
        for _, _, label, token, info in self._files():
            if label == self.label and token not in tokens:
                self.root.fs.delete_file(info.path)
                retired += 1
        self.root.child("_contributors", f"{self.label}.json").write_json({**about, "files": len(tokens)})
        return retired


def _first_of_runs(table: pa.Table) -> pa.Array:
    """Mask of rows whose (key, doc) differs from the previous row (``table`` sorted by both)."""
    n = table.num_rows
    if n < 2:
        return pa.array(np.ones(n, dtype=bool))
    key, doc = table.column("key"), table.column("doc")
    differs = pc.or_(pc.not_equal(key.slice(1), key.slice(0, n - 1)), pc.not_equal(doc.slice(1), doc.slice(0, n - 1)))
    return pa.array(np.concatenate([[True], differs.to_numpy(zero_copy_only=False)]))


def _token(table: pa.Table) -> str:
    h = xxhash.xxh3_128()
    for column in table.columns:
        arr = column.combine_chunks()
        for buf in arr.buffers()[1:]:
            if buf is not None:
                h.update(memoryview(buf))
    return h.hexdigest()[:24]


def top32_u64(keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return (np.asarray(keys, dtype=np.uint64) >> np.uint64(32)).astype(np.int64)


def top32_digest(keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Top 32 bits (big-endian first 4 bytes) of fixed_size_binary(16) digests."""
    arr = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
    if len(arr) == 0:
        return np.zeros(0, np.int64)
    raw = np.frombuffer(arr.buffers()[1], dtype=np.uint8)[arr.offset * 16 : (arr.offset + len(arr)) * 16]
    return raw.reshape(-1, 16)[:, :4].copy().view(">u4").reshape(-1).astype(np.int64)

"""A persistent dedup index: the keys (exact hashes or MinHash band keys) of earlier runs, partitioned by range.

Layout under ``<dedup_index>/<step>/``::

    _index.json                       what made the keys (step, parameters, hash version): later runs must match
    part-P<P>-<p>/<token>.parquet     one file per (run, partition): column ``key``, sorted and unique

``P`` is the partition count of the run that wrote the file and ``p`` its range (see ``partition_range``): a later
run with another partition count reads the overlapping ranges and filters, so the index never has to be rewritten.
``token`` is a content hash of the file's keys: re-running a partition after a kill rewrites the same name, and a
run never matches its own keys (it skips the file named by its own token), so resumes and reruns are idempotent.
A run reads only the index slices of the partitions it processes, never the old documents.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from curate.stages.dedup.minhash import partition_range
from curate.storage import Location, location

_PART = re.compile(r"^part-P(\d+)-(\d+)$")


class IndexMismatch(ValueError):
    pass


class DedupIndex:
    """Reads and extends one step's slice of a persistent index (local path or ``s3://`` URI)."""

    def __init__(self, uri: str, step: str, config: dict):
        self.root: Location = location(uri).child(step)
        self.config = config
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
                    "new folder.")
        else:
            self.root.makedirs()
            meta_loc.write_json(self.config)

    @staticmethod
    def token(keys: pa.Array) -> str:
        arr = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
        h = xxhash.xxh3_128()
        for buf in arr.buffers()[1:]:
            if buf is not None:
                h.update(memoryview(buf))
        return h.hexdigest()[:24]

    def _partition_dirs(self) -> list[tuple[int, int, Location]]:
        if not self.root.exists():
            return []
        import pyarrow.fs as pafs

        infos = self.root.fs.get_file_info(pafs.FileSelector(self.root.path, allow_not_found=True))
        out = []
        for info in infos:
            m = _PART.match(info.base_name)
            if info.type == pafs.FileType.Directory and m:
                out.append((int(m.group(1)), int(m.group(2)), self.root.child(info.base_name)))
        return sorted(out, key=lambda t: (t[0], t[1]))

    def read(self, p: int, partitions: int, top32: callable, exclude_token: str | None) -> pa.Array | None:
        """The indexed keys in range ``p`` of ``partitions`` (``top32(keys)`` gives a key array's top 32 bits)."""
        lo, hi = partition_range(p, partitions)
        parts = []
        for count, q, loc in self._partition_dirs():
            qlo, qhi = partition_range(q, count)
            if qhi <= lo or qlo >= hi:
                continue
            for info in loc.list_files():
                name = info.path.rsplit("/", 1)[-1]
                if not name.endswith(".parquet") or ".tmp-" in name or name == f"{exclude_token}.parquet":
                    continue
                with loc.fs.open_input_file(info.path) as f:
                    keys = pq.read_table(f).column("key")
                if (qlo, qhi) != (lo, hi) or count != partitions:
                    t = top32(keys)
                    keys = keys.filter(pa.array((t >= lo) & (t < hi)))
                parts.append(keys)
        if not parts:
            return None
        return pa.chunked_array(parts).combine_chunks()

    def write(self, p: int, partitions: int, keys: pa.Array) -> str:
        """Add this run's keys of partition ``p`` (sorted, unique); returns the file token."""
        keys = pc.unique(keys)
        keys = pc.take(keys, pc.sort_indices(keys))
        token = self.token(keys)
        loc = self.root.child(f"part-P{partitions}-{p:05d}", f"{token}.parquet")
        if not loc.exists():
            sink = pa.BufferOutputStream()
            pq.write_table(pa.table({"key": keys}), sink, compression="zstd")
            loc.write_bytes(sink.getvalue().to_pybytes())
        return token


def top32_u64(keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return (np.asarray(keys, dtype=np.uint64) >> np.uint64(32)).astype(np.int64)


def top32_digest(keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Top 32 bits (big-endian first 4 bytes) of fixed_size_binary(16) digests."""
    arr = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
    if len(arr) == 0:
        return np.zeros(0, np.int64)
    raw = np.frombuffer(arr.buffers()[1], dtype=np.uint8)[arr.offset * 16:(arr.offset + len(arr)) * 16]
    return raw.reshape(-1, 16)[:, :4].copy().view(">u4").reshape(-1).astype(np.int64)

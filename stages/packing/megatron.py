"""The Megatron-LM indexed dataset format (``.bin`` + ``.idx``, header ``MMIDIDX``), written and read with numpy.

Written from the format as megatron-core's ``megatron/core/datasets/indexed_dataset.py`` defines it (its
``_IndexWriter`` / ``_IndexReader``), little-endian throughout:

* ``.bin``: the token ids of every sequence, back to back, in the index's dtype.
* ``.idx``: ``b"MMIDIDX\\x00\\x00"`` · version ``<Q`` = 1 · dtype code ``<B`` (1 uint8, 2 int8, 3 int16, 4 int32,
  5 int64, 6 float64, 7 float32, 8 uint16) · sequence count ``<Q`` · document count ``<Q`` · sequence lengths
  (int32 × sequences) · sequence byte offsets into ``.bin`` (int64 × sequences) · document indices (int64 ×
  documents: ``0`` then the index one past each document's last sequence).

megatron-core picks uint16 when the vocabulary has fewer than 65,500 entries and int32 otherwise
(``DType.optimal_dtype``); :func:`token_dtype` does the same from the largest token id.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

INDEX_HEADER = b"MMIDIDX\x00\x00"
DTYPE_CODES: dict[type, int] = {
    np.uint8: 1,
    np.int8: 2,
    np.int16: 3,
    np.int32: 4,
    np.int64: 5,
    np.float64: 6,
    np.float32: 7,
    np.uint16: 8,
}
CODE_DTYPES = {code: dtype for dtype, code in DTYPE_CODES.items()}


def token_dtype(max_token_id: int) -> type:
    """uint16 for ids below 65,500 (megatron-core's threshold), int32 otherwise."""
    return np.uint16 if max_token_id < 65500 else np.int32


def index_bytes(sequence_lengths: np.ndarray, document_indices: np.ndarray, dtype: type) -> bytes:
    """The ``.idx`` file for sequences of the given lengths stored back to back in ``dtype``."""
    lengths = np.asarray(sequence_lengths, dtype=np.int32)
    pointers = np.zeros(len(lengths), dtype=np.int64)
    if len(lengths) > 1:
        np.cumsum(lengths[:-1].astype(np.int64) * np.dtype(dtype).itemsize, out=pointers[1:])
    docs = np.asarray(document_indices, dtype=np.int64)
    header = INDEX_HEADER + struct.pack("<Q", 1) + struct.pack("<B", DTYPE_CODES[dtype])
    counts = struct.pack("<Q", len(lengths)) + struct.pack("<Q", len(docs))
    return header + counts + lengths.tobytes() + pointers.tobytes() + docs.tobytes()


def bin_bytes(tokens: np.ndarray, dtype: type) -> bytes:
    return np.ascontiguousarray(tokens, dtype=dtype).tobytes()


@dataclass
class MegatronIndex:
    """A parsed ``.idx`` file."""

    dtype: type
    sequence_lengths: np.ndarray
    sequence_pointers: np.ndarray
    document_indices: np.ndarray


def read_index(path: str) -> MegatronIndex:
    """Parse a ``.idx`` file (raises ``ValueError`` naming the file if it is not MMIDIDX version 1)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:9] != INDEX_HEADER:
        raise ValueError(f"{path}: not a Megatron index (header {data[:9]!r}, expected {INDEX_HEADER!r})")
    (version,) = struct.unpack_from("<Q", data, 9)
    if version != 1:
        raise ValueError(f"{path}: Megatron index version {version}, only version 1 is known")
    (code,) = struct.unpack_from("<B", data, 17)
    sequences, documents = struct.unpack_from("<QQ", data, 18)
    offset = 34
    lengths = np.frombuffer(data, dtype=np.int32, count=sequences, offset=offset)
    offset += lengths.nbytes
    pointers = np.frombuffer(data, dtype=np.int64, count=sequences, offset=offset)
    offset += pointers.nbytes
    docs = np.frombuffer(data, dtype=np.int64, count=documents, offset=offset)
    return MegatronIndex(CODE_DTYPES[code], lengths, pointers, docs)


class MegatronReader:
    """Reads sequence ``i`` of a ``.bin``/``.idx`` pair through a read-only memory map (no copy)."""

    def __init__(self, path_prefix: str):
        self.index = read_index(path_prefix + ".idx")
        self.data = np.memmap(path_prefix + ".bin", dtype=np.uint8, mode="r")

    def __len__(self) -> int:
        return len(self.index.sequence_lengths)

    def __getitem__(self, i: int) -> np.ndarray:
        pointer, length = int(self.index.sequence_pointers[i]), int(self.index.sequence_lengths[i])
        return np.frombuffer(self.data, dtype=self.index.dtype, count=length, offset=pointer)

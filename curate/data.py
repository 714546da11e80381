"""Reading packed token shards (the ``pack`` step's output) in a training loop.

:class:`PackedDataset` is a ``torch.utils.data.Dataset`` over ``OUT/<pack step>/<split>/part-*``: each item is one
``seq_len`` sequence with ``input_ids``, ``labels`` (``-100`` on padding), ``position_ids`` that restart at every
document, and ``document_ids`` (the segment index of each token, ``-1`` on padding) from which a block-diagonal
causal mask is one comparison. Tokens are memory-mapped (``.npy``, or the Megatron ``.bin`` when only that format
was written), so opening a dataset costs nothing and workers share the page cache.

Example::

    from torch.utils.data import DataLoader
    from curate.data import PackedDataset

    data = PackedDataset("out/pack", split="train")
    for batch in DataLoader(data, batch_size=8, shuffle=False):   # already globally shuffled by `pack`
        loss = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"],
                     labels=batch["labels"]).loss
        loss.backward(); optimizer.step(); optimizer.zero_grad()
"""

from __future__ import annotations

import bisect
import glob
import json
import os
from typing import Any

import numpy as np

try:  # torch is optional: without it the dataset still works and returns numpy arrays
    import torch
    from torch.utils.data import Dataset as _Base
except ImportError:  # pragma: no cover - exercised only where torch is absent
    torch = None  # type: ignore[assignment]
    _Base = object  # type: ignore[assignment,misc]


class PackedPart:
    """One ``<split>/part-NNNNN`` output: the token matrix and its document segments."""

    def __init__(self, prefix: str, seq_len: int, dtype: np.dtype):
        if os.path.exists(prefix + ".npy"):
            self.tokens = np.load(prefix + ".npy", mmap_mode="r")
        elif os.path.exists(prefix + ".bin"):
            flat = np.memmap(prefix + ".bin", dtype=dtype, mode="r")
            self.tokens = flat.reshape(-1, seq_len)
        else:
            raise FileNotFoundError(f"{prefix}: neither {prefix}.npy nor {prefix}.bin exists")
        self.seg_lens = np.load(prefix + ".seg_lens.npy")
        self.seg_ptr = np.load(prefix + ".seg_ptr.npy")

    def __len__(self) -> int:
        return len(self.tokens)

    def segments(self, i: int) -> np.ndarray:
        """Lengths of the document segments of sequence ``i``, in order (padding follows the last)."""
        return self.seg_lens[self.seg_ptr[i] : self.seg_ptr[i + 1]]


class PackedDataset(_Base):
    """A torch ``Dataset`` over the packed sequences of one split (``train`` or ``valid``) of a ``pack`` output.

    ``path`` is the pack step's output folder (the one holding ``pack.json``). Items are dicts of equal-length
    tensors (``input_ids``, ``labels``, ``position_ids``, ``document_ids``), so the default collate batches them.
    The order is the step's seeded global shuffle; ``DataLoader(shuffle=False)`` keeps it reproducible.
    """

    def __init__(self, path: str, split: str = "train", as_numpy: bool = False):
        meta_path = os.path.join(path, "pack.json")
        if not os.path.exists(meta_path):
            raise FileNotFoundError(
                f"{path} is not a pack output: it has no pack.json (point PackedDataset at OUT/<pack step>/)"
            )
        with open(meta_path) as f:
            self.meta: dict[str, Any] = json.load(f)
        self.seq_len = int(self.meta["seq_len"])
        self.pad_token_id = int(self.meta["pad_token_id"])
        dtype = np.dtype(self.meta["dtype"])
        prefixes = sorted({p.rsplit(".", 1)[0] for p in glob.glob(os.path.join(path, split, "part-*.seg_ptr.npy"))})
        self.parts = [PackedPart(p.removesuffix(".seg_ptr"), self.seq_len, dtype) for p in prefixes]
        self._starts = np.cumsum([0] + [len(p) for p in self.parts]).tolist()
        self.as_numpy = as_numpy or torch is None

    def __len__(self) -> int:
        return self._starts[-1]

    def locate(self, i: int) -> tuple[PackedPart, int]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"sequence {i} out of range (this split has {len(self)})")
        i %= len(self)
        k = bisect.bisect_right(self._starts, i) - 1
        return self.parts[k], i - self._starts[k]

    def __getitem__(self, i: int) -> dict[str, Any]:
        part, j = self.locate(i)
        input_ids = np.asarray(part.tokens[j], dtype=np.int64)
        segments = part.segments(j).astype(np.int64)
        used = int(segments.sum())
        document_ids = np.full(self.seq_len, -1, dtype=np.int64)
        document_ids[:used] = np.repeat(np.arange(len(segments)), segments)
        position_ids = np.arange(self.seq_len, dtype=np.int64)
        if len(segments):
            position_ids[:used] -= np.repeat(np.cumsum(segments) - segments, segments)
        position_ids[used:] = np.arange(self.seq_len - used)
        labels = input_ids.copy()
        labels[used:] = -100
        item = {"input_ids": input_ids, "labels": labels, "position_ids": position_ids, "document_ids": document_ids}
        if self.as_numpy:
            return item
        return {k: torch.from_numpy(v) for k, v in item.items()}

    def attention_mask(self, i: int) -> Any:
        """The ``[seq_len, seq_len]`` boolean block-diagonal causal mask of sequence ``i`` (True = may attend)."""
        doc = np.asarray(self[i]["document_ids"])
        causal = np.tril(np.ones((self.seq_len, self.seq_len), dtype=bool))
        mask = (doc[:, None] == doc[None, :]) & causal & (doc[:, None] >= 0)
        return mask if self.as_numpy else torch.from_numpy(mask)

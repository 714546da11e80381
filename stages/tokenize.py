"""Tokenization with any Hugging Face tokenizer: documents in, a ``tokens`` list column and ``token_count`` out.

The tokenizer is a ``tokenizer.json`` file, a local model folder (one with a ``tokenizer.json``, or any folder
``transformers.AutoTokenizer`` can load as a fast tokenizer), or a Hub id (downloaded once into
``~/.cache/curate/tokenizers``). Encoding is batched through ``tokenizers``' Rust ``encode_batch_fast`` (no
character offsets are computed, which is what makes it fast), with the Rust thread pool sized by the ``threads``
parameter so Ray workers do not oversubscribe the machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.registry import register
from curate.stage import Params, Resources, Stage, StepOutput

TOKENS_COLUMN = "tokens"
TOKEN_COUNT_COLUMN = "token_count"
TOKEN_TYPE = pa.list_(pa.uint32())
CACHE_DIR = Path(os.environ.get("CURATE_CACHE", Path.home() / ".cache" / "curate")) / "tokenizers"

#: special tokens tried, in order, when the recipe does not name the BOS / EOS token (Llama 3, GPT-2/NeoX/Qwen,
#: Llama 2/Mistral/T5, Gemma, BERT)
BOS_CANDIDATES = ("<|begin_of_text|>", "<s>", "<bos>", "<|endoftext|>", "[CLS]")
EOS_CANDIDATES = ("<|end_of_text|>", "<|endoftext|>", "</s>", "<eos>", "<|im_end|>", "[SEP]")


class TokenizerNotFound(RuntimeError):
    """The tokenizer named in the recipe could not be loaded (missing file, no network for a Hub id)."""


def load_tokenizer(spec: str) -> Any:
    """A ``tokenizers.Tokenizer`` for a ``tokenizer.json`` path, a local model folder or a Hub id."""
    from tokenizers import Tokenizer

    path = Path(os.path.expanduser(spec))
    if path.is_file():
        return Tokenizer.from_file(str(path))
    if path.is_dir():
        if (path / "tokenizer.json").is_file():
            return Tokenizer.from_file(str(path / "tokenizer.json"))
        try:
            from transformers import AutoTokenizer

            hf = AutoTokenizer.from_pretrained(str(path), use_fast=True, local_files_only=True)
            return hf.backend_tokenizer
        except Exception as exc:  # noqa: BLE001 - any failure here means "not a loadable model folder"
            raise TokenizerNotFound(f"tokenizer folder {str(path)!r} has no tokenizer.json and transformers could "
                                    f"not load a fast tokenizer from it ({exc}); point `tokenizer` at a "
                                    f"tokenizer.json file") from exc
    if spec.startswith((".", "/", "~")) or spec.endswith(".json") or spec.count("/") > 1:
        raise TokenizerNotFound(f"tokenizer {spec!r} not found: no such file or folder (give a tokenizer.json path, "
                                f"a local model folder, or a Hugging Face Hub id such as 'gpt2')")
    return _from_hub(spec)


def _from_hub(repo_id: str) -> Any:
    from tokenizers import Tokenizer

    cached = CACHE_DIR / repo_id.replace("/", "--") / "tokenizer.json"
    if cached.is_file():
        return Tokenizer.from_file(str(cached))
    try:
        from huggingface_hub import hf_hub_download

        downloaded = hf_hub_download(repo_id, "tokenizer.json", cache_dir=str(CACHE_DIR / "hub"))
    except Exception as exc:  # noqa: BLE001 - offline, unknown repo, gated repo: all end the same way
        raise TokenizerNotFound(
            f"could not fetch tokenizer {repo_id!r} from the Hugging Face Hub ({type(exc).__name__}: {exc}). "
            f"Without network access, pass a local tokenizer.json or model folder as `tokenizer`, or copy the "
            f"file to {cached}") from exc
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(Path(downloaded).read_bytes())
    return Tokenizer.from_file(str(cached))


def set_tokenizer_threads(threads: int) -> None:
    """Size the Rust thread pool ``encode_batch`` uses. One thread disables parallelism outright (checked on
    every call); more threads set ``RAYON_NUM_THREADS``, which only takes effect before the pool first starts."""
    if threads <= 1:
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
    else:
        os.environ["TOKENIZERS_PARALLELISM"] = "true"
        os.environ.setdefault("RAYON_NUM_THREADS", str(threads))


def special_token_id(tokenizer: Any, name: str | None, candidates: tuple[str, ...], role: str) -> int:
    """The id of the named special token, or of the first of ``candidates`` the vocabulary has."""
    for token in ([name] if name else candidates):
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return int(token_id)
    wanted = repr(name) if name else f"any of {list(candidates)}"
    raise ValueError(f"tokenize: the tokenizer has no {role} token {wanted}; set `{role.lower()}_token` to one of "
                     f"its special tokens, or `add_{role.lower()}: false`")


def encode_to_arrow(tokenizer: Any, texts: list[str], prefix: list[int], suffix: list[int]) -> pa.ListArray:
    """Encode ``texts`` in one batch and return ``prefix + ids + suffix`` per text as a ``list<uint32>`` array.

    The ids are flattened into one numpy buffer and wrapped as an Arrow list array by offsets, so no per-document
    Python list survives past the encoder."""
    encodings = tokenizer.encode_batch_fast(texts, add_special_tokens=False)
    ids = [e.ids for e in encodings]
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    extra = len(prefix) + len(suffix)
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(lengths + extra, out=offsets[1:])
    flat = np.empty(int(offsets[-1]), dtype=np.uint32)
    if not extra:
        flat[:] = np.fromiter((t for x in ids for t in x), dtype=np.uint32, count=int(offsets[-1]))
    else:
        body = np.fromiter((t for x in ids for t in x), dtype=np.uint32, count=int(lengths.sum()))
        starts = offsets[:-1]
        if prefix:
            for k, token in enumerate(prefix):
                flat[starts + k] = token
        if suffix:
            for k, token in enumerate(suffix):
                flat[offsets[1:] - len(suffix) + k] = token
        body_mask = np.ones(len(flat), dtype=bool)
        for k in range(len(prefix)):
            body_mask[starts + k] = False
        for k in range(len(suffix)):
            body_mask[offsets[1:] - len(suffix) + k] = False
        flat[body_mask] = body
    offsets_type = np.int32 if offsets[-1] < 2**31 else np.int64
    array_type = pa.ListArray if offsets_type is np.int32 else pa.LargeListArray
    array = array_type.from_arrays(pa.array(offsets.astype(offsets_type)), pa.array(flat, pa.uint32()))
    return array.cast(TOKEN_TYPE) if offsets_type is np.int32 else array


@register
class Tokenize(Stage):
    """Tokenize each document with a Hugging Face tokenizer; add ``tokens`` (list<uint32>) and ``token_count``.

    BOS/EOS policy: by default an EOS token is appended to every document (the separator concat-and-chunk packing
    keeps, as in GPT-2/Megatron ``--append-eod`` and datatrove's ``DocumentTokenizer``) and no BOS is prepended;
    the tokenizer's own post-processor is bypassed so the policy is exactly what the recipe says. Documents longer
    than ``max_tokens`` are split into several rows (ids ``<id>#<k>``, text cut at token boundaries), truncated or
    dropped (``overflow``); by default there is no limit and the ``pack`` step splits what does not fit a sequence.
    Token totals per ``domain`` (or ``source``) are counted in the stats as ``tokens:<value>``.
    """

    name = "tokenize"
    kind = "map"
    requires = ("text",)
    adds = (TOKENS_COLUMN, TOKEN_COUNT_COLUMN)
    resources = Resources(cpus=1, stateful=True)
    version = 1

    class Params(Params):
        tokenizer: str = Field("gpt2", description="a tokenizer.json path, a local model folder, or a Hugging Face "
                                                   "Hub id (downloaded once to ~/.cache/curate/tokenizers)")
        add_bos: bool = Field(False, description="prepend the BOS token to every document")
        add_eos: bool = Field(True, description="append the EOS token to every document (the document separator)")
        bos_token: str | None = Field(None, description="BOS token text (default: the tokenizer's, e.g. <s>)")
        eos_token: str | None = Field(None, description="EOS token text (default: the tokenizer's, e.g. "
                                                        "<|endoftext|> or </s>)")
        max_tokens: int | None = Field(None, ge=2, description="longest document in tokens (BOS/EOS included); "
                                                               "None: no limit")
        overflow: Literal["split", "truncate", "drop"] = Field(
            "split", description="what to do with documents over max_tokens: split into several rows, keep the "
                                 "first max_tokens, or drop (reason tokenize_too_long)")
        threads: int = Field(1, ge=1, description="Rust encoder threads per worker (keep 1 under Ray, where each "
                                                  "worker already has a core; raise it for notebook use)")
        drop_empty: bool = Field(True, description="drop documents whose text encodes to no tokens "
                                                   "(reason tokenize_empty)")

    def setup(self) -> None:
        set_tokenizer_threads(self.params.threads)
        self.tokenizer = load_tokenizer(self.params.tokenizer)
        p = self.params
        self.prefix = [special_token_id(self.tokenizer, p.bos_token, BOS_CANDIDATES, "BOS")] if p.add_bos else []
        self.suffix = [special_token_id(self.tokenizer, p.eos_token, EOS_CANDIDATES, "EOS")] if p.add_eos else []

    def process(self, table: pa.Table) -> pa.Table | StepOutput:
        texts = table.column("text").fill_null("").to_pylist()
        tokens = encode_to_arrow(self.tokenizer, texts, self.prefix, self.suffix)
        counts = pc.list_value_length(tokens).cast(pa.int32())
        table = _set_column(_set_column(table, TOKENS_COLUMN, tokens), TOKEN_COUNT_COLUMN, counts)
        counters: dict[str, int] = {}
        reasons: list[str | None] = [None] * table.num_rows
        extra = len(self.prefix) + len(self.suffix)
        if self.params.drop_empty:
            for i in np.flatnonzero(counts.to_numpy(zero_copy_only=False) <= extra):
                reasons[i] = "tokenize_empty"
        limit = self.params.max_tokens
        if limit is not None:
            too_long = np.flatnonzero(counts.to_numpy(zero_copy_only=False) > limit)
            if len(too_long):
                counters["tokenize_over_max_tokens"] = len(too_long)
                if self.params.overflow == "drop":
                    for i in too_long:
                        reasons[i] = "tokenize_too_long"
                else:
                    table = self._fit(table, too_long, limit)
                    reasons = reasons + [None] * (table.num_rows - len(reasons))
        out = StepOutput.split(table, reasons, counters)
        out.counters.update(token_counters(out.kept))
        return out

    def _fit(self, table: pa.Table, too_long: np.ndarray, limit: int) -> pa.Table:
        """Truncate the over-long rows in place, or replace them by their pieces (appended at the end)."""
        p, extra = self.params, len(self.prefix) + len(self.suffix)
        body_limit = limit - extra
        keep_mask = np.ones(table.num_rows, dtype=bool)
        pieces: list[pa.Table] = []
        texts = table.column("text")
        for i in too_long:
            text = texts[int(i)].as_py() or ""
            encoding = self.tokenizer.encode(text, add_special_tokens=False)
            ids, offsets = encoding.ids, encoding.offsets
            cuts = list(range(0, len(ids), body_limit)) if p.overflow == "split" else [0]
            row = table.slice(int(i), 1)
            keep_mask[i] = False
            for k, start in enumerate(cuts):
                end = min(start + body_limit, len(ids))
                char_start = offsets[start][0] if start else 0
                char_end = offsets[end][0] if end < len(ids) else len(text)
                piece_ids = self.prefix + ids[start:end] + self.suffix
                piece = _set_column(row, "text", pa.array([text[char_start:char_end]], pa.string()))
                piece = _set_column(piece, TOKENS_COLUMN, pa.array([piece_ids], TOKEN_TYPE))
                piece = _set_column(piece, TOKEN_COUNT_COLUMN, pa.array([len(piece_ids)], pa.int32()))
                if p.overflow == "split" and "id" in piece.column_names:
                    piece = _set_column(piece, "id", pa.array([f"{row.column('id')[0].as_py()}#{k}"], pa.string()))
                pieces.append(piece)
        kept = table.filter(pa.array(keep_mask))
        return pa.concat_tables([kept, *pieces]) if pieces else kept


def _set_column(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, values)
    return table.append_column(name, values)


def token_group_column(table: pa.Table) -> str | None:
    """The column token totals are grouped by: ``domain`` when present, else ``source``."""
    for name in ("domain", "source"):
        if name in table.column_names:
            return name
    return None


def token_counters(table: pa.Table, prefix: str = "tokens") -> dict[str, int]:
    """``{prefix: total, prefix:<group>: total per group}`` for the ``token_count`` column."""
    if table.num_rows == 0 or TOKEN_COUNT_COLUMN not in table.column_names:
        return {}
    counts = table.column(TOKEN_COUNT_COLUMN)
    result = {prefix: int(pc.sum(counts).as_py() or 0)}
    group = token_group_column(table)
    if group is not None:
        grouped = pa.table({"g": table.column(group).cast(pa.string()).fill_null("(none)"),
                            "n": counts.cast(pa.int64())}).group_by("g").aggregate([("n", "sum")])
        for g, n in zip(grouped.column("g").to_pylist(), grouped.column("n_sum").to_pylist(), strict=True):
            result[f"{prefix}:{g}"] = int(n)
    return result

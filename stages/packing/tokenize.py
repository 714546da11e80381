"""Tokenization with any Hugging Face tokenizer: documents in, a ``tokens`` list column and ``token_count`` out.

The tokenizer is a ``tokenizer.json`` file, a local model folder (one with a ``tokenizer.json``, or any folder
``transformers.AutoTokenizer`` can load as a fast tokenizer), or a Hub id (downloaded once into
``~/.cache/curate/tokenizers``). Encoding is batched through ``tokenizers``' Rust ``encode_batch_fast`` (no
character offsets are computed, which is what makes it fast), with the Rust thread pool sized by the ``threads``
parameter so Ray workers do not oversubscribe the machine.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.cache import cache_dir, hub_offline, hub_problem, looks_like_path, missing_path
from curate.errors import Problem
from curate.registry import register
from curate.stage import Params, Resources, Stage, StepOutput
from curate.table import set_column

TOKENS_COLUMN = "tokens"
TOKEN_COUNT_COLUMN = "token_count"
TOKEN_TYPE = pa.list_(pa.uint32())
#: documents of the first batch encoded by both engines before the tiktoken engine is trusted
ENGINE_CHECK_DOCS = 256
CACHE_DIR = cache_dir("tokenizers")

#: special tokens tried, in order, when the recipe does not name the BOS / EOS token (Llama 3, GPT-2/NeoX/Qwen,
#: Llama 2/Mistral/T5, Gemma, BERT)
BOS_CANDIDATES = ("<|begin_of_text|>", "<s>", "<bos>", "<|endoftext|>", "[CLS]")
EOS_CANDIDATES = ("<|end_of_text|>", "<|endoftext|>", "</s>", "<eos>", "<|im_end|>", "[SEP]")


class TokenizerNotFound(RuntimeError):
    """The tokenizer named in the recipe could not be loaded (missing file, no network for a Hub id)."""


def load_tokenizer(spec: str) -> Any:
    """A ``tokenizers.Tokenizer`` for a ``tokenizer.json`` path or URI (``s3://…``), a local model folder or a Hub
    id."""
    from tokenizers import Tokenizer

    if "://" in spec:  # a tokenizer.json on an object store or web server (every node of a cluster reads it)
        from curate.storage import location

        try:
            return Tokenizer.from_str(location(spec).read_bytes().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise TokenizerNotFound(
                f"tokenizer {spec!r} could not be read ({exc}): give the URI of a tokenizer.json"
            ) from exc

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
            raise TokenizerNotFound(
                f"tokenizer folder {str(path)!r} has no tokenizer.json and transformers could "
                f"not load a fast tokenizer from it ({exc}); point `tokenizer` at a "
                f"tokenizer.json file"
            ) from exc
    if looks_like_path(spec):
        raise TokenizerNotFound(
            f"tokenizer {spec!r} not found: no such file or folder (give a tokenizer.json path, "
            f"a local model folder, or a Hugging Face Hub id such as 'gpt2')"
        )
    return _from_hub(spec)


def tokenizer_problems(spec: str, field: str = "tokenizer") -> list[Problem]:
    """Why :func:`load_tokenizer` would fail for ``spec`` in a run, found before any work: a local path that does not
    exist, or a Hub id neither cached nor reachable (URIs are read, and checked, by the run)."""
    if "://" in spec or Path(os.path.expanduser(spec)).exists():
        return []
    if looks_like_path(spec):
        hint = "give a tokenizer.json path, a local model folder, or a Hugging Face Hub id such as 'gpt2'"
        return missing_path(field, spec, "tokenizer file", hint)
    if (CACHE_DIR / spec.replace("/", "--") / "tokenizer.json").is_file():
        return []
    hint = "pass a local tokenizer.json or model folder as `tokenizer` (copied from a machine with network access)"
    return hub_problem(field, spec, "tokenizer.json", "tokenizer", hint)


def _from_hub(repo_id: str) -> Any:
    from tokenizers import Tokenizer

    cached = CACHE_DIR / repo_id.replace("/", "--") / "tokenizer.json"
    if cached.is_file():
        return Tokenizer.from_file(str(cached))
    try:
        from huggingface_hub import hf_hub_download

        if hub_offline():  # huggingface_hub would only notice if the variable was set before its import
            raise OSError("HF_HUB_OFFLINE is set")
        downloaded = hf_hub_download(repo_id, "tokenizer.json", cache_dir=str(CACHE_DIR / "hub"))
    except Exception as exc:  # noqa: BLE001 - offline, unknown repo, gated repo: all end the same way
        raise TokenizerNotFound(
            f"could not fetch tokenizer {repo_id!r} from the Hugging Face Hub ({type(exc).__name__}: {exc}). "
            f"Without network access, pass a local tokenizer.json or model folder as `tokenizer`, or copy the "
            f"file to {cached}"
        ) from exc
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
    for token in [name] if name else candidates:
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return int(token_id)
    wanted = repr(name) if name else f"any of {list(candidates)}"
    raise ValueError(
        f"tokenize: the tokenizer has no {role} token {wanted}; set `{role.lower()}_token` to one of "
        f"its special tokens, or `add_{role.lower()}: false`"
    )


def encode_to_arrow(
    tokenizer: Any, texts: list[str], prefix: list[int], suffix: list[int], engine: Any = None
) -> pa.ListArray:
    """Encode ``texts`` in one batch and return ``prefix + ids + suffix`` per text as a ``list<uint32>`` array.

    ``engine`` is an optional :class:`TiktokenEngine` that reproduces ``tokenizer`` exactly (same ids)."""
    if engine is not None:
        ids = engine.encode_batch(texts)
    else:
        ids = [e.ids for e in tokenizer.encode_batch_fast(texts, add_special_tokens=False)]
    if prefix or suffix:
        ids = [prefix + x + suffix for x in ids]
    return pa.array(ids, TOKEN_TYPE)


#: the pre-tokenization regex of ``ByteLevel(use_regex=True)`` (GPT-2's)
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
#: Oniguruma (the tokenizers regex engine) reads ``X{n,m}+`` as ``(?:X{n,m})+``, not as a possessive repeat
_ONIG_INTERVAL_PLUS = re.compile(r"(\\p\{\w+\}|\\[pP]\w|\[(?:\\.|[^\]])*\]|\\.|[^\\])\{(\d+)(,\d*)?\}\+")


class TiktokenEngine:
    """Encodes with ``tiktoken``'s BPE core the way a byte-level BPE ``tokenizer.json`` does, several times faster.

    Built only for byte-level BPE tokenizers without a normalizer whose pre-tokenizer is a single regex split
    (GPT-2, cl100k/o200k conversions, Llama 3, Qwen …); ids are the tokenizer's own (its vocabulary is the rank
    table). tiktoken merges by the rank of the merged token where ``tokenizers`` follows its merge list, which
    agree for vocabularies built by BPE training in rank order but not for every vocabulary, so the step checks
    the first documents against ``tokenizers`` and falls back to it on any difference."""

    def __init__(self, encoding: Any, threads: int):
        self.encoding = encoding
        self.threads = threads

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, threads: int = 1) -> TiktokenEngine | None:
        try:
            import tiktoken
        except ImportError:
            return None
        spec = json.loads(tokenizer.to_str())
        model, pre = spec.get("model") or {}, spec.get("pre_tokenizer") or {}
        if model.get("type") != "BPE" or spec.get("normalizer") or model.get("dropout") or model.get("byte_fallback"):
            return None
        if pre.get("type") == "ByteLevel" and pre.get("use_regex", True) and not pre.get("add_prefix_space"):
            pattern = GPT2_PATTERN
        elif (
            pre.get("type") == "Sequence"
            and len(pre.get("pretokenizers", [])) == 2
            and pre["pretokenizers"][0].get("type") == "Split"
            and pre["pretokenizers"][0].get("behavior") == "Isolated"
            and not pre["pretokenizers"][0].get("invert")
            and "Regex" in pre["pretokenizers"][0].get("pattern", {})
            and pre["pretokenizers"][1].get("type") == "ByteLevel"
            and not pre["pretokenizers"][1].get("use_regex", True)
            and not pre["pretokenizers"][1].get("add_prefix_space")
        ):
            pattern = _ONIG_INTERVAL_PLUS.sub(r"(?:\1{\2\3})+", pre["pretokenizers"][0]["pattern"]["Regex"])
        else:
            return None
        from tokenizers.pre_tokenizers import ByteLevel

        byte_of = {ch: i for i, ch in enumerate(_byte_level_chars(ByteLevel))}
        ranks: dict[bytes, int] = {}
        for token, token_id in model.get("vocab", {}).items():
            try:
                ranks[bytes(byte_of[ch] for ch in token)] = int(token_id)
            except KeyError:
                return None
        if len(ranks) != len(model.get("vocab", {})) or any(bytes([b]) not in ranks for b in range(256)):
            return None
        try:
            encoding = tiktoken.Encoding(
                name="curate-tokenize", pat_str=pattern, mergeable_ranks=ranks, special_tokens={}
            )
        except Exception:  # noqa: BLE001 - a regex tiktoken cannot compile: use tokenizers
            return None
        return cls(encoding, threads)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        if self.threads > 1:
            return self.encoding.encode_ordinary_batch(texts, num_threads=self.threads)
        encode = self.encoding._core_bpe.encode_ordinary
        return [encode(t) for t in texts]


def _byte_level_chars(byte_level: Any) -> list[str]:
    """GPT-2's printable stand-in character for each byte 0..255 (``bytes_to_unicode``)."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    table = [chars[b] for b in range(256)]
    assert sorted(table) == sorted(byte_level.alphabet())
    return table


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
        tokenizer: str = Field(
            "gpt2",
            description="a tokenizer.json path, a local model folder, or a Hugging Face "
            "Hub id (downloaded once to ~/.cache/curate/tokenizers)",
        )
        add_bos: bool = Field(False, description="prepend the BOS token to every document")
        add_eos: bool = Field(True, description="append the EOS token to every document (the document separator)")
        bos_token: str | None = Field(None, description="BOS token text (default: the tokenizer's, e.g. <s>)")
        eos_token: str | None = Field(
            None, description="EOS token text (default: the tokenizer's, e.g. <|endoftext|> or </s>)"
        )
        max_tokens: int | None = Field(
            None, ge=2, description="longest document in tokens (BOS/EOS included); None: no limit"
        )
        overflow: Literal["split", "truncate", "drop"] = Field(
            "split",
            description="what to do with documents over max_tokens: split into several rows, keep the "
            "first max_tokens, or drop (reason tokenize_too_long)",
        )
        threads: int = Field(
            1,
            ge=1,
            description="Rust encoder threads per worker (keep 1 under Ray, where each "
            "worker already has a core; raise it for notebook use)",
        )
        engine: Literal["tokenizers", "tiktoken"] = Field(
            "tokenizers",
            description="tokenizers: the Hugging Face library (exact by construction); tiktoken: "
            "tiktoken's BPE core on the same vocabulary, ~3-4x faster, for byte-level "
            "BPE tokenizers (GPT-2, cl100k, Llama 3 ...); checked against tokenizers on "
            "the first 256 documents, falls back to it on any difference",
        )
        drop_empty: bool = Field(
            True, description="drop documents whose text encodes to no tokens (reason tokenize_empty)"
        )

    def check_files(self) -> list[Problem]:
        return tokenizer_problems(self.params.tokenizer)

    def setup(self) -> None:
        set_tokenizer_threads(self.params.threads)
        self.tokenizer = load_tokenizer(self.params.tokenizer)
        p = self.params
        self.prefix = [special_token_id(self.tokenizer, p.bos_token, BOS_CANDIDATES, "BOS")] if p.add_bos else []
        self.suffix = [special_token_id(self.tokenizer, p.eos_token, EOS_CANDIDATES, "EOS")] if p.add_eos else []
        self.engine = TiktokenEngine.from_tokenizer(self.tokenizer, p.threads) if p.engine == "tiktoken" else None
        self._engine_checked = self.engine is None
        self._engine_counters: dict[str, int] = {}
        if p.engine == "tiktoken" and self.engine is None:
            self._engine_counters["tokenize_tiktoken_unsupported"] = 1

    def _check_engine(self, texts: list[str]) -> None:
        """Compare the tiktoken engine with tokenizers on the first documents; keep it only if every id agrees."""
        self._engine_checked = True
        texts = texts[:ENGINE_CHECK_DOCS]
        fast = self.engine.encode_batch(texts)
        exact = [e.ids for e in self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]
        if fast != exact:
            self.engine = None
            self._engine_counters["tokenize_tiktoken_mismatch"] = 1

    def process(self, table: pa.Table) -> pa.Table | StepOutput:
        texts = table.column("text").fill_null("").to_pylist()
        if not self._engine_checked:
            self._check_engine(texts)
        tokens = encode_to_arrow(self.tokenizer, texts, self.prefix, self.suffix, self.engine)
        counts = pc.list_value_length(tokens).cast(pa.int32())
        table = set_column(set_column(table, TOKENS_COLUMN, tokens), TOKEN_COUNT_COLUMN, counts)
        counters: dict[str, int] = dict(self._engine_counters)
        self._engine_counters = {}
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
                piece = set_column(row, "text", pa.array([text[char_start:char_end]], pa.string()))
                piece = set_column(piece, TOKENS_COLUMN, pa.array([piece_ids], TOKEN_TYPE))
                piece = set_column(piece, TOKEN_COUNT_COLUMN, pa.array([len(piece_ids)], pa.int32()))
                if p.overflow == "split" and "id" in piece.column_names:
                    piece = set_column(piece, "id", pa.array([f"{row.column('id')[0].as_py()}#{k}"], pa.string()))
                pieces.append(piece)
        kept = table.filter(pa.array(keep_mask))
        return pa.concat_tables([kept, *pieces]) if pieces else kept


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
        grouped = (
            pa.table({"g": table.column(group).cast(pa.string()).fill_null("(none)"), "n": counts.cast(pa.int64())})
            .group_by("g")
            .aggregate([("n", "sum")])
        )
        for g, n in zip(grouped.column("g").to_pylist(), grouped.column("n_sum").to_pylist(), strict=True):
            result[f"{prefix}:{g}"] = int(n)
    return result

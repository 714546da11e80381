"""``rephrase``: rewrite documents with an LLM (WRAP, Maini et al. 2024; Nemotron-CC, Su et al. 2024).

WRAP showed that pretraining on web text plus rephrasings of it in a Wikipedia-like or question/answer style trains
faster than on the web text alone; Nemotron-CC rephrases low-quality buckets into Wikipedia style (to salvage their
knowledge) and turns high-quality buckets into diverse Q&A, distilled text, extracted knowledge and knowledge lists,
then trains on originals and rephrasings together. This step does the rephrasing for one prompt: long documents are
cut on paragraph boundaries into segments of at most ``max_input_tokens`` tokens (both papers rephrase segments, not
whole pages), each segment goes through the backend, and the cleaned replies are joined back in order.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, model_validator

from curate.classifiers.models import reference_problems
from curate.errors import Problem
from curate.registry import register
from curate.stage import Params, Resources, Stage, StepOutput
from curate.stages.rephrase.backends import (
    CANCELLED,
    FATAL_KINDS,
    Backend,
    Generation,
    OpenAIBackend,
    Sampling,
    TransformersBackend,
    VllmBackend,
)
from curate.stages.rephrase.cache import ReplyCache, default_cache_dir, model_identity
from curate.stages.rephrase.prompts import PROMPTS, prompt_template

log = logging.getLogger(__name__)

#: column naming the failure kind of documents whose rephrasing failed within ``max_failed_share``
FAILED_COLUMN = "rephrase_failed"

PromptName = Literal["wikipedia", "qa", "diverse_qa", "distill", "extract_knowledge", "knowledge_list", "custom"]


class Select(BaseModel):
    """Rephrase only documents whose ``column`` lies in [min, max] (either bound optional); nulls are not selected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(description="numeric column to select on, e.g. quality_bucket")
    min: float | None = Field(None, description="lowest selected value (inclusive)")
    max: float | None = Field(None, description="highest selected value (inclusive)")


class RephraseFailed(RuntimeError):
    """More documents of a batch failed than ``max_failed_share`` allows (or a failure every request would meet,
    such as a rejected API key): the shard fails, gets no ``_done`` marker, and the next run redoes it."""


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs (non-empty lines) of a document, as the extractors write them: one per line."""
    return [line for line in text.split("\n") if line.strip()]


def pack_segments(paragraphs: list[str], counts: list[int], limit: int, count_tokens) -> list[str]:
    """Greedily pack consecutive paragraphs into segments of at most ``limit`` tokens (one more per line break);
    a paragraph longer than ``limit`` on its own is cut between words."""
    segments: list[str] = []
    current: list[str] = []
    size = 0
    for paragraph, n in zip(paragraphs, counts):
        if n > limit:
            if current:
                segments.append("\n".join(current))
                current, size = [], 0
            segments.extend(split_words(paragraph, n, limit, count_tokens))
            continue
        if current and size + n + 1 > limit:
            segments.append("\n".join(current))
            current, size = [], 0
        current.append(paragraph)
        size += n + 1
    if current:
        segments.append("\n".join(current))
    return segments


def split_words(paragraph: str, tokens: int, limit: int, count_tokens) -> list[str]:
    """Cut one over-long paragraph into runs of words under ``limit`` tokens (sized from its token density,
    pieces still over the limit cut again)."""
    words = paragraph.split(" ")
    if len(words) == 1:
        return [paragraph]
    per_piece = max(1, int(len(words) * limit / tokens * 0.9))
    pieces = [" ".join(words[i : i + per_piece]) for i in range(0, len(words), per_piece)]
    out: list[str] = []
    for piece, n in zip(pieces, count_tokens(pieces)):
        out.extend(split_words(piece, n, limit, count_tokens) if n > limit and per_piece > 1 else [piece])
    return out


@register
class Rephrase(Stage):
    """Rephrase documents with an LLM using the WRAP or Nemotron-CC prompts, by segments, keeping the originals.

    ``prompt`` picks the style: WRAP's ``wikipedia`` and ``qa`` (Maini et al. 2024), Nemotron-CC's ``diverse_qa``,
    ``distill``, ``extract_knowledge`` and ``knowledge_list`` (Su et al. 2024), or ``custom`` with ``template``
    (containing ``{text}``). Documents are cut on paragraph boundaries into segments of at most
    ``max_input_tokens`` tokens (default 512, NeMo Curator's Nemotron-CC pipeline keeps segments under 510), each is
    rephrased (greedy by default, ``max_new_tokens`` 512) and the replies joined. ``backend`` is ``transformers``
    (local model), ``openai`` (any OpenAI-compatible server) or ``vllm`` (offline, on a GPU). ``select`` limits
    rephrasing to a score range (Nemotron-CC: wikipedia for low buckets, QA/distill for high ones). ``output``:
    a ``<column>`` of rephrasings, ``replace`` (the original moves to ``original_text``), or ``new_documents`` (one
    synthetic document ``<id>#<prompt>`` after each original; both are kept, as Nemotron-CC trains on both).
    A document whose rephrasing still fails after the backend's retries fails the shard (no ``_done`` marker, the
    run exits non-zero, the next run redoes it) unless ``max_failed_share`` lets that share of a batch fail: those
    keep their text, get no rephrasing and name the failure in ``rephrase_failed``. Successful replies are cached
    (``cache``), so a redone shard only asks the model for what it has not answered yet. Empty replies are counted
    and the document keeps its original text (``on_error: drop`` removes it, and tolerated failures, instead).
    """

    name = "rephrase"
    kind = "map"
    requires = ("text",)
    adds = ("<column>",)
    resources = Resources(cpus=1, gpus=0, stateful=True)
    version = 2

    class Params(Params):
        prompt: PromptName = Field(
            "wikipedia",
            description="wikipedia, qa (WRAP); diverse_qa, distill, "
            "extract_knowledge, knowledge_list (Nemotron-CC); custom",
        )
        template: str | None = Field(
            None, description="prompt: custom — the user prompt, with {text} where the document segment goes"
        )
        system_prompt: str | None = Field(None, description="prompt: custom — an optional system prompt")
        backend: Literal["transformers", "openai", "vllm"] = Field(
            "transformers",
            description="transformers (local causal LM), openai (OpenAI-compatible server: vLLM "
            "serve, TGI, SGLang, OpenAI), vllm (offline vllm.LLM on a GPU)",
        )
        model: str = Field(
            ..., min_length=1, description="hub id or local folder (transformers, vllm); the served model name (openai)"
        )
        max_new_tokens: int = Field(512, ge=1, description="most tokens generated per segment")
        max_input_tokens: int = Field(
            512,
            ge=16,
            description="documents are cut on paragraph boundaries into segments of at most this many tokens",
        )
        max_segments: int = Field(
            64, ge=1, description="documents needing more segments are left as they are (counted as rephrase_too_long)"
        )
        temperature: float = Field(0.0, ge=0.0, description="0 = greedy (deterministic)")
        top_p: float = Field(1.0, gt=0.0, le=1.0, description="nucleus sampling mass when temperature > 0")
        seed: int = Field(0, description="sampling seed (transformers: torch seed per batch; openai/vllm: sent)")
        chat: bool | None = Field(
            None,
            description="use the tokenizer's chat template: None = when it has one; "
            "false = plain-text prompt for base models",
        )
        model_batch_size: int = Field(8, ge=1, description="transformers: segments per generate() call")
        device: Literal["auto", "cpu", "cuda"] = Field(
            "auto", description="transformers: auto = a GPU when torch sees one"
        )
        dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
            "auto", description="transformers: auto = bf16 on GPUs that support it, else fp16; fp32 on CPU"
        )
        base_url: str = Field("http://localhost:8000/v1", description="openai: server base URL (ends in /v1)")
        endpoint: Literal["chat", "completions"] = Field(
            "chat", description="openai: chat (messages) or completions (plain-text prompt)"
        )
        api_key_env: str | None = Field(
            "OPENAI_API_KEY", description="openai: environment variable holding the API key (sent only when set)"
        )
        request_concurrency: int = Field(8, ge=1, description="openai: requests in flight per worker")
        timeout_s: float = Field(300.0, gt=0, description="openai: per-request timeout in seconds")
        max_retries: int = Field(5, ge=0, description="openai: retries on 429/5xx/timeouts, backoff doubling")
        backoff_s: float = Field(1.0, ge=0, description="openai: first retry delay in seconds")
        tokenizer: str | None = Field(
            None,
            description="openai: tokenizer (tokenizer.json, folder or hub id) for "
            "segment lengths; default: 4 characters per token",
        )
        vllm_options: dict[str, Any] = Field(
            default_factory=dict,
            description="vllm: extra vllm.LLM arguments "
            "(tensor_parallel_size, max_model_len, gpu_memory_utilization …)",
        )
        output: Literal["column", "replace", "new_documents"] = Field(
            "column",
            description="column: add <column>; replace: rephrasing becomes text, original in "
            "original_text; new_documents: add a synthetic document <id>#<prompt> per original",
        )
        column: str = Field("rephrased", description="output: column — name of the added text column")
        select: Select | None = Field(
            None, description="only rephrase documents with {column, min, max}; the rest pass through untouched"
        )
        on_error: Literal["keep", "drop"] = Field(
            "keep",
            description="empty replies and tolerated failures: keep "
            "the original text, or drop the document with a "
            "reason",
        )
        max_failed_share: float = Field(
            0.0,
            ge=0.0,
            le=1.0,
            description="share of a batch's selected documents "
            "whose rephrasing may still fail after retries without failing the shard "
            "(they keep their text and get rephrase_failed); 0 = any failure fails it",
        )
        cache: bool = Field(
            True,
            description="keep every reply on local disk, so a redone shard (after a failure) "
            "only generates what was not answered yet",
        )
        cache_dir: str | None = Field(
            None, description="cache folder (default: $CURATE_CACHE/rephrase or ~/.cache/curate/rephrase)"
        )

        @model_validator(mode="after")
        def _check_template(self):
            if self.prompt == "custom":
                prompt_template("custom", self.template, self.system_prompt)
            elif self.template is not None or self.system_prompt is not None:
                raise ValueError(
                    f"rephrase: `template`/`system_prompt` are only used with prompt: custom "
                    f"(prompt is {self.prompt!r}); drop them or set prompt: custom"
                )
            return self

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        p = self.params
        self.template = prompt_template(p.prompt, p.template, p.system_prompt)
        self.adds = {
            "column": (p.column,),
            "replace": ("text", "original_text"),
            "new_documents": ("synthetic", "rephrase_prompt"),
        }[p.output]
        if p.max_failed_share > 0:
            self.adds = (*self.adds, FAILED_COLUMN)

    # -- setup -------------------------------------------------------------------------------------------------
    def check_files(self) -> list[Problem]:
        if self.params.backend == "openai":  # the served model's name: the server is asked when the run starts
            return []
        return reference_problems("model", self.params.model, "model", hub_file="config.json")

    def setup(self) -> None:
        p = self.params
        self.backend = self.make_backend()
        self.cache = ReplyCache(p.cache_dir or default_cache_dir(), self.cache_settings()) if p.cache else None

    def cache_settings(self) -> dict[str, Any]:
        """Everything that shapes a reply, so a cached reply is only reused for the same generation."""
        p = self.params
        settings: dict[str, Any] = {
            "backend": p.backend,
            "model": model_identity(p.model),
            "system": self.template.system,
            "user": self.template.user,
            "max_new_tokens": p.max_new_tokens,
            "temperature": p.temperature,
            "top_p": p.top_p,
            "seed": p.seed,
        }
        if p.backend == "openai":
            settings.update(base_url=p.base_url, endpoint=p.endpoint)
        else:
            settings.update(chat=p.chat, dtype=p.dtype, device=p.device, vllm_options=p.vllm_options)
        return settings

    def make_backend(self) -> Backend:
        p = self.params
        sampling = Sampling(p.max_new_tokens, p.temperature, p.top_p, p.seed)
        if p.backend == "openai":
            return OpenAIBackend(
                p.base_url,
                p.model,
                sampling,
                p.endpoint,
                p.api_key_env,
                p.request_concurrency,
                p.timeout_s,
                p.max_retries,
                p.backoff_s,
                p.tokenizer,
            )
        if p.backend == "vllm":
            return VllmBackend(p.model, sampling, p.chat, p.vllm_options)
        return TransformersBackend(p.model, sampling, p.model_batch_size, p.device, p.dtype, p.chat)

    # -- per batch ---------------------------------------------------------------------------------------------
    def selected(self, table: pa.Table) -> np.ndarray:
        """Which rows to rephrase: those in the ``select`` range, never documents that are already synthetic."""
        mask = np.ones(table.num_rows, dtype=bool)
        s = self.params.select
        if s is not None:
            if s.column not in table.column_names:
                raise KeyError(
                    f"rephrase: select.column {s.column!r} is not in the input (columns: "
                    f"{table.column_names}); run the step that adds it (e.g. quality_buckets) first"
                )
            values = table.column(s.column).cast(pa.float64())
            keep = pc.is_valid(values)
            if s.min is not None:
                keep = pc.and_(keep, pc.greater_equal(values, s.min))
            if s.max is not None:
                keep = pc.and_(keep, pc.less_equal(values, s.max))
            mask &= pc.fill_null(keep, False).to_numpy(zero_copy_only=False)
        if "synthetic" in table.column_names:
            mask &= ~pc.fill_null(table.column("synthetic"), False).to_numpy(zero_copy_only=False)
        return mask

    def segment(self, texts: list[str]) -> list[list[str]]:
        """Each document's segments (paragraph-packed, at most ``max_input_tokens`` tokens each)."""
        paragraphs = [split_paragraphs(t) for t in texts]
        flat = [para for doc in paragraphs for para in doc]
        counts = iter(self.backend.count_tokens(flat))
        limit = self.params.max_input_tokens
        return [pack_segments(doc, [next(counts) for _ in doc], limit, self.backend.count_tokens) for doc in paragraphs]

    def rephrase(self, texts: list[str]) -> tuple[list[str | None], list[str], dict[str, int]]:
        """(rephrased text or None, status per text, counters). A status is ok, empty, too_long, or the kind of a
        tolerated failure; failures beyond ``max_failed_share`` raise :class:`RephraseFailed`."""
        segments = self.segment(texts)
        status = ["ok"] * len(texts)
        jobs: list[tuple[int, str]] = []
        for i, parts in enumerate(segments):
            if not parts:
                status[i] = "empty"
            elif len(parts) > self.params.max_segments:
                status[i] = "too_long"
            else:
                jobs.extend((i, part) for part in parts)
        allowed = math.floor(self.params.max_failed_share * len(texts) + 1e-9)
        generations, cached = self.generate(jobs, allowed)
        counters = {
            "rephrase_segments": len(jobs),
            "rephrase_cached": cached,
            "rephrase_input_tokens": 0,
            "rephrase_output_tokens": 0,
        }
        replies: list[list[str]] = [[] for _ in texts]
        failures: dict[int, Generation] = {}
        for (i, _), g in zip(jobs, generations):
            counters["rephrase_input_tokens"] += g.input_tokens
            counters["rephrase_output_tokens"] += g.output_tokens
            if g.text is None:
                failures.setdefault(i, g)
            elif cleaned := self.template.clean(g.text):
                replies[i].append(cleaned)
        failed = [g for g in generations if g.text is None]
        if failed:
            failed_docs = {i for (i, _), g in zip(jobs, generations) if g.text is None and g.kind != CANCELLED}
            self.check_failures(failed, len(failed_docs), len(texts), allowed)
        for kind, n in Counter(g.kind or "unknown" for g in failed).items():
            counters[f"rephrase_failed_{kind}"] = n
        out: list[str | None] = [None] * len(texts)
        for i, parts in enumerate(replies):
            if i in failures:
                status[i] = failures[i].kind or "unknown"
            elif status[i] == "ok":
                if parts:
                    out[i] = "\n".join(parts)
                else:
                    status[i] = "empty"
        for name in ("empty", "too_long"):
            counters[f"rephrase_{name}"] = status.count(name)
        counters["rephrase_failed"] = len(failures)
        counters["rephrase_documents"] = status.count("ok")
        return out, status, counters

    def generate(self, jobs: list[tuple[int, str]], allowed: int) -> tuple[list[Generation], int]:
        """One Generation per (document, segment) job, cached replies first; the backend stops sending once more
        than ``allowed`` documents have failed, or at a failure every request would meet. Returns (generations,
        how many came from the cache)."""
        results: list[Generation | None] = [None] * len(jobs)
        keys: list[bytes] = []
        if self.cache is not None:
            keys = [self.cache.key(part) for _, part in jobs]
            hits = self.cache.get_many(keys)
            results = [hits.get(k) for k in keys]
        todo = [j for j, g in enumerate(results) if g is None]
        failed_docs: set[int] = set()
        lock = threading.Lock()

        def on_result(k: int, generation: Generation) -> bool:
            j = todo[k]
            if generation.text is not None:
                if self.cache is not None:
                    self.cache.put(keys[j], generation)
                return True
            with lock:
                failed_docs.add(jobs[j][0])
                return generation.kind not in FATAL_KINDS and len(failed_docs) <= allowed

        fresh = self.backend.generate(self.template, [jobs[j][1] for j in todo], on_result)
        for j, generation in zip(todo, fresh):
            results[j] = generation
        return results, len(jobs) - len(todo)  # type: ignore[return-value]

    def check_failures(self, failed: list[Generation], failed_docs: int, documents: int, allowed: int) -> None:
        """Raise :class:`RephraseFailed` when the failures are more than the batch may have, saying which kinds,
        why, and what happens next; otherwise log them (the counters say how many)."""
        p = self.params
        kinds = Counter(g.kind for g in failed if g.kind != CANCELLED)
        first = {g.kind: g.error for g in reversed(failed) if g.kind != CANCELLED}
        why = "; ".join(f"{kind} x{n}: {first[kind]}" for kind, n in kinds.most_common())
        fatal = any(kind in FATAL_KINDS for kind in kinds)
        if not fatal and failed_docs <= allowed:
            log.warning(
                "rephrase: %d of %d documents not rephrased (tolerated by max_failed_share %g); %s",
                failed_docs,
                documents,
                p.max_failed_share,
                why,
            )
            return
        not_sent = len(failed) - sum(kinds.values())
        stopped = f", {not_sent} segments not sent after that" if not_sent else ""
        cached = (
            f"Replies that did arrive are cached in {self.cache.folder}, so the rerun only asks for the rest. "
            if self.cache is not None
            else ""
        )
        raise RephraseFailed(
            f"rephrase ({p.backend} backend, model {p.model!r}): {failed_docs} of {documents} documents of a batch "
            f"failed (max_failed_share {p.max_failed_share:g} allows {allowed}){stopped}. {why}. "
            f"The shard is not marked done: fix the cause and rerun the same command to redo it. {cached}".rstrip()
        )

    def process(self, table: pa.Table) -> pa.Table | StepOutput:
        p = self.params
        rows = np.flatnonzero(self.selected(table))
        texts = table.column("text").take(pa.array(rows, pa.int64())).to_pylist()
        replies, status, counters = self.rephrase([t or "" for t in texts])
        result: list[str | None] = [None] * table.num_rows
        reasons: list[str | None] = [None] * table.num_rows
        failed: list[str | None] = [None] * table.num_rows
        for row, reply, state in zip(rows.tolist(), replies, status):
            result[row] = reply
            if state not in ("ok", "empty", "too_long"):
                failed[row] = state
            if state == "empty" and p.on_error == "drop":
                reasons[row] = "rephrase_empty"
            elif failed[row] is not None and p.on_error == "drop":
                reasons[row] = FAILED_COLUMN
        if p.max_failed_share > 0:
            table = self.add_failures(table, pa.array(failed, pa.string()))
        rephrased = pa.array(result, pa.string())
        if p.output == "column":
            table = table.append_column(p.column, rephrased)
        elif p.output == "replace":
            table = self.replace_text(table, rephrased)
        else:
            table, reasons = self.add_documents(table, rephrased, reasons)
        if any(r is not None for r in reasons):
            return StepOutput.split(table, reasons, counters)
        return StepOutput(table, None, counters)

    @staticmethod
    def add_failures(table: pa.Table, failed: pa.Array) -> pa.Table:
        """``rephrase_failed`` := the kind of this step's tolerated failure, else an earlier rephrase step's."""
        if FAILED_COLUMN in table.column_names:
            failed = pc.coalesce(failed, table.column(FAILED_COLUMN))
            table = table.drop_columns([FAILED_COLUMN])
        return table.append_column(FAILED_COLUMN, failed)

    def replace_text(self, table: pa.Table, rephrased: pa.Array) -> pa.Table:
        """``text`` := the rephrasing where there is one; ``original_text`` := the text it replaced (kept from an
        earlier rephrase step when there was one)."""
        text = table.column("text")
        done = pc.is_valid(rephrased)
        original = pc.if_else(done, text, pa.scalar(None, pa.string()))
        if "original_text" in table.column_names:
            original = pc.coalesce(table.column("original_text"), original)
            table = table.drop_columns(["original_text"])
        table = table.set_column(table.column_names.index("text"), "text", pc.coalesce(rephrased, text))
        return table.append_column("original_text", original)

    def add_documents(
        self, table: pa.Table, rephrased: pa.Array, reasons: list[str | None]
    ) -> tuple[pa.Table, list[str | None]]:
        """The originals (``synthetic`` false) each followed by its rephrasing as a new document: same columns,
        ``text`` = the rephrasing, ``id`` = ``<id>#<prompt>``, ``synthetic`` true, ``rephrase_prompt`` set."""
        n = table.num_rows
        if "synthetic" not in table.column_names:
            table = table.append_column("synthetic", pa.array([False] * n, pa.bool_()))
        if "rephrase_prompt" not in table.column_names:
            table = table.append_column("rephrase_prompt", pa.nulls(n, pa.string()))
        done = np.flatnonzero(pc.is_valid(rephrased).to_numpy(zero_copy_only=False))
        if len(done) == 0:
            return table, reasons
        synth = table.take(pa.array(done, pa.int64()))
        k = len(done)
        ids = pc.binary_join_element_wise(
            synth.column("id").cast(pa.string()), pa.scalar(self.template.name), pa.scalar("#")
        )
        for name, values in (
            ("id", ids),
            ("text", rephrased.take(pa.array(done, pa.int64()))),
            ("synthetic", pa.array([True] * k, pa.bool_())),
            ("rephrase_prompt", pa.array([self.template.name] * k, pa.string())),
        ):
            synth = synth.set_column(synth.column_names.index(name), name, values.cast(table.schema.field(name).type))
        order = np.empty(n + k, dtype=np.int64)
        synth_pos = done + np.arange(1, k + 1)  # each synthetic document right after its original
        is_synth = np.zeros(n + k, dtype=bool)
        is_synth[synth_pos] = True
        order[~is_synth] = np.arange(n)
        order[synth_pos] = n + np.arange(k)
        merged = pa.concat_tables([table, synth]).take(pa.array(order))
        merged_reasons = [reasons[i] if i < n else None for i in order.tolist()]
        return merged, merged_reasons


__all__ = ["PROMPTS", "Rephrase", "RephraseFailed", "Select"]

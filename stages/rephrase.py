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
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, model_validator

from curate.registry import register
from curate.stage import Params, Resources, Stage, StepOutput

from .rephrase_backends import Backend, Generation, OpenAIBackend, Sampling, TransformersBackend, VllmBackend
from .rephrase_prompts import PROMPTS, prompt_template

log = logging.getLogger(__name__)

PromptName = Literal["wikipedia", "qa", "diverse_qa", "distill", "extract_knowledge", "knowledge_list", "custom"]


class Select(BaseModel):
    """Rephrase only documents whose ``column`` lies in [min, max] (either bound optional); nulls are not selected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(description="numeric column to select on, e.g. quality_bucket")
    min: float | None = Field(None, description="lowest selected value (inclusive)")
    max: float | None = Field(None, description="highest selected value (inclusive)")


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
    pieces = [" ".join(words[i:i + per_piece]) for i in range(0, len(words), per_piece)]
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
    Failed and empty generations are counted and the document keeps its original text (``on_error: drop`` removes
    it instead).
    """

    name = "rephrase"
    kind = "map"
    requires = ("text",)
    adds = ("<column>",)
    resources = Resources(cpus=1, gpus=0, stateful=True)
    version = 1

    class Params(Params):
        prompt: PromptName = Field("wikipedia", description="wikipedia, qa (WRAP); diverse_qa, distill, "
                                                            "extract_knowledge, knowledge_list (Nemotron-CC); custom")
        template: str | None = Field(None, description="prompt: custom — the user prompt, with {text} where the "
                                                       "document segment goes")
        system_prompt: str | None = Field(None, description="prompt: custom — an optional system prompt")
        backend: Literal["transformers", "openai", "vllm"] = Field(
            "transformers", description="transformers (local causal LM), openai (OpenAI-compatible server: vLLM "
                                        "serve, TGI, SGLang, OpenAI), vllm (offline vllm.LLM on a GPU)")
        model: str = Field("", description="hub id or local folder (transformers, vllm); the served model name "
                                           "(openai)")
        max_new_tokens: int = Field(512, ge=1, description="most tokens generated per segment")
        max_input_tokens: int = Field(512, ge=16, description="documents are cut on paragraph boundaries into "
                                                              "segments of at most this many tokens")
        max_segments: int = Field(64, ge=1, description="documents needing more segments are left as they are "
                                                        "(counted as rephrase_too_long)")
        temperature: float = Field(0.0, ge=0.0, description="0 = greedy (deterministic)")
        top_p: float = Field(1.0, gt=0.0, le=1.0, description="nucleus sampling mass when temperature > 0")
        seed: int = Field(0, description="sampling seed (transformers: torch seed per batch; openai/vllm: sent)")
        chat: bool | None = Field(None, description="use the tokenizer's chat template: None = when it has one; "
                                                    "false = plain-text prompt for base models")
        model_batch_size: int = Field(8, ge=1, description="transformers: segments per generate() call")
        device: Literal["auto", "cpu", "cuda"] = Field("auto", description="transformers: auto = a GPU when torch "
                                                                           "sees one")
        dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
            "auto", description="transformers: auto = bf16 on GPUs that support it, else fp16; fp32 on CPU")
        base_url: str = Field("http://localhost:8000/v1", description="openai: server base URL (ends in /v1)")
        endpoint: Literal["chat", "completions"] = Field("chat", description="openai: chat (messages) or "
                                                                             "completions (plain-text prompt)")
        api_key_env: str | None = Field("OPENAI_API_KEY", description="openai: environment variable holding the "
                                                                      "API key (sent only when set)")
        request_concurrency: int = Field(8, ge=1, description="openai: requests in flight per worker")
        timeout_s: float = Field(300.0, gt=0, description="openai: per-request timeout in seconds")
        max_retries: int = Field(5, ge=0, description="openai: retries on 429/5xx/timeouts, backoff doubling")
        backoff_s: float = Field(1.0, ge=0, description="openai: first retry delay in seconds")
        tokenizer: str | None = Field(None, description="openai: tokenizer (tokenizer.json, folder or hub id) for "
                                                        "segment lengths; default: 4 characters per token")
        vllm_options: dict[str, Any] = Field(default_factory=dict, description="vllm: extra vllm.LLM arguments "
                                             "(tensor_parallel_size, max_model_len, gpu_memory_utilization …)")
        output: Literal["column", "replace", "new_documents"] = Field(
            "column", description="column: add <column>; replace: rephrasing becomes text, original in "
                                  "original_text; new_documents: add a synthetic document <id>#<prompt> per original")
        column: str = Field("rephrased", description="output: column — name of the added text column")
        select: Select | None = Field(None, description="only rephrase documents with {column, min, max}; the rest "
                                                        "pass through untouched")
        on_error: Literal["keep", "drop"] = Field("keep", description="failed/empty generations: keep the original "
                                                                      "text, or drop the document with a reason")

        @model_validator(mode="after")
        def _check_template(self):
            if self.prompt == "custom":
                prompt_template("custom", self.template, self.system_prompt)
            elif self.template is not None or self.system_prompt is not None:
                raise ValueError(f"rephrase: `template`/`system_prompt` are only used with prompt: custom "
                                 f"(prompt is {self.prompt!r}); drop them or set prompt: custom")
            return self

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        p = self.params
        self.template = prompt_template(p.prompt, p.template, p.system_prompt)
        self.adds = {"column": (p.column,), "replace": ("text", "original_text"),
                     "new_documents": ("synthetic", "rephrase_prompt")}[p.output]

    # -- setup -------------------------------------------------------------------------------------------------
    def setup(self) -> None:
        p = self.params
        if not p.model:
            raise ValueError("rephrase: set `model` (a hub id or local folder; for backend: openai the model name "
                             "the server serves)")
        self.backend = self.make_backend()

    def make_backend(self) -> Backend:
        p = self.params
        sampling = Sampling(p.max_new_tokens, p.temperature, p.top_p, p.seed)
        if p.backend == "openai":
            return OpenAIBackend(p.base_url, p.model, sampling, p.endpoint, p.api_key_env, p.request_concurrency,
                                 p.timeout_s, p.max_retries, p.backoff_s, p.tokenizer)
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
                raise KeyError(f"rephrase: select.column {s.column!r} is not in the input (columns: "
                               f"{table.column_names}); run the step that adds it (e.g. quality_buckets) first")
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
        return [pack_segments(doc, [next(counts) for _ in doc], limit, self.backend.count_tokens)
                for doc in paragraphs]

    def rephrase(self, texts: list[str]) -> tuple[list[str | None], list[str], dict[str, int]]:
        """(rephrased text or None, status per text: ok/empty/error/too_long, counters)."""
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
        generations: list[Generation] = self.backend.generate(self.template, [part for _, part in jobs])
        replies: list[list[str]] = [[] for _ in texts]
        counters = {"rephrase_segments": len(jobs), "rephrase_input_tokens": 0, "rephrase_output_tokens": 0}
        for (i, _), g in zip(jobs, generations):
            counters["rephrase_input_tokens"] += g.input_tokens
            counters["rephrase_output_tokens"] += g.output_tokens
            if g.text is None:
                status[i] = "error"
            else:
                cleaned = self.template.clean(g.text)
                if cleaned:
                    replies[i].append(cleaned)
        errors = [g.error for g in generations if g.text is None]
        if errors:  # the counters say how many; the log says why
            log.warning("rephrase: %d of %d segments failed (%s backend); first error: %s", len(errors), len(jobs),
                        self.params.backend, errors[0])
        out: list[str | None] = [None] * len(texts)
        for i, parts in enumerate(replies):
            if status[i] == "ok":
                if parts:
                    out[i] = "\n".join(parts)
                else:
                    status[i] = "empty"
        for name in ("empty", "error", "too_long"):
            counters[f"rephrase_{name}"] = status.count(name)
        counters["rephrase_documents"] = status.count("ok")
        return out, status, counters

    def process(self, table: pa.Table) -> pa.Table | StepOutput:
        p = self.params
        rows = np.flatnonzero(self.selected(table))
        texts = table.column("text").take(pa.array(rows, pa.int64())).to_pylist()
        replies, status, counters = self.rephrase([t or "" for t in texts])
        result: list[str | None] = [None] * table.num_rows
        reasons: list[str | None] = [None] * table.num_rows
        for row, reply, state in zip(rows.tolist(), replies, status):
            result[row] = reply
            if state in ("empty", "error") and p.on_error == "drop":
                reasons[row] = f"rephrase_{state}"
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

    def add_documents(self, table: pa.Table, rephrased: pa.Array, reasons: list[str | None]
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
        ids = pc.binary_join_element_wise(synth.column("id").cast(pa.string()), pa.scalar(self.template.name),
                                          pa.scalar("#"))
        for name, values in (("id", ids), ("text", rephrased.take(pa.array(done, pa.int64()))),
                             ("synthetic", pa.array([True] * k, pa.bool_())),
                             ("rephrase_prompt", pa.array([self.template.name] * k, pa.string()))):
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


__all__ = ["PROMPTS", "Rephrase", "Select"]

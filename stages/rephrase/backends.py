"""Where rephrasings come from: a local transformers model, an OpenAI-compatible server, or offline vLLM.

Every backend does two things for the ``rephrase`` step: ``count_tokens(texts)`` (to cut long documents into
segments) and ``generate(template, texts, on_result)`` -> one :class:`Generation` per text, in input order. A
backend never raises for a single failed text: the failure comes back as a Generation with ``error`` and ``kind``
set (after the backend's own retries), and the step decides what a failure means for the shard. ``on_result`` is
called with each result as it arrives (the step caches replies and counts failures there); when it returns False
the backend sends nothing more and answers the texts it has not started with kind ``cancelled``.

* :class:`TransformersBackend` — ``AutoModelForCausalLM``, batched ``generate`` with left padding, texts in length
  order to cut padding; GPU in bf16 when there is one (device/dtype picking shared with the classifiers).
* :class:`OpenAIBackend` — ``/v1/chat/completions`` or ``/v1/completions`` of any OpenAI-compatible server (vLLM
  ``serve``, TGI, SGLang, OpenAI) through the standard library, ``concurrency`` requests in flight, exponential
  backoff on 429 / 5xx / timeouts / lost connections / unreadable replies; failures carry a kind and a message
  saying what to do (401: which environment variable holds the key).
* :class:`VllmBackend` — ``vllm.LLM`` + ``SamplingParams`` in-process (imported only when chosen).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from curate.stages.rephrase.prompts import PromptTemplate

#: HTTP statuses worth retrying: rate limited, server overloaded or restarting
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
#: characters per token when no tokenizer is available (English BPE averages about 4)
CHARS_PER_TOKEN = 4.0
#: longest Retry-After a server can make us wait, in seconds
MAX_RETRY_AFTER_S = 60.0

#: kinds of failure a Generation can carry (the step counts them as ``rephrase_failed_<kind>``)
FAILURE_KINDS = (
    "http_401",
    "http_404",
    "http_429",
    "http_4xx",
    "http_5xx",
    "bad_response",
    "timeout",
    "connection",
    "model_error",
    "cancelled",
)
#: failures that every other request would meet too (credentials, wrong URL or model): stop at the first
FATAL_KINDS = frozenset({"http_401", "http_404"})
CANCELLED = "cancelled"


@dataclass(frozen=True)
class Generation:
    """One reply: the text (None when it failed), token counts, and for a failure its message and ``kind`` (one
    of :data:`FAILURE_KINDS`)."""

    text: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    error: str | None = None
    kind: str | None = None


#: called with (index of the text, its result) as each result arrives; False = send nothing more
OnResult = Callable[[int, Generation], bool]

NOT_SENT = Generation(None, error="not sent: the step stopped after earlier failures", kind=CANCELLED)


def report(on_result: OnResult | None, index: int, generation: Generation) -> bool:
    """Hand one result to ``on_result`` (when there is one); whether to go on."""
    return True if on_result is None else on_result(index, generation)


@dataclass(frozen=True)
class Sampling:
    """Decoding settings shared by the backends: greedy when ``temperature`` is 0."""

    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0


class Backend(Protocol):
    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def generate(
        self, template: PromptTemplate, texts: list[str], on_result: OnResult | None = None
    ) -> list[Generation]: ...


def estimate_tokens(texts: list[str]) -> list[int]:
    """Token counts estimated from characters (used only when no tokenizer is given)."""
    return [math.ceil(len(t) / CHARS_PER_TOKEN) for t in texts]


def load_token_counter(reference: str) -> Callable[[list[str]], list[int]]:
    """A token counter from a ``tokenizer.json`` file, a model folder or a hub id."""
    if reference.endswith(".json") and os.path.isfile(reference):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(reference)
        return lambda texts: [len(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=False)]
    from curate.classifiers.embedding_head import load_tokenizer

    hf = load_tokenizer(reference)
    return lambda texts: [len(ids) for ids in hf(texts, add_special_tokens=False)["input_ids"]] if texts else []


def render_chat(tokenizer: Any, template: PromptTemplate, text: str, chat: bool | None) -> tuple[str, bool]:
    """The prompt string for a Hugging Face tokenizer: its chat template when it has one (``chat`` None or True),
    else plain text. Returns (prompt, whether a chat template was applied). Chat templates that reject a system
    role (Gemma) get the system prompt folded into the user turn."""
    has_template = bool(getattr(tokenizer, "chat_template", None))
    if chat and not has_template:
        raise ValueError(
            "rephrase: chat: true, but the model's tokenizer has no chat template; set chat: false "
            "(plain-text prompt for base models) or use an instruction-tuned model"
        )
    if chat is False or not has_template:
        return template.plain(text), False
    messages = template.messages(text)
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True), True
    except Exception:  # noqa: BLE001 - jinja raises its own TemplateError for unsupported roles
        if len(messages) == 1:
            raise
        merged = [{"role": "user", "content": f"{messages[0]['content']}\n\n{messages[1]['content']}"}]
        return tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True), True


class TransformersBackend:
    """A causal LM from a local folder or the hub, generating in batches of ``batch_size`` with left padding."""

    def __init__(
        self,
        model: str,
        sampling: Sampling,
        batch_size: int = 8,
        device: str = "auto",
        dtype: str = "auto",
        chat: bool | None = None,
    ):
        import torch
        from transformers import AutoModelForCausalLM

        from curate.classifiers.embedding_head import load_pretrained, load_tokenizer
        from curate.classifiers.models import pick_device, pick_dtype

        self.torch = torch
        self.sampling, self.batch_size, self.chat = sampling, batch_size, chat
        self.device = pick_device(device)  # type: ignore[arg-type]
        source = os.path.expanduser(model) if os.path.exists(os.path.expanduser(model)) else model
        self.tokenizer = load_tokenizer(source)
        self.net = load_pretrained(AutoModelForCausalLM, source, pick_dtype(dtype, self.device))  # type: ignore
        self.net = self.net.to(self.device).eval()
        eos = self.tokenizer.eos_token_id
        if eos is None:
            eos = getattr(self.net.generation_config, "eos_token_id", None)
        self.eos_ids = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else (min(self.eos_ids) if self.eos_ids else 0)
        limit = getattr(self.net.config, "max_position_embeddings", None) or getattr(
            self.net.config, "n_positions", None
        )
        self.context = int(limit) if limit else None

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(ids) for ids in self.tokenizer(texts, add_special_tokens=False)["input_ids"]]

    def encode(self, template: PromptTemplate, text: str) -> list[int]:
        prompt, templated = render_chat(self.tokenizer, template, text, self.chat)
        return self.tokenizer(prompt, add_special_tokens=not templated)["input_ids"]

    def generate(
        self, template: PromptTemplate, texts: list[str], on_result: OnResult | None = None
    ) -> list[Generation]:
        results: list[Generation] = [NOT_SENT] * len(texts)
        encoded = [self.encode(template, t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))
        limit = self.context - self.sampling.max_new_tokens if self.context else None
        runnable = []
        going = True
        for i in order:
            if limit is not None and len(encoded[i]) > limit:
                results[i] = Generation(
                    None,
                    error=f"prompt of {len(encoded[i])} tokens leaves no room for "
                    f"max_new_tokens in the model's {self.context}-token context: "
                    f"lower max_input_tokens or max_new_tokens",
                    kind="model_error",
                )
                going = report(on_result, i, results[i]) and going
            else:
                runnable.append(i)
        for start in range(0, len(runnable), self.batch_size):
            if not going:
                break
            batch = runnable[start : start + self.batch_size]
            try:
                generations = self._generate_batch([encoded[i] for i in batch])
            except Exception as exc:  # noqa: BLE001 - out of memory, CUDA errors: the step decides what they mean
                generations = [Generation(None, error=f"{type(exc).__name__}: {exc}", kind="model_error")] * len(batch)
            for i, generation in zip(batch, generations):
                results[i] = generation
                going = report(on_result, i, generation) and going
        return results

    def _generate_batch(self, prompts: list[list[int]]) -> list[Generation]:
        torch, s = self.torch, self.sampling
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, p in enumerate(prompts):
            ids[row, width - len(p) :] = torch.tensor(p, dtype=torch.long)
            mask[row, width - len(p) :] = 1
        sample = s.temperature > 0
        options: dict[str, Any] = {"max_new_tokens": s.max_new_tokens, "do_sample": sample, "pad_token_id": self.pad_id}
        if sample:
            options.update(temperature=s.temperature, top_p=s.top_p)
            torch.manual_seed(s.seed)
        else:
            options.update(temperature=None, top_p=None, top_k=None)
        with torch.inference_mode():
            out = self.net.generate(input_ids=ids.to(self.device), attention_mask=mask.to(self.device), **options)
        generations = []
        for row, p in enumerate(prompts):
            tokens = out[row, width:].tolist()
            end = next((k for k, t in enumerate(tokens) if t in self.eos_ids), len(tokens))
            text = self.tokenizer.decode(tokens[:end], skip_special_tokens=True)
            generations.append(Generation(text, len(p), end))
        return generations


class RequestFailed(Exception):
    """One request's failure: its ``kind`` (one of :data:`FAILURE_KINDS`), whether another attempt may succeed, and
    how long the server asked us to wait first (Retry-After)."""

    def __init__(self, kind: str, message: str, retryable: bool = True, wait_s: float = 0.0):
        super().__init__(message)
        self.kind, self.retryable, self.wait_s = kind, retryable, wait_s


class OpenAIBackend:
    """Requests to an OpenAI-compatible server, ``concurrency`` at a time, in input order. The API key is read
    from the environment variable named by ``api_key_env`` (sent only when set; local servers need none; never
    part of a message: a server's error text is scrubbed of it)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        sampling: Sampling,
        endpoint: str = "chat",
        api_key_env: str | None = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout_s: float = 300.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        tokenizer: str | None = None,
    ):
        self.url = base_url.rstrip("/") + ("/chat/completions" if endpoint == "chat" else "/completions")
        self.model, self.sampling, self.endpoint = model, sampling, endpoint
        self.concurrency, self.timeout_s = concurrency, timeout_s
        self.max_retries, self.backoff_s = max_retries, backoff_s
        self.api_key_env = api_key_env
        self._key = os.environ.get(api_key_env) if api_key_env else None
        self._headers = {
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {self._key}"} if self._key else {}),
        }
        self._count = load_token_counter(tokenizer) if tokenizer else estimate_tokens

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self._count(texts)

    def payload(self, template: PromptTemplate, text: str) -> dict[str, Any]:
        s = self.sampling
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": s.max_new_tokens,
            "temperature": s.temperature,
            "top_p": s.top_p,
            "seed": s.seed,
        }
        if self.endpoint == "chat":
            body["messages"] = template.messages(text)
        else:
            body["prompt"] = template.plain(text)
        return body

    def generate(
        self, template: PromptTemplate, texts: list[str], on_result: OnResult | None = None
    ) -> list[Generation]:
        if not texts:
            return []
        stop = threading.Event()

        def one(i: int) -> Generation:
            if stop.is_set():
                return NOT_SENT
            generation = self.post(self.payload(template, texts[i]), stop)
            if generation.kind != CANCELLED and not report(on_result, i, generation):
                stop.set()
            return generation

        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(texts))) as pool:
            return list(pool.map(one, range(len(texts))))

    def post(self, body: dict[str, Any], stop: threading.Event | None = None) -> Generation:
        """POST ``body`` and read the completion, retrying retryable failures (429, 5xx, timeouts, lost connections,
        unreadable replies) with exponential backoff (``backoff_s`` doubling, at least what Retry-After asks);
        a failure comes back as a Generation with its kind. ``stop`` cuts the waiting between attempts short."""
        data = json.dumps(body).encode("utf-8")
        stop = stop or threading.Event()
        delay = self.backoff_s
        for attempt in range(1, self.max_retries + 2):
            try:
                return self.completion(self.request(data))
            except RequestFailed as exc:
                if not exc.retryable or attempt > self.max_retries:
                    tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                    return Generation(None, error=f"{exc}{tries}", kind=exc.kind)
                delay = max(delay, exc.wait_s)
            if stop.wait(delay):
                return NOT_SENT
            delay *= 2
        raise AssertionError("unreachable")

    def request(self, data: bytes) -> bytes:
        """One POST; the body of a 2xx reply, or :class:`RequestFailed` saying what went wrong."""
        request = urllib.request.Request(self.url, data=data, headers=self._headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            raise self.http_failure(exc) from None
        except TimeoutError:
            raise self.timeout() from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self.timeout() from None
            raise RequestFailed(
                "connection",
                f"cannot connect to {self.url} ({exc.reason}): is the server running and is base_url right?",
            ) from None
        except (OSError, http.client.HTTPException) as exc:  # reset, closed without a reply, truncated body
            raise RequestFailed("connection", f"connection to {self.url} lost ({type(exc).__name__}: {exc})") from None

    def timeout(self) -> RequestFailed:
        return RequestFailed(
            "timeout",
            f"no reply from {self.url} within timeout_s={self.timeout_s:g} s: raise "
            f"timeout_s, or lower request_concurrency or max_new_tokens",
        )

    def http_failure(self, exc: urllib.error.HTTPError) -> RequestFailed:
        """What an HTTP error status means, with what to do about it."""
        code = exc.code
        detail = self.scrub(exc.read()[:300].decode("utf-8", "replace").strip())
        said = f" (server said: {detail})" if detail else ""
        if code in (401, 403):
            env = self.api_key_env
            if not env:
                hint = "no API key was sent: set api_key_env to the environment variable holding it"
            elif self._key:
                hint = f"check the API key in the environment variable {env}"
            else:
                hint = f"no API key was sent: the environment variable {env} is not set"
            return RequestFailed("http_401", f"HTTP {code} from {self.url}: {hint}{said}", retryable=False)
        if code == 404:
            return RequestFailed(
                "http_404",
                f"HTTP 404 from {self.url}: check base_url (it ends in /v1) and that "
                f"the server serves model {self.model!r}{said}",
                retryable=False,
            )
        retry_after = exc.headers.get("Retry-After") if exc.headers else None
        wait_s = min(float(retry_after), MAX_RETRY_AFTER_S) if retry_after and retry_after.isdigit() else 0.0
        if code == 429:
            return RequestFailed(
                "http_429",
                f"HTTP 429 (rate limited) from {self.url}: lower request_concurrency "
                f"or raise max_retries / backoff_s{said}",
                wait_s=wait_s,
            )
        if code >= 500:
            return RequestFailed(
                "http_5xx", f"HTTP {code} from {self.url}: the server failed; see its log{said}", wait_s=wait_s
            )
        return RequestFailed(
            "http_4xx", f"HTTP {code} from {self.url}{said}", retryable=code in RETRY_STATUS, wait_s=wait_s
        )

    def completion(self, raw: bytes) -> Generation:
        """The generated text and token counts of an OpenAI-style reply body."""
        try:
            reply = json.loads(raw)
            choice = reply["choices"][0]
            content = choice["message"].get("content") if self.endpoint == "chat" else choice.get("text")
            if content is not None and not isinstance(content, str):
                raise TypeError(f"content is a {type(content).__name__}")
            usage = reply.get("usage") or {}
            return Generation(
                content or "", int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
            )
        except (ValueError, LookupError, TypeError, AttributeError) as exc:
            excerpt = self.scrub(raw[:200].decode("utf-8", "replace"))
            raise RequestFailed(
                "bad_response",
                f"the reply from {self.url} is not an OpenAI-compatible "
                f"{self.endpoint} completion ({type(exc).__name__}: {exc}; it "
                f"starts {excerpt!r}): is base_url an OpenAI-compatible /v1?",
            ) from None

    def scrub(self, text: str) -> str:
        """``text`` without the API key (servers echo rejected keys in their error messages)."""
        return text.replace(self._key, "***") if self._key else text


class VllmBackend:
    """An in-process ``vllm.LLM`` (one GPU, or ``tensor_parallel_size`` in ``options``); vLLM batches itself."""

    def __init__(self, model: str, sampling: Sampling, chat: bool | None = None, options: dict | None = None):
        try:
            import vllm
        except ImportError as exc:
            raise ImportError(
                "rephrase: backend: vllm needs the `vllm` package, which is not installed. Install it "
                "on the GPU machine (`pip install vllm`), or use backend: openai against a `vllm "
                "serve` endpoint, or backend: transformers."
            ) from exc
        self.llm = vllm.LLM(**{"model": model, "seed": sampling.seed, **(options or {})})
        self.params = vllm.SamplingParams(
            max_tokens=sampling.max_new_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            seed=sampling.seed,
        )
        self.tokenizer = self.llm.get_tokenizer()
        self.chat = chat

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(self.tokenizer.encode(t, add_special_tokens=False)) for t in texts]

    def generate(
        self, template: PromptTemplate, texts: list[str], on_result: OnResult | None = None
    ) -> list[Generation]:
        if not texts:
            return []
        use_chat = self.chat is not False and bool(getattr(self.tokenizer, "chat_template", None))
        if self.chat and not use_chat:
            raise ValueError("rephrase: chat: true, but the model's tokenizer has no chat template; set chat: false")
        try:
            if use_chat:  # vLLM applies the chat template itself (no doubled BOS)
                outputs = self.llm.chat([template.messages(t) for t in texts], self.params, use_tqdm=False)
            else:
                outputs = self.llm.generate([template.plain(t) for t in texts], self.params, use_tqdm=False)
        except Exception as exc:  # noqa: BLE001 - the step decides what a failure means for the shard
            results = [Generation(None, error=f"{type(exc).__name__}: {exc}", kind="model_error")] * len(texts)
        else:
            results = [
                Generation(
                    o.outputs[0].text if o.outputs else "",
                    len(o.prompt_token_ids or []),
                    len(o.outputs[0].token_ids) if o.outputs else 0,
                )
                for o in outputs
            ]
        for i, generation in enumerate(results):
            report(on_result, i, generation)
        return results

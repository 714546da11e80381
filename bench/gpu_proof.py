"""GPU proof: the classifier, embedding and rephrasing paths run on a real GPU, with their throughput.

Everything is built here from configs, offline (no hub, no network), with random weights, which do not change the
cost of a forward pass:

* tokenizer: a word-level tokenizer over a pseudo-word vocabulary, and documents drawn from it with a web-like
  length spread (log-normal word counts, median ``--median-words``, some far beyond the 512-token cut), so token
  counts are known and sorting by length has the padding to save that it has on real crawls;
* ``hf_classifier``: a NeMo Curator-layout classifier (curate.classifiers.layouts: a DeBERTa-v3-base-shaped backbone
  — 12 layers, 768 wide, relative positions; a 32,000-word vocabulary where the real one has 128,100: embedding
  rows cost memory, not time — plus an ``fc`` head of 3 labels, as nvidia/quality-classifier-deberta)
  saved as the hub lays it out and loaded by the step; docs/s on GPU in bf16 with length-sorted and unsorted
  mini-batches, GPU memory peak, and the same step on this machine's CPUs in fp32 (fewer documents);
* embedding: curate.classifiers.embedding_head.Embedder, the encoder ``semantic_dedup`` embeds with (mean pooled,
  L2-normalised), on an all-MiniLM-L6-v2-shaped BERT (6 layers, 384 wide, 256 tokens): docs/s on GPU;
* ``rephrase``: a ~0.5B-parameter Qwen2-shaped causal LM (28 layers, 1024 wide, GQA 16/8 heads) through the
  step's ``VllmBackend`` (offline ``vllm.LLM``), and through its ``OpenAIBackend`` against a ``vllm serve`` this
  script starts on 127.0.0.1: output tokens/s (greedy, ``--max-new-tokens`` per document, WRAP's Wikipedia-style
  prompt on plain prompts: the random model has no chat template); and through the step's own
  ``TransformersBackend`` in bf16 on the GPU (batched ``generate``, the backend without vLLM). ``--cpu-smoke`` sends
  a toy LM of the same folder layout through that backend on CPU.

Without CUDA, or without vLLM, the parts that need them are skipped with the reason printed and their RESULT keys
say ``skipped``: no GPU figure is ever printed that did not come from a GPU. ``--cpu-smoke`` runs the CPU parts at
toy sizes (a test runs it). The last line is
``RESULT gpu_proof classifier_docs_s=… classifier_vs_cpu=… embed_docs_s=… vllm_tokens_s=… server_tokens_s=…
transformers_tokens_s=… device=…``. A part that fails prints its traceback and is listed in ``skipped=`` with the
error; the other parts still run.

    .venv/bin/python bench/gpu_proof.py --cpu-smoke          # here: CPU parts at toy sizes, GPU parts skipped
    python3 bench/gpu_proof.py                               # on a GPU machine (README, Benchmarks: the command)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@dataclass(frozen=True)
class Sizes:
    """Model shapes and document counts: the proof's (DeBERTa-v3-base, MiniLM, ~0.5B LM) or the smoke test's."""

    vocab_words: int
    deberta: dict
    encoder: dict
    lm: dict


FULL = Sizes(
    vocab_words=32_000 - len(SPECIALS),
    deberta=dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
    encoder=dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536),
    lm=dict(
        hidden_size=1024,
        num_hidden_layers=28,
        num_attention_heads=16,
        num_key_value_heads=8,
        intermediate_size=4096,
    ),
)
SMOKE = Sizes(
    vocab_words=2_000 - len(SPECIALS),
    deberta=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64),
    encoder=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64),
    lm=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2, intermediate_size=64),
)


def say(message: str) -> None:
    print(message, flush=True)


def build_tokenizer(folder: Path, words: int) -> list[str]:
    """A word-level tokenizer (``[CLS] … [SEP]`` framing) saved in ``folder``; returns its pseudo-words."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    rng = np.random.default_rng(7)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab_words: list[str] = []
    seen: set[str] = set()
    while len(vocab_words) < words:
        word = "".join(rng.choice(letters, size=int(rng.integers(2, 10))))
        if word not in seen:
            seen.add(word)
            vocab_words.append(word)
    vocab = {token: i for i, token in enumerate(SPECIALS + vocab_words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        eos_token="[SEP]",
        model_max_length=512,
    ).save_pretrained(str(folder))
    return vocab_words


def make_documents(words: list[str], n: int, median_words: int, seed: int = 0) -> list[str]:
    """``n`` texts of Zipf-distributed words, log-normal lengths (sigma 1: a tenth under a third of the median, a
    tenth over 3.6 times it), at least 5 and at most 4,000 words."""
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, len(words) + 1)
    p = 1.0 / ranks
    p /= p.sum()
    lengths = np.clip(rng.lognormal(np.log(median_words), 1.0, size=n), 5, 4000).astype(int)
    vocab = np.asarray(words)
    return [" ".join(vocab[rng.choice(len(words), size=int(k), p=p)]) for k in lengths]


def save_tokenizer_copy(source: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (source / name).exists():
            (folder / name).write_bytes((source / name).read_bytes())


def build_classifier(folder: Path, tokenizer: Path, sizes: Sizes, vocab: int) -> Path:
    """A DeBERTa-v3-shaped classifier in NeMo Curator's hub layout: config.json (base_model, fc_dropout, labels),
    model.safetensors (``model.*``, ``fc.*``), the tokenizer, and the backbone's config in ``base/``."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModel

    from curate.classifiers.layouts import deberta_v3_config

    backbone = deberta_v3_config(vocab, **sizes.deberta)
    (folder / "base").mkdir(parents=True, exist_ok=True)
    backbone.save_pretrained(str(folder / "base"))
    torch.manual_seed(0)
    net = torch.nn.ModuleDict(
        {"model": AutoModel.from_config(backbone), "fc": torch.nn.Linear(backbone.hidden_size, 3)}
    )
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(folder / "model.safetensors"))
    labels = ["High", "Medium", "Low"]
    config = {
        "base_model": "base",
        "fc_dropout": 0.2,
        "id2label": {str(i): label for i, label in enumerate(labels)},
        "label2id": {label: i for i, label in enumerate(labels)},
        "model_type": "deberta-v2",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    save_tokenizer_copy(tokenizer, folder)
    return folder


def build_encoder(folder: Path, tokenizer: Path, sizes: Sizes, vocab: int) -> Path:
    """An all-MiniLM-L6-v2-shaped BertModel with a sentence-transformers max_seq_length of 256 and Normalize."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(1)
    BertModel(BertConfig(vocab_size=vocab, max_position_embeddings=512, **sizes.encoder)).save_pretrained(str(folder))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 256}))
    (folder / "modules.json").write_text(json.dumps([{"type": "sentence_transformers.models.Normalize"}]))
    save_tokenizer_copy(tokenizer, folder)
    return folder


def build_causal_lm(folder: Path, tokenizer: Path, sizes: Sizes, vocab: int, device: str) -> tuple[Path, int]:
    """A Qwen2-shaped causal LM in bf16 (random weights) saved with the tokenizer; returns (folder, parameters)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=vocab,
        max_position_embeddings=4096,
        tie_word_embeddings=False,
        bos_token_id=SPECIALS.index("[CLS]"),
        eos_token_id=SPECIALS.index("[SEP]"),
        pad_token_id=0,
        **sizes.lm,
    )
    torch.manual_seed(2)
    with torch.device(device):
        model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(str(folder))
    del model
    save_tokenizer_copy(tokenizer, folder)
    return folder, params


def classifier_rate(
    model: Path, docs: list[str], device: str, batch: int, sort: bool, repeats: int, dtype: str = "auto"
) -> tuple:
    """(docs/s best of ``repeats``, the step, its output) for hf_classifier on ``docs``."""
    import pyarrow as pa

    from curate.classifiers import HfClassifier

    step = HfClassifier(
        model=str(model),
        column="q",
        device=device,
        dtype=dtype,
        model_batch_size=batch,
        sort_by_length=sort,
        max_length=512,
    )
    step.ensure_setup()
    table = pa.table({"id": [str(i) for i in range(len(docs))], "text": docs})
    step(table.slice(0, min(len(docs), batch)))  # warm-up: kernels, allocator
    best, out = float("inf"), None
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        out = step(table)
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return len(docs) / best, step, out


def sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rephrase_rate(backend, docs: list[str], label: str) -> float:
    """Output tokens/s of ``backend.generate`` over ``docs`` (WRAP Wikipedia prompt), printed with ``label``; a
    failed generation is an error naming the first one."""
    from curate.stages.rephrase.prompts import prompt_template

    template = prompt_template("wikipedia")
    backend.generate(template, docs[:2])  # warm-up
    t0 = time.perf_counter()
    results = backend.generate(template, docs)
    elapsed = time.perf_counter() - t0
    tokens = sum(g.output_tokens for g in results if g.error is None)
    say(f"rephrase via {label}: {tokens} tokens, {tokens / elapsed:.1f} tokens/s")
    failed = [g for g in results if g.error is not None]
    if failed:
        raise RuntimeError(
            f"{len(failed)} of {len(docs)} generations failed, first: {failed[0].kind}: {failed[0].error}"
        )
    return tokens / elapsed


def start_server(model: Path, port: int, log: Path, args: argparse.Namespace) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model),
        "--served-model-name",
        "proof",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--max-model-len",
        str(args.max_model_len),
        "--gpu-memory-utilization",
        str(args.gpu_memory_utilization),
        "--seed",
        "0",
        *(["--enforce-eager"] if args.vllm_eager else []),
    ]
    say(f"  starting: {' '.join(command)}")
    return subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=False)


def wait_ready(server: subprocess.Popen, port: int, timeout_s: float) -> bool:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if server.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=5) as reply:
                if reply.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(2)
    return False


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def fmt(value: float | None, digits: int = 1) -> str:
    return "skipped" if value is None else f"{value:.{digits}f}"


#: the RESULT line's GPU figures, in order: each is ``skipped`` unless its part ran on CUDA
FIGURES = (
    "classifier_docs_s",
    "classifier_vs_cpu",
    "embed_docs_s",
    "vllm_tokens_s",
    "server_tokens_s",
    "transformers_tokens_s",
)


@dataclass
class Proof:
    """What the run found: the RESULT figures (None until a part measures it on CUDA), extra keys, and each part
    that did not run with the reason."""

    cuda: bool
    figures: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(FIGURES))
    extra: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def skip(self, part: str, why: str) -> None:
        self.skipped.setdefault(part, why)

    def attempt(self, part: str, measure, *args) -> None:
        """Run one part; a failure is printed with its traceback and recorded, and the other parts still run."""
        t0 = time.perf_counter()
        try:
            measure(self, *args)
        except Exception as exc:  # noqa: BLE001 - one broken part must not cost the others their device time
            traceback.print_exc()
            self.skip(part, f"failed: {type(exc).__name__}: {exc}".splitlines()[0])
            say(f"FAILED {part}: {self.skipped[part]}")
        say(f"  [{part}: {time.perf_counter() - t0:.1f} s]")
        gc.collect()
        if self.cuda:
            import torch

            torch.cuda.empty_cache()

    def result_line(self, device: str) -> str:
        parts = " ".join(f"{k}={fmt(v, 2 if k == 'classifier_vs_cpu' else 1)}" for k, v in self.figures.items())
        rest = " ".join(f"{k}={v}" for k, v in self.extra.items())
        return f"RESULT gpu_proof {parts} device={device} {rest} skipped={','.join(self.skipped) or 'none'}"


def measure_classifier(proof: Proof, clf: Path, docs: list[str], args: argparse.Namespace) -> None:
    """hf_classifier: fp32 on the CPUs, then bf16 on the GPU with length-sorted and unsorted mini-batches."""
    cpu_docs = docs[: args.cpu_docs]
    cpu_rate, cpu_step, cpu_out = classifier_rate(clf, cpu_docs, "cpu", args.cpu_batch_size, True, 1)
    say(f"classifier CPU ({cpu_step.scorer.dtype}, {len(cpu_docs)} docs, sorted): {cpu_rate:.1f} docs/s")
    proof.extra["cpu_classifier_docs_s"] = f"{cpu_rate:.1f}"
    del cpu_step
    if not proof.cuda:
        return
    import torch

    _, step, exact = classifier_rate(clf, cpu_docs, "cuda", args.cpu_batch_size, True, 1, dtype="float32")
    agree = np.mean(np.asarray(exact["q_label"]) == np.asarray(cpu_out["q_label"]))
    diff = np.max(np.abs(np.asarray(exact["q"]) - np.asarray(cpu_out["q"])))
    say(f"  fp32 GPU vs fp32 CPU on {len(cpu_docs)} docs: labels agree {agree:.3f}, max |Δp| {diff:.2e}")
    proof.extra["fp32_gpu_vs_cpu_max_dp"] = f"{diff:.1e}"
    del step, exact
    gc.collect()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    rates = {}
    for sort in (True, False):
        rate, step, out = classifier_rate(clf, docs, "cuda", args.batch_size, sort, args.repeats)
        rates[sort] = rate
        say(f"classifier GPU ({step.scorer.dtype}, {'sorted' if sort else 'unsorted'}): {rate:.1f} docs/s")
        head = out.slice(0, len(cpu_docs))
        agree = np.mean(np.asarray(head["q_label"]) == np.asarray(cpu_out["q_label"]))
        diff = np.max(np.abs(np.asarray(head["q"]) - np.asarray(cpu_out["q"])))
        say(f"  bf16 GPU vs fp32 CPU on {len(cpu_docs)} docs: labels agree {agree:.3f}, max |Δp| {diff:.4f}")
        proof.extra[f"{'sorted' if sort else 'unsorted'}_label_agreement"] = f"{agree:.3f}"
        del step
    peak = torch.cuda.max_memory_allocated() / 2**30
    proof.figures["classifier_docs_s"] = rates[True]
    proof.figures["classifier_vs_cpu"] = rates[True] / cpu_rate
    proof.extra["classifier_unsorted_docs_s"] = f"{rates[False]:.1f}"
    proof.extra["sorted_speedup"] = f"{rates[True] / rates[False]:.2f}"
    proof.extra["gpu_peak_gib"] = f"{peak:.2f}"
    say(
        f"classifier: sorted/unsorted {rates[True] / rates[False]:.2f}x, "
        f"GPU/CPU {rates[True] / cpu_rate:.1f}x, GPU memory peak {peak:.2f} GiB"
    )


def measure_embedding(proof: Proof, encoder: Path, docs: list[str], args: argparse.Namespace) -> None:
    """semantic_dedup's encoder (mean pooled, L2-normalised) on the CPUs and on the GPU."""
    from curate.classifiers.embedding_head import Embedder
    from curate.classifiers.models import pick_dtype

    for device in ["cpu"] + (["cuda"] if proof.cuda else []):
        n = args.cpu_docs if device == "cpu" else len(docs)
        batch = args.cpu_batch_size if device == "cpu" else args.batch_size
        embedder = Embedder(encoder, device, pick_dtype("auto", device), normalize=True)
        # warm-up on every mini-batch shape (each new width loads kernels once), then the best of --repeats
        vectors = embedder.embed(docs[:n], batch) if device == "cuda" else embedder.embed(docs[:batch], batch)
        best = float("inf")
        for _ in range(args.repeats if device == "cuda" else 1):
            sync(device)
            t0 = time.perf_counter()
            vectors = embedder.embed(docs[:n], batch)
            sync(device)
            best = min(best, time.perf_counter() - t0)
        rate = n / best
        norms = np.linalg.norm(vectors, axis=1)
        say(
            f"embedding {device} ({embedder.model.dtype}, {embedder.max_length} tokens, dim {vectors.shape[1]}, "
            f"|v| {norms.mean():.3f}): {rate:.1f} docs/s"
        )
        if device == "cuda":
            proof.figures["embed_docs_s"] = rate
        else:
            proof.extra["cpu_embed_docs_s"] = f"{rate:.1f}"
        del embedder


def measure_transformers(proof: Proof, lm: Path, lm_docs: list[str], sampling, args: argparse.Namespace) -> None:
    """rephrase's transformers backend: bf16 on the GPU (batches of ``--lm-batch-size``), fp32 on CPU in the smoke."""
    from curate.stages.rephrase.backends import TransformersBackend

    device = "cuda" if proof.cuda else "cpu"
    batch = args.lm_batch_size if proof.cuda else 4
    local = TransformersBackend(str(lm), sampling, batch_size=batch, device=device, dtype="auto", chat=False)
    docs = lm_docs[: args.hf_lm_docs] if proof.cuda else lm_docs
    rate = rephrase_rate(local, docs, f"transformers on {device} ({local.net.dtype}, batch {batch})")
    if proof.cuda:
        proof.figures["transformers_tokens_s"] = rate
    else:
        proof.extra["cpu_transformers_tokens_s"] = f"{rate:.1f}"


def measure_server(proof: Proof, lm: Path, lm_docs: list[str], sampling, args: argparse.Namespace) -> None:
    """rephrase's OpenAI-compatible backend against a ``vllm serve`` started here on 127.0.0.1."""
    from curate.stages.rephrase.backends import OpenAIBackend

    port = free_port()
    log = Path(args.workdir or tempfile.gettempdir()) / f"vllm_serve_{port}.log"
    server = start_server(lm, port, log, args)
    try:
        if not wait_ready(server, port, args.server_timeout):
            tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-30:])
            raise RuntimeError("the server did not answer in time or exited; its log ends:\n" + tail)
        backend = OpenAIBackend(
            f"http://127.0.0.1:{port}/v1",
            "proof",
            sampling,
            endpoint="completions",
            api_key_env=None,
            concurrency=args.concurrency,
            timeout_s=600,
        )
        label = f"vllm serve (OpenAI backend, {args.concurrency} in flight)"
        proof.figures["server_tokens_s"] = rephrase_rate(backend, lm_docs, label)
    finally:
        stop(server)
        log.unlink(missing_ok=True)


def measure_vllm(proof: Proof, lm: Path, lm_docs: list[str], sampling, args: argparse.Namespace) -> None:
    """rephrase's VllmBackend: an offline ``vllm.LLM`` in this process."""
    from curate.stages.rephrase.backends import VllmBackend

    backend = VllmBackend(
        str(lm),
        sampling,
        chat=False,
        options={
            "max_model_len": args.max_model_len,
            "gpu_memory_utilization": args.gpu_memory_utilization,
            "enforce_eager": args.vllm_eager,
        },
    )
    proof.figures["vllm_tokens_s"] = rephrase_rate(backend, lm_docs, "vLLM offline")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu-smoke", action="store_true", help="toy sizes; GPU parts skipped without CUDA")
    parser.add_argument("--docs", type=int, default=4096, help="documents per GPU classifier / embedding run")
    parser.add_argument("--cpu-docs", type=int, default=128, help="documents of the CPU classifier baseline")
    parser.add_argument("--median-words", type=int, default=350, help="median words (= tokens) per document")
    parser.add_argument("--batch-size", type=int, default=256, help="texts per forward pass on GPU")
    parser.add_argument("--cpu-batch-size", type=int, default=32, help="texts per forward pass on CPU")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per mode (best is reported)")
    parser.add_argument("--lm-docs", type=int, default=512, help="documents rephrased per vLLM backend")
    parser.add_argument("--hf-lm-docs", type=int, default=256, help="documents rephrased by the transformers backend")
    parser.add_argument("--lm-batch-size", type=int, default=128, help="prompts per transformers generate() on GPU")
    parser.add_argument("--lm-words", type=int, default=300, help="words per rephrased document (at most)")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="tokens generated per document")
    parser.add_argument("--max-model-len", type=int, default=2048)
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.45)
    parser.add_argument("--concurrency", type=int, default=128, help="requests in flight to vllm serve")
    parser.add_argument("--vllm-eager", action="store_true", help="vLLM without CUDA graphs / compile (faster start)")
    parser.add_argument("--skip-vllm", action="store_true", help="skip both vLLM measurements")
    parser.add_argument("--server-timeout", type=float, default=420.0, help="seconds to wait for vllm serve")
    parser.add_argument("--workdir", default=None, help="where the models are written (default: a temporary dir)")
    args = parser.parse_args(argv)
    if args.cpu_smoke:
        args.docs, args.cpu_docs, args.lm_docs, args.repeats = 12, 12, 2, 1
        args.median_words, args.batch_size, args.cpu_batch_size, args.max_new_tokens = 40, 8, 8, 8
    sizes = SMOKE if args.cpu_smoke else FULL

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()
    proof = Proof(cuda=torch.cuda.is_available())
    device_name = torch.cuda.get_device_name(0).replace(" ", "_") if proof.cuda else "cpu"
    if not proof.cuda:
        for part in ("classifier_gpu", "embed_gpu", "transformers_gpu", "vllm_offline", "vllm_serve"):
            proof.skip(part, "no CUDA device (torch.cuda.is_available() is False)")
    try:
        import vllm  # noqa: F401
    except ImportError as exc:
        for part in ("vllm_offline", "vllm_serve"):
            proof.skip(part, f"vLLM is not installed ({exc}); `pip install vllm` on the GPU machine")
    if args.skip_vllm:
        for part in ("vllm_offline", "vllm_serve"):
            proof.skip(part, "--skip-vllm")
    say(
        f"torch {torch.__version__} (CUDA {torch.version.cuda}), transformers {transformers.__version__}, "
        f"GPU {'yes: ' + torch.cuda.get_device_name(0) if proof.cuda else 'no'}, {os.cpu_count()} CPUs, "
        f"torch threads {torch.get_num_threads()}; sizes: {'smoke' if args.cpu_smoke else 'full'}"
    )
    for part, why in proof.skipped.items():
        say(f"SKIP {part}: {why}")

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        root = Path(tmp)
        words = build_tokenizer(root / "tokenizer", sizes.vocab_words)
        vocab = len(SPECIALS) + len(words)
        docs = make_documents(words, args.docs, args.median_words)
        lengths = np.array([min(len(d.split()) + 2, 512) for d in docs])
        say(
            f"documents: {len(docs)}, tokens (cut at 512): median {int(np.median(lengths))}, p10 "
            f"{int(np.percentile(lengths, 10))}, p90 {int(np.percentile(lengths, 90))}, at the cut "
            f"{np.mean(lengths >= 512):.0%}"
        )
        t0 = time.perf_counter()
        clf = build_classifier(root / "quality-classifier-deberta", root / "tokenizer", sizes, vocab)
        say(f"classifier built ({time.perf_counter() - t0:.1f} s): NeMo Curator layout, {sizes.deberta}")
        proof.attempt("classifier_gpu", measure_classifier, clf, docs, args)
        encoder = build_encoder(root / "minilm-shaped", root / "tokenizer", sizes, vocab)
        proof.attempt("embed_gpu", measure_embedding, encoder, docs, args)

        from curate.stages.rephrase.backends import Sampling

        sampling = Sampling(max_new_tokens=args.max_new_tokens, temperature=0.0)
        lm_docs = [" ".join(d.split()[: args.lm_words]) for d in docs[: args.lm_docs]]
        lm, params = build_causal_lm(root / "lm", root / "tokenizer", sizes, vocab, "cuda" if proof.cuda else "cpu")
        say(f"causal LM built: Qwen2-shaped, {params / 1e6:.1f}M parameters, bf16")
        proof.extra["lm_params_m"] = f"{params / 1e6:.1f}"
        if proof.cuda or args.cpu_smoke:  # the folder vLLM loads, through the step's own transformers backend
            proof.attempt("transformers_gpu", measure_transformers, lm, lm_docs, sampling, args)
        if "vllm_serve" not in proof.skipped:  # the server first (its own process), then offline in this one
            proof.attempt("vllm_serve", measure_server, lm, lm_docs, sampling, args)
        if "vllm_offline" not in proof.skipped:
            proof.attempt("vllm_offline", measure_vllm, lm, lm_docs, sampling, args)

    # a GPU figure only from a GPU: every figure is None unless its part ran on CUDA
    say(proof.result_line(device_name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``rephrase`` step: a tiny random GPT-2 through the transformers backend (on real pages of the sample WARC),
the OpenAI-compatible backend against a stub server on 127.0.0.1 (including every way it can fail, and `curate run`
failing then resuming against it), the vLLM backend's missing-package error, and the Nemotron-CC-style recipe
validating without models."""

from __future__ import annotations

import json
import random
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import curate
from curate.pipeline import check_inputs, plan_steps
from curate.recipe import load_recipe
from curate.stages import Rephrase
from curate.stages.rephrase.backends import load_token_counter, render_chat
from curate.stages.rephrase.prompts import PROMPTS
from curate.stages.rephrase.stage import RephraseFailed, pack_segments, split_paragraphs

REPO = Path(__file__).resolve().parents[1]
TOKENIZER = REPO / "curate" / "data" / "tokenizer.json"
SAMPLE = REPO / "curate" / "data" / "sample.warc.gz"


@pytest.fixture(autouse=True)
def reply_cache(tmp_path, monkeypatch) -> Path:
    """Each test's own reply cache ($CURATE_CACHE/rephrase), never the user's."""
    monkeypatch.setenv("CURATE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "rephrase"


@pytest.fixture(scope="module")
def pages() -> pa.Table:
    """Twelve English article pages of the sample WARC (id, text, url, date, source), with a score column."""
    from curate.stages import read_warc

    docs = read_warc(str(SAMPLE))
    lengths = np.array([len(t or "") for t in docs.column("text").to_pylist()])
    docs = docs.filter(pa.array(lengths > 400)).slice(0, 12)
    return docs.append_column("bucket", pa.array(list(range(docs.num_rows)), pa.int32()))


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory) -> Path:
    """A 1-layer, 32-wide random GPT-2 with the project's byte-level BPE (2048 tokens), saved as a HF folder. The
    end-of-text embedding is zeroed so greedy decoding never stops early (every generation has max_new_tokens)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("lm")
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(TOKENIZER), eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=2048, n_embd=32, n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0
    )
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config)
    with torch.no_grad():
        model.transformer.wte.weight[0] = 0
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


def lm_step(tiny_lm: Path, **params) -> Rephrase:
    """The tiny model, generating every time (no reply cache unless ``cache`` says so)."""
    return Rephrase(
        model=str(tiny_lm),
        **{"max_new_tokens": 6, "max_input_tokens": 96, "model_batch_size": 4, "cache": False, **params},
    )


# -- transformers backend ----------------------------------------------------------------------------------------
def test_transformers_rephrases_every_page_deterministically_by_segments(pages, tiny_lm):
    first = lm_step(tiny_lm).run_table(pages)
    again = lm_step(tiny_lm).run_table(pages)
    out = first.kept
    assert out.num_rows == pages.num_rows and first.rejected is None
    assert out.column_names == [*pages.column_names, "rephrased"]
    assert out.schema.field("rephrased").type == pa.string()
    rephrased = out.column("rephrased").to_pylist()
    assert all(isinstance(r, str) and r.strip() for r in rephrased)
    assert rephrased == again.kept.column("rephrased").to_pylist()
    assert out.column("text").to_pylist() == pages.column("text").to_pylist()
    c = first.counters
    # pages of a few hundred words need several 96-token segments each; every segment got 6 new tokens
    assert c["rephrase_segments"] > 2 * pages.num_rows
    assert c["rephrase_output_tokens"] == 6 * c["rephrase_segments"]
    assert c["rephrase_input_tokens"] > 96 * pages.num_rows
    assert c["rephrase_documents"] == pages.num_rows and c["rephrase_failed"] == c["rephrase_empty"] == 0
    assert c == again.counters
    # a segment's reply per segment: joined by line breaks
    assert all(r.count("\n") >= 1 for r in rephrased)


def test_a_local_model_failure_fails_the_batch_with_what_to_change(pages, tiny_lm):
    with pytest.raises(RephraseFailed) as error:
        lm_step(tiny_lm, max_new_tokens=2000).run_table(pages.slice(0, 3))
    message = str(error.value)
    assert "3 of 3 documents of a batch failed" in message and "model_error x" in message
    assert "leaves no room for max_new_tokens in the model's 2048-token context: lower max_input_tokens" in message


def test_segments_stay_under_the_token_limit_and_keep_paragraph_order(pages):
    count = load_token_counter(str(TOKENIZER))
    text = pages.column("text")[0].as_py() + "\n" + " ".join(["overlong"] * 500)
    paragraphs = split_paragraphs(text)
    segments = pack_segments(paragraphs, count(paragraphs), 64, count)
    assert len(segments) > 5
    assert max(count(segments)) <= 64
    assert " ".join(" ".join(segments).split()) == " ".join(" ".join(paragraphs).split())


def test_select_leaves_other_documents_untouched(pages, tiny_lm):
    out = lm_step(tiny_lm, select={"column": "bucket", "min": 3, "max": 5}).run_table(pages)
    rephrased = out.kept.column("rephrased").to_pylist()
    assert [i for i, r in enumerate(rephrased) if r is not None] == [3, 4, 5]
    assert out.counters["rephrase_documents"] == 3
    replaced = lm_step(tiny_lm, select={"column": "bucket", "min": 10}, output="replace").run_table(pages).kept
    texts, before = replaced.column("text").to_pylist(), pages.column("text").to_pylist()
    assert texts[:10] == before[:10] and texts[10:] != before[10:]
    assert replaced.column("original_text").to_pylist() == [None] * 10 + before[10:]


def test_new_documents_follow_their_originals(pages, tiny_lm):
    out = lm_step(tiny_lm, prompt="qa", output="new_documents", select={"column": "bucket", "max": 3}).run_table(pages)
    kept = out.kept
    ids = pages.column("id").to_pylist()
    expected = [x for i, doc in enumerate(ids) for x in ([doc, f"{doc}#qa"] if i <= 3 else [doc])]
    assert kept.column("id").to_pylist() == expected
    assert kept.num_rows == pages.num_rows + 4
    assert kept.column("synthetic").to_pylist() == ["#" in x for x in expected]
    assert kept.column("rephrase_prompt").to_pylist() == ["qa" if "#" in x else None for x in expected]
    originals = kept.filter(pa.array(["#" not in x for x in expected]))
    assert originals.select(pages.column_names).equals(pages)
    synthetic = kept.filter(kept.column("synthetic"))
    assert synthetic.column("url").to_pylist() == pages.column("url").to_pylist()[:4]
    assert synthetic.column("bucket").to_pylist() == [0, 1, 2, 3]
    # a second rephrase step never rephrases the synthetic documents again
    second = lm_step(tiny_lm, prompt="distill", output="new_documents").run_table(kept)
    assert second.kept.num_rows == kept.num_rows + pages.num_rows
    assert not any(x.count("#") > 1 for x in second.kept.column("id").to_pylist())


def test_prompt_parameters_are_checked_when_the_step_is_built():
    with pytest.raises(ValueError, match="template") as error:
        Rephrase(model="m", prompt="custom", template="Rewrite this page nicely.")
    assert "{text}" in str(error.value)
    with pytest.raises(ValueError, match="template"):
        Rephrase(model="m", prompt="custom")
    with pytest.raises(ValueError, match="only used with prompt: custom"):
        Rephrase(model="m", prompt="qa", template="{text}")
    custom = Rephrase(model="m", prompt="custom", template="Summarise:\n{text}\nSummary:")
    assert custom.template.messages("X") == [{"role": "user", "content": "Summarise:\nX\nSummary:"}]
    with pytest.raises(ValueError, match="model"):
        Rephrase()  # required: a recipe without it fails in `curate validate`
    assert set(PROMPTS) == {"wikipedia", "qa", "diverse_qa", "distill", "extract_knowledge", "knowledge_list"}
    assert all("{text}" in t.user and t.source for t in PROMPTS.values())


def test_chat_models_get_their_chat_template_and_base_models_plain_text(tiny_lm):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_lm))
    prompt, templated = render_chat(tokenizer, PROMPTS["wikipedia"], "Cats sleep.", None)
    assert not templated and prompt.startswith("A chat between") and "Text: Cats sleep." in prompt
    assert prompt.endswith("ASSISTANT:")
    tokenizer.chat_template = (
        "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    prompt, templated = render_chat(tokenizer, PROMPTS["wikipedia"], "Cats sleep.", None)
    assert templated and prompt.startswith("<|system|>A chat") and prompt.endswith("<|assistant|>")
    assert "<|user|>For the following paragraph" in prompt
    plain, templated = render_chat(tokenizer, PROMPTS["wikipedia"], "Cats sleep.", False)
    assert not templated and plain.startswith("A chat between")


# -- OpenAI-compatible backend -------------------------------------------------------------------------------------
class StubServer:
    """An OpenAI-compatible server on 127.0.0.1: replies "Here is a paraphrased version: REPHRASED <what follows
    the last "Text: " of the prompt>", after a random short delay (concurrent requests finish out of order).

    It fails on demand with an *action*: an HTTP status (401, 404, 429, 500 …), ``"garbage"`` (200 with a body
    that is not JSON), ``"reset"`` (the connection is reset without a reply) or ``"hang"`` (no reply for
    ``hang_s`` seconds). ``fail`` is a list of actions for the next requests (one each), ``always`` an action for
    every request, ``fail_when`` maps a piece of document text to the action for requests containing it.
    ``retry_after`` is sent with 429s; ``empty`` replies with no content."""

    def __init__(self):
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.fail: list[int | str] = []
        self.always: int | str | None = None
        self.fail_when: dict[str, int | str] = {}
        self.retry_after: str | None = None
        self.error_body = json.dumps({"error": {"message": "boom"}})
        self.hang_s = 2.0
        self.empty = False
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][-1]["content"] if "messages" in body else body["prompt"]
                with stub.lock:
                    stub.requests.append({"path": self.path, **body})
                    stub.headers.append(dict(self.headers))
                    action = (
                        stub.fail.pop(0)
                        if stub.fail
                        else stub.always or next((a for text, a in stub.fail_when.items() if text in prompt), 200)
                    )
                time.sleep(random.uniform(0, 0.02))
                if action == "reset":  # RST instead of a reply
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if action == "hang":
                    time.sleep(stub.hang_s)
                    action = 200
                if action == "garbage":
                    self.reply(200, b"<html>502 Bad Gateway</html>")
                elif action != 200:
                    headers = {"Retry-After": stub.retry_after} if action == 429 and stub.retry_after else {}
                    self.reply(int(action), stub.error_body.encode(), headers)
                else:
                    echo = prompt.rsplit("Text: ", 1)[-1].strip()
                    content = "" if stub.empty else f"Here is a paraphrased version: REPHRASED {echo}"
                    choice = (
                        {"message": {"role": "assistant", "content": content}}
                        if "messages" in body
                        else {"text": content}
                    )
                    self.reply(
                        200,
                        json.dumps(
                            {"choices": [choice], "usage": {"prompt_tokens": 11, "completion_tokens": 7}}
                        ).encode(),
                    )

            def reply(self, status: int, payload: bytes, headers: dict | None = None):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (timeout)
                    pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # resets and abandoned requests are the point

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def fix(self) -> None:
        """Answer every request from now on."""
        self.fail, self.always, self.fail_when = [], None, {}

    def texts_sent(self) -> list[str]:
        return [r["messages"][-1]["content"].rsplit("Text: ", 1)[-1].strip() for r in self.requests]


@pytest.fixture
def stub():
    server = StubServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


def api_step(stub: StubServer, **params) -> Rephrase:
    return Rephrase(
        backend="openai",
        base_url=stub.url,
        model="served-model",
        max_retries=2,
        backoff_s=0.001,
        max_input_tokens=4000,
        **params,
    )


def small_docs(n: int) -> pa.Table:
    return pa.table({"id": [f"d{i}" for i in range(n)], "text": [f"Document number {i} says hello." for i in range(n)]})


def test_openai_request_carries_model_and_prompt_and_keeps_order(stub, monkeypatch):
    monkeypatch.setenv("CURATE_TEST_KEY", "sk-secret")
    docs = small_docs(24)
    step = api_step(stub, request_concurrency=8, api_key_env="CURATE_TEST_KEY", max_new_tokens=100)
    out = step.run_table(docs)
    assert len(stub.requests) == 24
    request = next(r for r in stub.requests if "Document number 5 " in r["messages"][-1]["content"])
    assert request["path"] == "/v1/chat/completions" and request["model"] == "served-model"
    assert request["max_tokens"] == 100 and request["temperature"] == 0.0
    assert request["messages"] == PROMPTS["wikipedia"].messages("Document number 5 says hello.")
    assert all(h.get("Authorization") == "Bearer sk-secret" for h in stub.headers)
    assert "sk-secret" not in json.dumps(step.config())
    # concurrent replies come back in document order, with the answer prefix stripped
    assert out.kept.column("rephrased").to_pylist() == [f"REPHRASED Document number {i} says hello." for i in range(24)]
    assert out.counters["rephrase_input_tokens"] == 24 * 11 and out.counters["rephrase_output_tokens"] == 24 * 7


def test_openai_completions_endpoint_sends_the_plain_prompt(stub):
    out = api_step(stub, endpoint="completions", prompt="knowledge_list").run_table(small_docs(2))
    assert [r["path"] for r in stub.requests] == ["/v1/completions"] * 2
    assert sorted(r["prompt"] for r in stub.requests) == [
        PROMPTS["knowledge_list"].plain(t) for t in small_docs(2).column("text").to_pylist()
    ]
    assert out.kept.column("rephrased").null_count == 0


@pytest.mark.parametrize("failures", [[500, 503], [429, 502], ["garbage", "reset"], ["hang"]])
def test_openai_retries_transient_failures_then_succeeds(stub, failures):
    stub.fail, stub.hang_s = list(failures), 0.5
    out = api_step(stub, timeout_s=0.2).run_table(small_docs(1))
    assert len(stub.requests) == len(failures) + 1
    assert out.kept.column("rephrased").to_pylist() == ["REPHRASED Document number 0 says hello."]
    assert out.counters["rephrase_failed"] == 0


def test_openai_honours_retry_after(stub):
    stub.fail, stub.retry_after = [429], "1"
    started = time.perf_counter()
    out = api_step(stub).run_table(small_docs(1))
    assert time.perf_counter() - started >= 1.0 and len(stub.requests) == 2
    assert out.counters["rephrase_documents"] == 1


@pytest.mark.parametrize(
    "action, kind, attempts, hint",
    [
        (429, "http_429", 3, "lower request_concurrency"),
        (500, "http_5xx", 3, "see its log"),
        (400, "http_4xx", 1, "server said"),
        ("garbage", "bad_response", 3, "not an OpenAI-compatible chat completion"),
        ("reset", "connection", 3, "connection to http://127.0.0.1"),
        ("hang", "timeout", 3, "within timeout_s=0.2 s"),
    ],
)
def test_openai_failure_after_retries_fails_the_batch_and_says_why(stub, action, kind, attempts, hint):
    stub.always, stub.hang_s = action, 0.5
    with pytest.raises(RephraseFailed) as error:
        api_step(stub, timeout_s=0.2, request_concurrency=1).run_table(small_docs(3))
    message = str(error.value)
    assert "1 of 3 documents of a batch failed" in message and f"{kind} x1" in message and hint in message
    assert "2 segments not sent" in message and "rerun the same command" in message
    assert len(stub.requests) == attempts  # one document's attempts, then nothing more is sent


def test_rejected_api_key_names_the_variable_never_the_key(stub, monkeypatch):
    monkeypatch.setenv("CURATE_TEST_KEY", "sk-secret-123")
    stub.always = 401
    stub.error_body = json.dumps({"error": {"message": "Incorrect API key provided: sk-secret-123"}})
    with pytest.raises(RephraseFailed) as error:
        api_step(stub, api_key_env="CURATE_TEST_KEY", request_concurrency=1, max_failed_share=0.9).run_table(
            small_docs(5)
        )
    message = str(error.value)
    assert "HTTP 401" in message and "check the API key in the environment variable CURATE_TEST_KEY" in message
    assert "sk-secret" not in message and "Incorrect API key provided: ***" in message
    assert len(stub.requests) == 1  # not retried, and no other request: every one would be rejected
    monkeypatch.delenv("CURATE_TEST_KEY")
    with pytest.raises(RephraseFailed, match="the environment variable CURATE_TEST_KEY is not set"):
        api_step(stub, api_key_env="CURATE_TEST_KEY").run_table(small_docs(1))
    stub.always = 404
    with pytest.raises(RephraseFailed, match="serves model 'served-model'"):
        api_step(stub).run_table(small_docs(1))


def test_failures_within_max_failed_share_are_recorded_not_fatal(stub, caplog):
    stub.fail_when = {"number 1 ": 500, "number 3 ": "garbage"}
    docs = small_docs(8)
    out = api_step(stub, max_failed_share=0.25).run_table(docs)
    assert "2 of 8 documents not rephrased" in caplog.text
    rephrased = out.kept.column("rephrased").to_pylist()
    assert [i for i, r in enumerate(rephrased) if r is None] == [1, 3]
    assert out.kept.column("rephrase_failed").to_pylist() == [None, "http_5xx", None, "bad_response", *[None] * 4]
    c = out.counters
    assert c["rephrase_failed"] == 2 and c["rephrase_documents"] == 6
    assert c["rephrase_failed_http_5xx"] == c["rephrase_failed_bad_response"] == 1
    dropped = api_step(stub, max_failed_share=0.25, on_error="drop").run_table(docs)
    assert dropped.removed_by_reason() == {"rephrase_failed": 2}
    assert dropped.kept.column("id").to_pylist() == ["d0", "d2", "d4", "d5", "d6", "d7"]
    # one more failure than the share allows fails the batch (document 5's cached reply is not used here)
    stub.fail_when["number 5 "] = 500
    with pytest.raises(RephraseFailed, match="3 of 8 documents of a batch failed .*allows 2"):
        api_step(stub, max_failed_share=0.25, cache=False).run_table(docs)


def test_a_redone_batch_only_asks_for_what_failed(stub, reply_cache):
    """Replies that arrived before a failure are cached; the rerun sends only the failed and unsent segments and
    writes what an uninterrupted run writes."""
    docs = small_docs(6)
    stub.fail_when = {"number 2 ": 500}
    with pytest.raises(RephraseFailed, match=f"cached in {reply_cache}"):
        api_step(stub, request_concurrency=1).run_table(docs)
    assert stub.texts_sent() == [f"Document number {i} says hello." for i in (0, 1, 2, 2, 2)]
    stub.fix()
    stub.requests.clear()
    again = api_step(stub, request_concurrency=1).run_table(docs)
    assert stub.texts_sent() == [f"Document number {i} says hello." for i in (2, 3, 4, 5)]
    assert again.counters["rephrase_cached"] == 2 and again.counters["rephrase_documents"] == 6
    fresh = api_step(stub, cache=False).run_table(docs)
    assert again.kept.equals(fresh.kept)
    # a different prompt or model never reads these replies
    stub.requests.clear()
    api_step(stub, prompt="qa").run_table(docs)
    assert len(stub.requests) == 6


def test_openai_empty_generation_is_counted(stub):
    stub.empty = True
    out = api_step(stub, output="new_documents").run_table(small_docs(2))
    assert out.counters["rephrase_empty"] == 2
    assert out.kept.column("id").to_pylist() == ["d0", "d1"]


def test_openai_unreachable_server_says_so():
    step = Rephrase(
        backend="openai", base_url="http://127.0.0.1:9/v1", model="m", max_retries=1, backoff_s=0.001, timeout_s=2
    )
    # both documents may be in flight before the first failure stops the batch: x1 or x2
    with pytest.raises(
        RephraseFailed, match=r"connection x[12]: cannot connect to http://127.0.0.1:9/v1/chat/completions"
    ):
        step.run_table(small_docs(2))


# -- `curate run` against a failing server, then a fixed one ---------------------------------------------------------
def rephrase_recipe(folder: Path, stub: StubServer, **params) -> Path:
    """Two input shards of three documents and a recipe rephrasing them through ``stub``."""
    inputs = folder / "in"
    inputs.mkdir()
    docs = small_docs(6)
    for i in range(2):
        pq.write_table(docs.slice(3 * i, 3), inputs / f"part-{i}.parquet")
    step = {
        "backend": "openai",
        "base_url": stub.url,
        "model": "served-model",
        "max_retries": 2,
        "backoff_s": 0.001,
        "timeout_s": 0.3,
        "api_key_env": "CURATE_TEST_KEY",
        **params,
    }
    recipe = folder / "recipe.yaml"
    recipe.write_text(
        json.dumps(
            {
                "name": "rephrase-test",
                "input": {"paths": [str(inputs / "*.parquet")]},
                "output": str(folder / "out"),
                "steps": [{"rephrase": step}],
            }
        )
    )
    return recipe


def done_markers(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "rephrase" / "_done").glob("*.json"))


@pytest.mark.parametrize("action", [401, 429, 500, "garbage", "reset", "hang"])
def test_curate_run_fails_against_a_failing_server_and_a_rerun_rephrases_everything(
    tmp_path, stub, capsys, monkeypatch, action
):
    from curate.cli import main

    monkeypatch.setenv("CURATE_TEST_KEY", "sk-secret-123")
    recipe = rephrase_recipe(tmp_path, stub)
    out = tmp_path / "out"
    stub.always, stub.hang_s = action, 0.6
    assert main(["run", str(recipe), "--executor", "local", "--quiet"]) != 0
    error = capsys.readouterr().err
    assert "RephraseFailed" in error and "documents of a batch failed" in error and "sk-secret" not in error
    assert done_markers(out) == [] and not list((out / "rephrase").glob("*.parquet"))

    stub.fix()
    assert main(["run", str(recipe), "--executor", "local", "--quiet"]) == 0
    assert done_markers(out) == ["part-0.json", "part-1.json"]
    rephrased = curate.read_parquet(str(out / "rephrase"))
    assert rephrased.column("rephrased").to_pylist() == [f"REPHRASED Document number {i} says hello." for i in range(6)]
    fresh = tmp_path / "fresh"
    assert (
        main(
            [
                "run",
                str(recipe),
                "--executor",
                "local",
                "--quiet",
                "--output",
                str(fresh),
                "--set",
                "steps.rephrase.cache=false",
            ]
        )
        == 0
    )
    for shard in ("part-0", "part-1"):
        assert pq.read_table(out / "rephrase" / f"{shard}.parquet").equals(
            pq.read_table(fresh / "rephrase" / f"{shard}.parquet")
        )


def test_curate_run_with_tolerated_failures_finishes_records_them_and_can_retry_them(tmp_path, stub, capsys):
    from curate.cli import main

    recipe = rephrase_recipe(tmp_path, stub, max_failed_share=0.34)
    out = tmp_path / "out"
    stub.fail_when = {"number 4 ": 500}
    assert main(["run", str(recipe), "--executor", "local", "--quiet"]) == 0
    assert done_markers(out) == ["part-0.json", "part-1.json"]
    table = curate.read_parquet(str(out / "rephrase"))
    assert table.column("rephrase_failed").to_pylist() == [None] * 4 + ["http_5xx", None]
    assert table.column("rephrased").null_count == 1
    stats = json.loads((out / "_stats.json").read_text())
    counters = next(s for s in stats["steps"] if s["key"] == "rephrase")["stats"]["counters"]
    assert counters["rephrase_failed"] == 1 and counters["rephrase_failed_http_5xx"] == 1
    # retrying them: the changed parameter redoes the step; the cache answers the rest, so one request is sent
    stub.fix()
    stub.requests.clear()
    strict = ["--set", "steps.rephrase.max_failed_share=0"]
    assert main(["run", str(recipe), "--executor", "local", "--quiet", *strict]) == 0
    assert stub.texts_sent() == ["Document number 4 says hello."]
    retried = curate.read_parquet(str(out / "rephrase"))
    assert retried.column("rephrased").to_pylist() == [f"REPHRASED Document number {i} says hello." for i in range(6)]
    fresh = tmp_path / "fresh"
    assert (
        main(
            [
                "run",
                str(recipe),
                "--executor",
                "local",
                "--quiet",
                "--output",
                str(fresh),
                *strict,
                "--set",
                "steps.rephrase.cache=false",
            ]
        )
        == 0
    )
    assert retried.equals(curate.read_parquet(str(fresh / "rephrase")))


# -- vLLM backend, recipe --------------------------------------------------------------------------------------------
def test_vllm_missing_package_says_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(ImportError, match="pip install vllm"):
        Rephrase(backend="vllm", model="meta-llama/Llama-3.1-8B-Instruct").ensure_setup()


def test_vllm_backend_calls_chat_for_chat_models_and_generate_for_base_models(monkeypatch, tiny_lm):
    """The vLLM code path against a stand-in module (vLLM itself needs a GPU): LLM arguments, sampling
    parameters, chat vs plain prompts, and the outputs mapped back to documents."""
    import types

    from transformers import AutoTokenizer

    calls: dict = {}

    class Output:
        def __init__(self, text):
            self.prompt_token_ids = [1, 2, 3]
            self.outputs = [types.SimpleNamespace(text=f"Paraphrased Text: {text}", token_ids=[7, 8])]

    class LLM:
        def __init__(self, **kwargs):
            calls["llm"] = kwargs
            self.tokenizer = AutoTokenizer.from_pretrained(str(tiny_lm))

        def get_tokenizer(self):
            return self.tokenizer

        def chat(self, conversations, params, use_tqdm):
            calls["chat"] = conversations
            return [Output(c[-1]["content"][-12:]) for c in conversations]

        def generate(self, prompts, params, use_tqdm):
            calls["generate"] = prompts
            return [Output(p[-12:]) for p in prompts]

    fake = types.SimpleNamespace(LLM=LLM, SamplingParams=lambda **kw: calls.setdefault("sampling", kw))
    monkeypatch.setitem(sys.modules, "vllm", fake)
    docs = small_docs(2)
    step = Rephrase(
        backend="vllm", model="some/model", prompt="distill", seed=3, vllm_options={"max_model_len": 4096}, cache=False
    )
    out = step.run_table(docs)
    assert calls["llm"] == {"model": "some/model", "seed": 3, "max_model_len": 4096}
    assert calls["sampling"] == {"max_tokens": 512, "temperature": 0.0, "top_p": 1.0, "seed": 3}
    assert calls["generate"] == [PROMPTS["distill"].plain(t) for t in docs.column("text").to_pylist()]
    assert out.kept.column("rephrased").to_pylist() == [
        PROMPTS["distill"].plain(t)[-12:].strip() for t in docs.column("text").to_pylist()
    ]
    assert out.counters["rephrase_output_tokens"] == 4
    step.backend.tokenizer.chat_template = "{% for m in messages %}{{ m.content }}{% endfor %}"
    step.run_table(docs)
    assert calls["chat"] == [PROMPTS["distill"].messages(t) for t in docs.column("text").to_pylist()]


def test_nemotron_rephrase_recipe_validates_without_models():
    recipe = load_recipe(str(REPO / "recipes" / "rephrase-nemotron.yaml"))
    assert check_inputs(recipe)
    specs = plan_steps(recipe)
    rephrase = [s for s in specs if s.stage_class is Rephrase]
    assert [s.key for s in rephrase] == ["rephrase", "rephrase_2"]
    assert [s.params["prompt"] for s in rephrase] == ["wikipedia", "diverse_qa"]
    assert [s.params["select"] for s in rephrase] == [
        {"column": "quality_bucket", "min": None, "max": 7},
        {"column": "quality_bucket", "min": 16, "max": None},
    ]
    steps = [s.key for s in specs]
    assert steps.index("quality_buckets") < steps.index("rephrase")


def test_nemotron_rephrase_recipe_runs_end_to_end_with_a_local_model(tmp_path, tiny_lm):
    """The shipped recipe on the sample WARC (local executor), its two rephrase steps switched to the tiny local
    model: low buckets get a wikipedia rephrasing, high buckets a diverse_qa one, originals all kept."""
    from classifier_fixtures import dclm_like_fasttext

    import curate
    from curate.pipeline import run_recipe

    out = tmp_path / "out"
    local = ["backend=transformers", f"model={tiny_lm}", "max_new_tokens=4", "max_input_tokens=128"]
    recipe = curate.load_recipe(
        str(REPO / "recipes" / "rephrase-nemotron.yaml"),
        [
            f"input.paths={SAMPLE}",
            f"output={out}",
            "steps.language_id.model=lid176-ftz",
            f"steps.fasttext_classifier.model={dclm_like_fasttext(tmp_path)}",
            "execution.report=false",
            *(f"steps.{i}.{kv}" for i in (7, 8) for kv in local),
        ],
    )
    result = run_recipe(recipe, executor="local")
    bucketed = curate.read_parquet(str(out / "quality_buckets"))
    first, second = curate.read_parquet(str(out / "rephrase")), curate.read_parquet(str(out / "rephrase_2"))
    buckets = dict(zip(bucketed["id"].to_pylist(), bucketed["quality_bucket"].to_pylist()))
    low = sorted(i for i, b in buckets.items() if b <= 7)
    high = sorted(i for i, b in buckets.items() if b >= 16)
    assert low and high
    assert sorted(i[: -len("#wikipedia")] for i in first["id"].to_pylist() if i.endswith("#wikipedia")) == low
    assert sorted(i[: -len("#diverse_qa")] for i in second["id"].to_pylist() if i.endswith("#diverse_qa")) == high
    assert second.num_rows == len(buckets) + len(low) + len(high)
    assert second.filter(pa.compute.invert(second["synthetic"]))["text"].to_pylist() == bucketed["text"].to_pylist()
    counters = result.step_stats("rephrase").counters
    assert counters["rephrase_documents"] == len(low) and counters["rephrase_segments"] >= len(low)
    assert result.step_stats("rephrase_2").counters["rephrase_documents"] == len(high)


@pytest.mark.ray
def test_rephrase_on_ray_actors_matches_in_process(tmp_path, pages, tiny_lm, ray_instance):
    """The step runs on Ray's actor pool (it is stateful: the model loads once per actor) with the same output (four
    pages in two shards: each actor gets a shard; generation itself is covered in-process above)."""
    import pyarrow.parquet as pq

    from curate.executors.ray import RayExecutor
    from curate.io import discover_inputs
    from curate.plan import StepSpec
    from curate.runner import Layout, run_steps

    pages = pages.slice(0, 4)
    for i, part in enumerate((pages.slice(0, 2), pages.slice(2))):
        pq.write_table(part, tmp_path / f"part-{i}.parquet")
    step = lm_step(tiny_lm)
    spec = StepSpec.from_stage(step, "rephrase", 0)
    executor = RayExecutor()
    try:
        run_steps([spec], discover_inputs([str(tmp_path / "part-*.parquet")]), str(tmp_path / "out"), executor)
    finally:
        executor.close()
    layout = Layout(str(tmp_path / "out"))
    on_ray = pa.concat_tables([pq.read_table(layout.shard(spec.key, f"part-{i}").path) for i in range(2)])
    local = lm_step(tiny_lm).run_table(pages).kept
    assert on_ray.column("id").to_pylist() == local.column("id").to_pylist()
    assert on_ray.column("rephrased").to_pylist() == local.column("rephrased").to_pylist()

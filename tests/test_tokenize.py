"""The tokenize step: tokenizer loading, BOS/EOS policy, token counts, overflow policies, token accounting."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from tokenize_fixtures import lingua_documents, train_bpe

from curate.stages import Tokenize
from curate.stages.packing.tokenize import TokenizerNotFound, encode_to_arrow, load_tokenizer


@pytest.fixture(scope="module")
def tokenizer_path(tmp_path_factory):
    return train_bpe(tmp_path_factory.mktemp("bpe") / "tokenizer.json")


@pytest.fixture(scope="module")
def docs():
    return lingua_documents(300, seed=1)


def test_tokens_match_the_tokenizer_and_end_with_eos(tokenizer_path, docs):
    step = Tokenize(tokenizer=str(tokenizer_path))
    out = step.run_table(docs)
    kept = out.kept
    assert kept.num_rows == docs.num_rows
    assert kept.schema.field("tokens").type == pa.list_(pa.uint32())
    tok = load_tokenizer(str(tokenizer_path))
    eos = tok.token_to_id("<|endoftext|>")
    for text, tokens, count in zip(
        kept["text"].to_pylist(), kept["tokens"].to_pylist(), kept["token_count"].to_pylist(), strict=True
    ):
        assert tokens == tok.encode(text, add_special_tokens=False).ids + [eos]
        assert count == len(tokens)
        assert tok.decode(tokens[:-1], skip_special_tokens=False) == text  # byte-level BPE: lossless
    # input columns untouched
    assert kept.select(docs.column_names).equals(docs)


def test_bos_policy_and_named_tokens(tokenizer_path, docs):
    step = Tokenize(tokenizer=str(tokenizer_path), add_bos=True, bos_token="<s>", add_eos=False)
    tokens = step.run_table(docs.slice(0, 20)).kept["tokens"].to_pylist()
    assert all(t[0] == 1 and t[-1] != 0 for t in tokens)  # <s> is id 1, <|endoftext|> id 0
    with pytest.raises(ValueError, match="no EOS token '<eos>'"):
        Tokenize(tokenizer=str(tokenizer_path), eos_token="<eos>").run_table(docs.slice(0, 2))


def test_encode_to_arrow_prefix_suffix(tokenizer_path):
    tok = load_tokenizer(str(tokenizer_path))
    texts = ["héllo wörld", "", "日本語のテキスト", "a b c"]
    array = encode_to_arrow(tok, texts, [1], [0, 2])
    expected = [[1, *tok.encode(t, add_special_tokens=False).ids, 0, 2] for t in texts]
    assert array.to_pylist() == expected


def test_overflow_split_truncate_drop(tokenizer_path, docs):
    base = Tokenize(tokenizer=str(tokenizer_path)).run_table(docs).kept
    lengths = np.array(base["token_count"].to_pylist())
    limit = int(np.percentile(lengths, 80))
    long_ids = set(np.array(base["id"].to_pylist())[lengths > limit])
    assert long_ids

    split = Tokenize(tokenizer=str(tokenizer_path), max_tokens=limit, overflow="split").run_table(docs)
    assert split.counters["tokenize_over_max_tokens"] == len(long_ids)
    pieces = split.kept
    assert max(pieces["token_count"].to_pylist()) <= limit
    by_id = dict(zip(base["id"].to_pylist(), base["tokens"].to_pylist(), strict=True))
    for doc_id in long_ids:
        parts = [
            t
            for i, t in zip(pieces["id"].to_pylist(), pieces["tokens"].to_pylist(), strict=True)
            if i.startswith(doc_id + "#")
        ]
        assert len(parts) >= 2
        assert [x for p in parts for x in p[:-1]] == by_id[doc_id][:-1]  # bodies concatenate to the document
        texts = [
            t
            for i, t in zip(pieces["id"].to_pylist(), pieces["text"].to_pylist(), strict=True)
            if i.startswith(doc_id + "#")
        ]
        original = docs.filter(pa.compute.equal(docs["id"], doc_id))["text"][0].as_py()
        assert "".join(texts) == original

    truncated = Tokenize(tokenizer=str(tokenizer_path), max_tokens=limit, overflow="truncate").run_table(docs)
    assert truncated.kept.num_rows == docs.num_rows
    assert max(truncated.kept["token_count"].to_pylist()) == limit

    dropped = Tokenize(tokenizer=str(tokenizer_path), max_tokens=limit, overflow="drop").run_table(docs)
    assert dropped.removed_by_reason() == {"tokenize_too_long": len(long_ids)}


def test_token_accounting_per_domain(tokenizer_path, docs):
    out = Tokenize(tokenizer=str(tokenizer_path)).run_table(docs)
    total = sum(out.kept["token_count"].to_pylist())
    assert out.counters["tokens"] == total
    per_domain = {k: v for k, v in out.counters.items() if k.startswith("tokens:")}
    assert sum(per_domain.values()) == total and len(per_domain) == len(set(docs["domain"].to_pylist()))


def test_empty_documents_are_dropped(tokenizer_path):
    table = pa.table({"id": ["a", "b", "c"], "text": ["", None, "real text"]})
    out = Tokenize(tokenizer=str(tokenizer_path)).run_table(table)
    assert out.kept["id"].to_pylist() == ["c"]
    assert out.removed_by_reason() == {"tokenize_empty": 2}


def test_loading_from_a_folder_and_clear_errors(tokenizer_path, tmp_path, monkeypatch):
    assert (
        load_tokenizer(str(tokenizer_path.parent)).get_vocab_size()
        == load_tokenizer(str(tokenizer_path)).get_vocab_size()
    )
    with pytest.raises(TokenizerNotFound, match="no such file or folder"):
        load_tokenizer(str(tmp_path / "missing" / "tokenizer.json"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("curate.stages.packing.tokenize.CACHE_DIR", tmp_path / "cache")
    with pytest.raises(TokenizerNotFound, match="local tokenizer.json"):
        load_tokenizer("some-org/some-tokenizer")


def test_tiktoken_engine_gives_the_same_ids_or_falls_back(tokenizer_path, docs):
    exact = Tokenize(tokenizer=str(tokenizer_path)).run_table(docs)
    fast = Tokenize(tokenizer=str(tokenizer_path), engine="tiktoken").run_table(docs)
    assert fast.kept["tokens"].to_pylist() == exact.kept["tokens"].to_pylist()
    from curate.stages.packing.tokenize import TiktokenEngine

    engine = TiktokenEngine.from_tokenizer(load_tokenizer(str(tokenizer_path)))
    assert engine is not None  # a byte-level BPE converts
    # Oniguruma's `X{1,3}+` means `(?:X{1,3})+`: the translated pattern must keep that reading
    from curate.stages.packing.tokenize import _ONIG_INTERVAL_PLUS

    assert _ONIG_INTERVAL_PLUS.sub(r"(?:\1{\2\3})+", r"\p{N}{1,3}+|a") == r"(?:\p{N}{1,3})+|a"

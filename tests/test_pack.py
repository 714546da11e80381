"""The pack step: plans (best-fit vs concat), round trip through the written files, Megatron compatibility,
determinism of the shuffle, the validation split, and PackedDataset."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tokenize_fixtures import lingua_documents, train_bpe

from curate.data import PackedDataset
from curate.executors.local import LocalExecutor
from curate.io import discover_inputs
from curate.plan import StepSpec
from curate.runner import run_steps
from curate.stages import Pack, Tokenize
from curate.stages.packing.megatron import MegatronReader, read_index
from curate.stages.packing.pack import PackPlan, plan_best_fit, plan_concat
from curate.stages.packing.tokenize import load_tokenizer

SEQ_LEN = 1024


@pytest.fixture(scope="module")
def tokenizer_path(tmp_path_factory):
    return train_bpe(tmp_path_factory.mktemp("bpe") / "tokenizer.json")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, tokenizer_path):
    """Real multilingual documents in 3 Parquet shards, and their tokens (by id) for checking."""
    docs = lingua_documents(900, seed=3)
    folder = tmp_path_factory.mktemp("shards")
    for k in range(3):
        pq.write_table(docs.slice(k * 300, 300), folder / f"part-{k}.parquet")
    tokens = Tokenize(tokenizer=str(tokenizer_path)).run_table(docs).kept
    return folder, docs, tokens


def run_pack(folder: Path, out: Path, tokenizer: Path, **pack_params) -> Path:
    specs = [
        StepSpec.from_stage(Tokenize(tokenizer=str(tokenizer)), "tokenize", 0),
        StepSpec.from_stage(Pack(**pack_params), "pack", 1),
    ]
    run_steps(specs, discover_inputs([str(folder / "*.parquet")]), str(out), LocalExecutor())
    return out / "pack"


def check_plan(plan: PackPlan, lengths: np.ndarray) -> None:
    """Every token of every document placed exactly once; no sequence overfull; pieces do not overlap."""
    assert np.array_equal(np.bincount(plan.doc, weights=plan.length, minlength=len(lengths)), lengths)
    order = np.lexsort((plan.start, plan.doc))
    doc, start, length = plan.doc[order], plan.start[order], plan.length[order]
    same = doc[1:] == doc[:-1]
    assert np.array_equal(start[1:][same], (start + length)[:-1][same])  # contiguous pieces per document
    assert np.all(plan.offset + plan.length <= plan.seq_len)
    end = plan.seq * plan.seq_len + plan.offset + plan.length
    begin = plan.seq * plan.seq_len + plan.offset
    order = np.argsort(begin)
    assert np.all(begin[order][1:] >= end[order][:-1])  # no overlap
    assert plan.seq.max() < plan.n_sequences


def test_best_fit_pads_little_and_splits_fewer_documents_than_concat(corpus):
    lengths = np.array(corpus[2]["token_count"].to_pylist(), dtype=np.int64)
    best = plan_best_fit(lengths, SEQ_LEN, np.random.default_rng(0))
    concat = plan_concat(lengths, SEQ_LEN, np.random.default_rng(0))
    check_plan(best, lengths)
    check_plan(concat, lengths)
    assert best.padding_fraction <= 0.01
    assert best.split_documents() == int((lengths > SEQ_LEN).sum())  # only the documents that cannot fit
    assert best.split_documents() < concat.split_documents()
    assert concat.padding < SEQ_LEN


def test_round_trip_megatron_numpy_and_dataset(corpus, tokenizer_path, tmp_path):
    folder, docs, tokens = corpus
    out = run_pack(folder, tmp_path / "out", tokenizer_path, seq_len=SEQ_LEN, valid_fraction=0.05, partitions=2)
    meta = (out / "pack.json").read_text()
    assert '"strategy": "best_fit"' in meta
    tok = load_tokenizer(str(tokenizer_path))
    expected = dict(zip(tokens["id"].to_pylist(), tokens["tokens"].to_pylist(), strict=True))
    texts = dict(zip(docs["id"].to_pylist(), docs["text"].to_pylist(), strict=True))
    pieces: dict[str, list[tuple[int, list[int]]]] = {}
    for split in ("train", "valid"):
        parts = sorted((out / split).glob("part-*.idx"))
        assert parts, f"no {split} output"
        for idx in parts:
            prefix = str(idx)[:-4]
            megatron = MegatronReader(prefix)
            matrix = np.load(prefix + ".npy", mmap_mode="r")
            assert len(megatron) == len(matrix)
            assert np.all(read_index(str(idx)).sequence_lengths == SEQ_LEN)
            index = pq.read_table(prefix + ".docs.parquet").to_pylist()
            for row in index:
                sequence = megatron[row["seq"]]
                assert np.array_equal(sequence, matrix[row["seq"]])
                piece = sequence[row["offset"] : row["offset"] + row["length"]].tolist()
                pieces.setdefault(row["id"], []).append((row["doc_start"], piece))
    assert set(pieces) == set(expected)
    for doc_id, parts in pieces.items():
        rebuilt = [t for _, piece in sorted(parts) for t in piece]
        assert rebuilt == expected[doc_id]
        assert tok.decode(rebuilt[:-1], skip_special_tokens=False) == texts[doc_id]

    # the step's document output: input rows without tokens, each with its split
    emitted = pa.concat_tables(pq.read_table(p) for p in sorted((tmp_path / "out" / "pack").glob("*.parquet")))
    assert "tokens" not in emitted.column_names and emitted.num_rows == docs.num_rows
    valid_ids = set(emitted.filter(pa.compute.equal(emitted["pack_split"], "valid"))["id"].to_pylist())
    assert 0.02 < len(valid_ids) / docs.num_rows < 0.09
    train = PackedDataset(str(out), "train")
    valid = PackedDataset(str(out), "valid")
    summary = json.loads(meta)["splits"]
    assert (len(train), len(valid)) == (summary["train"]["sequences"], summary["valid"]["sequences"])
    valid_docs = {r["id"] for p in (out / "valid").glob("*.docs.parquet") for r in pq.read_table(p).to_pylist()}
    assert valid_docs == valid_ids


def test_packed_dataset_items(corpus, tokenizer_path, tmp_path):
    folder, _, _ = corpus
    out = run_pack(folder, tmp_path / "out", tokenizer_path, seq_len=SEQ_LEN, valid_fraction=0.0, format="megatron")
    data = PackedDataset(str(out), "train")
    assert len(data) > 0 and not list((out / "train").glob("part-?????.npy"))  # read from the Megatron .bin
    eos = load_tokenizer(str(tokenizer_path)).token_to_id("<|endoftext|>")
    for i in (0, len(data) // 2, len(data) - 1):
        item = data[i]
        ids, pos, doc, labels = (item[k].numpy() for k in ("input_ids", "position_ids", "document_ids", "labels"))
        assert ids.shape == (SEQ_LEN,)
        used = int((doc >= 0).sum())
        assert np.all(labels[used:] == -100) and np.array_equal(labels[:used], ids[:used])
        starts = np.flatnonzero(np.diff(doc[:used], prepend=-1))
        assert np.all(pos[starts] == 0)  # positions restart at each document
        ends = np.append(starts[1:], used) - 1
        assert np.sum(ids[ends] == eos) >= len(ends) - 2  # segments end with EOS except cut pieces
    mask = data.attention_mask(0).numpy()
    assert mask[0, 0] and not mask[0, 1]
    from torch.utils.data import DataLoader

    batch = next(iter(DataLoader(data, batch_size=4)))
    assert tuple(batch["input_ids"].shape) == (4, SEQ_LEN)


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("part-*.bin")):
        h.update(path.read_bytes())
    return h.hexdigest()


def test_shuffle_is_deterministic_and_seeded(corpus, tokenizer_path, tmp_path):
    folder, _, _ = corpus
    a = run_pack(folder, tmp_path / "a", tokenizer_path, seq_len=SEQ_LEN, seed=7, strategy="concat", format="megatron")
    b = run_pack(folder, tmp_path / "b", tokenizer_path, seq_len=SEQ_LEN, seed=7, strategy="concat", format="megatron")
    c = run_pack(folder, tmp_path / "c", tokenizer_path, seq_len=SEQ_LEN, seed=8, strategy="concat", format="megatron")
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    assert sorted(MegatronReader(str(a / "train" / "part-00000"))[0].tolist()) != sorted(
        MegatronReader(str(c / "train" / "part-00000"))[0].tolist()
    )


def test_megatron_core_reads_our_files(corpus, tokenizer_path, tmp_path):
    pytest.importorskip("torch")
    try:
        from megatron.core.datasets.indexed_dataset import IndexedDataset
    except ImportError as exc:
        pytest.skip(f"megatron-core is not installed ({exc}); `pip install --no-deps megatron-core` to run this")
    folder, _, _ = corpus
    out = run_pack(folder, tmp_path / "out", tokenizer_path, seq_len=SEQ_LEN, valid_fraction=0.0, format="megatron")
    prefix = str(out / "train" / "part-00000")
    theirs = IndexedDataset(prefix)
    ours = MegatronReader(prefix)
    assert len(theirs) == len(ours) > 0
    assert np.array_equal(theirs.sequence_lengths, ours.index.sequence_lengths)
    assert np.array_equal(theirs.document_indices, np.arange(len(ours) + 1))
    for i in range(len(ours)):
        assert np.array_equal(theirs[i], ours[i])
    assert np.array_equal(theirs.get(1, offset=5, length=10), ours[1][5:15])

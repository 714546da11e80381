"""Shared test data for the tokenize/pack tests: real multilingual documents and a BPE trained on them.

Documents are runs of consecutive sentences from the Leipzig corpora in ../shared/data/langid/lingua_testdata
(75 languages), with a seeded log-normal number of sentences per document so lengths span ~20 to several thousand
tokens, like web documents. The tokenizer is a byte-level BPE trained in seconds on part of the same text (byte
level: decoding is lossless, so round trips can be checked exactly).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from conftest import shared_data


def require_data() -> Path:
    """The real multilingual sentences (../shared/data/langid/lingua_testdata/sentences)."""
    return shared_data("langid", "lingua_testdata", "sentences")


def lingua_documents(
    n_docs: int = 600, seed: int = 0, mean_sentences: float = 8.0, languages: int | None = None
) -> pa.Table:
    """``n_docs`` real documents (id, text, url, date, source, domain) cycling over the languages."""
    files = sorted(require_data().glob("*.txt"))[:languages]
    lines = {f.stem: f.read_text(encoding="utf-8").splitlines() for f in files}
    rng = np.random.default_rng(seed)
    sizes = np.maximum(1, rng.lognormal(np.log(mean_sentences), 1.0, n_docs).astype(int))
    cursor = dict.fromkeys(lines, 0)
    ids, texts, langs = [], [], []
    names = sorted(lines)
    for i, size in enumerate(sizes):
        lang = names[i % len(names)]
        pool = lines[lang]
        start = cursor[lang] % len(pool)
        chunk = (pool[start:] + pool[:start])[:size]
        cursor[lang] += size
        ids.append(f"doc-{i:05d}")
        texts.append("\n".join(chunk))
        langs.append(lang)
    return pa.table(
        {
            "id": ids,
            "text": texts,
            "url": [f"https://example.org/{lang}/{i}" for i, lang in enumerate(langs)],
            "date": ["2024-01-01"] * n_docs,
            "source": ["lingua"] * n_docs,
            "domain": langs,
        }
    )


def train_bpe(path: Path, vocab_size: int = 4000, lines_per_language: int = 150) -> Path:
    """Train a byte-level BPE (special tokens <|endoftext|>, <s>, <pad>) and save it as tokenizer.json."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    def corpus():
        for f in sorted(require_data().glob("*.txt")):
            yield from f.read_text(encoding="utf-8").splitlines()[:lines_per_language]

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>", "<s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus(), trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return path

"""Train the quickstart's small byte-level BPE tokenizer on the text of the shipped sample WARC.

    .venv/bin/python curate/data/make_tokenizer.py     # writes curate/data/tokenizer.json

A real run names a real tokenizer (a ``tokenizer.json``, a model folder or a Hub id); this one only exists so the
quickstart's tokenize and pack steps run offline. Vocabulary 2,048 with ``<|endoftext|>`` as the only special token.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    import curate

    texts = curate.read_warc(str(HERE / "sample.warc.gz")).column("text").to_pylist()
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2048,
        special_tokens=["<|endoftext|>"],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator([t for t in texts if t], trainer=trainer)
    tokenizer.save(str(HERE / "tokenizer.json"))
    print(f"wrote {HERE / 'tokenizer.json'}: {tokenizer.get_vocab_size()} tokens")


if __name__ == "__main__":
    main()

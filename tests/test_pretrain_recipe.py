"""Must-show 4: recipes/pretrain-megatron.yaml runs a real WARC end to end into Megatron shards that megatron-core's
own reader opens."""

from __future__ import annotations

import numpy as np
from conftest import REPO, shared_data
from tokenize_fixtures import train_bpe

RECIPE = REPO / "recipes" / "pretrain-megatron.yaml"


def test_warc_to_packed_megatron_shards(tmp_path):
    warc = shared_data("warc", "real_crawls", "dolma__sample-0000.warc.gz")
    from curate import load_recipe
    from curate.data import PackedDataset
    from curate.pipeline import run_recipe
    from curate.stages.packing.megatron import MegatronReader

    tokenizer = train_bpe(tmp_path / "bpe" / "tokenizer.json")
    recipe = load_recipe(
        str(RECIPE),
        [
            f"input.paths={warc}",
            f"output={tmp_path / 'out'}",
            f"steps.tokenize.tokenizer={tokenizer}",
            "steps.pack.seq_len=512",
            "steps.pack.format=both",
            "steps.pack.valid_fraction=0.0",
        ],
    )
    run_recipe(recipe, executor="local")
    pack = tmp_path / "out" / "pack"
    reader = MegatronReader(str(pack / "train" / "part-00000"))
    assert len(reader) > 0 and all(len(reader[i]) == 512 for i in range(len(reader)))
    data = PackedDataset(str(pack), "train")
    assert len(data) == len(reader)
    assert np.array_equal(data[0]["input_ids"].numpy(), reader[0].astype(np.int64))
    try:
        from megatron.core.datasets.indexed_dataset import IndexedDataset
    except ImportError:
        return
    theirs = IndexedDataset(str(pack / "train" / "part-00000"))
    assert len(theirs) == len(reader) and np.array_equal(theirs[0], reader[0])

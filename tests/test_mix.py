"""The ``mix`` step: shares under a budget, fixed repetition, bins, determinism across shard layouts, errors."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from curate.errors import StepFailed
from curate.executors.local import LocalExecutor
from curate.io import discover_inputs
from curate.plan import StepSpec
from curate.runner import Layout, run_steps
from curate.stages import Mix
from curate.stages.mix import MixPlanError, _binned, plan_mix


def corpus(sizes: dict[str, tuple[int, int]], **extra: list) -> pa.Table:
    """``sizes``: group -> (documents, characters per document)."""
    ids, texts, groups = [], [], []
    for g, (n, chars) in sizes.items():
        ids += [f"{g}-{i}" for i in range(n)]
        texts += ["x" * chars] * n
        groups += [g] * n
    return pa.table({"id": ids, "text": texts, "domain": groups, **extra})


def output_size(table: pa.Table) -> Counter:
    out: Counter = Counter()
    for g, t in zip(table.column("domain").to_pylist(), table.column("text").to_pylist(), strict=True):
        out[g] += len(t)
    return out


def test_repeat_factors_copy_subsample_and_drop():
    table = corpus({"wiki": (300, 50), "web": (2000, 50), "spam": (100, 50)})
    out = Mix(by="domain", repeat={"wiki": 3, "web": 0.25, "spam": 0}).run_table(table)
    kept = Counter(out.kept.column("domain").to_pylist())
    assert kept["wiki"] == 900 and "spam" not in kept
    assert 440 < kept["web"] < 560  # a quarter of 2,000, drawn per document
    copies = Counter(zip(out.kept.column("id").to_pylist(), out.kept.column("mix_copy").to_pylist(), strict=True))
    assert all(copies[(f"wiki-{i}", c)] == 1 for i in range(300) for c in range(3))
    reasons = Counter(out.rejected.column("reason").to_pylist())
    assert reasons == {"mix_not_selected": 100, "mix_subsampled": 2000 - kept["web"]}
    assert out.counters["rows_added"] == 600
    again = Mix(by="domain", repeat={"wiki": 3, "web": 0.25, "spam": 0}).run_table(table)
    assert again.kept.column("id").to_pylist() == out.kept.column("id").to_pylist()  # deterministic
    reseeded = Mix(by="domain", repeat={"wiki": 3, "web": 0.25, "spam": 0}, seed=1).run_table(table)
    assert reseeded.kept.column("id").to_pylist() != out.kept.column("id").to_pylist()


def test_weights_hit_shares_of_a_total_budget():
    table = corpus({"code": (400, 200), "web": (3000, 100), "books": (1000, 100)})
    total = 300_000.0
    out = Mix(by="domain", weights={"web": 0.5, "code": 0.3, "books": 0.2}, total=total).run_table(table)
    got = output_size(out.kept)
    for g, share in {"web": 0.5, "code": 0.3, "books": 0.2}.items():
        assert got[g] == pytest.approx(share * total, rel=0.08), g  # independent draws: ~3 standard deviations
    assert sum(got.values()) == pytest.approx(total, rel=0.04)


def test_weights_without_total_fill_up_to_max_repeat():
    """The largest mixture with every share met and no group above max_repeat: the scarcest group is repeated
    exactly max_repeat times, the others sampled to match."""
    table = corpus({"rare": (50, 100), "common": (5000, 100)})
    out = Mix(by="domain", weights={"rare": 0.5, "common": 0.5}, max_repeat=4).run_table(table)
    kept = Counter(out.kept.column("domain").to_pylist())
    assert kept["rare"] == 200  # 50 documents, 4 copies each
    assert 170 < kept["common"] < 230  # the same size drawn from 5,000
    plan = plan_mix(
        Mix.Params(by=["domain"], weights={"rare": 0.5, "common": 0.5}),
        {"rare": 50, "common": 5000},
        {"rare": 5000.0, "common": 500000.0},
        "chars",
    )
    assert plan["groups"]["rare"]["factor"] == 4 and plan["groups"]["common"]["factor"] == pytest.approx(0.04)
    assert plan["expected_total"] == 40000 and plan["capped_at_max_repeat"] == []


def test_total_beyond_max_repeat_is_capped_and_reported():
    params = Mix.Params(by=["domain"], weights={"a": 0.9, "b": 0.1}, total=1000.0, max_repeat=2)
    plan = plan_mix(params, {"a": 10, "b": 10}, {"a": 100.0, "b": 1000.0}, "chars")
    assert plan["factors"]["a"] == 2 and plan["capped_at_max_repeat"] == ["a"]
    warning = plan["warnings"][0]
    assert "['a'] would need more than max_repeat=2" in warning and "a 66.7% (target 90.0%)" in warning
    assert plan["factors"]["b"] == pytest.approx(0.1)


def test_others_key_and_unlisted_groups():
    table = corpus({"a": (100, 10), "b": (100, 10), "c": (100, 10)})
    out = Mix(by="domain", repeat={"a": 2, "*": 0}).run_table(table)
    assert set(out.kept.column("domain").to_pylist()) == {"a"}
    out = Mix(by="domain", repeat={"a": 2}).run_table(table)  # unlisted groups keep factor 1 with `repeat`
    assert Counter(out.kept.column("domain").to_pylist()) == {"a": 200, "b": 100, "c": 100}
    out = Mix(by="domain", weights={"a": 1}).run_table(table)  # ... and get no share with `weights`
    assert set(out.kept.column("domain").to_pylist()) == {"a"}
    assert Counter(out.rejected.column("reason").to_pylist()) == {"mix_not_selected": 200}


def test_cluster_size_bins_rehydrate_like_fineweb2():
    sizes = [1, 1, 2, 3, 4, 5, 50, 99, 100, 999, 1000, 5000]
    assert _binned(pa.array(sizes), [1, 2, 3, 4, 5, 100, 1000]) == [
        "1",
        "1",
        "2",
        "3",
        "4",
        "5-99",
        "5-99",
        "5-99",
        "100-999",
        "100-999",
        "1000+",
        "1000+",
    ]
    assert _binned(pa.array([0.2, None, 0.7]), [0.5]) == ["<0.5", "null", "0.5+"]
    table = pa.table({"id": [f"d{i}" for i in range(len(sizes))], "text": ["t"] * len(sizes), "cluster_size": sizes})
    out = Mix(
        by="cluster_size",
        bins=[1, 2, 3, 4, 5, 100, 1000],
        repeat={"1": 1, "2": 2, "3": 3, "4": 4, "5-99": 5, "100-999": 2, "1000+": 1},
    ).run_table(table)
    per_doc = Counter(out.kept.column("id").to_pylist())
    assert [per_doc[f"d{i}"] for i in range(len(sizes))] == [1, 1, 2, 3, 4, 5, 5, 5, 2, 2, 1, 1]


def test_joint_groups_and_integer_keys_from_yaml():
    table = pa.table(
        {
            "id": [f"d{i}" for i in range(8)],
            "text": ["t"] * 8,
            "language": ["en", "en", "en", "en", "fr", "fr", "fr", "fr"],
            "quality_bucket": [19, 19, 3, 3, 19, 19, 3, 3],
        }
    )
    out = Mix(by=["language", "quality_bucket"], repeat={"en/19": 2, "fr/3": 0}).run_table(table)
    assert Counter(
        zip(out.kept.column("language").to_pylist(), out.kept.column("quality_bucket").to_pylist(), strict=True)
    ) == {("en", 19): 4, ("en", 3): 2, ("fr", 19): 2}
    out = Mix(by="quality_bucket", repeat={19: 3, 3: 0}).run_table(table)  # YAML integer keys
    assert out.kept.num_rows == 12


def test_tokens_are_the_default_unit_when_counted():
    table = corpus({"a": (100, 10), "b": (100, 10)}, token_count=[1] * 100 + [9] * 100)
    plan_out = Mix(by="domain", weights={"a": 0.5, "b": 0.5}).run_table(table)
    kept = Counter(plan_out.kept.column("domain").to_pylist())
    # equal token shares: 'a' has a ninth of the tokens, so it is repeated 4x and 'b' sampled to match
    assert kept["a"] == 400 and 30 < kept["b"] < 60


def test_output_is_the_same_for_any_shard_layout(tmp_path):
    table = corpus({"a": (600, 30), "b": (900, 40), "c": (300, 20)})
    step = Mix(by="domain", weights={"a": 0.2, "b": 0.3, "c": 0.5})

    def run(n_shards: int) -> list[tuple[str, int]]:
        folder = tmp_path / f"in{n_shards}"
        folder.mkdir()
        for i, part in enumerate(np.array_split(np.arange(table.num_rows), n_shards)):
            pq.write_table(table.take(pa.array(part)), folder / f"part-{i}.parquet")
        out = tmp_path / f"out{n_shards}"
        spec = StepSpec.from_stage(step, "mix", 0)
        run_steps([spec], discover_inputs([str(folder / "*.parquet")]), str(out), LocalExecutor())
        layout = Layout(str(out))
        rows = []
        for i in range(n_shards):
            loc = layout.shard(spec.key, f"part-{i}")
            if loc.exists():
                t = pq.read_table(loc.path)
                rows += zip(t.column("id").to_pylist(), t.column("mix_copy").to_pylist(), strict=True)
        return sorted(rows)

    assert run(1) == run(3)


def test_recipe_errors_are_actionable():
    with pytest.raises(ValidationError, match="exactly one of `weights`"):
        Mix(by="domain", weights={"a": 1}, repeat={"a": 1})
    with pytest.raises(ValidationError, match="name the group column"):
        Mix(repeat={"a": 1})
    with pytest.raises(ValidationError, match="increasing edges"):
        Mix(by="cluster_size", bins=[5, 2], repeat={"*": 1})
    with pytest.raises(ValidationError, match="finite and >= 0"):
        Mix(by="domain", repeat={"a": -1})
    table = corpus({"a": (10, 10)})
    with pytest.raises(StepFailed, match=r"group column\(s\) \['topic'\] are not in the input \(columns: \['id', "):
        Mix(by="topic", repeat={"a": 1}).run_table(table)
    with pytest.raises(MixPlanError, match=r"weighted group\(s\) \['b'\] have no data"):
        plan_mix(Mix.Params(by=["domain"], weights={"a": 0.5, "b": 0.5}), {"a": 10}, {"a": 100.0}, "chars")


def test_plan_is_in_the_run_stats(tmp_path):
    import json

    import curate
    from curate.pipeline import run_recipe

    pq.write_table(corpus({"a": (40, 10), "b": (10, 10)}), tmp_path / "docs.parquet")
    recipe_file = tmp_path / "mix.yaml"
    recipe_file.write_text(f"""name: mix-only
input: {{paths: ["{tmp_path / "docs.parquet"}"]}}
output: {tmp_path / "out"}
steps:
  - mix: {{by: domain, weights: {{a: 0.5, b: 0.5}}, max_repeat: 2}}
execution: {{executor: local, report: false}}
""")
    run_recipe(curate.load_recipe(str(recipe_file)))
    stats = json.loads((tmp_path / "out" / "_stats.json").read_text())
    step = next(s for s in stats["steps"] if s["step"] == "mix")
    plan = step["phases"]["plan"]
    assert plan["unit"] == "chars" and plan["factors"] == {"a": 0.5, "b": 2.0}
    assert plan["groups"]["b"] == {"docs": 10, "size": 100.0, "factor": 2.0, "expected_size": 200.0, "share": 0.5}
    assert step["stats"]["docs_in"] == 50 and step["stats"]["counters"]["rows_added"] == 10
    from curate.report import build_report

    page = open(build_report(str(tmp_path / "out"))).read()
    assert 'data-step-key="mix" data-phase="plan"' in page and "<td>b</td>" in page and "expected_size" in page


def test_language_groups_are_named_in_any_code_form():
    """language_id writes eng / eng_Latn; a recipe may say en, eng or eng_Latn (one vocabulary, issue 12)."""
    n = 100
    table = pa.table(
        {
            "id": [str(i) for i in range(3 * n)],
            "text": ["x" * 10] * (3 * n),
            "language": ["eng"] * n + ["deu_Latn"] * n + ["nob"] * n,
            "quality": ["hi", "lo"] * (3 * n // 2),
        }
    )
    out = Mix(by="language", repeat={"en": 2, "deu": 0, "no": 3}).run_table(table)
    assert Counter(out.kept.column("language").to_pylist()) == {"eng": 2 * n, "nob": 3 * n}
    out = Mix(by="language", weights={"eng_Latn": 1, "de": 1}).run_table(table)  # shares, not 'no data'
    kept = Counter(out.kept.column("language").to_pylist())
    assert kept["eng"] == kept["deu_Latn"] > 0 and "nob" not in kept
    out = Mix(by=["language", "quality"], repeat={"en/hi": 2, "*": 0}).run_table(table)
    assert set(zip(out.kept.column("language").to_pylist(), out.kept.column("quality").to_pylist())) == {("eng", "hi")}
    with pytest.raises(ValidationError, match="same group"):
        Mix(by="language", repeat={"en": 2, "eng": 3})

"""Decontamination: the matching rules on generated items, then the real benchmark test sets and the planted web
corpus of ../shared/data/benchmarks (skipped when absent), fresh plantings of other items and the hard negatives
(the rule, not the files), the step through the engine (drop, cut, report table) and ``curate contamination``."""

from __future__ import annotations

import json
import random
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SHARED_DATA, needs_shared_data

from curate.stages.decontam.benchmarks import BenchmarkError, BenchmarkSource, Item, as_source, load_all, load_items
from curate.stages.decontam.index import IndexConfig, NgramIndex
from curate.stages.decontam.stage import Decontaminate, cut_text
from curate.stages.decontam.text import chunk_words, words

DATA = SHARED_DATA / "benchmarks"
needs_data = needs_shared_data("benchmarks", "corpus", "docs.jsonl")

LONG_Q = (
    "A farmer has 17 cows and buys 4 more each week. After six weeks he sells a third of the herd to his "
    "neighbour. How many cows does the farmer have left?"
)
LONG_A = "He buys 4 * 6 = <<4*6=24>>24 cows.\nHe has 17 + 24 = <<17+24=41>>41 cows.\n#### 27"
PAGE = (
    "Our village newsletter covers the spring fair, the new bakery on Mill Street and the parish council's plans "
    "for the footpath along the river, which walkers have asked about for years. "
)


def found(index: NgramIndex, texts: list[str]) -> list[set[str]]:
    m = index.match(words(texts))
    out: list[set[str]] = [set() for _ in texts]
    for d, i in zip(m.doc.tolist(), m.item.tolist(), strict=True):
        out[d].add(index.item_id[i])
    return out


# -- rules on generated items -------------------------------------------------------------------------------------


def test_reformatted_long_item_is_found_and_13_words_are_needed():
    index = NgramIndex.build([Item.of("math", "math/1", LONG_Q, LONG_A)])
    assert index.item_n.tolist() == [13]
    copy = (
        "Q:\u00a0"
        + LONG_Q.upper().replace("'", "\u2019")
        + "\nA: "
        + LONG_A.replace("<<4*6=24>>", "").replace("<<17+24=41>>", "")
    )
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() and c.isascii() else c for c in LONG_Q[:90])
    twelve = " ".join(LONG_Q.split()[5:17])  # 12 contiguous words of a 40-word item: under its 13-gram
    thirteen = " ".join(LONG_Q.split()[5:18])
    assert found(index, [PAGE + copy + PAGE, PAGE + fullwidth, PAGE + twelve, PAGE + thirteen, PAGE]) == [
        {"math/1"},
        {"math/1"},
        set(),
        {"math/1"},
        set(),
    ]


def test_short_items_half_length_whole_item_pairs_and_too_short():
    items = [
        Item.of(
            "mc",
            "mc/1",
            "To roast an eggplant, you can",
            "Split it in half and bake for 20 minutes",
            ("Split it in half and bake for 20 hours", "Split it in half and bake for 20 minutes"),
        ),
        Item.of("mc", "mc/2", "fridge", "prevents meat from spoiling"),
        Item.of("mc", "mc/3", "ice", "box"),
    ]
    index = NgramIndex.build(items)
    assert index.item_n.tolist() == [8, 5, 0]  # ceil(14/2) -> 8 (the floor); whole item of 5 words; too short
    lettered = (
        "To roast an eggplant, you can\nA. Split it in half and bake for 20 hours\n"
        "B. Split it in half and bake for 20 minutes\nAnswer: B"
    )
    labelled = "#5 Problem: fridge\nSolution: prevents meat from spoiling"
    far = "fridge " + PAGE + " prevents meat from spoiling"
    assert found(index, [PAGE + lettered, labelled, far, "fridge prevents meat from spoiling", "ice box"]) == [
        {"mc/1"},
        {"mc/2"},
        set(),
        {"mc/2"},
        set(),
    ]
    assert index.summary()["mc"] == {
        "items": 3,
        "indexed": 2,
        "whole_item": 1,
        "paired": 1,
        "too_short": 1,
        "entries": int(len(index.keys)),
    }


def test_template_and_numeric_ngrams_are_not_evidence():
    template = "Write a python function to find the sum of all the elements of the given list of numbers"
    items = [Item.of("t", f"t/{k}", f"{template} number {k} twice", f"def f{k}(x): return x") for k in range(12)]
    items.append(
        Item.of(
            "code",
            "code/1",
            "Add two dicts.",
            "assert add_dict({'a':900,'b':900,'d':900},{'a':900,'b':900,'d':900})=={'a':1800}",
        )
    )
    index = NgramIndex.build(items, IndexConfig(max_items_per_ngram=10))
    assert index.pruned > 0
    hits = found(index, [PAGE + template + " in Python.", "x = {'a':900,'b':900,'d':900,'a':900,'b':900,'d':900}"])
    assert hits == [set(), set()]


def test_chunk_words_locate_the_same_words_as_the_batch_path():
    text = "Ｆｕｌｌ width,\u00a0soft\u00adhyphen  <<3*4=12>>12 tabs\tand “quotes” café\n\nend"
    w, starts, ends = chunk_words(text)
    assert w.hashes.tolist() == words([text]).hashes.tolist()
    assert [text[s:e] for s, e in zip(starts[:2], ends[:2], strict=True)] == ["Ｆｕｌｌ", "width,"]


def test_cut_removes_the_match_with_its_margin():
    index = NgramIndex.build([Item.of("math", "math/1", LONG_Q, LONG_A)])
    doc = PAGE * 3 + LONG_Q + "\n" + LONG_A + "\n" + PAGE * 3
    new, regions = cut_text(doc, index, margin=50, min_piece=100, max_pieces=10)
    assert regions == 1 and new is not None and "farmer" not in new and len(new) < len(doc) - len(LONG_Q)
    assert not len(index.match(words([new])))
    assert cut_text(LONG_Q, index, 200, 200, 10)[0] is None  # nothing of 200 characters is left


def test_benchmark_recipes_from_raw_layouts(tmp_path):
    rows = {
        "gsm8k.jsonl": {"question": "Q?", "answer": "A"},
        "he.jsonl": {"task_id": "HumanEval/0", "prompt": "def f():", "canonical_solution": " return 1"},
        "mbpp.jsonl": {"task_id": 11, "text": "Do x.", "code": "def x(): pass", "test_list": ["assert x()"]},
        "piqa.jsonl": {"goal": "g", "sol1": "s1", "sol2": "s2", "label": 1},
    }
    for name, row in rows.items():
        (tmp_path / name).write_text(json.dumps(row) + "\n")
    got = {name: load_items(BenchmarkSource(path=str(tmp_path / name)))[0] for name in rows}
    assert got["gsm8k.jsonl"].text == "Q?\nA" and got["he.jsonl"].id == "HumanEval/0"
    assert got["mbpp.jsonl"].text == "Do x.\ndef x(): pass\nassert x()" and got["mbpp.jsonl"].id == "mbpp/11"
    assert got["piqa.jsonl"].gold == "s2" and got["piqa.jsonl"].choices == ("s1", "s2")
    (tmp_path / "odd.jsonl").write_text(json.dumps({"foo": 1}) + "\n")
    with pytest.raises(BenchmarkError, match="recipe"):
        load_items(BenchmarkSource(path=str(tmp_path / "odd.jsonl")))
    with pytest.raises(BenchmarkError, match="no JSONL or Parquet file"):
        load_items(BenchmarkSource(path=str(tmp_path / "missing*.jsonl")))
    assert as_source("hf:openai/gsm8k/main:test") == BenchmarkSource(hf="openai/gsm8k", config="main", split="test")


def test_hf_source_offline_error_says_what_to_do(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_datasets(name, *args, **kwargs):
        if name == "datasets":
            raise ImportError("No module named 'datasets'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_datasets)
    with pytest.raises(BenchmarkError, match="JSONL/Parquet file as `path`"):
        load_items(as_source("hf:openai/gsm8k/main:test"))


# -- the real data ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    items = load_all([BenchmarkSource(path=str(DATA / "benchmarks" / "*.jsonl"))])
    docs = [json.loads(line) for line in open(DATA / "corpus" / "docs.jsonl")]
    truth = {g["id"]: g for g in map(json.loads, open(DATA / "corpus" / "ground_truth.jsonl"))}
    return items, NgramIndex.build(items), docs, truth


WHOLE, PARTIAL = ("verbatim", "reformatted"), ("partial", "partial_reformatted")


@needs_data
def test_planted_corpus_recall_and_false_positives(real):
    _, index, docs, truth = real
    hits = found(index, [d["text"] for d in docs])
    planted: dict[str, list[bool]] = defaultdict(list)
    wrong: dict[str, list[bool]] = defaultdict(list)
    for doc, got in zip(docs, hits, strict=True):
        g = truth[doc["id"]]
        for it in g["items"]:
            planted[it["variant"]].append(it["id"] in got)
        if g["label"] == 0 and not g["ambiguous"]:
            wrong[g["role"]].append(bool(got))
    recall = np.mean([x for v in WHOLE for x in planted[v]])
    recall_partial = np.mean([x for v in PARTIAL for x in planted[v]])
    assert recall >= 0.98 and recall_partial >= 0.9, (recall, recall_partial)
    assert np.mean(wrong["hard_negative"]) <= 0.01 and np.mean(wrong["clean"]) <= 0.01
    assert len(wrong["hard_negative"]) > 100 and len(wrong["clean"]) > 200


def _host_pages(docs, truth) -> list[str]:
    return [d["text"] for d in docs if truth[d["id"]]["role"] == "clean"]


def _reformat(item: Item, rng: random.Random) -> str:
    """As items appear on the web: labels, numbering, case, NBSP, curly quotes, no calculator annotations, and
    multiple-choice items as lettered options with the key after them."""
    query = item.query.replace("'", "\u2019").replace(" ", "\u00a0", 3)
    gold = item.gold.replace("'", "\u2019")
    if len(item.choices) > 1:
        options = "\n".join(f"{'ABCD'[k]}) {c}" for k, c in enumerate(item.choices))
        key = "ABCD"[item.choices.index(item.gold)] if item.gold in item.choices else "A"
        return f"{rng.randint(1, 9)}. {query}\n{options}\nAnswer: {key}"
    return f"Question {rng.randint(1, 9)}: {query.upper() if rng.random() < 0.3 else query}\nSolution: {gold}"


def _slice(text: str, rng: random.Random) -> str:
    tokens = text.split(" ")
    keep = max(1, round(len(tokens) * rng.uniform(0.5, 0.8)))
    start = rng.randint(0, len(tokens) - keep)
    return " ".join(tokens[start : start + keep])


@needs_data
def test_fresh_plantings_of_other_items_follow_the_rule(real):
    """Items the corpus does not hold, planted anew (whole, reformatted, 50-80 % slices) into clean pages."""
    items, index, docs, truth = real
    planted_ids = {it["id"] for g in truth.values() for it in g["items"]}
    rng = random.Random(17)
    pool = [i for i, it in enumerate(items) if it.id not in planted_ids and index.item_n[i] > 0]
    chosen = rng.sample(pool, 400)
    hosts = _host_pages(docs, truth)
    whole, partial = [], []
    for k in chosen:
        it, host = items[k], rng.choice(hosts)
        cut = rng.randint(0, len(host))
        for text, bucket in ((it.text, whole), (_reformat(it, rng), whole), (_slice(it.text, rng), partial)):
            bucket.append((host[:cut] + "\n" + text + "\n" + host[cut:], it.id))
    for bucket, floor in ((whole, 0.98), (partial, 0.9)):
        hits = found(index, [t for t, _ in bucket])
        rate = np.mean([ident in got for (_, ident), got in zip(bucket, hits, strict=True)])
        assert rate >= floor, rate


@needs_data
def test_hard_negative_items_are_rarely_matched(real):
    """Same-topic items that are not test items (GSM8K train, PIQA test, CPython functions): matched only where they
    really share text with a test item (MBPP's splits overlap, so it is left out)."""
    _, index, _, _ = real
    for name, ceiling in (("gsm8k_train", 0.005), ("piqa_test", 0.015), ("python_stdlib_functions", 0.0)):
        negatives = load_all([BenchmarkSource(path=str(DATA / "negatives" / f"{name}.jsonl"))])
        rate = np.mean([bool(h) for h in found(index, [n.text for n in negatives])])
        assert rate <= ceiling, (name, rate)


# -- the step -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    docs = [json.loads(line) for line in open(DATA / "corpus" / "docs.jsonl")][:160]
    truth = {g["id"]: g for g in map(json.loads, open(DATA / "corpus" / "ground_truth.jsonl"))}
    table = pa.table(
        {
            "id": [d["id"] for d in docs],
            "text": [d["text"] for d in docs],
            "url": [f"https://{'quiz' if truth[d['id']]['label'] else 'news'}.example.org/{d['id']}" for d in docs],
        }
    )
    return table, truth


@needs_data
def test_step_drops_contaminated_documents_and_records_what_matched(sample):
    table, truth = sample
    out = Decontaminate(benchmarks=[str(DATA / "benchmarks" / "*.jsonl")]).run_table(table)
    rejected = out.rejected.to_pylist()
    assert {r["id"] for r in rejected} >= {
        i
        for i in table["id"].to_pylist()
        if truth[i]["label"] == 1 and any(p["variant"] in WHOLE for p in truth[i]["items"])
    }
    for row in rejected:
        assert row["reason"] == "contaminated" and row["contamination_benchmarks"]
        planted = {p["id"] for p in truth[row["id"]]["items"]}
        assert not planted or planted & set(row["contamination_items"].split(","))
    assert out.kept.num_rows + len(rejected) == table.num_rows and "contamination_items" not in out.kept.column_names


@needs_data
def test_step_cut_leaves_no_match(sample):
    table, _ = sample
    step = Decontaminate(benchmarks=[str(DATA / "benchmarks" / "*.jsonl")], action="cut")
    out = step.run_table(table)
    assert out.counters["docs_cut"] > 0 and out.counters["chars_cut"] > 0
    cut = out.kept.filter(pa.compute.is_valid(out.kept["contamination_items"]))
    assert cut.num_rows == out.counters["docs_cut"]
    assert not len(step.build_index().match(words(out.kept["text"])))


@needs_data
def test_recipe_run_reports_the_contamination_table_and_audit_agrees(tmp_path, sample, capsys):
    import curate
    from curate.pipeline import run_recipe
    from curate.stages.decontam.audit import main

    table, truth = sample
    pq.write_table(table, tmp_path / "docs.parquet")
    recipe = tmp_path / "decon.yaml"
    recipe.write_text(f"""name: decon
input: {{paths: ["{tmp_path / "docs.parquet"}"]}}
output: {tmp_path / "out"}
steps:
  - decontaminate: {{benchmarks: ["{DATA / "benchmarks" / "*.jsonl"}"], keep_rejected: true}}
execution: {{executor: local}}
""")
    run_recipe(curate.load_recipe(str(recipe)))
    stats = json.loads((tmp_path / "out" / "_stats.json").read_text())
    step = next(s for s in stats["steps"] if s["step"] == "decontaminate")
    table = step["phases"]["contamination"]
    groups, domains = table["groups"], table["top_domains"]
    assert set(groups) == {"gsm8k", "humaneval", "mbpp", "piqa"}
    removed = step["stats"]["removed"]["contaminated"]
    assert sum(g["docs_hit"] for g in groups.values()) >= removed > 0
    assert all("quiz.example.org" in domains[b] for b, g in groups.items() if g["docs_hit"])
    page = (tmp_path / "out" / "_report" / "index.html").read_text()
    assert 'data-phase="contamination"' in page and "<td>gsm8k</td>" in page and "quiz.example.org" in page
    # the audit of the input finds exactly what the step removed
    assert main([str(tmp_path / "docs.parquet"), "-b", str(DATA / "benchmarks" / "*.jsonl"), "--json"]) == 0
    audit = json.loads(capsys.readouterr().out)
    assert audit["docs_hit"] == removed
    assert {b: {k: v for k, v in r.items() if k != "top_domains"} for b, r in audit["benchmarks"].items()} == groups
    # and the audit of the decontaminated output finds nothing
    assert main([str(tmp_path / "out"), "-b", str(DATA / "benchmarks" / "*.jsonl")]) == 0
    assert "0 of" in capsys.readouterr().out

"""paragraph_dedup: Dolma's expected duplicate spans on real Common Crawl documents, the counting rules against a
plain-Python reference on real web text, too-short documents, the per-domain plan, local = Ray, resume after a kill."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import shared_data
from dedup_fixtures import parquet_outputs, real_docs, run_dying

from curate.executors.local import LocalExecutor
from curate.io import discover_inputs
from curate.plan import StepSpec
from curate.runner import run_steps
from curate.stages import ParagraphDedup
from curate.stages.dedup.paragraph import repeated_occurrences

DOLMA = ("dedup", "dolma_dedup_fixtures", "tests", "data")


def dolma_documents() -> tuple[pa.Table, dict[str, list[list]]]:
    """Dolma's 10 deduper test documents (real Common Crawl pages) and its expected paragraph spans."""
    root = shared_data(*DOLMA)
    with gzip.open(root / "provided" / "deduper" / "documents" / "000.json.gz", "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    with gzip.open(root / "expected" / "dedupe-paragraphs.json.gz", "rt", encoding="utf-8") as f:
        expected = {e["id"]: e["attributes"]["bff_duplicate_paragraph_spans"] for e in map(json.loads, f)}
    table = pa.table(
        {"id": [d["id"] for d in docs], "text": [d["text"] for d in docs], "url": [d["metadata"]["url"] for d in docs]}
    )
    return table, expected


def test_marks_exactly_dolmas_expected_paragraph_spans():
    table, expected = dolma_documents()
    out = ParagraphDedup(normalize="none", action="mark", partitions=3).run_table(table)
    got = {(r["id"], s["start"], s["end"]) for r in out.kept.to_pylist() for s in r["duplicate_span_offsets"]}
    lengths = dict(zip(table.column("id").to_pylist(), (len(t) for t in table.column("text").to_pylist())))
    # Dolma counts the last span's end in bytes (text.len()) beside characters: clip it to the text
    want = {(i, s, min(e, lengths[i])) for i, spans in expected.items() for s, e, _ in spans}
    assert len(want) == 43 and got == want
    assert out.kept.column("text").to_pylist() == table.column("text").to_pylist()  # mark keeps the text


def test_remove_cuts_the_repeated_lines_and_leaves_other_documents_untouched():
    table, expected = dolma_documents()
    out = ParagraphDedup(normalize="none").run_table(table)
    kept = {r["id"]: r for r in out.kept.to_pylist()}
    for doc_id, text in zip(table.column("id").to_pylist(), table.column("text").to_pylist()):
        if not expected[doc_id]:
            assert kept[doc_id]["text"] == text and kept[doc_id]["duplicate_spans"] == 0
            continue
        first_doc_lines = set(table.column("text")[0].as_py().split("\n"))
        lines = text.split("\n")
        assert kept[doc_id]["text"] == "\n".join(x for x in lines if x not in first_doc_lines)
        assert kept[doc_id]["duplicate_spans"] == len(expected[doc_id])
    # the default (CCNet's normalisation) finds the same spans on these pages
    default = ParagraphDedup().run_table(table).kept
    assert default.column("duplicate_spans").to_pylist() == out.kept.column("duplicate_spans").to_pylist()


def _reference(docs: list[str], max_occurrences: int, count: str, keep_first: bool) -> list[str]:
    """The rule in plain Python: whitespace-normalised lines, counted over the corpus in input order."""

    def key(line: str) -> str:
        return " ".join(line.split())

    totals: dict[str, int] = {}
    for doc in docs:
        keys = [key(x) for x in doc.split("\n") if key(x)]
        for k in set(keys) if count == "documents" else keys:
            totals[k] = totals.get(k, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for doc in docs:
        kept_lines, counted = [], set()
        for line in doc.split("\n"):
            k = key(line)
            if not k:
                kept_lines.append(line)
                continue
            if count == "occurrences" or k not in counted:
                seen[k] = seen.get(k, 0) + 1
                counted.add(k)
            frequent = totals[k] > max_occurrences
            drop = frequent and (seen[k] > max_occurrences if keep_first else True)
            if not drop:
                kept_lines.append(line)
        out.append("\n".join(kept_lines))
    return out


@pytest.mark.parametrize(
    "max_occurrences,count,keep_first",
    [(1, "occurrences", True), (2, "occurrences", True), (1, "documents", True), (3, "documents", False)],
)
def test_counting_rules_match_a_plain_python_reference_on_real_web_text(max_occurrences, count, keep_first):
    shared_data("quality_labels", "hplt_v2_inspection")
    base = real_docs(150, min_words=40, max_chars=1500)
    rng = np.random.default_rng(7)
    boiler = ["Accept cookies", "Share this post", "  Related   posts  ", "© 2024 All rights reserved"]
    docs = []
    for i, text in enumerate(base):  # boilerplate lines of three "sites", and documents that repeat a line
        lines = text.split("\n")
        extra = [boiler[j] for j in range(len(boiler)) if (i + j) % 3 == 0]
        if i % 10 == 0:
            extra.append(lines[0])
        docs.append("\n".join([*extra, *lines, *extra[:1]]))
    order = rng.permutation(len(docs))
    docs = [docs[i] for i in order]
    table = pa.table({"id": [f"d{i}" for i in range(len(docs))], "text": docs})
    step = ParagraphDedup(
        normalize="whitespace",
        max_occurrences=max_occurrences,
        count=count,
        keep_first=keep_first,
        min_doc_chars=0,
        partitions=4,
    )
    out = step.run_table(table)
    assert out.kept.num_rows == len(docs)
    assert out.kept.column("text").to_pylist() == _reference(docs, max_occurrences, count, keep_first)


def test_repeated_occurrences_rule():
    keys = np.array([1, 1, 1, 2, 3, 3], dtype=np.uint64)
    docs = np.array([10, 10, 11, 10, 12, 13], dtype=np.uint64)
    assert repeated_occurrences(keys, docs, 1, "occurrences", True).tolist() == [0, 1, 1, 0, 0, 1]
    assert repeated_occurrences(keys, docs, 1, "documents", True).tolist() == [0, 0, 1, 0, 0, 1]
    assert repeated_occurrences(keys, docs, 2, "documents", False).tolist() == [0, 0, 0, 0, 0, 0]
    assert repeated_occurrences(keys, docs, 2, "occurrences", False).tolist() == [1, 1, 1, 0, 0, 0]


def test_documents_left_too_short_are_removed_and_within_groups_are_separate():
    texts = [
        "Cookie banner\nReal content one",
        "Cookie banner",
        "Cookie banner\nReal content two words here",
        "Cookie banner\nthree words only",
        "",
    ]
    table = pa.table({"id": list("abcde"), "text": texts, "site": ["x", "x", "x", "y", "x"]})
    out = ParagraphDedup(min_doc_words=4).run_table(table)
    assert out.kept.column("id").to_pylist() == ["a", "c", "e"]  # "e" was empty already: only touched ones judged
    assert dict(zip(out.rejected.column("id").to_pylist(), out.rejected.column("reason").to_pylist())) == {
        "b": "paragraph_dedup_too_short",
        "d": "paragraph_dedup_too_short",
    }
    assert out.kept.column("text").to_pylist() == [texts[0], "Real content two words here", ""]
    per_site = ParagraphDedup(within="site", min_doc_chars=0).run_table(table)
    assert per_site.kept.column("duplicate_spans").to_pylist() == [0, 1, 1, 0, 0]


# -- engine: per-domain plan, local = Ray, resume after a kill ---------------------------------------------------------
def _write_corpus(folder: Path, shards: int = 4) -> None:
    shared_data("quality_labels", "hplt_v2_inspection")
    docs = real_docs(240, min_words=40, max_chars=1200)
    boiler = {0: "Subscribe to our newsletter", 1: "Posted in Uncategorized", 2: "Leave a reply"}
    folder.mkdir(parents=True)
    for s in range(shards):
        rows = range(s, len(docs), shards)
        texts = [f"{boiler[i % 3]}\n{docs[i]}\n{boiler[(i + 1) % 3]}" for i in rows]
        pq.write_table(
            pa.table(
                {
                    "id": [f"d{i}" for i in rows],
                    "text": texts,
                    "url": [f"https://www.site{i % 5}.example/p{i}" for i in rows],
                }
            ),
            folder / f"part-{s}.parquet",
        )


class DyingParagraphDedup(ParagraphDedup):
    """Dies (os._exit) once, in the counts phase, after two partitions were written."""

    class Params(ParagraphDedup.Params):
        die_marker: str = ""

    def _counts(self, ctx, part):
        result = super()._counts(ctx, part)
        if self.params.die_marker and not os.path.exists(self.params.die_marker) and part >= 1:
            open(self.params.die_marker, "w").close()
            os._exit(9)
        return result


def _run(inputs: Path, out: Path, marker: Path) -> int:
    return run_dying(
        "test_paragraph_dedup:DyingParagraphDedup", "paragraph_dedup", {"partitions": 4}, inputs, out, marker
    )


def test_kill_during_counts_then_resume_is_byte_identical_and_plan_lists_domains(tmp_path):
    _write_corpus(tmp_path / "in")
    never = tmp_path / "never-die"
    never.touch()
    assert _run(tmp_path / "in", tmp_path / "clean", never) == 0
    marker = tmp_path / "died"
    assert _run(tmp_path / "in", tmp_path / "killed", marker) == 9 and marker.exists()
    assert _run(tmp_path / "in", tmp_path / "killed", marker) == 0
    clean, resumed = parquet_outputs(tmp_path / "clean"), parquet_outputs(tmp_path / "killed")
    assert clean and clean == resumed
    stats = json.loads((tmp_path / "clean" / "_stats.json").read_text())
    plan = stats["steps"][0]["phases"]["domains"]
    written = pa.concat_tables(
        [
            pq.read_table(f, columns=["duplicate_spans"])
            for f in (tmp_path / "clean" / "paragraph_dedup").rglob("*.parquet")
            if "_work" not in f.parts
        ]
    )
    assert plan["spans"] == pa.compute.sum(written.column("duplicate_spans")).as_py()
    assert plan["spans"] >= 160 * 3 - 3  # every boilerplate line after its first occurrence (+ real repeats)
    assert set(plan["groups"]) == {f"site{i}.example" for i in range(5)}
    assert sum(g["spans"] for g in plan["groups"].values()) == plan["spans"]


@pytest.mark.ray
def test_local_and_ray_give_identical_output(tmp_path, ray_instance):
    from curate.executors.ray import RayExecutor

    _write_corpus(tmp_path / "in")
    spec = StepSpec("paragraph_dedup", 0, ParagraphDedup, {"partitions": 3}, {"keep_rejected": True})
    run_steps([spec], discover_inputs([str(tmp_path / "in")]), str(tmp_path / "local"), LocalExecutor())
    run_steps([spec], discover_inputs([str(tmp_path / "in")]), str(tmp_path / "ray"), RayExecutor())
    local, on_ray = parquet_outputs(tmp_path / "local"), parquet_outputs(tmp_path / "ray")
    assert local and local == on_ray


def test_collapse_whitespace_is_pythons_split_join_on_every_whitespace_kind():
    """The fast path (only strings an RE2 search flags are collapsed) gives ``" ".join(s.split())`` (Python's
    whitespace is :data:`WHITESPACE`) on random strings of every whitespace kind, sliced arrays and nulls too."""
    import random

    from curate.stages.dedup.text import collapse_whitespace

    ws = ["\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f", " ", "\x85", "\xa0", "\u1680", "\u2000", "\u200a"]
    ws += ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
    other = ["a", "é", "Ã", "\u2019", "\u200b", "\u3001", "\u1681", "ж", "\x01", "\U0001f600", "€"]
    rng = random.Random(7)
    for _ in range(400):
        strs: list[str | None] = []
        for _ in range(rng.randint(0, 20)):
            pool = other if rng.random() < 0.5 else ws + other * 2
            strs.append(" ".join("".join(rng.choice(pool) for _ in range(rng.randint(1, 4))) for _ in range(3)))
        strs.append(None)
        arr = pa.array(strs, pa.string()).slice(rng.randint(0, 1))
        want = [" ".join(s.split()) if s is not None else "" for s in arr.to_pylist()]
        assert collapse_whitespace(arr).to_pylist() == want


def test_cut_spans_is_the_join_of_the_kept_spans():
    import random

    import pyarrow.compute as pc

    from curate.stages.dedup.paragraph import _cut_spans, _split

    rng = random.Random(3)
    for _ in range(300):
        sep = rng.choice(["\n", "\n\n", "ab"])
        docs = ["".join(rng.choice(["a", "é", "", " ", "ж", sep, "\n"]) for _ in range(rng.randint(0, 10)))]
        docs += ["".join(rng.choice(["x", sep]) for _ in range(rng.randint(0, 6))) for _ in range(rng.randint(0, 8))]
        text = pa.array(docs, rng.choice([pa.string(), pa.large_string()]))
        lists = _split(text, sep)
        offsets = lists.offsets.to_numpy().astype(np.int64)
        mask = np.array([rng.random() < 0.4 for _ in range(int(offsets[-1]))], dtype=bool)
        kept = lists.flatten().filter(pa.array(~mask))
        kept_offsets = np.concatenate([[0], np.cumsum(~mask)])[offsets].astype(np.int32)
        want = pc.binary_join(pa.ListArray.from_arrays(pa.array(kept_offsets), kept), pa.scalar(sep, pa.large_string()))
        got = _cut_spans(text, lists, offsets, mask, len(sep.encode()))
        assert got.type == text.type and got.to_pylist() == want.to_pylist()


def test_first_step_reader_decodes_only_the_columns_asked_for(tmp_path: Path):
    """A phase's ``ctx.iter_input(shard, columns)`` on raw input: only those columns, an ``id`` made up only when
    asked for (the same ids as a full read), Parquet and JSONL alike."""
    from curate.io import InputFile
    from curate.units import iter_step_input

    table = pa.table({"text": ["a", "b", "c"], "url": ["u1", "u2", "u3"], "other": [1, 2, 3]})
    pq.write_table(table, tmp_path / "s.parquet")
    (tmp_path / "s.jsonl").write_text("".join(json.dumps(r) + "\n" for r in table.to_pylist()))
    for name in ("s.parquet", "s.jsonl"):
        f = InputFile(str(tmp_path / name), "s", None, None)
        full = pa.concat_tables(iter_step_input(str(tmp_path / "out"), None, f, "s", 2))
        assert full.column_names == ["id", "text", "url", "other"]
        part = pa.concat_tables(iter_step_input(str(tmp_path / "out"), None, f, "s", 2, ["text", "url"]))
        assert part.column_names == ["text", "url"] and part.equals(full.select(["text", "url"]))
        ids = pa.concat_tables(iter_step_input(str(tmp_path / "out"), None, f, "s", 2, ["url", "id"]))
        assert ids.equals(full.select(["url", "id"]))


def test_line_collapsing_checked_per_document_gives_the_same_keys():
    """``normalize: whitespace`` on lines: the per-document whitespace check (:func:`_collapse_lines`) gives what
    ``exact_normalize`` gives line by line, on random documents of every whitespace kind."""
    import random

    from curate.stages.dedup.paragraph import _collapse_lines, _split, _split_input
    from curate.stages.dedup.text import exact_normalize

    ws = ["\t", "\n", "\x0b", "\r", "\x1c", " ", "\x85", "\xa0", "\u2000", "\u2028", "\u202f", "\u3000"]
    other = ["a", "é", "\u2019", "\u200b", "ж", "\x01", "\n"]
    rng = random.Random(5)
    for _ in range(300):
        docs: list[str | None] = [None] if rng.random() < 0.1 else []
        for _ in range(rng.randint(0, 12)):
            pool = other if rng.random() < 0.5 else ws + other * 2
            docs.append("".join(rng.choice(pool) for _ in range(rng.randint(0, 14))))
        text = pa.array(docs, pa.string())
        lists = _split(text, "\n")
        assert _collapse_lines(_split_input(text), lists).equals(exact_normalize(lists.flatten(), ("whitespace",)))

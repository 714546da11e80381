"""Dedup normalisation: exact dedup on exact text by default (numbers matter), opt-in whitespace / case / Unicode /
FineWeb normalisations, ``keep: longest`` by visible length, ``first`` and ties in input order, MinHash's
``normalize_unicode`` (NFKC + format characters removed) on real text, and indexes that refuse to mix
normalisations."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import shared_data
from dedup_fixtures import real_docs, table_of

from curate.executors.local import LocalExecutor
from curate.io import discover_inputs
from curate.plan import StepSpec
from curate.runner import run_steps
from curate.stages import ExactDedup, MinhashDedup
from curate.stages.dedup.text import exact_normalize, unicode_normalize, visible_length

#: soft hyphen, zero-width space / non-joiner / joiner, word joiner, BOM (all Unicode category Cf)
FORMAT_CHARS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"


def _kept_ids(step, table: pa.Table) -> list[str]:
    return step(table).column("id").to_pylist()


def _unicode_variant(text: str, rng: random.Random, share: float = 0.15) -> str:
    """``text`` with a ``share`` of its words in fullwidth forms or split by a format character: it renders the
    same and is the same text under NFKC with format characters removed."""
    parts = re.split(r"(\s+)", text)
    for i in range(0, len(parts), 2):
        word = parts[i]
        if len(word) > 1 and rng.random() < share:
            if rng.random() < 0.5:
                parts[i] = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)
            else:
                at = rng.randrange(1, len(word))
                parts[i] = word[:at] + rng.choice(FORMAT_CHARS) + word[at:]
    return "".join(parts)


# -- normalisations ----------------------------------------------------------------------------------------------------
def test_exact_normalisations_compose():
    texts = pa.array(["  Price:\u00a012 €\n\tper ﬁle  ", "Ｐｒｉｃｅ: 12 € per ﬁ\u00adle", "e\u0301te\u200b", None])
    assert exact_normalize(texts, []).to_pylist() == [*texts.to_pylist()[:3], ""]
    assert exact_normalize(texts, ["whitespace"]).to_pylist()[0] == "Price: 12 € per ﬁle"
    assert exact_normalize(texts, ["unicode"]).to_pylist()[2] == "\u00e9te"
    full = exact_normalize(texts, ["case", "unicode", "whitespace"]).to_pylist()
    assert full[0] == full[1] == "price: 12 € per file"
    assert exact_normalize(texts, ["fineweb"]).to_pylist()[0] == "price 0 per ﬁle"  # FineWeb: digits to 0
    assert visible_length(pa.array(["a b", "  a \u00a0\u200b b\n"])).to_pylist() == [3, 3]


def test_exact_dedup_keeps_documents_that_differ_in_numbers_apart():
    shared_data("quality_labels", "hplt_v2_inspection")
    docs = [d for d in real_docs(200) if len(re.findall(r"\d+", d)) >= 2][:20]
    assert len(docs) == 20
    changed = [re.sub(r"\d+", lambda m: str(int(m.group()) + 3), d) for d in docs]
    versions = [
        "Release notes for v3: the installer now checks signatures.",
        "Release notes for v4: the installer now checks signatures.",
    ]
    texts = docs + changed + versions
    table = table_of(texts, [f"d{i}" for i in range(len(texts))])
    assert ExactDedup()(table).num_rows == len(texts)  # exact text: price 12 -> 15 or v3 -> v4 is another document
    assert ExactDedup(normalize=["unicode", "case", "whitespace"])(table).num_rows == len(texts)
    fineweb = ExactDedup(normalize="fineweb").run_table(table)  # the old behaviour, on request: digits to 0
    assert fineweb.kept.column("id").to_pylist() == [f"d{i}" for i in range(20)] + ["d40"]
    assert fineweb.kept.column("duplicate_count").to_pylist() == [2] * 21


def test_exact_dedup_whitespace_and_case_options_group_real_copies():
    shared_data("quality_labels", "hplt_v2_inspection")
    # documents with case whose upper-case form lowercases back (not: ß -> SS -> ss, final sigma)
    docs = [d for d in real_docs(60) if d.upper() != d and d.upper().lower() == d.lower()][:10]
    spaced = ["  " + re.sub(r" ", "  ", d) + "\n\n" for d in docs]
    upper = [d.upper() for d in docs]
    table = table_of(docs + spaced + upper, [f"d{i}" for i in range(30)])
    assert ExactDedup()(table).num_rows == 30
    assert ExactDedup(normalize="whitespace")(table).num_rows == 20
    assert ExactDedup(normalize=["whitespace", "case"])(table).column("id").to_pylist() == [f"d{i}" for i in range(10)]


# -- keep policy -------------------------------------------------------------------------------------------------------
def test_longest_compares_visible_length_not_padding():
    shared_data("quality_labels", "hplt_v2_inspection")
    doc, other = real_docs(2)
    padded = "\n\n   " + doc.replace(" ", " \u200b  ") + "   \n"  # more bytes, the same visible text
    table = table_of([doc, padded], ["orig", "padded"])
    assert _kept_ids(ExactDedup(normalize=["unicode", "whitespace"], keep="longest"), table) == ["orig"]
    longer = doc + " " + " ".join(other.split()[:3])  # three more real words: really longer
    table = table_of([padded, doc, longer], ["padded", "orig", "longer"])
    assert _kept_ids(MinhashDedup(keep="longest"), table) == ["longer"]


def test_first_and_ties_follow_input_order_not_id_strings():
    text = "The same announcement, posted twice on the same site."
    assert _kept_ids(ExactDedup(), table_of([text, text], ["9", "10"])) == ["9"]
    assert _kept_ids(ExactDedup(), table_of([text, text], ["10", "9"])) == ["10"]
    assert _kept_ids(ExactDedup(keep="longest"), table_of([text, text], ["9", "10"])) == ["9"]
    out = ExactDedup().run_table(table_of([text, "other", text], ["9", "5", "10"]))
    assert out.rejected.column("id").to_pylist() == ["10"]


def test_first_follows_shard_order_then_row(tmp_path: Path):
    shared_data("quality_labels", "hplt_v2_inspection")
    docs = real_docs(8)
    inputs = tmp_path / "in"
    inputs.mkdir()
    # part-0 holds the copy at its last row with id "9"; part-1 holds it at row 0 with id "10"
    pq.write_table(table_of(docs[:4] + [docs[7]], ["1", "2", "3", "4", "9"]), inputs / "part-0.parquet")
    pq.write_table(table_of([docs[7]] + docs[4:7], ["10", "5", "6", "7"]), inputs / "part-1.parquet")
    spec = StepSpec("exact_dedup", 0, ExactDedup, {"partitions": 2}, {"keep_rejected": True})
    run_steps([spec], discover_inputs([str(inputs)]), str(tmp_path / "out"), LocalExecutor())
    rejected = pq.read_table(tmp_path / "out" / "exact_dedup" / "rejected")
    assert rejected.column("id").to_pylist() == ["10"]


# -- MinHash normalize_unicode -----------------------------------------------------------------------------------------
def test_minhash_unicode_option_groups_variants_fineweb_misses():
    shared_data("quality_labels", "hplt_v2_inspection")
    docs = real_docs(60)
    rng = random.Random(5)
    variants = [_unicode_variant(d, rng) for d in docs]
    assert unicode_normalize(pa.array(docs)).equals(unicode_normalize(pa.array(variants)))  # true Jaccard 1.0
    ids = [f"s{i:03d}" for i in range(60)] + [f"v{i:03d}" for i in range(60)]
    table = table_of(docs + variants, ids)
    fineweb = set(_kept_ids(MinhashDedup(), table))
    unicode = set(_kept_ids(MinhashDedup(normalize_unicode=True), table))
    assert unicode == set(ids[:60])  # every variant joins its source, which comes first in input order
    missed = sum(f"v{i:03d}" in fineweb for i in range(60))
    assert missed >= 30, missed  # FineWeb's normalisation splits words at format characters, keeps fullwidth forms
    assert set(_kept_ids(ExactDedup(normalize="unicode"), table)) == set(ids[:60])
    assert len(_kept_ids(ExactDedup(), table)) == 120


# -- persistent index --------------------------------------------------------------------------------------------------
def test_index_refuses_to_mix_normalisations(tmp_path: Path):
    shared_data("quality_labels", "hplt_v2_inspection")
    docs = real_docs(20)
    table = table_of(docs, [f"d{i}" for i in range(20)])
    exact, minhash = str(tmp_path / "exact"), str(tmp_path / "minhash")
    ExactDedup(dedup_index=exact).run_table(table)
    ExactDedup(dedup_index=exact, normalize="none").run_table(table)  # same normalisation: accepted
    with pytest.raises(Exception, match="was built with"):
        ExactDedup(dedup_index=exact, normalize="whitespace").run_table(table)
    with pytest.raises(Exception, match="was built with"):
        ExactDedup(dedup_index=exact, normalize="fineweb").run_table(table)
    MinhashDedup(dedup_index=minhash, partitions=2).run_table(table)
    with pytest.raises(Exception, match="was built with"):
        MinhashDedup(dedup_index=minhash, partitions=2, normalize_unicode=True).run_table(table)
    unicode_index = str(tmp_path / "minhash-unicode")
    MinhashDedup(dedup_index=unicode_index, normalize_unicode=True).run_table(table)
    with pytest.raises(Exception, match="was built with"):
        MinhashDedup(dedup_index=unicode_index).run_table(table)

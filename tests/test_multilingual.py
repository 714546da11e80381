"""FineWeb2 per-language settings: the shipped table, lookups by any code form, user tables, word segmenters, the
FineWeb2 filters on real labelled text in many languages, text repair, the fineweb2 recipe."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from conftest import SHARED_DATA, needs_shared_data, shared_data

from curate.stages.filters import FineWebQuality, GopherQuality, GopherRepetition, TextRepair
from curate.stages.filters.segmenters import cjk_fallback, indic_tokens
from curate.stages.filters.settings import FINEWEB2_FIXED, load_settings, provenance
from curate.stages.filters.words import tokenizer_for

ROOT = Path(__file__).resolve().parents[1]
FW2 = SHARED_DATA / "fineweb2" / "configs"
HPLT = ("quality_labels", "hplt_v2_inspection", "hplt_v2_annotated.jsonl")


def hplt_good(lang: str, n: int) -> list[str]:
    out = []
    for line in shared_data(*HPLT).open(encoding="utf-8"):
        r = json.loads(line)
        if r["lang"] == lang and r["lang_correct"] == "1" and r["unnatural"] in ("", "0"):
            out.append(r["text"].replace("\n..........\n", "\n"))  # the sample's excerpt separator
            if len(out) == n:
                break
    return out


def test_lookup_any_code_form():
    table = load_settings("fineweb2")
    assert len(table.entries) == 1929
    assert {table.resolve(c) for c in ("ar", "ara", "arb", "arb_Arab", "ar-Arab")} == {"arb_Arab"}
    assert table.resolve("zh") == table.resolve("zho_Hans") == table.resolve("cmn") == "cmn_Hani"
    assert table.resolve("pes") == table.resolve("fa") == "fas_Arab"  # individual language -> macrolanguage
    assert table.resolve("no") == table.resolve("nb") == "nob_Latn" and table.resolve("nn") == "nno_Latn"
    assert table.resolve("srp_Latn") == "srp_Latn" and table.resolve("ja") == "jpn_Jpan"
    assert table.resolve("en") is None and table.resolve("not a code") is None


@needs_shared_data("fineweb2", "configs")
def test_shipped_table_equals_fineweb2_configs():
    table = load_settings("fineweb2")
    for key in ("deu_Latn", "tha_Thai", "arb_Arab", "cmn_Hani", "gla_Latn"):
        with open(FW2 / f"{key}.yml", encoding="utf-8") as f:
            assert table.entries[key] == yaml.safe_load(f)
    assert len(list(FW2.glob("*.yml"))) == len(table.entries)


def test_user_table_overrides_fields_and_provenance(tmp_path):
    user = tmp_path / "mine.yaml"
    user.write_text("deu_Latn: {max_avg_word_length: 12}\nxyz_Latn: {stopwords: [foo, bar]}\n")
    step = GopherQuality(settings=["fineweb2", str(user)], language_overrides={"deu": {"min_doc_words": 10}})
    p = step.params_for("de")
    assert p.max_avg_word_length == 12 and p.max_non_alpha_words_ratio == 0.774  # user field, shipped field
    assert p.min_doc_words == 10 and p.language == "deu_Latn"
    assert step.params_for("xyz").stop_words == ["foo", "bar"]
    rows = {
        name: source
        for name, _, source in provenance(
            GopherQuality,
            "de",
            {
                "settings": ["fineweb2", str(user)],
                "language_overrides": {"deu": {"min_doc_words": 10}},
                "max_doc_words": 5000,
            },
        )
    }
    assert rows["max_avg_word_length"].startswith(f"settings {user}")
    assert rows["stop_words"] == "settings fineweb2 [deu_Latn]"
    assert rows["min_doc_words"] == "language_overrides" and rows["max_doc_words"] == "recipe"
    assert rows["max_bullet_lines_ratio"] == "default"
    with pytest.raises(ValueError):
        GopherQuality(settings=str(tmp_path / "missing.yaml"))


def test_segmenters_by_language():
    assert tokenizer_for("hin_Deva").words("यह एक वाक्य है। 12 , 34 और") == ["यह", "एक", "वाक्य", "है", "।", "12,34", "और"]
    assert indic_tokens("کیا حال ہے؟ ٹھیک", urdu=True) == ["کیا", "حال", "ہے؟", "ٹھیک"]
    assert tokenizer_for("urd_Arab").language == "indic:ur"
    rules = tokenizer_for("xx").chunk_tokens
    assert cjk_fallback("東京タワーに行きました。", rules, kana_runs=True) == (
        "東",
        "京",
        "タワー",
        "に",
        "行",
        "き",
        "ま",
        "し",
        "た",
        "。",
    )
    assert cjk_fallback("我们是人。", rules, kana_runs=False) == ("我", "们", "是", "人", "。")


def test_segmenters_match_datatrove_on_real_text():
    pytest.importorskip("datatrove")
    pytest.importorskip("jieba")
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    for key, lang, n in (("cmn_Hani", "zho_Hans", 25), ("hin_Deva", "hin_Deva", 60), ("mar_Deva", "mar_Deva", 60)):
        theirs = load_word_tokenizer(key)
        for text in hplt_good(lang, n):
            assert tokenizer_for(key).words(text) == theirs.word_tokenize(text)


def test_fineweb2_settings_keep_natural_text_the_english_defaults_drop():
    """The issue's case: Gopher quality with English stop words drops natural Arabic/Chinese/Russian pages."""
    for lang in ("ara_Arab", "zho_Hans", "rus_Cyrl"):
        texts = hplt_good(lang, 120)
        table = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts, "language": [lang] * len(texts)})
        fw2 = GopherQuality(settings="fineweb2", **FINEWEB2_FIXED["gopher_quality"]).run_table(table).kept.num_rows
        en = GopherQuality().run_table(table).kept.num_rows
        assert en / len(texts) < 0.05, lang
        assert fw2 / len(texts) > 0.75, lang


def test_fineweb2_thresholds_reach_the_rules():
    text = hplt_good("deu_Latn", 1)[0]
    table = pa.table({"id": ["a"], "text": [text], "language": ["de"]})
    # FineWeb2 sets German line_punct_thr to 0: a page whose lines end without punctuation is kept
    assert FineWebQuality(line_punct_thr=0.9, settings="fineweb2").run_table(table).kept.num_rows == 1
    assert FineWebQuality(line_punct_thr=0.9).run_table(table).removed_by_reason() == {"line_punct_ratio": 1}
    rep = GopherRepetition(settings="fineweb2", **FINEWEB2_FIXED["gopher_repetition"])
    assert rep.params_for("deu").top_n_grams == [(2, 0.169), (3, 0.153), (4, 0.137)]


def test_japanese_sample_article_kept_by_fineweb2_filters():
    import curate
    from curate.stages import LanguageId

    urls = [
        e["url"]
        for e in json.loads((ROOT / "curate" / "data" / "sample_manifest.json").read_text())
        if e["language"] == "ja" and e["category"] == "article"
    ]
    docs = curate.read_warc(str(ROOT / "curate" / "data" / "sample.warc.gz"))
    docs = docs.filter(pc.is_in(docs.column("url"), pa.array(urls)))
    assert docs.num_rows == 1
    docs = LanguageId(model="lid176-ftz", settings="fineweb2")(docs)
    assert docs.column("language").to_pylist() == ["jpn"] and docs.column("language_script").to_pylist() == ["Jpan"]
    for cls in (GopherRepetition, FineWebQuality, GopherQuality):
        docs = cls(settings="fineweb2", **FINEWEB2_FIXED[cls.name])(docs)
    assert docs.num_rows == 1
    assert GopherQuality().run_table(docs).removed_by_reason() == {"gopher_below_avg_threshold": 1}


def test_language_id_thresholds_from_the_table():
    from curate.stages import LanguageId

    step = LanguageId(model="lid176-ftz", settings="fineweb2", min_score_per_language={"de": 0.5})
    step.setup()
    index = {str(lang): i for i, lang in enumerate(step._labels)}
    assert step._label_min[index["deu"]] == 0.5  # min_score_per_language wins
    assert step._label_min[index["tha"]] == 0.9  # FineWeb2's tha_Thai language_score
    assert step._label_min[index["eng"]] == 0.65  # not in FineWeb2: min_score


def test_text_repair_ftfy_and_table_lines():
    pytest.importorskip("ftfy")
    table = pa.table({"id": ["a", "b"], "text": ["SchÃ¶ne GrÃ¼ÃŸe\n| |\n|\nnext", "plain text\n\nkept"]})
    # a run of "|" lines becomes one "\n" line, joined by "\n": datatrove SymbolLinesFormatter gives the same
    out = TextRepair().run_table(table)
    assert out.kept.column("text").to_pylist() == ["Schöne Grüße\n\n\nnext", "plain text\n\nkept"]
    assert out.counters["ftfy_changed"] == 1 and out.counters["symbol_lines_changed"] == 1


def test_fineweb2_recipe_loads():
    import curate

    recipe = curate.load_recipe(str(ROOT / "recipes" / "fineweb2.yaml"))
    assert [s.name for s in recipe.steps] == [
        "warc_extract",
        "language_id",
        "minhash_dedup",
        "gopher_repetition",
        "fineweb_quality",
        "gopher_quality",
        "text_repair",
        "pii",
    ]

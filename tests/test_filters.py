"""Heuristic filters, URL filter, PII masking: handmade inputs for every reason, real web text, datatrove parity."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import shared_data

from curate.stages import C4Quality, FineWebQuality, GopherQuality, GopherRepetition, PiiMasker, UrlFilter
from curate.stages.filters.features import HAS_ALPHA, NON_SYMBOL, _python_flags, batch_features, word_flags
from curate.stages.filters.words import RuleTokenizer, spacy_code, tokenizer_for

HPLT = ("quality_labels", "hplt_v2_inspection", "hplt_v2_annotated.jsonl")

GOOD = "\n".join(
    [
        "The old lighthouse stood at the edge of the harbour for more than two centuries.",
        "Fishermen relied on its beam to guide them home through storms and heavy fog.",
        "In winter, the keeper climbed the spiral staircase several times each night.",
        "He trimmed the wicks, polished the lenses and recorded the weather in a journal.",
        "Those journals now rest in the town museum, where visitors can read them.",
        "They describe shipwrecks, rescues and the slow arrival of electric power.",
        "When the light was automated, the keeper moved to a cottage near the church.",
        "Children from the village often visited him to hear stories about the sea.",
        "Today the tower is painted white and red, and it still flashes every ten seconds.",
        "A small charity maintains the building with donations from residents and tourists.",
        "Every summer they open the gallery so that people can enjoy the view of the coast.",
        "Historians believe that the first stone was laid by masons who came from the north.",
    ]
)


def docs(*texts: str, **columns: list) -> pa.Table:
    return pa.table({"id": [str(i) for i in range(len(texts))], "text": list(texts), **columns})


def reasons(step, *texts: str) -> list[str | None]:
    out = step.run_table(docs(*texts))
    got = dict.fromkeys(out.kept.column("id").to_pylist())
    if out.rejected is not None:
        got.update(zip(out.rejected.column("id").to_pylist(), out.rejected.column("reason").to_pylist(), strict=True))
    return [got[str(i)] for i in range(len(texts))]


def hplt(lang: str, n: int) -> list[dict]:
    rows = [json.loads(line) for line in shared_data(*HPLT).open()]
    return [r for r in rows if r["lang"] == lang][:n]


# -- word splitting ----------------------------------------------------------------------------------------------
def test_english_words_follow_spacy_rules():
    tok = RuleTokenizer("en")
    assert tok.words("I don't like it, (really).") == ["I", "do", "n't", "like", "it", ",", "(", "really", ")", "."]
    assert tok.words("See https://example.com/a?b=1 e.g. the U.S. now!") == [
        "See",
        "https://example.com/a?b=1",
        "e.g.",
        "the",
        "U.S.",
        "now",
        "!",
    ]
    assert tok.words("well-known 10km  \n\t end...") == ["well", "-", "known", "10", "km", "end", "..."]
    assert tok.words("") == [] and tok.words(" \n ") == []


def test_suffix_search_is_skipped_only_where_no_suffix_can_end():
    import random

    rng = random.Random(7)
    alphabet = "\"'()[].,;:!?-–…“”’«»$€%#&*/+=<>~|aAbZkmgs09é中🙂°"
    probes = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7))) for _ in range(20_000)]
    for lang in ("en", "fr", "de", "ru", "xx"):
        tok = RuleTokenizer(lang)
        skipped = [p for p in probes if p[-1] not in tok._suffix_ends]
        assert skipped, lang  # the shortcut is used ...
        assert not [p for p in skipped if tok._suffix.search(p)], lang  # ... and never misses a suffix


def test_language_codes_resolve_to_datatrove_rules():
    assert spacy_code("en") == spacy_code("eng") == spacy_code("eng_Latn") == "en"
    assert spacy_code("deu") == "de" and spacy_code("fra_Latn") == "fr"
    assert spacy_code("zzz") == "xx"
    assert tokenizer_for("eng") is tokenizer_for("en")


def test_words_match_spacy_on_real_text():
    spacy = pytest.importorskip("spacy")
    for lang, code in (("eng_Latn", "en"), ("deu_Latn", "de"), ("rus_Cyrl", "ru")):
        nlp = spacy.blank(code)
        tok = RuleTokenizer(code)
        for row in hplt(lang, 40):
            expected = [t.text.strip() for t in nlp(row["text"]) if t.text.strip()]
            assert tok.words(row["text"]) == expected, (lang, row["id"])


def test_batch_word_ids_match_the_tokenizer():
    """The batch encoder (chunk ids, bulk fast paths, numpy expansion) gives each text exactly ``words(text)``."""
    from curate.stages.filters.words import rules_data

    for lang, code in (("eng_Latn", "en"), ("deu_Latn", "de"), ("rus_Cyrl", "ru")):
        texts = [row["text"] for row in hplt(lang, 40)] + [
            "",
            "   ",
            "don't stop, ok. U.S. e.g. it's",
            " a  b ",
            "x\u3000y\x1cz\u2028w\xa0v\n\n",
            "a lone \ud800 surrogate",
        ]  # str.split's whitespace; no UTF-8 form: the Python path
        features = batch_features(texts, code)
        tok = tokenizer_for(code)
        assert [f.words for f in features] == [tok.words(t) for t in texts], lang
    # the inline fast paths agree with the full algorithm for every rule set, on real chunks and special cases
    import copy

    chunks = sorted({c for row in hplt("eng_Latn", 8) + hplt("deu_Latn", 8) for c in row["text"].split()})
    for code in rules_data()["languages"]:
        tok = RuleTokenizer(code)
        sample = chunks + [s for s in tok.specials if " " not in s.strip() and s.strip()][:200]
        sample = list(dict.fromkeys(sample + [s + "," for s in sample] + [s + "." for s in sample]))
        fresh = copy.deepcopy(tok)  # a tokenizer as built, memo untouched by chunks_tokens (building twice is slow)
        assert tok.chunks_tokens(sample) == [fresh.chunk_tokens(c) for c in sample], code


def test_word_flags_vectorised_equal_pythons_predicates():
    words = [
        "the",
        "2019",
        "...",
        "#",
        "a.b",
        "--",
        "\x7f",
        "_",
        "é",
        "…",
        "“",
        "naïve",
        "\U0001e030",
        "²",
        "x²",
        "$5",
        "http://x.y",
        "'s",
        "n't",
        ":)",
        "ǅ",
        "中文",
        "\ud800",
    ]  # lone surrogate: no UTF-8, Python path
    flags = word_flags(words)
    assert flags.tolist() == [_python_flags(w) for w in words]
    assert flags[0] == NON_SYMBOL | HAS_ALPHA and flags[1] == NON_SYMBOL and flags[2] == 0
    tok = RuleTokenizer("en")
    real = sorted({w for row in hplt("eng_Latn", 60) + hplt("rus_Cyrl", 20) for w in tok.words(row["text"])})
    assert word_flags(real).tolist() == [_python_flags(w) for w in real]


def test_features_are_shared_across_the_chain():
    texts = [GOOD, "short text"]
    first = batch_features(texts, "en")
    again = batch_features(texts[:1], "eng")
    assert again[0] is first[0]
    assert first[0].words is again[0].words


# -- Gopher quality ----------------------------------------------------------------------------------------------
def test_gopher_quality_reasons():
    step = GopherQuality()
    long_words = " ".join(["extraordinarily"] * 60) + " the and"
    bullets = "\n".join(f"- the item and {i} with words here" for i in range(60))
    ellipsis = "\n".join(
        f"the wonderful narrative number {i} continues beyond reason with many more long words "
        "that keep the count of ellipses per word low enough..."
        for i in range(60)
    )
    numbers = " ".join(str(i) for i in range(1000, 1200)) + " " + " ".join(["the", "and"] * 10)
    no_stop = " ".join(["cat sat mat"] * 30) + "."
    hashes = GOOD + " #" * 30
    assert reasons(step, GOOD, "too short", long_words, bullets, ellipsis, numbers, no_stop, hashes) == [
        None,
        "gopher_short_doc",
        "gopher_above_avg_threshold",
        "gopher_too_many_bullets",
        "gopher_too_many_end_ellipsis",
        "gopher_below_alpha_threshold",
        "gopher_enough_stop_words",
        "gopher_too_many_hashes",
    ]
    assert reasons(GopherQuality(min_doc_words=5), "a b c d e f g h i") == ["gopher_below_avg_threshold"]
    assert reasons(GopherQuality(max_doc_words=100), GOOD) == ["gopher_long_doc"]
    assert reasons(GopherQuality(), GOOD + " ..." * 40) == ["gopher_too_many_ellipsis"]


# -- Gopher repetition -------------------------------------------------------------------------------------------
def test_gopher_repetition_reasons():
    step = GopherRepetition()
    paragraphs = "\n\n".join(["Same paragraph here with words."] * 3 + ["Other one.", "Third."])
    lines = "\n".join(["repeated line of text"] * 4 + [f"unique line {i} with some more words" for i in range(5)])
    top2 = " ".join(["hello world"] * 30) + " " + " ".join(f"w{i}" for i in range(40))
    dup5 = " ".join(f"u{i}" for i in range(60)) + " " + " ".join(["alpha beta gamma delta epsilon"] * 6)
    assert reasons(step, GOOD, "", paragraphs, lines, top2) == [
        None,
        "empty",
        "dup_para_frac",
        "dup_line_frac",
        "top_2_gram",
    ]
    assert reasons(GopherRepetition(top_n_grams=[]), dup5)[0].startswith("duplicated_")


# -- C4 ----------------------------------------------------------------------------------------------------------
def test_c4_rewrites_lines_and_drops_documents():
    step = C4Quality()
    text = "\n".join(
        [
            "Menu Home About",  # no terminal punctuation
            "This line has enough words and ends well.",
            "Please enable JavaScript to view this site properly.",
            "We use cookies and this page has a privacy policy here.",
            "A citation follows here in the text.[1]",
            "Two words.",
            "One. Two sentences in this line! Three here? Four now. Five ends.",
        ]
    )
    out = step.run_table(docs(text))
    assert out.kept.column("text").to_pylist() == [
        "This line has enough words and ends well.\nA citation follows here in the text.\n"
        "One. Two sentences in this line! Three here? Four now. Five ends."
    ]
    assert out.counters["line-filter-javascript"] == 1 and out.counters["line-filter-policy"] == 1
    assert reasons(
        step,
        "Lorem ipsum dolor sit amet, it said.\n" + GOOD,
        GOOD + "\nvar x = {a: 1} in code.",
        "Only one sentence here, really.",
    ) == ["lorem_ipsum", "curly_bracket", "too_few_sentences"]
    keep_unpunctuated = C4Quality(filter_no_terminal_punct=False).run_table(docs("No period here at all\n" + GOOD))
    assert keep_unpunctuated.kept.column("text")[0].as_py().startswith("No period here at all\n")


# -- FineWeb -----------------------------------------------------------------------------------------------------
def test_fineweb_quality_reasons():
    step = FineWebQuality()
    no_punct = "\n".join(f"a line without an ending number {i} and more words" for i in range(10))
    short = "\n".join(["Short one.", "Tiny.", "Also short.", "A long line that is clearly above thirty chars."])
    dup = GOOD + "\nThe same line repeated here for sure.\nThe same line repeated here for sure."
    listy = "\n".join(f"Item{i}." for i in range(40))
    assert reasons(step, GOOD, "\n \n", no_punct, short, dup) == [
        None,
        "empty",
        "line_punct_ratio",
        "short_line_ratio",
        "char_dup_ratio",
    ]
    assert reasons(FineWebQuality(short_line_thr=1.0), listy) == ["list_ratio"]
    assert reasons(FineWebQuality(line_punct_exclude_zero=True), no_punct) == [None]


# -- per-language thresholds ---------------------------------------------------------------------------------------
def test_language_column_picks_overrides():
    step = GopherQuality(language_overrides={"de": {"min_doc_words": 500}})
    table = docs(GOOD, GOOD, GOOD, language=["eng", "deu", None])
    out = step.run_table(table)
    assert out.kept.column("id").to_pylist() == ["0", "2"]
    assert out.removed_by_reason() == {"gopher_short_doc": 1}
    with pytest.raises(ValueError):
        GopherQuality(language_overrides={"de": {"min_doc_wordz": 1}})


def test_overrides_match_every_form_of_a_language_code():
    """en, eng and eng_Latn name the same language, whichever form language_id wrote (one vocabulary)."""
    table = docs(GOOD, GOOD, GOOD, GOOD, language=["eng", "eng_Latn", "en", "deu"])
    for key in ("en", "eng", "eng_Latn"):
        out = GopherQuality(language_overrides={key: {"min_doc_words": 500}}).run_table(table)
        assert out.kept.column("id").to_pylist() == ["3"], key
    with pytest.raises(ValueError, match="same language twice"):
        GopherQuality(language_overrides={"en": {"min_doc_words": 5}, "eng": {"min_doc_words": 6}})
    with pytest.raises(ValueError, match="not a language code"):
        GopherQuality(language_overrides={"english!": {"min_doc_words": 5}})


# -- real web text: same decisions as datatrove --------------------------------------------------------------------
def test_filters_agree_with_datatrove_on_real_text():
    pytest.importorskip("spacy")
    filters = pytest.importorskip("datatrove.pipeline.filters")
    from datatrove.data import Document
    from datatrove.pipeline.filters.base_filter import get_filter_result

    rows = hplt("eng_Latn", 120) + hplt("deu_Latn", 30)
    table = pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]})
    pairs = [
        (GopherRepetition(), filters.GopherRepetitionFilter()),
        (GopherQuality(), filters.GopherQualityFilter()),
        (C4Quality(filter_no_terminal_punct=False), filters.C4QualityFilter(filter_no_terminal_punct=False)),
        (FineWebQuality(), filters.FineWebQualityFilter()),
    ]
    for ours, theirs in pairs:
        out = ours.run_table(table)
        got = dict.fromkeys(out.kept.column("id").to_pylist())
        if out.rejected is not None:
            got.update(
                zip(out.rejected.column("id").to_pylist(), out.rejected.column("reason").to_pylist(), strict=True)
            )
        kept_text = dict(zip(out.kept.column("id").to_pylist(), out.kept.column("text").to_pylist(), strict=True))
        for row in rows:
            doc = Document(text=row["text"], id=row["id"])
            keep, reason = get_filter_result(theirs.filter(doc))
            assert got[row["id"]] == (None if keep else reason), (ours.name, row["id"])
            if keep:
                assert kept_text[row["id"]] == doc.text


def test_real_english_pages_mostly_clean_survive_repetition():
    rows = hplt("eng_Latn", 200)
    table = pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]})
    out = GopherRepetition().run_table(table)
    assert out.kept.num_rows == 193  # datatrove drops the same 7 (repeated 8/9-grams, top n-grams)
    assert set(out.removed_by_reason()) <= {f"top_{n}_gram" for n in (2, 3, 4)} | {
        f"duplicated_{n}_n_grams" for n in range(5, 11)
    }


# -- URL filter ----------------------------------------------------------------------------------------------------
def test_url_filter_ut1_folder_and_word_lists(tmp_path):
    ut1 = tmp_path / "blacklists"
    (ut1 / "adult").mkdir(parents=True)
    (ut1 / "adult" / "domains").write_text("# comment\nbad-site.com\nsub.naughty.org\n")
    (ut1 / "adult" / "urls").write_text("good.com/secret/page.html\n")
    (ut1 / "gambling").mkdir()
    (ut1 / "gambling" / "domains").write_text("casino.net\n")
    words = tmp_path / "banned.txt"
    words.write_text("xxx\n")
    step = UrlFilter(
        blocklist_dirs=[str(ut1)],
        categories=["adult"],
        banned_words_files=[str(words)],
        soft_banned_words=["hot", "sexy"],
        banned_subwords=["pornhub"],
    )
    urls = [
        "https://www.bad-site.com/a",
        "http://sub.naughty.org/",
        "http://other.naughty.org/",
        "good.com/secret/page.html",
        "https://casino.net/",
        "https://x.com/xxx/videos",
        "https://a.com/hot-sexy",
        "https://a.com/hot-news",
        "https://mypornhubclips.com/",
        "https://example.org/article",
    ]
    table = pa.table({"id": [str(i) for i in range(len(urls))], "url": urls, "text": ["t"] * len(urls)})
    out = step.run_table(table)
    got = dict(zip(out.rejected.column("url").to_pylist(), out.rejected.column("reason").to_pylist(), strict=True))
    assert got == {
        "https://www.bad-site.com/a": "domain",
        "http://sub.naughty.org/": "subdomain",
        "good.com/secret/page.html": "url",
        "https://x.com/xxx/videos": "hard_blacklisted",
        "https://a.com/hot-sexy": "soft_blacklisted",
        "https://mypornhubclips.com/": "blacklisted_subword",
    }
    with pytest.raises(FileNotFoundError, match="categories"):
        UrlFilter(blocklist_dirs=[str(ut1)], categories=["nope"]).run_table(table)


# -- PII ---------------------------------------------------------------------------------------------------------
def test_pii_masks_emails_and_public_ips_only():
    text = "Write to jane.doe@mail.example.net or bob@corp.io; server 8.8.8.8, router 192.168.1.1, local 127.0.0.1."
    out = PiiMasker().run_table(docs(text, "nothing here"))
    masked = out.kept.column("text")[0].as_py()
    assert masked == (
        "Write to email@example.com or firstname.lastname@example.org; server 22.214.171.124, "
        "router 192.168.1.1, local 127.0.0.1."
    )
    assert out.counters == {"emails_masked": 2, "ips_masked": 1, "documents_masked": 1}
    assert out.kept.column("text")[1].as_py() == "nothing here"
    all_ips = PiiMasker(only_remove_public_ips=False, remove_emails=False).run_table(docs(text))
    assert "192.168.1.1" not in all_ips.kept.column("text")[0].as_py()


def test_fineweb_recipe_loads():
    import curate

    recipe = curate.load_recipe(str(Path(__file__).resolve().parents[1] / "recipes" / "fineweb.yaml"))
    assert [s.name for s in recipe.steps] == [
        "warc_extract",
        "url_filter",
        "language_id",
        "gopher_repetition",
        "gopher_quality",
        "c4_quality",
        "fineweb_quality",
    ]

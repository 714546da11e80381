"""FineWeb2's per-language filter settings vs the English defaults on human-labelled web text in 22 languages, and
the same FineWeb2-settings filters against datatrove 0.10.1's (decisions, speed).

Data: ``../shared/data/quality_labels/hplt_v2_inspection/hplt_v2_annotated.jsonl`` (HPLT v2 documents, excerpts of up
to 1,000 characters, labelled by humans). "Good": right language (``lang_correct`` 1) and natural (``unnatural`` empty
or 0). "Bad": ``unnatural`` 1 (SEO word lists, boilerplate). Each document's ``language`` is its HPLT label (the
language-ID step is not what is measured here). The sample's separator between a document's two 500-character
excerpts (a line of ten dots) is replaced by a line break; both excerpts still end wherever 500 characters ended, which
line-ending rules (FineWeb quality's ``line_punct_thr``) see as a line without terminal punctuation.

Chains, in FineWeb2's order: Gopher repetition -> FineWeb quality -> Gopher quality.
* fw2: ``settings: fineweb2`` (each language's FineWeb2 thresholds and stop words, its word segmenter) plus the values
  fineweb-2-pipeline.py fixes for every language (``FINEWEB2_FIXED``);
* en_defaults: the steps' defaults (FineWeb's English thresholds and Gopher's English stop words).

Parity: each fw2 filter alone, ours vs datatrove's filter built with the same language key and settings, on every
labelled text (agreement = same keep/drop decision), then the chain timed on one core (CPU time, first run).

    .venv/bin/python bench/multilingual_filters.py [--skip-datatrove]

Last line: ``RESULT multilingual_filters kept_good_fw2=… kept_good_en_defaults=… removed_bad_fw2=…
worst_language_kept_good=…`` (kept/removed shares pooled over the 21 non-English languages; worst: lowest fw2
kept-good share of any language).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
HPLT = ROOT.parent / "shared" / "data" / "quality_labels" / "hplt_v2_inspection" / "hplt_v2_annotated.jsonl"
CHAIN = ("gopher_repetition", "fineweb_quality", "gopher_quality")
#: the annotation sample joins a document's two 500-character excerpts with this line (release2_inspection README:
#: "500/500 characters from the beginning of the first/second half"); it is not page text, and one "…" line in
#: three trips Gopher's ellipsis-line rule, so it is put back to a line break
SEPARATOR = "\n..........\n"


def load() -> pa.Table:
    rows = [json.loads(line) for line in HPLT.open(encoding="utf-8")]
    good = [r["lang_correct"] == "1" and r["unnatural"] in ("", "0") for r in rows]
    bad = [r["unnatural"] == "1" for r in rows]
    texts = [r["text"].replace(SEPARATOR, "\n") for r in rows]
    return pa.table(
        {
            "id": [f"{i}:{r['id']}" for i, r in enumerate(rows)],
            "text": texts,
            "language": [r["lang"] for r in rows],
            "good": good,
            "bad": bad,
        }
    )


def ours_chain(fw2: bool) -> list:
    from curate.stages.filters import FineWebQuality, GopherQuality, GopherRepetition
    from curate.stages.filters.settings import FINEWEB2_FIXED

    classes = {
        "gopher_repetition": GopherRepetition,
        "fineweb_quality": FineWebQuality,
        "gopher_quality": GopherQuality,
    }
    if not fw2:
        return [classes[n]() for n in CHAIN]
    return [classes[n](settings="fineweb2", **FINEWEB2_FIXED[n]) for n in CHAIN]


def run_chain(steps: list, table: pa.Table) -> set[str]:
    for step in steps:
        table = step.run_table(table).kept
    return set(table.column("id").to_pylist())


def datatrove_filters(key: str | None, language: str) -> dict:
    """datatrove's three filters configured as fineweb-2-pipeline.py does for one language key."""
    from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter

    from curate.stages.filters.settings import FINEWEB2_FIXED, load_settings

    entry = load_settings("fineweb2").entries.get(key, {}) if key else {}
    lang = key or language
    rep = {k: entry[k] for k in ("dup_line_frac", "top_n_grams", "dup_n_grams") if k in entry}
    fwq = {k: entry[k] for k in ("line_punct_thr", "new_line_ratio") if k in entry}
    gq = {
        k: entry[k] for k in ("min_avg_word_length", "max_avg_word_length", "max_non_alpha_words_ratio") if k in entry
    }
    if "stopwords" in entry:
        gq["stop_words"] = entry["stopwords"]
    return {
        "gopher_repetition": GopherRepetitionFilter(language=lang, **FINEWEB2_FIXED["gopher_repetition"], **rep),
        "fineweb_quality": FineWebQualityFilter(language=lang, **FINEWEB2_FIXED["fineweb_quality"], **fwq),
        "gopher_quality": GopherQualityFilter(language=lang, **FINEWEB2_FIXED["gopher_quality"], **gq),
    }


def quality(table: pa.Table) -> tuple[dict, dict]:
    kept_fw2 = run_chain(ours_chain(True), table)
    kept_en = run_chain(ours_chain(False), table)
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for i, lang, good, bad in zip(
        table.column("id").to_pylist(),
        table.column("language").to_pylist(),
        table.column("good").to_pylist(),
        table.column("bad").to_pylist(),
        strict=True,
    ):
        p = per[lang]
        if good:
            p["good"] += 1
            p["good_fw2"] += i in kept_fw2
            p["good_en"] += i in kept_en
        if bad:
            p["bad"] += 1
            p["bad_removed_fw2"] += i not in kept_fw2
            p["bad_removed_en"] += i not in kept_en
    print(
        f"{'language':10} {'key':9} {'good':>5} {'kept fw2':>9} {'kept en':>8} {'bad':>4} {'removed fw2':>12} "
        f"{'removed en':>11}"
    )
    from curate.stages.filters.settings import load_settings

    table_fw2 = load_settings("fineweb2")
    for lang in sorted(per):
        p = per[lang]
        g, b = p["good"] or 1, p["bad"]
        rb = f"{p['bad_removed_fw2'] / b:12.3f} {p['bad_removed_en'] / b:11.3f}" if b else f"{'-':>12} {'-':>11}"
        print(
            f"{lang:10} {table_fw2.resolve(lang) or '(none)':9} {p['good']:5d} {p['good_fw2'] / g:9.3f} "
            f"{p['good_en'] / g:8.3f} {b:4d} {rb}"
        )
    alone(table)
    return per, {}


def alone(table: pa.Table) -> None:
    """Each filter alone, kept-good share per language, fw2 vs en_defaults: where the chains' differences come from.
    The HPLT texts are 2 x 500-character excerpts, mostly one line: line rules (FineWeb quality's line_punct_ratio,
    Gopher's ellipsis-line rule, identical in both configurations) judge one line ending mid-sentence or in "…"."""
    good = table.filter(table.column("good"))
    langs = good.column("language").to_pylist()
    total: dict[str, int] = defaultdict(int)
    for lang in langs:
        total[lang] += 1
    shares: dict[tuple[str, bool], dict[str, float]] = {}
    for fw2 in (True, False):
        for n, step in enumerate(ours_chain(fw2)):
            kept = set(step.run_table(good).kept.column("id").to_pylist())
            counts: dict[str, int] = defaultdict(int)
            for i, lang in zip(good.column("id").to_pylist(), langs, strict=True):
                counts[lang] += i in kept
            shares[(CHAIN[n], fw2)] = {lang: counts[lang] / total[lang] for lang in total}
    print("each filter alone, share of good documents kept (fw2 / en_defaults):")
    print(f"{'language':10} " + " ".join(f"{name:>22}" for name in CHAIN))
    for lang in sorted(total):
        cells = [f"{shares[(name, True)][lang]:.3f} / {shares[(name, False)][lang]:.3f}" for name in CHAIN]
        print(f"{lang:10} " + " ".join(f"{c:>22}" for c in cells))


def parity(table: pa.Table, skip_slow: bool) -> tuple[dict[str, float], float | None]:
    from datatrove.data import Document
    from datatrove.pipeline.filters.base_filter import get_filter_result

    from curate.stages.filters.settings import load_settings

    settings = load_settings("fineweb2")
    ours = ours_chain(True)
    langs = sorted(set(table.column("language").to_pylist()))
    theirs: dict[str, dict] = {}
    skipped = []
    for lang in langs:
        try:
            f = datatrove_filters(settings.resolve(lang), lang)
            f["gopher_quality"].filter(Document(text="warm up the word tokenizer " * 10, id="w"))
            theirs[lang] = f
        except (ImportError, ValueError, OSError) as exc:
            skipped.append((lang, str(exc).splitlines()[0][:100]))
    for lang, why in skipped:
        print(f"parity: {lang} skipped (datatrove cannot split its words here: {why})")
    table = table.filter(pa.array([lang in theirs for lang in table.column("language").to_pylist()]))
    texts, languages = table.column("text").to_pylist(), table.column("language").to_pylist()
    agreements: dict[str, float] = {}
    for n, name in enumerate(CHAIN):
        out = ours[n].run_table(table)
        kept = set(out.kept.column("id").to_pylist())
        ours_keep = [i in kept for i in table.column("id").to_pylist()]
        differ: dict[str, int] = defaultdict(int)
        for text, lang, ok in zip(texts, languages, ours_keep, strict=True):
            keep, _ = get_filter_result(theirs[lang][name].filter(Document(text=text, id="x")))
            if bool(keep) != ok:
                differ[lang] += 1
        agreements[name] = 1 - sum(differ.values()) / len(texts)
        print(
            f"parity {name}: agreement {agreements[name]:.4f} over {len(texts)} texts"
            + (f" (differ: {dict(differ)})" if differ else "")
        )
    if skip_slow:
        return agreements, None
    # chained speed, one core, CPU time; tokenizers/dictionaries loaded before the clock starts on both sides
    run_chain(ours_chain(True), table.slice(0, 0))
    for lang in langs:
        if lang in theirs:
            run_chain(ours, pa.table({"id": ["w"], "text": ["warm up " * 60], "language": [lang]}))
    t0 = time.process_time()
    kept_theirs = 0
    for text, lang in zip(texts, languages, strict=True):
        doc = Document(text=text, id="x")
        if all(get_filter_result(theirs[lang][name].filter(doc))[0] for name in CHAIN):
            kept_theirs += 1
    t_theirs = time.process_time() - t0
    t0 = time.process_time()
    kept_ours = len(run_chain(ours_chain(True), table))
    t_ours = time.process_time() - t0
    speedup = t_theirs / t_ours
    print(
        f"chained, one core: ours {len(texts) / t_ours:.0f} docs/s ({kept_ours} kept), datatrove "
        f"{len(texts) / t_theirs:.0f} docs/s ({kept_theirs} kept): {speedup:.1f}x"
    )
    return agreements, speedup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skip-datatrove", action="store_true", help="only the label figures, no datatrove parity")
    ap.add_argument("--skip-speed", action="store_true", help="parity decisions only, no timing")
    args = ap.parse_args()
    if not HPLT.exists():
        sys.exit(f"../shared/data not found: {HPLT}")
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, both sides
    except (AttributeError, OSError):
        pass
    table = load()
    per, _ = quality(table)
    non_en = {k: v for k, v in per.items() if not k.startswith("eng")}
    good = sum(p["good"] for p in non_en.values())
    bad = sum(p["bad"] for p in non_en.values())
    kept_fw2 = sum(p["good_fw2"] for p in non_en.values()) / good
    kept_en = sum(p["good_en"] for p in non_en.values()) / good
    removed_fw2 = sum(p["bad_removed_fw2"] for p in non_en.values()) / bad
    removed_en = sum(p["bad_removed_en"] for p in non_en.values()) / bad
    worst = min(per, key=lambda k: per[k]["good_fw2"] / max(per[k]["good"], 1))
    worst_share = per[worst]["good_fw2"] / max(per[worst]["good"], 1)
    print(
        f"non-English, pooled: kept good fw2 {kept_fw2:.3f} vs en_defaults {kept_en:.3f} ({good} docs); removed bad "
        f"fw2 {removed_fw2:.3f} vs en_defaults {removed_en:.3f} ({bad} docs)"
    )
    extra = ""
    if not args.skip_datatrove:
        agreements, speedup = parity(table, args.skip_speed)
        extra = f" min_agreement={min(agreements.values()):.4f}" + (f" speedup={speedup:.1f}" if speedup else "")
    print(
        f"RESULT multilingual_filters kept_good_fw2={kept_fw2:.3f} kept_good_en_defaults={kept_en:.3f} "
        f"removed_bad_fw2={removed_fw2:.3f} worst_language_kept_good={worst}:{worst_share:.3f}{extra}"
    )


if __name__ == "__main__":
    main()

"""Domain extraction (RedStone code / math / QA): ours vs plain trafilatura vs resiliparse, and page detection.

Input: ``../shared/data/domains/dev/`` — 176 real pages (``dev_pages.warc.gz``, header ``WARC-Gold-Id``) with gold
derived from their HTML (``index.jsonl``; see that folder's README). Each page's HTML is read with
``warc_extract(extract=False)`` and given to three extractors:

1. ours: ``warc_extract(domain: true)``'s extractor (:mod:`curate.stages.domain.extract`, trafilatura inside with
   the step's default options);
2. plain trafilatura with FineWeb's settings (``warc_extract``'s default);
3. resiliparse ``extract_plain_text(main_content=True)`` (``warc_extract(extractor: resiliparse)``).

Figures (micro-averaged over all gold items of all pages; the same scoring for every extractor):

* ``code_exact``: share of gold code blocks found byte-exact in the output (every line with trailing whitespace
  trimmed, leading/trailing blank lines dropped; the block's lines must appear consecutively);
* ``math_recall``: share of gold formulas found as LaTeX: equal (all whitespace removed, NBSP included) to a
  delimited span of the output (``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``), or inside one when 4+ characters;
* ``qa_recall``: share of gold question–answer pairs recovered: the question body and the answer each have ≥ 90 %
  of their words (``\\w+``, lower-cased) aligned, in order, to the output's words (difflib matching blocks); a
  question without answers is one pair;
* ``detect_f1_<kind>``: F1 of page labels (code / math / qa) by :func:`curate.stages.domain.detect.detect` — ours
  from the signals the extractor reads off the HTML, the baselines from their text alone (``text_signals``).

``--forums`` runs ours with ``forums: true`` (forum threads read as first post + replies; default off, as in the
code and math recipes).

Usage: .venv/bin/python bench/domain_extract.py [--pages DIR] [--show-misses KIND] [--forums]
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import time
from pathlib import Path

from curate.stages.domain.detect import detect
from curate.stages.domain.signals import text_signals
from curate.stages.warc.extract import read_warc
from curate.stages.warc.extractors import make_extractor

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_SPANS = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)


def _nows(s: str) -> str:
    return re.sub(r"\s+", "", s.replace("\u00a0", " "))


def _code_norm(s: str) -> str:
    return "\n".join(line.rstrip() for line in s.replace("\u00a0", " ").split("\n")).strip("\n")


def _words(s: str) -> list[str]:
    return re.findall(r"\w+", s.lower())


def code_hits(gold: list[str], text: str) -> int:
    out = _code_norm(text)
    return sum(bool(_code_norm(g)) and _code_norm(g) in out for g in gold)


def math_hits(gold: list[str], text: str) -> int:
    spans = [_nows(next(g for g in m.groups() if g is not None)) for m in _SPANS.finditer(text)]
    exact = set(spans)
    joined = "\x00".join(spans)
    return sum(_nows(g) in exact or (len(_nows(g)) >= 4 and _nows(g) in joined) for g in gold)


def _recovered(item: str, out_words: list[str]) -> bool:
    words = _words(item)
    if not words:
        return True
    m = difflib.SequenceMatcher(None, words, out_words, autojunk=False)
    return sum(b.size for b in m.get_matching_blocks()) >= 0.9 * len(words)


def qa_hits(qa: dict, text: str) -> tuple[int, int]:
    out_words = _words(text)
    question = _recovered(qa["question"], out_words)
    if not qa["answers"]:
        return int(question), 1
    return sum(question and _recovered(a, out_words) for a in qa["answers"]), len(qa["answers"])


def f1(pred: list[bool], gold: list[bool]) -> float:
    tp = sum(p and g for p, g in zip(pred, gold))
    fp = sum(p and not g for p, g in zip(pred, gold))
    fn = sum(g and not p for p, g in zip(pred, gold))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def load(folder: Path) -> tuple[dict[str, str], dict[str, dict]]:
    table = read_warc(str(folder / "dev_pages.warc.gz"), extract=False, keep_headers=["WARC-Gold-Id"])
    pages = {row["warc_gold_id"]: row["text"] for row in table.select(["warc_gold_id", "text"]).to_pylist()}
    gold = {}
    for line in (folder / "index.jsonl").read_text().splitlines():
        record = json.loads(line)
        gold[record["id"]] = record
    return pages, gold


def score(name: str, outputs: dict[str, tuple[str, dict]], gold: dict[str, dict], show: str = "") -> dict[str, float]:
    code = [0, 0]
    math = [0, 0]
    qa = [0, 0]
    preds: dict[str, list[bool]] = {"code": [], "math": [], "qa": []}
    labels: dict[str, list[bool]] = {"code": [], "math": [], "qa": []}
    for page_id, record in gold.items():
        text, signals = outputs.get(page_id, ("", {}))
        g = record["gold"]
        hit = code_hits(g["code"], text)
        code[0] += hit
        code[1] += len(g["code"])
        mhit = math_hits(g["math"], text)
        math[0] += mhit
        math[1] += len(g["math"])
        if g["qa"]:
            h, n = qa_hits(g["qa"], text)
            qa[0] += h
            qa[1] += n
            if show == "qa" and h < n:
                print(f"  miss qa {page_id}: {h}/{n}")
        if show == "code" and hit < len(g["code"]):
            print(f"  miss code {page_id}: {hit}/{len(g['code'])}")
        if show == "math" and mhit < len(g["math"]):
            print(f"  miss math {page_id}: {mhit}/{len(g['math'])}")
        tags = detect(signals)
        for kind in preds:
            preds[kind].append(tags[kind])
            labels[kind].append(bool(record["labels"][kind]))
            if show == "detect" and tags[kind] != bool(record["labels"][kind]):
                print(f"  detect {kind} {page_id}: said {tags[kind]}, signals {signals}")
    figures = {
        "code_exact": code[0] / code[1],
        "math_recall": math[0] / math[1],
        "qa_recall": qa[0] / qa[1],
        **{f"detect_f1_{k}": f1(preds[k], labels[k]) for k in preds},
    }
    print(
        f"{name:>12}: "
        + " ".join(f"{k}={v:.4f}" for k, v in figures.items())
        + f"  (code {code[0]}/{code[1]}, formulas {math[0]}/{math[1]}, qa pairs {qa[0]}/{qa[1]})"
    )
    return figures


def run_extractor(name: str, fn, pages: dict[str, str], structured: bool) -> dict[str, tuple[str, dict]]:
    outputs = {}
    start = time.process_time()
    for page_id, html in pages.items():
        try:
            result = fn(html)
        except Exception as exc:  # noqa: BLE001 - a failing page scores zero, and is reported
            print(f"  {name}: {page_id} failed: {exc!r}", file=sys.stderr)
            result = None
        if structured:
            text = "\n\n".join(result["texts"]) if result else ""
            outputs[page_id] = (text, result["signals"] if result else {})
        else:
            outputs[page_id] = (result or "", text_signals(result or ""))
    print(f"{name:>12}: {len(pages) / (time.process_time() - start):.1f} pages/CPU-s")
    return outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=Path, default=SHARED / "domains" / "dev")
    parser.add_argument("--show-misses", default="", choices=["", "code", "math", "qa", "detect"])
    parser.add_argument("--forums", action="store_true", help="ours with forums: true")
    args = parser.parse_args()
    if not (args.pages / "index.jsonl").exists():
        sys.exit(f"no domain pages at {args.pages} (see ../shared/data/README.md)")
    pages, gold = load(args.pages)
    from curate.stages.domain.extract import make_domain_extractor

    ours = run_extractor("ours", make_domain_extractor({"forums": args.forums}), pages, structured=True)
    fineweb = {
        "favor_precision": True,
        "include_comments": False,
        "deduplicate": True,
        "fast": False,
        "include_tables": True,
        "compiled_xpaths": True,
    }
    plain = run_extractor("trafilatura", make_extractor("trafilatura", fineweb), pages, structured=False)
    resil = run_extractor(
        "resiliparse",
        make_extractor("resiliparse", {"main_content": True, "alt_texts": False, "comments": False}),
        pages,
        structured=False,
    )
    figures = score("ours", ours, gold, args.show_misses)
    base_t = score("trafilatura", plain, gold)
    base_r = score("resiliparse", resil, gold)
    for key in figures:
        print(f"  {key}: ours {figures[key]:.4f}  trafilatura {base_t[key]:.4f}  resiliparse {base_r[key]:.4f}")
    print(
        "RESULT domain_extract "
        + " ".join(f"{k}={v:.4f}" for k, v in figures.items())
        + " "
        + " ".join(f"trafilatura_{k}={v:.4f}" for k, v in base_t.items())
        + " "
        + " ".join(f"resiliparse_{k}={v:.4f}" for k, v in base_r.items())
    )


if __name__ == "__main__":
    main()

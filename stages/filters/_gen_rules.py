"""Regenerate ``spacy_rules.json.xz`` from an installed spaCy (dev tool:
``python -m curate.stages.filters._gen_rules``).

Writes xz-compressed JSON, the package data :func:`curate.stages.filters.words.rules_data` reads: per language, the
tokenizer's prefix/suffix/infix/token_match/url_match regular expressions and its special-case table (spaCy is
MIT-licensed; the data is spaCy's), with datatrove's punctuation and tokenizer-assignment tables. Needs spaCy and
datatrove; nothing at run time does.
"""

from __future__ import annotations

import json
import lzma
from pathlib import Path

#: languages datatrove 0.10.1 maps to ``spacy.blank(code)`` in its tokenizer_assignment.csv, minus those that need
#: an external segmenter (zh: jieba, ja: sudachi, vi: pyvi)
LANGUAGES = (
    "xx tn ms tl lg ar es fr fi nl sr lv en de tr sq lij lb yo pl nb it et tt ti ru ro fa el az am uk sv sl "
    "sk pt mk lt la ky is id hy hu hsb hr he grc ga fo eu dsb da cs ca bg af"
).split()
KEYS = ("prefix_search", "suffix_search", "infix_finditer", "token_match", "url_match")
OUT = Path(__file__).with_name("spacy_rules.json.xz")


def dump() -> dict:
    import spacy
    from spacy.symbols import ORTH

    table: list[list] = []
    index: dict[str, int] = {}
    langs = {}
    for lang in LANGUAGES:
        tok = spacy.blank(lang).tokenizer
        entry: dict = {}
        for key in KEYS:
            fn = getattr(tok, key)
            if fn is None:
                entry[key] = None
                continue
            pattern = [fn.__self__.pattern, fn.__self__.flags]
            k = json.dumps(pattern)
            if k not in index:
                index[k] = len(table)
                table.append(pattern)
            entry[key] = index[k]
        entry["rules"] = {k: [t.get(ORTH) for t in v] for k, v in tok.rules.items()}
        entry["faster_heuristics"] = bool(tok.faster_heuristics)
        langs[lang] = entry
    from spacy.pipeline.sentencizer import Sentencizer

    return {
        "spacy_version": spacy.__version__,
        "patterns": table,
        "languages": langs,
        "sentencizer_punct_chars": sorted(Sentencizer.default_punct_chars),
        **datatrove_tables(),
    }


def datatrove_tables() -> dict:
    """datatrove's punctuation sets and its language -> spaCy tokenizer assignment (Apache-2.0)."""
    import csv
    import os

    from datatrove.utils._import_utils import ASSETS_PATH
    from datatrove.utils.text import PUNCTUATION, TERMINAL_PUNCTUATION

    codes: dict[str, str] = {}
    with open(os.path.join(ASSETS_PATH, "tokenizer_assignment.csv")) as f:
        for row in csv.DictReader(f):
            kind = row["type"]
            if not kind:
                continue
            tok = row["tok_code"] if kind == "SpaCyTokenizer" else ("xx" if kind == "WhitespaceTokenizer" else "")
            tok = tok or f"unsupported:{kind}"
            code_3_script = f"{row['code_3']}_{row['script']}"
            if code_3_script not in codes:
                codes[code_3_script] = tok
                if row["default_script"]:
                    codes[row["code_3"]] = tok
            code_1_script = f"{row['code_1']}_{row['script']}"
            if row["code_1"] and row["default_code_1"] and code_1_script not in codes:
                codes[code_1_script] = tok
                if row["default_script"]:
                    codes[row["code_1"]] = tok
    return {"punctuation": PUNCTUATION, "terminal_punctuation": sorted(TERMINAL_PUNCTUATION), "codes": codes}


def main() -> None:
    data = dump()
    OUT.write_bytes(lzma.compress(json.dumps(data).encode(), preset=9))
    languages = len(data["languages"])
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, spaCy {data['spacy_version']}, {languages} languages)")


if __name__ == "__main__":
    main()

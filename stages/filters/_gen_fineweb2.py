"""Regenerate ``fineweb2_settings.json.xz`` from FineWeb2's per-language configs (dev tool).

    python -m curate.stages.filters._gen_fineweb2 [--source ../shared/data/fineweb2]

Reads ``configs/<lang>_<Script>.yml`` (huggingface/fineweb-2, Apache-2.0; see THIRD_PARTY_NOTICES.md) and
``fineweb2-language-distribution.csv`` and writes one compact JSON table (xz-compressed, package data): per language
key its fields exactly as FineWeb2 wrote them, plus ``_aliases`` (a bare ISO 639-3 code, and each macrolanguage, to
the key with the most documents in FineWeb2's released data) and ``_source`` (where it came from). Needs PyYAML only.
"""

from __future__ import annotations

import argparse
import csv
import json
import lzma
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "fineweb2"
OUT = Path(__file__).with_name("fineweb2_settings.json.xz")
SOURCE = {
    "repository": "https://github.com/huggingface/fineweb-2",
    "commit": "d0defb24f193bb9a5a11b8b14524a03c4858e1b6",
    "paths": "configs/*.yml",
    "licence": "Apache-2.0",
    "paper": "Penedo et al. 2025, FineWeb2: One Pipeline to Scale Them All",
}


def documents(source: Path) -> dict[str, int]:
    """Documents per language key in FineWeb2's released data (train split), to pick a code's default script."""
    out: dict[str, int] = {}
    path = source / "fineweb2-language-distribution.csv"
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row["split"] == "train" and row["documents"].isdigit():
                    out[row["subset"]] = out.get(row["subset"], 0) + int(row["documents"])
    return out


def build(source: Path) -> dict:
    from curate.stages.languages import MACROLANGUAGES

    table: dict[str, dict] = {}
    for path in sorted((source / "configs").glob("*.yml")):
        with open(path, encoding="utf-8") as f:
            table[path.stem] = yaml.safe_load(f)
    docs = documents(source)
    by_code: dict[str, list[str]] = {}
    for key in table:
        by_code.setdefault(key.split("_")[0], []).append(key)
    aliases = {code: max(keys, key=lambda k: (docs.get(k, 0), k)) for code, keys in by_code.items()}
    for macro, members in sorted(MACROLANGUAGES.items()):
        if macro in aliases:
            continue
        keys = [k for m in members for k in by_code.get(m, [])]
        if keys:
            aliases[macro] = max(keys, key=lambda k: (docs.get(k, 0), k))
    return {"_source": SOURCE, "_aliases": dict(sorted(aliases.items())), **table}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = ap.parse_args()
    data = build(args.source)
    raw = json.dumps(data, ensure_ascii=False, sort_keys=False, separators=(",", ":")).encode()
    OUT.write_bytes(lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME))
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(data) - 2} languages, {len(data['_aliases'])} aliases)")


if __name__ == "__main__":
    main()

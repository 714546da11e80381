"""Language ID accuracy per language: ``language_id`` vs the raw lid.176 labels, on the lingua test sentences.

Input: ``../shared/data/langid/lingua_testdata/sentences/<iso639-1>.txt`` (75 languages × ~1,000 sentences; the
gold label is the file name). Both columns use the same model and the same text preparation (datatrove's:
newlines → spaces), so the only difference is the code handling:

* raw — the model's top label compared as a string with the gold code, as datatrove's ``LanguageFilter`` compares
  ``languages=[...]`` with fastText labels (``nb`` never equals lid.176's ``no``; ``en`` ≠ ``eng``);
* ours — ``language_id``'s normalised ``language`` matched with :func:`curate.stages.languages.same_language`
  (ISO 639-1/639-3, macrolanguages, lid.176's own label quirks).

``worst_drop`` = max over languages of (raw accuracy − ours); ≤ 0 means normalisation never loses a match.
Also prints docs/s of the step and of bare per-document ``predict`` calls (datatrove's loop).

Usage: .venv/bin/python bench/langid_accuracy.py [--model lid176-ftz|lid176|PATH] [--per-language 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pyarrow as pa

from curate.stages import LanguageId
from curate.stages.languages import same_language

SENTENCES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "langid" / "lingua_testdata" / "sentences"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lid176-ftz", help="lid176-ftz (offline, default), lid176, or a path")
    parser.add_argument("--per-language", type=int, default=1000, help="sentences per language")
    args = parser.parse_args()
    if not SENTENCES.exists():
        sys.exit(f"{SENTENCES} not found (../shared/data)")

    texts, gold = [], []
    for path in sorted(SENTENCES.glob("*.txt")):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        lines = lines[: args.per_language]
        texts += lines
        gold += [path.stem] * len(lines)

    step = LanguageId(model=args.model, label_only=True, top_k=1)
    step.ensure_setup()
    table = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})

    start = time.perf_counter()
    ours = []
    for offset in range(0, table.num_rows, 5000):
        ours += step(table.slice(offset, 5000)).column("language").to_pylist()
    ours_s = time.perf_counter() - start

    model = step._model
    start = time.perf_counter()
    raw = [model.predict(t.replace("\n", " "), k=1)[0][0].removeprefix("__label__") for t in texts]
    raw_s = time.perf_counter() - start

    per_lang: dict[str, list[int]] = {}
    for g, o, r in zip(gold, ours, raw):
        counts = per_lang.setdefault(g, [0, 0, 0])
        counts[0] += 1
        counts[1] += same_language(o, g)
        counts[2] += r == g

    print(f"{'lang':6s} {'n':>5s} {'raw':>7s} {'ours':>7s} {'delta':>7s}")
    drops, accs = [], []
    for lang, (n, ok_ours, ok_raw) in sorted(per_lang.items()):
        a_ours, a_raw = ok_ours / n, ok_raw / n
        accs.append(a_ours)
        drops.append(a_raw - a_ours)
        mark = "  <-- codes differ" if a_ours - a_raw > 0.05 else ""
        print(f"{lang:6s} {n:5d} {a_raw:7.3f} {a_ours:7.3f} {a_ours - a_raw:+7.3f}{mark}")
    mean = sum(accs) / len(accs)
    raw_mean = sum(a + d for a, d in zip(accs, drops)) / len(accs)
    print(
        f"model {args.model}: {len(texts)} sentences, {len(per_lang)} languages; mean accuracy ours {mean:.4f}, "
        f"raw labels {raw_mean:.4f}"
    )
    print(
        f"speed: language_id step (batched predict + columns + keep rule) {len(texts) / ours_s:,.0f} docs/s; bare "
        f"per-document predict (datatrove's loop, no columns) {len(texts) / raw_s:,.0f} docs/s"
    )
    print(f"RESULT langid_accuracy mean={mean:.4f} worst_drop={max(drops):.4f}")


if __name__ == "__main__":
    main()

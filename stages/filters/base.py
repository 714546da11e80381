"""What the heuristic filters share: per-language parameters (FineWeb2's adaptation) and the batch loop.

The parameters a document gets, lowest precedence first: the step's own (defaults or the recipe), the entry of a
settings table for the document's language (``settings: fineweb2``, see :mod:`curate.stages.filters.settings`),
then the step's ``language_overrides`` for that language. With a table entry, words are split with the rules of the
entry's language key (``zh`` -> ``cmn_Hani``: Chinese word segmentation).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyarrow as pa
from pydantic import Field, ValidationError, model_validator

from curate.stage import Params, Stage, StepOutput
from curate.stages.filters.features import TextFeatures, batch_features
from curate.stages.filters.settings import load_settings, step_overrides
from curate.stages.languages import best_match, duplicate_languages, parse

LANGUAGE_COLUMN = "language"
SCRIPT_COLUMN = "language_script"


class LanguageParams(Params):
    """Parameters every heuristic filter has: the language whose word splitting it uses, and per-language overrides."""

    language: str = Field(
        "en",
        description="language for word splitting (ISO 639-1/639-3, e.g. en, deu, fra_Latn) "
        "when a document has no `language` column value",
    )
    use_language_column: bool = Field(
        True,
        description="when the table has a `language` column (from language_id), "
        "split each document's words with its own language's rules",
    )
    language_overrides: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per-language parameter overrides, e.g. {de: {min_avg_word_length: 4}} "
        "(FineWeb2-style thresholds per language), keyed by the `language` value",
    )
    settings: str | list[str] | None = Field(
        None,
        description="per-language settings table looked up by each document's `language`: fineweb2 (FineWeb2's "
        "1,929 languages, shipped), a path (a folder of <lang>_<Script>.yml or one YAML/JSON file), "
        "or a list merged left to right; language_overrides still win. `curate steps NAME "
        "--language LANG` shows where each value comes from",
    )

    @model_validator(mode="after")
    def _valid_overrides(self) -> LanguageParams:
        """Each override is a mapping of this step's parameters, keyed by a language code named once."""
        twice = duplicate_languages(self.language_overrides)
        if twice:
            raise ValueError(f"language_overrides names the same language twice: {twice}; keep one key of each")
        base = self.model_dump(exclude={"language_overrides"})
        for lang, override in self.language_overrides.items():
            parse(lang)  # a ValueError naming the code that is not one
            if "language_overrides" in override:
                raise ValueError(f"language_overrides[{lang!r}] cannot itself hold language_overrides")
            try:
                type(self)(**{**base, "language": lang, **override})  # validated now, not at the first document
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                raise ValueError(f"language_overrides[{lang!r}]: {problems}") from None
        return self


class HeuristicFilter(Stage):
    """Base of the document filters: groups a batch by language, evaluates ``check`` per document on shared features.

    Subclasses implement ``check(features, params) -> reason | None``; rewriting filters override ``rewrite``.
    """

    kind = "map"
    requires = ("text",)
    Params = LanguageParams

    def __init__(self, params: Any = None, options: Any = None, **kwargs: Any):
        super().__init__(params, options, **kwargs)
        self._overrides: dict[str, dict[str, Any]] = dict(self.params.language_overrides)  # checked by Params
        self._table = load_settings(self.params.settings)
        self._resolved: dict[str, LanguageParams] = {}

    def _override(self, language: str) -> tuple[str, dict[str, Any]] | None:
        key = best_match(language, self._overrides)  # en, eng and eng_Latn alike (curate.stages.languages)
        return None if key is None else (key, self._overrides[key])

    def _override_keys(self, language: str) -> set[str]:
        found = self._override(language)
        return set(found[1]) if found else set()

    def params_for(self, language: str | None) -> LanguageParams:
        """The parameters that apply to a document in ``language`` (None: the step's own): the step's, then the
        settings table's entry for the language, then ``language_overrides`` (see the module docstring)."""
        if language is None:
            return self.params
        p = self._resolved.get(language)
        if p is None:
            p = self._resolved[language] = self._build_params(language)
        return p

    def _build_params(self, language: str) -> LanguageParams:
        update: dict[str, Any] = {"language": language}
        found = self._table.lookup(language) if self._table is not None else None
        if found is not None:
            update["language"] = found[0]
            update.update(step_overrides(self.name, found[1]))
        override = self._override(language)
        if override is not None:
            if found is None:
                update["language"] = override[0]
            update.update(override[1])
        if len(update) == 1 and update["language"] == language:
            return self.params.model_copy(update=update)
        return self.Params(**{**self.params.model_dump(exclude={"language_overrides"}), **update})

    def _groups(self, table: pa.Table) -> list[tuple[LanguageParams, list[int]]]:
        n = table.num_rows
        if not (self.params.use_language_column and LANGUAGE_COLUMN in table.column_names):
            return [(self.params, list(range(n)))]
        groups: dict[str | None, list[int]] = defaultdict(list)
        languages = table.column(LANGUAGE_COLUMN).to_pylist()
        if SCRIPT_COLUMN in table.column_names:  # lid.176 labels carry no script: language_id adds the text's
            scripts = table.column(SCRIPT_COLUMN).to_pylist()
            languages = [
                f"{lang}_{s}" if lang and s and "_" not in lang else lang
                for lang, s in zip(languages, scripts, strict=True)
            ]
        for i, lang in enumerate(languages):
            groups[lang or None].append(i)
        return [(self.params_for(lang), idx) for lang, idx in groups.items()]

    def process(self, table: pa.Table) -> pa.Table | StepOutput:
        texts = [t or "" for t in table.column("text").to_pylist()]
        reasons: list[str | None] = [None] * table.num_rows
        new_texts: list[str] | None = None
        for params, idx in self._groups(table):
            features = batch_features([texts[i] for i in idx], params.language)
            for i, f in zip(idx, features, strict=True):
                reason, rewritten = self.rewrite(f, params)
                reasons[i] = reason
                if rewritten is not None and rewritten != texts[i]:
                    if new_texts is None:
                        new_texts = list(texts)
                    new_texts[i] = rewritten
        if new_texts is not None:
            col = table.schema.get_field_index("text")
            table = table.set_column(col, table.schema.field(col), pa.array(new_texts, table.schema.field(col).type))
        return StepOutput.split(table, reasons)

    def rewrite(self, f: TextFeatures, params: Any) -> tuple[str | None, str | None]:
        """Removal reason (None keeps) and the new text (None: unchanged) for one document."""
        return self.check(f, params), None

    def check(self, f: TextFeatures, params: Any) -> str | None:
        raise NotImplementedError

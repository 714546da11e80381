"""Per-language filter settings as data: FineWeb2's table shipped with curate, user tables in the same format.

FineWeb2 (Penedo et al. 2025, "FineWeb2: One Pipeline to Scale Them All"; configs from github.com/huggingface/fineweb-2,
Apache-2.0) tuned, for each of 1,929 languages, a GlotLID language-score threshold, the Gopher repetition thresholds
(``dup_line_frac``, ``top_n_grams``, ``dup_n_grams``), FineWeb quality's ``line_punct_thr`` and ``new_line_ratio``,
and Gopher quality's word-length bounds, ``max_non_alpha_words_ratio`` and stop words. ``fineweb2`` names that table
as shipped (``fineweb2_settings.json.xz``, made by ``_gen_fineweb2.py``); a path names a user table: a folder of
``<lang>_<Script>.yml`` files as FineWeb2 wrote them, or one YAML/JSON file mapping language keys to the same fields.
Several tables are merged field by field, later ones winning (``[fineweb2, my_table.yaml]``).

A document's ``language`` finds its entry in any code form: ``arb_Arab`` exactly; ``ar``/``arb``/``ara`` through the
code's best-represented script (most documents in FineWeb2's release); an individual language through its
macrolanguage (``pes`` -> ``fas_Arab``) and a macrolanguage through its biggest member (``zh`` -> ``cmn_Hani``);
``zho_Hans``/``zho_Hant`` match the ``Hani`` entries. English is not in FineWeb2: it keeps the step's own values.

:data:`STEP_FIELDS` says which field feeds which parameter of which step; :data:`FINEWEB2_FIXED` holds the values
FineWeb2's pipeline (``fineweb-2-pipeline.py``) set the same for every language.
"""

from __future__ import annotations

import json
import lzma
from functools import lru_cache
from pathlib import Path
from typing import Any

from curate.cache import missing_path
from curate.errors import Problem

FINEWEB2 = "fineweb2"
SHIPPED = Path(__file__).with_name("fineweb2_settings.json.xz")

#: step -> {table field: step parameter}
STEP_FIELDS: dict[str, dict[str, str]] = {
    "language_id": {"language_score": "min_score"},
    "gopher_repetition": {"dup_line_frac": "dup_line_frac", "top_n_grams": "top_n_grams", "dup_n_grams": "dup_n_grams"},
    "fineweb_quality": {"line_punct_thr": "line_punct_thr", "new_line_ratio": "new_line_ratio"},
    "gopher_quality": {
        "min_avg_word_length": "min_avg_word_length",
        "max_avg_word_length": "max_avg_word_length",
        "max_non_alpha_words_ratio": "max_non_alpha_words_ratio",
        "stopwords": "stop_words",
    },
}

#: what fineweb-2-pipeline.py passes to every language's filters besides the table (recipes/fineweb2.yaml sets them)
FINEWEB2_FIXED: dict[str, dict[str, Any]] = {
    "gopher_repetition": {"dup_para_frac": 0, "dup_line_char_frac": 0, "dup_para_char_frac": 0},
    "fineweb_quality": {"short_line_thr": 999, "char_duplicates_ratio": 0.1},
    "gopher_quality": {"min_stop_words": 2},
}

#: scripts a table key may stand for (Unicode's Han covers the simplified/traditional variants GlotLID/HPLT write)
_SCRIPT_ALIASES = {"Hans": "Hani", "Hant": "Hani", "Kore": "Hang"}


class SettingsTable:
    """Language key (``deu_Latn``) -> its fields, with code aliases; :meth:`lookup` resolves any code form."""

    def __init__(
        self,
        entries: dict[str, dict[str, Any]],
        aliases: dict[str, str] | None = None,
        sources: dict[str, str] | None = None,
        name: str = "",
    ):
        self.entries = entries
        self.aliases = dict(aliases or {})
        self.name = name
        #: language key -> field -> the table that gave it (for ``curate steps NAME --language``)
        self.sources = sources or {}
        for key in entries:  # a user table's keys resolve too
            self.aliases.setdefault(key.split("_")[0], key)

    def resolve(self, language: str | None) -> str | None:
        """The table key for ``language`` (any code form), or None when the table has no entry for it."""
        if not language:
            return None
        if language in self.entries:
            return language
        return _resolve(self, language)

    def lookup(self, language: str | None) -> tuple[str, dict[str, Any]] | None:
        key = self.resolve(language)
        return None if key is None else (key, self.entries[key])

    def merged(self, other: SettingsTable) -> SettingsTable:
        """This table with ``other``'s entries laid over it, field by field."""
        entries = {k: dict(v) for k, v in self.entries.items()}
        sources = {k: dict(v) for k, v in self.sources.items()}
        for key, fields in other.entries.items():
            entries.setdefault(key, {}).update(fields)
            sources.setdefault(key, {}).update(dict.fromkeys(fields, other.name))
        return SettingsTable(entries, {**self.aliases, **other.aliases}, sources, f"{self.name}+{other.name}")


def _resolve(table: SettingsTable, language: str) -> str | None:
    from curate.stages.languages import MACROLANGUAGES, macrolanguage, parse

    try:
        lang = parse(language)
    except ValueError:
        return None
    script = _SCRIPT_ALIASES.get(lang.script or "", lang.script)
    candidates = [lang.code]
    macro = macrolanguage(lang.code)
    if macro:
        candidates.append(macro)
    if lang.code in MACROLANGUAGES:
        candidates.extend(sorted(MACROLANGUAGES[lang.code]))
    for code in candidates:
        if script and f"{code}_{script}" in table.entries:
            return f"{code}_{script}"
        key = table.aliases.get(code)
        if key is not None and (script is None or key.endswith(f"_{script}") or lang.script == "Jpan"):
            return key
    return None


def _read_user_table(path: Path) -> dict[str, dict[str, Any]]:
    import yaml

    if path.is_dir():
        out = {}
        for f in sorted([*path.glob("*.yml"), *path.glob("*.yaml")]):
            with open(f, encoding="utf-8") as fh:
                out[f.stem] = yaml.safe_load(fh) or {}
        if not out:
            raise ValueError(f"language settings folder {path} has no <lang>_<Script>.yml files")
        return out
    raw = path.read_bytes()
    if path.suffix == ".xz":
        raw = lzma.decompress(raw)
    data = json.loads(raw) if ".json" in path.suffixes else yaml.safe_load(raw)
    if not isinstance(data, dict) or not all(isinstance(v, dict) for k, v in data.items() if not k.startswith("_")):
        raise ValueError(
            f"language settings file {path}: expected a mapping of language keys (deu_Latn: {{...}}) "
            f"to FineWeb2-style fields"
        )
    return data


@lru_cache(maxsize=32)
def _load_one(spec: str) -> SettingsTable:
    if spec == FINEWEB2:
        data = json.loads(lzma.decompress(SHIPPED.read_bytes()))
    else:
        path = Path(spec).expanduser()
        if not path.exists():
            raise ValueError(f"language settings {spec!r}: not 'fineweb2' and no such file or folder")
        data = _read_user_table(path)
    aliases = data.get("_aliases", {})
    entries = {k: v for k, v in data.items() if not k.startswith("_")}
    sources = {k: dict.fromkeys(v, spec) for k, v in entries.items()}
    return SettingsTable(entries, aliases, sources, spec)


def settings_problems(spec: str | list[str] | None, field: str = "settings") -> list[Problem]:
    """Tables named in ``settings`` that are neither ``fineweb2`` nor an existing file or folder."""
    specs = [] if not spec else [spec] if isinstance(spec, str) else list(spec)
    hint = "name fineweb2 (shipped) or a folder of <lang>_<Script>.yml files / one YAML or JSON table"
    return [p for i, s in enumerate(specs) if s != FINEWEB2 for p in missing_path(f"{field}[{i}]", s, "table", hint)]


def load_settings(spec: str | list[str] | None) -> SettingsTable | None:
    """The table for a step's ``settings`` parameter (None: no table); lists merge left to right."""
    if not spec:
        return None
    specs = [spec] if isinstance(spec, str) else list(spec)
    table = _load_one(specs[0])
    for s in specs[1:]:
        table = table.merged(_load_one(s))
    return table


def step_overrides(step: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The parameters of ``step`` that a table entry sets (FineWeb2 field names mapped to ours)."""
    fields = STEP_FIELDS.get(step, {})
    return {param: _as_param(entry[f]) for f, param in fields.items() if f in entry}


def _as_param(value: Any) -> Any:
    if isinstance(value, list) and value and isinstance(value[0], list):
        return [tuple(v) for v in value]  # [[2, 0.2], …] -> [(2, 0.2), …]
    return value


def provenance(step_cls: type, language: str, params: dict[str, Any] | None = None) -> list[tuple[str, Any, str]]:
    """(parameter, value, where it came from) for a document in ``language`` under a step built from ``params``:
    ``curate steps NAME --language LANG`` prints it. Sources: the step default, the recipe, the settings table (with
    the key that matched), or ``language_overrides``."""
    params = dict(params or {})
    step = step_cls(**params)
    applied = step.params_for(language)
    table = load_settings(params.get("settings"))
    found = table.lookup(language) if table is not None else None
    from_table = step_overrides(step_cls.name, found[1]) if found else {}
    overridden = set()
    if hasattr(step, "_override_keys"):
        overridden = step._override_keys(language)
    out = []
    for name in type(applied).model_fields:
        value = getattr(applied, name)
        if name in overridden:
            source = "language_overrides"
        elif name in from_table:
            origin = table.sources.get(found[0], {}).get(_field_of(step_cls.name, name), table.name)
            source = f"settings {origin} [{found[0]}]"
        elif name in params:
            source = "recipe"
        else:
            source = "default"
        out.append((name, value, source))
    return out


def _field_of(step: str, param: str) -> str:
    return next((f for f, p in STEP_FIELDS.get(step, {}).items() if p == param), param)

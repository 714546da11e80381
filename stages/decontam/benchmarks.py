"""Benchmark items for decontamination: where they come from and which text of each item is indexed.

An item's text is what a model is evaluated on, as lm-eval-harness presents it: the query (question, prompt,
context) and the gold answer, without few-shot examples or harness boilerplate (a fixed template such as "Question:
... Answer:" or MBPP's "You are an expert Python programmer" would match every page quoting it). Recipes, per
dataset layout (picked from the columns, or named with ``recipe:``):

| recipe | query | gold |
|---|---|---|
| ``text`` | ``query`` when present | the row's ready-made ``text`` (indexed whole) |
| ``gsm8k`` | question | answer (with its ``<<calc>>`` annotations, which normalisation removes) |
| ``humaneval`` | prompt | canonical_solution |
| ``mbpp`` | text (or prompt) | code + the test asserts |
| ``piqa`` | goal | the correct solution (sol1 / sol2 by ``label``) |
| ``hellaswag`` | ctx | the correct ending |
| ``arc`` | question | the correct choice's text |
| ``mmlu`` | question | the correct choice |
| ``qa`` | query | answer |

Sources are local JSONL or Parquet files (globs allowed, local or ``s3://``), or Hugging Face dataset ids read
through the ``datasets`` library (network on first use, then its cache; offline with no cache is an error that
says so).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from curate.errors import CurateError


class BenchmarkError(CurateError, ValueError):
    """A benchmark source cannot be read or has no text recipe; the message names the source and the fix."""


@dataclass(frozen=True)
class Item:
    """One benchmark test item: ``text`` is indexed whole (query + newline + gold unless the data gives its own);
    ``query`` and ``gold`` are also looked for apart, with the other answer ``choices`` possibly between them."""

    benchmark: str
    id: str
    text: str
    query: str = ""
    gold: str = ""
    choices: tuple[str, ...] = ()

    @classmethod
    def of(cls, benchmark: str, ident: str, query: str, gold: str, choices: tuple[str, ...] = ()) -> Item:
        text = f"{query}\n{gold}" if query else gold
        return cls(benchmark, ident, text, query, gold, choices)


class BenchmarkSource(BaseModel):
    """Where one benchmark's items are: ``path`` (JSONL/Parquet file or glob) or ``hf`` (dataset id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = Field(None, description="local or s3:// JSONL / Parquet file, or a glob of them")
    hf: str | None = Field(None, description="Hugging Face dataset id (needs `datasets`; network once, then cached)")
    config: str | None = Field(None, description="dataset configuration name (hf only), e.g. main for gsm8k")
    split: str = Field("test", description="split to index (hf only)")
    name: str | None = Field(
        None,
        description="benchmark name in reports (default: the row's `benchmark` field, "
        "else the file stem or dataset id)",
    )
    recipe: str | None = Field(
        None,
        description="text recipe (default: chosen from the columns); one of "
        + ", ".join(["text", "gsm8k", "humaneval", "mbpp", "piqa", "hellaswag", "arc", "mmlu", "qa"]),
    )

    @model_validator(mode="after")
    def _one_source(self) -> BenchmarkSource:
        if (self.path is None) == (self.hf is None):
            raise ValueError(
                "a benchmark needs exactly one of `path` (JSONL/Parquet file or glob) or `hf` (dataset id)"
            )
        if self.recipe is not None and self.recipe not in RECIPES:
            raise ValueError(f"unknown recipe {self.recipe!r}; known: {', '.join(RECIPES)}")
        return self

    def label(self) -> str:
        return self.path or f"hf:{self.hf}" + (f"/{self.config}" if self.config else "") + f"[{self.split}]"


def as_source(value: str | BenchmarkSource | dict) -> BenchmarkSource:
    """A recipe's benchmark entry: a path or glob string, ``hf:ID[/CONFIG][:SPLIT]``, or a mapping."""
    if isinstance(value, BenchmarkSource):
        return value
    if isinstance(value, dict):
        return BenchmarkSource(**value)
    if value.startswith("hf:"):
        ident, _, split = value[3:].partition(":")
        parts = ident.split("/")
        repo, config = ("/".join(parts[:2]), parts[2]) if len(parts) == 3 else (ident, None)
        return BenchmarkSource(hf=repo, config=config, split=split or "test")
    return BenchmarkSource(path=value)


# -- recipes: row -> (query, gold, choices) ----------------------------------------------------------------------


def _choice(choices: Any, index: Any) -> str:
    return str(choices[int(index)])


def _mbpp(row: dict) -> tuple[str, str, tuple[str, ...]]:
    tests = row.get("test_list") or []
    return str(row.get("text") or row.get("prompt") or ""), "\n".join([str(row["code"]), *map(str, tests)]), ()


def _arc(row: dict) -> tuple[str, str, tuple[str, ...]]:
    choices = row["choices"]
    return (
        str(row["question"]),
        str(choices["text"][list(choices["label"]).index(row["answerKey"])]),
        tuple(map(str, choices["text"])),
    )


def _text(row: dict) -> tuple[str, str, tuple[str, ...]]:
    """Rows that carry their indexed ``text`` (and optionally ``query``/``answer``/``choices`` to look for apart)."""
    return str(row.get("query") or ""), str(row.get("answer") or ""), tuple(map(str, row.get("choices") or ()))


Recipe = Callable[[dict], tuple[str, str, tuple[str, ...]]]
RECIPES: dict[str, Recipe] = {
    "text": _text,
    "gsm8k": lambda r: (str(r["question"]), str(r["answer"]), ()),
    "humaneval": lambda r: (str(r["prompt"]), str(r["canonical_solution"]), ()),
    "mbpp": _mbpp,
    "piqa": lambda r: (
        str(r["goal"]),
        str(r["sol1"] if int(r["label"]) == 0 else r["sol2"]),
        (str(r["sol1"]), str(r["sol2"])),
    ),
    "hellaswag": lambda r: (str(r["ctx"]), _choice(r["endings"], r["label"]), tuple(map(str, r["endings"]))),
    "arc": _arc,
    "mmlu": lambda r: (str(r["question"]), _choice(r["choices"], r["answer"]), tuple(map(str, r["choices"]))),
    "qa": lambda r: (str(r["query"]), str(r["answer"]), ()),
}
#: columns that pick a recipe, most specific first
_DETECT: list[tuple[str, frozenset[str]]] = [
    ("mbpp", frozenset({"code", "test_list"})),
    ("text", frozenset({"text"})),
    ("humaneval", frozenset({"prompt", "canonical_solution"})),
    ("piqa", frozenset({"goal", "sol1", "sol2", "label"})),
    ("hellaswag", frozenset({"ctx", "endings", "label"})),
    ("arc", frozenset({"question", "choices", "answerKey"})),
    ("mmlu", frozenset({"question", "choices", "answer"})),
    ("gsm8k", frozenset({"question", "answer"})),
    ("qa", frozenset({"query", "answer"})),
]


def detect_recipe(columns: Iterable[str]) -> str | None:
    cols = set(columns)
    return next((name for name, needed in _DETECT if needed <= cols), None)


# -- reading -----------------------------------------------------------------------------------------------------


def _read_rows(source: BenchmarkSource) -> tuple[list[dict], str]:
    """(rows, default benchmark name) of a source."""
    if source.hf is not None:
        return _read_hf(source), source.hf.rsplit("/", 1)[-1]
    from curate.io import discover_inputs, iter_table_file

    try:
        files = discover_inputs([source.path])
    except Exception as exc:  # noqa: BLE001 - any failure to list is the user's path
        raise BenchmarkError(f"benchmark {source.path!r}: cannot list it ({exc})") from exc
    if not files:
        raise BenchmarkError(
            f"benchmark {source.path!r}: no JSONL or Parquet file matches; give a file, a glob "
            f"such as data/*.jsonl, or hf: a Hugging Face dataset id"
        )
    rows: list[dict] = []
    for f in files:
        try:
            for table in iter_table_file(f.uri, 65536):
                rows.extend(table.to_pylist())
        except Exception as exc:  # noqa: BLE001 - a corrupt file is the user's to fix
            raise BenchmarkError(f"benchmark file {f.uri}: cannot read it as JSONL/Parquet ({exc})") from exc
    stem = posixpath.basename(files[0].uri).split(".")[0]
    return rows, stem


def _read_hf(source: BenchmarkSource) -> list[dict]:
    try:
        import datasets  # type: ignore[import-not-found]
    except ImportError as exc:
        raise BenchmarkError(
            f"benchmark hf:{source.hf} needs the `datasets` package (pip install datasets), or "
            f"download the split once and give its JSONL/Parquet file as `path`"
        ) from exc
    try:
        ds = datasets.load_dataset(source.hf, source.config, split=source.split)
    except Exception as exc:  # noqa: BLE001 - offline, unknown id, gated: all actionable the same way
        raise BenchmarkError(
            f"benchmark hf:{source.hf} (config {source.config}, split {source.split}) could not be loaded: {exc}. "
            f"Offline? It must be in the Hugging Face cache (HF_HOME) from an earlier online run "
            f"(set HF_DATASETS_OFFLINE=1 to use the cache), or give a local JSONL/Parquet copy as `path`."
        ) from exc
    return [dict(r) for r in ds]


def load_items(source: BenchmarkSource) -> list[Item]:
    """The items of one source, each with its benchmark name, id and indexed text."""
    rows, default_name = _read_rows(source)
    if not rows:
        raise BenchmarkError(f"benchmark {source.label()}: no rows")
    recipe_name = source.recipe or detect_recipe(rows[0])
    if recipe_name is None:
        raise BenchmarkError(
            f"benchmark {source.label()}: no text recipe fits its columns {sorted(rows[0])}; name "
            f"one with `recipe:` ({', '.join(RECIPES)}) or add a `text` column"
        )
    recipe = RECIPES[recipe_name]
    name = source.name or default_name
    items = []
    for i, row in enumerate(rows):
        try:
            query, gold, choices = recipe(row)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise BenchmarkError(
                f"benchmark {source.label()} row {i}: recipe {recipe_name!r} cannot read it "
                f"({type(exc).__name__}: {exc}); columns: {sorted(row)}"
            ) from exc
        bench = source.name or str(row.get("benchmark") or name)
        ident = row.get("id", row.get("task_id", row.get("ind", i)))
        ident = str(ident) if "/" in str(ident) else f"{bench}/{ident}"
        query, gold = query.replace("\r\n", "\n"), gold.replace("\r\n", "\n")
        if recipe_name == "text":
            items.append(Item(bench, ident, str(row["text"]).replace("\r\n", "\n"), query, gold, choices))
        else:
            items.append(Item.of(bench, ident, query, gold, choices))
    return items


def load_all(sources: Iterable[BenchmarkSource]) -> list[Item]:
    items: list[Item] = []
    for source in sources:
        items.extend(load_items(source))
    return items


def items_digest(items: list[Item]) -> str:
    """A hash of every item's benchmark, id and text: what the index was built from (for fingerprints)."""
    h = hashlib.sha256()
    for it in items:
        h.update(json.dumps([it.benchmark, it.id, it.text, it.query, it.gold, it.choices]).encode())
    return h.hexdigest()[:16]

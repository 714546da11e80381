"""Recipes: YAML files naming the input, the ordered steps with their parameters, the output, and how to execute.

A recipe is validated completely before any work starts: an unknown step, an unknown parameter or a value of the
wrong type is a :class:`RecipeError` naming the file, the line, the field and what is allowed. ``--set`` overrides
(``input.paths=/data/x.warc.gz``, ``steps.language_id.min_score=0.7``, ``execution.executor=local``) are applied
to the YAML before validation, so they are checked the same way.

Relative paths are taken relative to the directory ``curate run`` is started in.

Schema::

    name: my-corpus                      # required
    description: free text               # optional
    input:                               # a path/glob, a list of them, or {paths: [...]}
      paths: ["data/*.warc.gz", "s3://bucket/prefix/*.parquet"]   # a `warc.paths.gz` expands to its files
      # or: {commoncrawl: {snapshot: latest, kind: warc, segments: all, base: https://data.commoncrawl.org}}
    output: out/my-corpus                # local folder or s3:// prefix
    steps:                               # ordered; each item is {step_name: {param: value, ...}}
      - warc_extract: {}
      - language_id: {keep: [en], min_score: 0.65, keep_rejected: true, cpus: 1}
      - my_package.filters:MyFilter: {threshold: 3}     # explicit plugin: module:Class
    execution:
      executor: ray                      # ray | local
      address: null                      # Ray cluster address; default: RAY_ADDRESS or a local instance
      batch_size: 2000                   # documents per record batch
      num_cpus: null                     # CPUs for a local Ray instance (default: all)
      report: true                       # write OUT/_report/index.html at the end
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from curate.commoncrawl import CommonCrawlSpec
from curate.errors import RecipeError, Unavailable
from curate.registry import all_steps, resolve
from curate.stage import Stage, StepOptions


class InputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(
        default_factory=list,
        description="files, folders or globs, local or s3://; http(s):// files; a warc.paths.gz lists files",
    )
    commoncrawl: CommonCrawlSpec | None = Field(None, description="a Common Crawl snapshot (curate.commoncrawl)")

    @model_validator(mode="after")
    def _one_kind(self) -> InputSpec:
        if bool(self.paths) == (self.commoncrawl is not None):
            raise ValueError(
                "name the input either as paths (files, folders, globs) or as commoncrawl "
                "({snapshot: latest, kind: warc}), exactly one of them"
            )
        return self


class ExecutionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    executor: Literal["ray", "local"] = Field("ray", description="ray (default) or local (in-process)")
    address: str | None = Field(None, description="Ray cluster address (default: RAY_ADDRESS, else local Ray)")
    batch_size: int = Field(2000, gt=0, description="documents per record batch")
    num_cpus: int | None = Field(None, gt=0, description="CPUs for a local Ray instance")
    max_retries: int = Field(3, ge=0, description="retries of a unit of work whose worker died")
    report: bool = Field(True, description="write OUT/_report/index.html at the end of the run")
    shared_filesystem: bool = Field(
        False,
        description="local paths (output, inputs, model files) are on a "
        "filesystem every Ray node sees (NFS, Lustre): allow them on a multi-node "
        "cluster",
    )


class _RecipeModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    input: InputSpec
    output: str
    steps: list[Any] = Field(min_length=1)
    execution: ExecutionSpec = ExecutionSpec()


@dataclass
class StepEntry:
    """One validated step of a recipe: the built stage and where it was written."""

    name: str
    stage: Stage
    line: int | None


@dataclass
class Recipe:
    """A validated recipe. ``raw`` is the (overridden) YAML content, stored with the run's stats."""

    name: str
    description: str
    input_paths: list[str]
    output: str
    steps: list[StepEntry]
    execution: ExecutionSpec
    source: str = "<recipe>"
    raw: dict[str, Any] = field(default_factory=dict)
    commoncrawl: CommonCrawlSpec | None = None  # input.commoncrawl, resolved to files by curate.pipeline


# ---------------------------------------------------------------------------------------------------------------
# YAML with line numbers


def _positions(node: yaml.Node | None, path: tuple = ()) -> dict[tuple, int]:
    """Map every key path in a YAML node tree to its 1-based line."""
    out: dict[tuple, int] = {}
    if node is None:
        return out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            out.update(_positions(value_node, child))
            out[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(_positions(item, (*path, i)))
    return out


def _line_of(positions: dict[tuple, int], path: tuple) -> int | None:
    while path:
        if path in positions:
            return positions[path]
        path = path[:-1]
    return positions.get(())


# ---------------------------------------------------------------------------------------------------------------
# overrides


def apply_override(raw: dict[str, Any], assignment: str) -> None:
    """Apply one ``key.path=value`` override (value parsed as YAML) to the raw recipe mapping.

    ``steps.<name>.<param>`` addresses the first step called ``<name>``; ``steps.<index>.<param>`` a step by
    position. ``input.paths=x`` (or ``input=x``) accepts a single path."""
    if "=" not in assignment:
        raise RecipeError(f"--set {assignment!r}: expected KEY=VALUE, e.g. --set input.paths=/data/x.warc.gz")
    key, _, text = assignment.partition("=")
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        value = text
    parts = key.strip().split(".")
    if parts[0] == "input" and (len(parts) == 1 or parts[1:] == ["paths"]):
        raw["input"] = {"paths": value if isinstance(value, list) else [str(value)]}
        return
    if parts[0] == "steps":
        if len(parts) < 3:
            raise RecipeError(f"--set {assignment!r}: name a step and a parameter: steps.language_id.min_score=0.7")
        target = _step_params(raw.get("steps") or [], parts[1], assignment)
        parts = parts[2:]
    else:
        target = raw
    for part in parts[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[parts[-1]] = value


def _step_params(steps: list[Any], selector: str, assignment: str) -> dict[str, Any]:
    for i, item in enumerate(steps):
        if not isinstance(item, dict) or len(item) != 1:
            continue
        name = next(iter(item))
        if selector == name or selector == str(i):
            if item[name] is None:
                item[name] = {}
            return item[name]
    names = [next(iter(s)) for s in steps if isinstance(s, dict) and s]
    raise RecipeError(f"--set {assignment!r}: the recipe has no step {selector!r}; its steps are {names}")


# ---------------------------------------------------------------------------------------------------------------
# loading


#: values a recipe may expand to once YAML aliases are followed (real recipes have a few hundred)
MAX_RECIPE_NODES = 100_000


def _expanded_size(node: yaml.Node | None, memo: dict[int, int]) -> int:
    """How many values ``node`` expands to with every alias followed, counted without expanding (memoised per
    node object: an alias is the same node object as its anchor)."""
    if node is None:
        return 0
    key = id(node)
    if key not in memo:
        memo[key] = 1  # a cycle counts once instead of recursing forever
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(_expanded_size(v, memo) for v in node.value)
        else:
            total = 1
        memo[key] = min(total, 1 << 62)
    return memo[key]


def shipped_recipes() -> dict[str, Path]:
    """The recipes installed with curate (``curate.recipes``), by name."""
    import curate.recipes

    folder = Path(curate.recipes.__file__).parent
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def load_recipe(path: str, overrides: list[str] | None = None, check_files: bool = False) -> Recipe:
    """Read, override and validate a recipe file, or a shipped recipe by name (``quickstart``): then relative paths
    in it that exist beside the installed package (its sample data) are made absolute, so it runs from any folder.
    ``check_files``: also each step's files and models (``Stage.check_files``: local paths exist, downloads are
    cached or reachable), reported with the other errors (``curate validate`` and ``curate run`` do)."""
    shipped = shipped_recipes().get(path) if not os.path.exists(path) else None
    source = str(shipped) if shipped is not None else path
    try:
        with open(source, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        names = ", ".join(shipped_recipes())
        raise RecipeError(
            f"cannot read recipe {path}: {exc.strerror or exc} (shipped recipes, runnable by name: {names})"
        ) from exc
    if shipped is not None:
        return parse_recipe(text, source, overrides, base=PACKAGE_ROOT, check_files=check_files)
    return parse_recipe(text, path, overrides, check_files=check_files)


#: the folder holding the installed ``curate`` package: shipped recipes name their data relative to it
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def _rebase(value: Any, base: Path) -> Any:
    """Relative paths in ``value`` that exist under ``base`` (and not in the current folder), made absolute."""
    if isinstance(value, dict):
        return {k: _rebase(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebase(v, base) for v in value]
    if (
        isinstance(value, str)
        and value
        and "://" not in value
        and not os.path.isabs(value)
        and not os.path.exists(value)
        and (base / value).exists()
    ):
        return str(base / value)
    return value


def parse_recipe(
    text: str,
    source: str = "<recipe>",
    overrides: list[str] | None = None,
    base: Path | None = None,
    check_files: bool = False,
) -> Recipe:
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise RecipeError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if _expanded_size(node, {}) > MAX_RECIPE_NODES:
        raise RecipeError(
            f"{source}: the recipe expands to more than {MAX_RECIPE_NODES:,} values through YAML "
            "aliases (&anchor / *alias): refused (a recipe this size is an alias bomb, not a pipeline)"
        )
    if not isinstance(raw, dict):
        raise RecipeError(f"{source}: a recipe is a mapping with name, input, output and steps")
    positions = _positions(node)
    if isinstance(raw.get("input"), str | list):
        paths = raw["input"]
        raw["input"] = {"paths": paths if isinstance(paths, list) else [paths]}
    if base is not None:
        raw = {k: (_rebase(v, base) if k in ("input", "steps") else v) for k, v in raw.items()}
    for assignment in overrides or []:
        apply_override(raw, assignment)
    return validate_recipe(raw, source, positions, check_files)


def validate_recipe(
    raw: dict[str, Any],
    source: str = "<recipe>",
    positions: dict[tuple, int] | None = None,
    check_files: bool = False,
) -> Recipe:
    """The :class:`Recipe` of a raw mapping, or one :class:`RecipeError` listing every problem (exit status 69 when
    they are all models that only the network is missing for). The error's ``partial`` is the recipe up to its first
    broken step when the rest of it is sound, so later checks (input files, columns) can still be reported."""
    positions = positions or {}
    errors: list[str] = []  # every problem of the recipe, reported at once
    offline: list[bool] = []  # per error: only the network is missing
    try:
        model = _RecipeModel.model_validate(raw)
    except ValidationError as exc:
        errors.append(_format_errors(exc, source, positions, ()))
        offline.append(False)
        model = None
    raw_steps = raw.get("steps")
    items = model.steps if model is not None else raw_steps if isinstance(raw_steps, list) else []
    steps: list[StepEntry] = []
    broken = False  # a step before failed: later steps still get checked, but the partial recipe stops there
    for i, item in enumerate(items):
        try:
            entry = _validate_step(item, i, source, positions)
        except RecipeError as exc:
            errors.append(str(exc))
            offline.append(False)
            broken = True
            continue
        if not broken:
            steps.append(entry)
        for problem in entry.stage.check_files() if check_files else []:
            line = _line_of(positions, ("steps", i, entry.name, problem.field.split("[")[0]))
            errors.append(f"{source}:{line}: steps[{i}].{entry.name}.{problem.field}: {problem.message}")
            offline.append(problem.offline)
    if model is None or errors:
        error = RecipeError("\n".join(errors))
        if len(offline) == len(errors) and all(offline):
            error.exit_code = Unavailable.exit_code
        error.partial = _partial_recipe(raw, steps, source) if steps else None
        raise error
    _check_order(steps, source)
    return Recipe(
        model.name,
        model.description,
        list(model.input.paths),
        model.output,
        steps,
        model.execution,
        source,
        raw,
        model.input.commoncrawl,
    )


def _partial_recipe(raw: dict[str, Any], steps: list[StepEntry], source: str) -> Recipe | None:
    """The recipe's sound steps before the first broken one, with its input and output when those are sound."""
    try:
        inputs = InputSpec.model_validate(raw.get("input"))
    except ValidationError:
        return None
    output = raw.get("output")
    if not isinstance(output, str) or any(entry.stage.kind == "source" for entry in steps[1:]):
        return None
    return Recipe(
        str(raw.get("name", "")),
        "",
        list(inputs.paths),
        output,
        steps,
        ExecutionSpec(),
        source,
        raw,
        inputs.commoncrawl,
    )


def _validate_step(item: Any, index: int, source: str, positions: dict[tuple, int]) -> StepEntry:
    path = ("steps", index)
    line = _line_of(positions, path)
    if isinstance(item, str):
        item = {item: {}}
    if not isinstance(item, dict) or len(item) != 1:
        raise RecipeError(
            f"{source}:{line}: steps[{index}]: each step is a mapping of one step name to its "
            f"parameters, e.g. `- language_id: {{keep: [en]}}`; got {item!r}"
        )
    name, params = next(iter(item.items()))
    params = params or {}
    if not isinstance(params, dict):
        raise RecipeError(f"{source}:{line}: steps[{index}].{name}: parameters must be a mapping, got {params!r}")
    try:
        stage_class = resolve(name)
    except KeyError as exc:
        if ":" in name:
            raise RecipeError(f"{source}:{line}: steps[{index}]: {exc.args[0]}") from None
        known = ", ".join(all_steps())
        hint = _closest(name, list(all_steps()))
        raise RecipeError(
            f"{source}:{line}: steps[{index}]: unknown step {name!r}"
            + (f" (did you mean {hint!r}?)" if hint else "")
            + f". Known steps: {known}. Plugins: `package.module:ClassName`."
        ) from None
    option_keys = set(StepOptions.model_fields)
    options = {k: v for k, v in params.items() if k in option_keys}
    own = {k: v for k, v in params.items() if k not in option_keys}
    try:
        stage = stage_class(own, StepOptions(**options))
    except ValidationError as exc:
        allowed = sorted(stage_class.Params.model_fields) + sorted(option_keys)
        raise RecipeError(_format_errors(exc, source, positions, (*path, name), step=name, allowed=allowed)) from None
    except (ValueError, OSError) as exc:  # a step that checks more when it is built (a settings table it reads …)
        raise RecipeError(f"{source}:{line}: steps[{index}].{name}: {exc}") from None
    return StepEntry(name, stage, line)


def _check_order(steps: list[StepEntry], source: str) -> None:
    for i, entry in enumerate(steps):
        if entry.stage.kind == "source" and i > 0:
            raise RecipeError(
                f"{source}:{entry.line}: steps[{i}]: {entry.name!r} reads input files, so it must be the first step"
            )


def _format_errors(
    exc: ValidationError,
    source: str,
    positions: dict[tuple, int],
    prefix: tuple,
    step: str | None = None,
    allowed: list[str] | None = None,
) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        field_path = ".".join(
            str(p) for p in (*prefix[:1], *(f"[{p}]" if isinstance(p, int) else p for p in prefix[1:]), *loc)
        ).replace(".[", "[")
        line = _line_of(positions, (*prefix, *loc))
        where = f"{source}:{line}" if line else source
        message = err["msg"].removeprefix("Value error, ")  # pydantic's prefix for a validator's ValueError
        if err["type"] == "extra_forbidden":
            message = f"unknown parameter {loc[-1]!r}"
            if allowed:
                hint = _closest(str(loc[-1]), allowed)
                message += (f" (did you mean {hint!r}?)" if hint else "") + f"; {step} accepts: {', '.join(allowed)}"
        elif err["type"] == "missing":
            message = f"required field {loc[-1]!r} is missing"
        else:
            message += f" (got {err.get('input')!r})"
        lines.append(f"{where}: {field_path}: {message}")
    return "\n".join(lines)


def _closest(name: str, candidates: list[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return match[0] if match else None


def resolve_output(recipe: Recipe, output: str | None) -> str:
    out = output or recipe.output
    if not str(out or "").strip():
        raise RecipeError(
            f"{recipe.source}: output is empty: name an output folder (or s3:// prefix), e.g. out/my-corpus"
        )
    return out if "://" in out else os.path.abspath(out)

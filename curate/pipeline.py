"""Running a validated recipe: discover inputs, plan steps, pick the executor, run, write stats and report."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.fs as pafs

from curate import commoncrawl
from curate.contract import column_errors, input_file_columns
from curate.errors import CurateError, RecipeError
from curate.executors.base import make_executor
from curate.io import InputFile, discover_inputs
from curate.outdir import check_placement
from curate.plan import StepSpec, local_paths, unique_keys
from curate.progress import Progress
from curate.recipe import Recipe, resolve_output
from curate.runner import RunResult, run_steps
from curate.storage import location, storage_error


def plan_steps(recipe: Recipe) -> list[StepSpec]:
    keys = unique_keys([entry.stage.name or entry.name for entry in recipe.steps])
    return [StepSpec.from_stage(entry.stage, key, i) for i, (entry, key) in enumerate(zip(recipe.steps, keys))]


def resolve_inputs(recipe: Recipe, unmatched: list[str] | None = None) -> list[InputFile]:
    """The recipe's input files: a Common Crawl snapshot's (``input.commoncrawl``), or what ``input.paths``
    matches, where a ``warc.paths.gz`` (or ``.paths``) stands for the files it lists. Patterns that matched nothing
    are appended to ``unmatched``."""
    if recipe.commoncrawl is not None:
        spec = recipe.commoncrawl
        return commoncrawl.input_files(spec, commoncrawl.resolve_snapshot(spec))
    lists = [p for p in recipe.input_paths if commoncrawl.is_paths_file(p)]
    try:
        inputs = discover_inputs([p for p in recipe.input_paths if p not in lists], unmatched)
    except OSError as exc:
        raise storage_error(exc, f"{recipe.source}: input.paths {recipe.input_paths}") from None
    except ValueError as exc:  # two files with one shard name
        raise RecipeError(f"{recipe.source}: {exc}") from None
    if lists:
        seen = {f.uri for f in inputs}
        listed = [f for p in lists for f in commoncrawl.expand_paths_file(p)]
        for f in listed:
            if f.uri not in seen:
                seen.add(f.uri)
                inputs.append(f)
        names = [f.shard for f in inputs]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})[:3]
            raise RecipeError(
                f"{recipe.source}: input files map to the same shard name {dupes}: list each file "
                "once, or narrow input.paths"
            )
    return inputs


def check_inputs(recipe: Recipe, unmatched: list[str] | None = None) -> list:
    """The input files, or a :class:`RecipeError` when there are none or the first step cannot read them."""
    inputs = resolve_inputs(recipe, unmatched)
    if not inputs:
        remote = [p for p in recipe.input_paths if "://" in p]
        raise RecipeError(
            f"{recipe.source}: input.paths matched no files: {recipe.input_paths} "
            "(relative paths are taken from the current directory"
            + (f"; check that the bucket and prefix of {remote[0]} exist" if remote else "")
            + ")"
        )
    first = recipe.steps[0].stage
    formats = {f.format for f in inputs}
    if first.kind != "source" and formats - {"parquet", "jsonl"}:
        odd = [f.uri for f in inputs if f.format not in ("parquet", "jsonl")][:3]
        raise RecipeError(
            f"{recipe.source}: input files such as {odd} are not Parquet/JSONL, and the first step "
            f"{recipe.steps[0].name!r} does not read them; start the recipe with a reader such as "
            "`warc_extract` for WARC/WET/ARC files"
        )
    return inputs


def check_output(out: str, source: str) -> None:
    """Refuse, before any work, an output that is an existing file, under a file, in a folder this user cannot
    write (read-only), or in a bucket that does not exist or cannot be reached."""
    loc = location(out)
    try:
        info = loc.fs.get_file_info(loc.path)
        if not loc.is_local and info.type == pafs.FileType.NotFound:
            bucket = loc.path.split("/", 1)[0]
            if loc.fs.get_file_info(bucket).type == pafs.FileType.NotFound:
                raise RecipeError(f"{source}: output {out}: the bucket {bucket!r} does not exist; create it first")
    except OSError as exc:
        raise storage_error(exc, f"{source}: output {out}") from None
    if info.type == pafs.FileType.File:
        raise RecipeError(
            f"{source}: output {out} is an existing file: the output is a folder (created when missing); "
            "name another path, or move the file away"
        )
    if not loc.is_local:
        return
    existing = Path(loc.path)
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise RecipeError(f"{source}: output {out}: {existing} is a file, so no folder can be made below it")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise RecipeError(
            f"{source}: output {out}: this user cannot write in {existing} (read-only or permission denied); "
            "choose an output folder you can write, or fix its permissions"
        )


@dataclass
class Preflight:
    """What the checks before any work found: the output, the input files, the planned steps, and warnings."""

    out: str
    inputs: list[InputFile]
    specs: list[StepSpec]
    warnings: list[str] = field(default_factory=list)


def preflight(
    recipe: Recipe,
    output: str | None = None,
    strict: bool = False,
    earlier: RecipeError | None = None,
    warnings: list[str] | None = None,
) -> Preflight:
    """Every check ``curate validate`` and ``curate run`` make before any work, all reported at once: the output
    (placement, an existing file, writable), the input files (an input pattern that matches nothing, beside others
    that match, is a warning, appended to ``warnings`` even when errors follow; an error with ``strict``), the column
    contract. ``earlier``: the errors of a recipe that is only partly sound (``RecipeError.partial`` is ``recipe``),
    reported with these."""
    errors: list[CurateError] = [earlier] if earlier is not None else []
    warnings = [] if warnings is None else warnings
    out: str | None = None
    inputs: list[InputFile] | None = None
    specs: list[StepSpec] | None = None
    try:
        out = resolve_output(recipe, output)
        check_output(out, recipe.source)
    except CurateError as exc:
        errors.append(exc)
    unmatched: list[str] = []
    try:
        inputs = check_inputs(recipe, unmatched)
    except CurateError as exc:
        errors.append(exc)
    if inputs and unmatched:
        message = (
            f"{recipe.source}: input pattern(s) {unmatched} matched no files (the other patterns matched "
            f"{len(inputs)} file(s)): a typo, or data not there yet?"
        )
        if strict:
            errors.append(RecipeError(f"{message} (--strict)"))
        else:
            warnings.append(f"{message} --strict makes this an error")
    if inputs and out is not None:
        try:
            check_placement(out, recipe.input_paths, inputs, recipe.source)
        except CurateError as exc:
            errors.append(exc)
    if inputs:
        specs = plan_steps(recipe)
        errors += [RecipeError(e) for e in column_errors(specs, input_file_columns(inputs), recipe.source)]
    if errors:
        raise one_error(errors)
    assert out is not None and inputs is not None and specs is not None  # each is set when its check passed
    return Preflight(out, inputs, specs, warnings)


def one_error(errors: list[CurateError]) -> CurateError:
    """Several errors as one report: their messages, and their exit status when they agree (else 2: bad recipe)."""
    if len(errors) == 1:
        return errors[0]
    codes = {e.exit_code for e in errors}
    combined = RecipeError("\n".join(str(e) for e in errors))
    combined.exit_code = codes.pop() if len(codes) == 1 else RecipeError.exit_code
    return combined


def check_shared_paths(
    out: str, inputs: list[InputFile], specs: list[StepSpec], nodes: int, shared: bool, source: str
) -> None:
    """On a cluster of several nodes, refuse local paths (output, inputs, files named in step parameters) unless
    the recipe says they are on a shared filesystem: other nodes would not see them."""
    if nodes < 2 or shared:
        return
    local = ([out] if location(out).is_local else []) + [f.uri for f in inputs if location(f.uri).is_local]
    local += [path for spec in specs for path in local_paths(spec.params)]
    if local:
        shown = ", ".join(local[:3]) + (f" and {len(local) - 3} more" if len(local) > 3 else "")
        raise RecipeError(
            f"{source}: this Ray cluster has {nodes} nodes, but {shown} are on this machine's disk, "
            "which the other nodes cannot see: put them on s3:// (or another store every node "
            "reaches), or set execution.shared_filesystem: true if that disk is shared (NFS, Lustre)"
        )


def run_recipe(
    recipe: Recipe,
    output: str | None = None,
    executor: str | None = None,
    address: str | None = None,
    progress: Progress | None = None,
    strict: bool = False,
) -> RunResult:
    """Run ``recipe`` to completion (resuming whatever an earlier run left) and return its stats. Every check of
    :func:`preflight` comes first (``strict``: an input pattern matching nothing is an error); its warnings go to
    ``progress``."""
    checked = preflight(recipe, output, strict)
    out, inputs, specs = checked.out, checked.inputs, checked.specs
    for warning in checked.warnings:
        if progress is not None:
            progress.note(f"warning: {warning}")
    execution = recipe.execution
    runner = make_executor(
        executor or execution.executor,
        address=address or execution.address,
        **(
            {"num_cpus": execution.num_cpus, "max_retries": execution.max_retries}
            if (executor or execution.executor) == "ray"
            else {}
        ),
    )
    try:
        check_shared_paths(out, inputs, specs, runner.nodes(), execution.shared_filesystem, recipe.source)
        dashboard_url = getattr(runner, "dashboard_url", None)
        if dashboard_url and progress is not None:
            progress.note(f"Ray dashboard: {dashboard_url}")
        result = run_steps(
            specs,
            inputs,
            out,
            runner,
            progress,
            execution.batch_size,
            recipe={"name": recipe.name, "source": recipe.source, "content": recipe.raw},
        )
    finally:
        runner.close()
    if execution.report:
        _write_report(out)
    return result


def _write_report(out: str) -> None:
    try:
        from curate.report import build_report
    except ImportError:
        return
    build_report(out)

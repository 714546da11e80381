"""Running a validated recipe: discover inputs, plan steps, pick the executor, run, write stats and report."""

from __future__ import annotations

from curate import commoncrawl
from curate.contract import column_errors, input_file_columns
from curate.errors import RecipeError
from curate.executors.base import make_executor
from curate.io import InputFile, discover_inputs
from curate.outdir import check_placement
from curate.plan import StepSpec, local_paths, unique_keys
from curate.progress import Progress
from curate.recipe import Recipe, resolve_output
from curate.runner import RunResult, run_steps
from curate.storage import location


def plan_steps(recipe: Recipe) -> list[StepSpec]:
    keys = unique_keys([entry.stage.name or entry.name for entry in recipe.steps])
    return [StepSpec.from_stage(entry.stage, key, i) for i, (entry, key) in enumerate(zip(recipe.steps, keys))]


def resolve_inputs(recipe: Recipe) -> list[InputFile]:
    """The recipe's input files: a Common Crawl snapshot's (``input.commoncrawl``), or what ``input.paths``
    matches, where a ``warc.paths.gz`` (or ``.paths``) stands for the files it lists."""
    if recipe.commoncrawl is not None:
        spec = recipe.commoncrawl
        return commoncrawl.input_files(spec, commoncrawl.resolve_snapshot(spec))
    lists = [p for p in recipe.input_paths if commoncrawl.is_paths_file(p)]
    inputs = discover_inputs([p for p in recipe.input_paths if p not in lists])
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


def check_inputs(recipe: Recipe) -> list:
    inputs = resolve_inputs(recipe)
    if not inputs:
        raise RecipeError(
            f"{recipe.source}: input.paths matched no files: {recipe.input_paths} "
            "(relative paths are taken from the current directory)"
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


def check_plan(recipe: Recipe, inputs: list[InputFile]) -> list[StepSpec]:
    """The planned steps, after checking the column contract (:mod:`curate.contract`): every error at once."""
    specs = plan_steps(recipe)
    errors = column_errors(specs, input_file_columns(inputs), recipe.source)
    if errors:
        raise RecipeError("\n".join(errors))
    return specs


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
) -> RunResult:
    """Run ``recipe`` to completion (resuming whatever an earlier run left) and return its stats."""
    out = resolve_output(recipe, output)
    inputs = check_inputs(recipe)
    specs = check_plan(recipe, inputs)
    check_placement(out, recipe.input_paths, inputs, recipe.source)
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

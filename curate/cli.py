"""The ``curate`` command line: run, validate, steps, snapshots, nightly, report, inspect, train-classifier."""

from __future__ import annotations

import argparse
import errno
import importlib
import sys
from typing import Any, Literal

from curate.errors import CurateError


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:  # logs and pipes: wide enough that tables do not wrap
        console.width = max(console.width, 140)
    return console


def cmd_run(args: argparse.Namespace) -> int:
    from curate.pipeline import run_recipe
    from curate.progress import Progress
    from curate.recipe import load_recipe

    recipe = load_recipe(args.recipe, args.set, check_files=True)
    progress = Progress(enabled=not args.quiet)
    try:
        result = run_recipe(
            recipe,
            output=args.output,
            executor=args.executor,
            address=args.address,
            progress=progress,
            strict=args.strict,
        )
    finally:
        progress.close()
    if not args.quiet:
        print_summary(result)
    return input_file_warnings(result, recipe, args.strict) or empty_output_check(result, args.allow_empty)


#: exit status when a non-empty input gave zero documents (all codes: ``curate.errors.EXIT_CODES``)
EXIT_EMPTY = 6


def empty_output_check(result: Any, allow_empty: bool) -> int:
    """A run whose source step read input files but produced no document at all (junk input, a list of paths
    given as a WARC, a reader gap) is an error (exit 6) unless ``allow_empty``; a warning then."""
    steps = result.steps
    if not steps or not _is_source(steps[0].get("step")):
        return 0
    stats = steps[0]["stats"]
    if stats["docs_out"] or not stats.get("shards"):
        return 0
    console = _console(stderr=True)
    message = (
        f"0 documents from {stats['shards']} input file(s) ({stats.get('bytes_in', 0):,} bytes): check the "
        "input (a list of paths is read as one with input.paths: [x.paths.gz] or input.commoncrawl)"
    )
    if allow_empty:
        console.print(f"[yellow]warning[/yellow] {message}", markup=True, soft_wrap=True)
        return 0
    console.print(f"[bold red]error:[/bold red] {message}; --allow-empty accepts it", markup=True, soft_wrap=True)
    return EXIT_EMPTY


def _is_source(step: str | None) -> bool:
    from curate.registry import all_steps

    cls = all_steps().get(step or "")
    return cls is not None and cls.kind == "source"


#: exit status of ``curate run --strict`` when an input file read badly (all codes: ``curate.errors.EXIT_CODES``)
EXIT_INPUT_WARNINGS = 4


def input_file_warnings(result: Any, recipe: Any, strict: bool) -> int:
    """Print a warning per input file that read as nothing or lost most records to one damage reason
    (:mod:`curate.stages.warc.health`); with ``strict`` they fail the run (exit status 4)."""
    from rich.markup import escape

    from curate.pipeline import check_inputs
    from curate.stages.warc.health import run_warnings

    shards = {f.shard: f.uri for f in check_inputs(recipe)}
    warnings = run_warnings(result.out, result.steps, shards)
    console = _console(stderr=True)
    for warning in warnings:
        console.print(f"[yellow]warning[/yellow] input {escape(warning)}", markup=True, soft_wrap=True)
    if warnings and strict:
        console.print(f"[bold red]error:[/bold red] --strict: {len(warnings)} input file(s) read badly", markup=True)
        return EXIT_INPUT_WARNINGS
    return 0


def print_summary(result: Any) -> None:
    from rich.table import Table

    table = Table(title=f"curate: {result.out}", title_justify="left")
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
        ("step", "left"),
        ("docs in", "right"),
        ("docs out", "right"),
        ("kept", "right"),
        ("top removal reasons", "left"),
        ("CPU s", "right"),
        ("docs/s", "right"),
    )
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for step in result.steps:
        s = step["stats"]
        reasons = sorted(s["removed"].items(), key=lambda kv: -kv[1])[:3]
        kept = f"{s['docs_out'] / s['docs_in']:.1%}" if s["docs_in"] else "-"
        rate = f"{s['docs_in'] / s['wall_seconds']:,.0f}" if s["wall_seconds"] else "-"
        table.add_row(
            step["key"],
            f"{s['docs_in']:,}",
            f"{s['docs_out']:,}",
            kept,
            ", ".join(f"{r} {n:,}" for r, n in reasons),
            f"{s['cpu_seconds']:.1f}",
            rate,
        )
    console = _console()
    console.print(table)
    for step in result.steps:  # global steps' plans may carry warnings (a mix group capped at max_repeat …)
        for phase, summary in (step.get("phases") or {}).items():
            for warning in summary.get("warnings", []) if isinstance(summary, dict) else []:
                console.print(f"[yellow]warning[/yellow] {step['key']} ({phase}): {warning}", markup=True)
    console.print(
        f"{result.wall_seconds:.1f} s wall, {result.resumed_shards} shard-steps resumed from an earlier run; "
        f"stats: {result.out}/_stats.json"
    )


def cmd_snapshots(args: argparse.Namespace) -> int:
    import json

    from rich.markup import escape
    from rich.table import Table

    from curate.commoncrawl import CommonCrawlSpec
    from curate.nightly import State, snapshot_table

    state = State.read(args.state) if args.state else None
    if args.recipe:
        from curate.recipe import load_recipe

        spec = load_recipe(args.recipe).commoncrawl
        if spec is None:
            raise CurateError(f"{args.recipe} has no input.commoncrawl")
    elif state is not None and state.data.get("commoncrawl"):
        spec = CommonCrawlSpec(**state.data["commoncrawl"])
    else:
        spec = CommonCrawlSpec()
    updates = {k: v for k, v in (("base", args.base), ("collinfo", args.collinfo)) if v}
    spec = spec.model_copy(update=updates) if updates else spec
    rows = snapshot_table(spec, state)
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    table = Table(title=f"Common Crawl snapshots ({spec.collinfo_uri()})", title_justify="left")
    for column in ("snapshot", "name", "status", "documents", "output"):
        table.add_column(column)
    for row in rows:
        docs = f"{row['documents']:,}" if isinstance(row["documents"], int) else ""
        table.add_row(row["id"], escape(row["name"] or ""), row["status"], docs, escape(row["output"] or ""))
    console = _console()
    console.print(table)
    new = [r["id"] for r in rows if r["status"] == "new"]
    if state is not None:
        console.print(f"{len(new)} new: {', '.join(new)}" if new else "nothing new")
    return 0


def cmd_nightly(args: argparse.Namespace) -> int:
    """Print the night's one-line JSON summary on stdout (also when it stops on an error) and return its code."""
    import json

    from curate.nightly import run_nightly
    from curate.progress import Progress

    progress = Progress(enabled=not args.quiet)
    try:
        result = run_nightly(
            args.recipe,
            args.state,
            args.set,
            output=args.output,
            executor=args.executor,
            address=args.address,
            max_snapshots=args.max_snapshots,
            allow_empty=args.allow_empty,
            strict=args.strict,
            init=args.init,
            progress=progress,
        )
    except CurateError as exc:
        print(
            json.dumps(
                {"nightly": "error", "exit": exc.exit_code, "message": str(exc).splitlines()[0], "state": args.state}
            ),
            flush=True,
        )
        raise
    finally:
        progress.close()
    console = _console(stderr=True)
    for entry in result.snapshots:
        for warning in entry.get("warnings") or []:
            console.print(f"warning {warning}", markup=False, soft_wrap=True)
    print(result.line(), flush=True)
    return result.exit_code


def cmd_validate(args: argparse.Namespace) -> int:
    """Every check a run makes before any work (the recipe, each step's files and models, the inputs, the output,
    the columns), all reported at once; a recipe with broken steps still gets its sound part checked."""
    from rich.markup import escape

    from curate.errors import RecipeError
    from curate.pipeline import preflight
    from curate.recipe import load_recipe

    warnings: list[str] = []
    try:
        try:
            recipe = load_recipe(args.recipe, args.set, check_files=True)
        except RecipeError as exc:
            if exc.partial is None:
                raise
            preflight(exc.partial, args.output, args.strict, earlier=exc, warnings=warnings)
            raise  # the sound part passed every other check: the recipe's own errors are the report
        checked = preflight(recipe, args.output, args.strict, warnings=warnings)
    finally:
        for warning in warnings:
            _console(stderr=True).print(f"[yellow]warning[/yellow] {escape(warning)}", markup=True, soft_wrap=True)
    inputs, specs = checked.inputs, checked.specs
    console = _console()
    files = f"{len(inputs)} input file" + ("s" if len(inputs) != 1 else "")
    console.print(f"[green]ok[/green] {escape(args.recipe)}: {len(specs)} steps over {files} → {escape(recipe.output)}")
    for spec in specs:
        changed = spec.stage_class.Params(**spec.params).model_dump(mode="json", exclude_defaults=True)
        detail = f" {escape(str(changed))}" if changed else ""
        console.print(f"  {spec.index + 1:>2}. {spec.key} ({spec.kind}){detail}")
    return 0


def cmd_steps(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from curate.registry import all_steps
    from curate.stage import StepOptions

    console = _console()
    steps = all_steps()
    if args.name:
        if args.name not in steps:
            raise CurateError(f"no step called {args.name!r}; `curate steps` lists them")
        steps = {args.name: steps[args.name]}
    if args.language:
        return _print_language_settings(console, steps, args)
    for name, cls in steps.items():
        if not args.name:
            console.print(f"[bold]{name}[/bold] ({cls.kind}) — {escape(cls.one_line_help())}")
            params = ", ".join(f"{k}={_default(f)}" for k, f in cls.Params.model_fields.items())
            console.print(f"    {escape(params)}" if params else "    (no parameters)")
            continue
        console.print(f"[bold]{name}[/bold] ({cls.kind}): {escape(cls.one_line_help())}")
        table = Table(show_header=True)
        for column in ("parameter", "type", "default", "help"):
            table.add_column(column)
        for key, field in cls.Params.model_fields.items():
            table.add_row(
                key,
                *(escape(cell) for cell in (_type_name(field.annotation), _default(field), field.description or "")),
            )
        for key, field in StepOptions.model_fields.items():
            table.add_row(
                f"[dim]{key}[/dim]",
                *(escape(cell) for cell in (_type_name(field.annotation), _default(field), field.description or "")),
            )
        console.print(table)
    return 0


def _print_language_settings(console: Any, steps: dict[str, Any], args: argparse.Namespace) -> int:
    """``curate steps NAME --language LANG [--settings TABLE]``: each parameter a document in LANG gets, and where
    it came from (default, recipe, the settings table entry that matched, language_overrides)."""
    from rich.markup import escape
    from rich.table import Table

    from curate.stages.filters.settings import provenance

    if not args.name or not hasattr(steps[args.name], "params_for"):
        raise CurateError(
            "--language shows per-language settings of a filter step, e.g. "
            "`curate steps gopher_quality --language ar --settings fineweb2`"
        )
    params = {"settings": args.settings} if args.settings else {}
    table = Table(title=f"{args.name} for language {args.language!r}", title_justify="left")
    for column in ("parameter", "value", "from"):
        table.add_column(column)
    for name, value, source in provenance(steps[args.name], args.language, params):
        shown = (
            repr(value)
            if not isinstance(value, list | tuple | set) or len(value) <= 8
            else f"{len(value)} values: {', '.join(map(str, sorted(value)[:8]))}, …"
        )
        table.add_row(name, escape(shown), escape(source))
    console.print(table)
    return 0


def cmd_recipes(args: argparse.Namespace) -> int:
    """``curate recipes``: the recipes shipped with curate, runnable by name (``curate run quickstart``)."""
    import yaml
    from rich.markup import escape
    from rich.table import Table

    from curate.recipe import shipped_recipes

    table = Table(title="shipped recipes: curate run NAME", title_justify="left")
    table.add_column("name", style="bold")
    table.add_column("what it does")
    for name, path in shipped_recipes().items():
        try:
            description = (yaml.safe_load(path.read_text()) or {}).get("description", "")
        except yaml.YAMLError:
            description = ""
        table.add_row(name, escape(str(description)))
    _console().print(table)
    return 0


def _default(field: Any) -> str:
    if field.is_required():
        return "(required)"
    value = field.default_factory() if field.default_factory is not None else field.default
    return repr(value)


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def _delegate(module: str, function: str, argv: list[str]) -> int:
    try:
        entry = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        raise CurateError(f"this command is not available in this installation ({exc})") from exc
    return int(entry(argv) or 0)


DELEGATED = {
    "report": ("curate.report", "main", "write OUT/_report/index.html for a run's output folder"),
    "inspect": ("curate.inspect", "main", "print documents of OUT/STEP (or its rejected/) with their columns"),
    "train-classifier": ("curate.classifiers.train", "main", "train a fastText or embedding-head classifier"),
    "contamination": (
        "curate.stages.decontam.audit",
        "main",
        "read-only audit: benchmark items found in a corpus (per benchmark: items, docs, domains)",
    ),
}


#: exit status when the output (or a scratch file) cannot be written once work started (EX_CANTCREAT); before any
#: work, an unwritable output is refused as a bad recipe (2). All codes: ``curate.errors.EXIT_CODES``
EXIT_CANNOT_WRITE = 73
_CANNOT_WRITE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="curate", description="Common Crawl WARC files to pretraining corpora.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a recipe (resumes whatever an earlier run of it left)")
    run.add_argument("recipe", help="recipe YAML file, or the name of a shipped recipe (`curate recipes`)")
    run.add_argument("--output", "-o", help="output folder or s3:// prefix (overrides the recipe's `output`)")
    run.add_argument("--address", help="Ray cluster to join (default: RAY_ADDRESS, else a local Ray instance)")
    run.add_argument("--executor", choices=["ray", "local"], help="ray (default) or local (in-process, no Ray)")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe field, e.g. --set input.paths=/data/x.warc.gz --set steps.language_id.min_score=0.7",
    )
    run.add_argument("--quiet", "-q", action="store_true", help="no progress or summary output")
    run.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit status 4) when an input file reads as nothing or loses most of its records "
        "to one damage reason (nightly jobs), and (exit status 2, before any work) when an input pattern "
        "matches nothing beside others that do; without it these are warnings",
    )
    run.add_argument(
        "--allow-empty",
        action="store_true",
        help="accept zero documents from a non-empty input (otherwise exit status 6)",
    )
    run.set_defaults(func=cmd_run)

    snaps = sub.add_parser("snapshots", help="Common Crawl snapshots: available, built (with --state), new")
    snaps.add_argument("--state", help="a nightly state folder: show which snapshots it built and which are new")
    snaps.add_argument("--recipe", help="take the Common Crawl input (base, collinfo) from this recipe")
    snaps.add_argument("--base", help="s3://commoncrawl, https://data.commoncrawl.org (default) or a mirror")
    snaps.add_argument("--collinfo", help="where the list of crawls is (default: from the base)")
    snaps.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    snaps.set_defaults(func=cmd_snapshots)

    nightly = sub.add_parser("nightly", help="build every new Common Crawl snapshot, deduped against earlier ones")
    nightly.add_argument("recipe", help="recipe YAML file with input: {commoncrawl: {...}}")
    nightly.add_argument("--state", required=True, help="state folder (local or s3://): snapshots built, indexes")
    nightly.add_argument("--init", action="store_true", help="create the state folder (the first night)")
    nightly.add_argument(
        "--output",
        "-o",
        help="root of the snapshots' output folders (default: the recipe's "
        "output); each snapshot goes to ROOT/<snapshot id>",
    )
    nightly.add_argument("--address", help="Ray cluster to join (default: RAY_ADDRESS, else a local Ray instance)")
    nightly.add_argument("--executor", choices=["ray", "local"], help="ray (default) or local (in-process)")
    nightly.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a recipe field")
    nightly.add_argument("--max-snapshots", type=int, metavar="N", help="build at most N new snapshots tonight")
    nightly.add_argument(
        "--allow-empty", action="store_true", help="accept a snapshot with zero documents (otherwise exit status 6)"
    )
    nightly.add_argument(
        "--strict",
        action="store_true",
        help="exit status 4 when an input file read badly (the snapshot is still built)",
    )
    nightly.add_argument("--quiet", "-q", action="store_true", help="no progress output (the summary line stays)")
    nightly.set_defaults(func=cmd_nightly)

    recipes = sub.add_parser("recipes", help="list the recipes shipped with curate (run one by name)")
    recipes.set_defaults(func=cmd_recipes)

    validate = sub.add_parser(
        "validate", help="check a recipe, its inputs, output, models and columns without running it (all errors)"
    )
    validate.add_argument("recipe", help="recipe YAML file, or the name of a shipped recipe (`curate recipes`)")
    validate.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a recipe field")
    validate.add_argument("--output", "-o", help="check this output folder instead of the recipe's `output`")
    validate.add_argument(
        "--strict",
        action="store_true",
        help="an input pattern that matches nothing (beside others that do) is an error, not a warning",
    )
    validate.set_defaults(func=cmd_validate)

    steps = sub.add_parser("steps", help="list every step with its parameters and defaults")
    steps.add_argument("name", nargs="?", help="show one step in detail")
    steps.add_argument(
        "--language",
        help="with NAME (a filter): the parameters a document in this language gets, and where each comes from",
    )
    steps.add_argument("--settings", help="with --language: a per-language settings table (fineweb2 or a file)")
    steps.set_defaults(func=cmd_steps)

    for name, (_, _, help_text) in DELEGATED.items():
        delegated = sub.add_parser(name, help=help_text, add_help=False)
        delegated.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in DELEGATED:
            module, function, _ = DELEGATED[argv[0]]
            return _delegate(module, function, argv[1:])
        args = build_parser().parse_args(argv)
        return args.func(args)
    except CurateError as exc:
        from rich.text import Text

        _console(stderr=True).print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
        return exc.exit_code
    except OSError as exc:
        if exc.errno not in _CANNOT_WRITE:
            raise
        from rich.text import Text

        where = f" {exc.filename}" if exc.filename else ""
        message = (
            f"cannot write{where}: {exc.strerror or exc} (read-only, no permission, or disk full); free space or "
            "fix the permissions and rerun the same command to resume"
        )
        _console(stderr=True).print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
        return EXIT_CANNOT_WRITE
    except KeyboardInterrupt:
        _console(stderr=True).print("interrupted: rerun the same command to resume")
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""``curate inspect OUT/STEP [--reason R] [-n 5]``: print a few documents of a step's output, with their columns.

Reads shards lazily (Parquet footers for the counts, then one row group at a time until ``n`` documents are found),
so it answers at once on a run of any size, local or ``s3://``. ``OUT/STEP`` shows kept documents;
``OUT/STEP/rejected`` (or ``OUT/STEP --reason R``, which looks in ``rejected/`` by itself) shows removed ones, whose
``reason`` column names why. Document text is printed as plain text (never interpreted as rich markup).
"""

from __future__ import annotations

import argparse
import posixpath
import re
import sys
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.io import folder_shards
from curate.storage import Location, location

REASON_COLUMN = "reason"
TEXT_COLUMN = "text"
CORE_FIRST = ("id", "url", "reason", "date", "source")


class InspectError(CurateError, ValueError):
    """``curate inspect`` was pointed at something that is not a step's shard folder, or at an unknown reason."""


def _shards(loc: Location) -> list[Location]:
    if loc.path.endswith(".parquet"):
        return [loc] if loc.exists() else []
    return folder_shards(loc)


def _not_found(loc: Location) -> InspectError:
    hint = ""
    try:
        infos = loc.fs.get_file_info(pafs.FileSelector(loc.path, allow_not_found=True))
        subdirs = sorted(
            posixpath.basename(i.path)
            for i in infos
            if i.type == pafs.FileType.Directory and not posixpath.basename(i.path).startswith("_")
        )
        if subdirs:
            hint = f"; folders there: {', '.join(subdirs[:20])} (pass OUT/<step>)"
    except OSError:
        pass
    return InspectError(
        f"no Parquet shards in {loc.uri}: expected a step's output folder OUT/<step> or its OUT/<step>/rejected{hint}"
    )


def _open(loc: Location) -> pq.ParquetFile:
    return pq.ParquetFile(loc.fs.open_input_file(loc.path))


def find_documents(
    path: str, reason: str | None = None, n: int = 5, columns: list[str] | None = None
) -> tuple[pa.Table, dict[str, Any]]:
    """The first ``n`` documents under ``path`` (matching ``reason`` when given) and facts about where they came
    from: ``{"uri", "shards", "documents", "reasons" (seen while scanning, when filtering)}``."""
    loc = location(path)
    if (
        reason is not None
        and posixpath.basename(loc.path.rstrip("/")) != "rejected"
        and not loc.path.endswith(".parquet")
    ):
        rejected = loc.child("rejected")
        if rejected.exists():
            loc = rejected
    shards = _shards(loc)
    if not shards:
        raise _not_found(loc)
    files = [_open(s) for s in shards]
    facts: dict[str, Any] = {
        "uri": loc.uri,
        "shards": len(shards),
        "documents": sum(f.metadata.num_rows for f in files),
        "reasons": {},
    }
    found: list[pa.Table] = []
    have = 0
    for pf in files:
        names = pf.schema_arrow.names
        wanted = [c for c in (columns or names) if c in names]
        if columns and reason is not None and REASON_COLUMN not in wanted and REASON_COLUMN in names:
            wanted.append(REASON_COLUMN)
        for rg in range(pf.metadata.num_row_groups):
            if have >= n:
                break
            if reason is None:
                part = pf.read_row_group(rg, columns=wanted).slice(0, n - have)
            else:
                if REASON_COLUMN not in names:
                    raise InspectError(
                        f"{loc.uri} has no '{REASON_COLUMN}' column: --reason filters removed "
                        f"documents; point it at OUT/<step>/rejected (steps write it with "
                        f"keep_rejected: true)"
                    )
                reasons = pf.read_row_group(rg, columns=[REASON_COLUMN]).column(REASON_COLUMN)
                for item in pc.value_counts(reasons).to_pylist():
                    facts["reasons"][item["values"]] = facts["reasons"].get(item["values"], 0) + item["counts"]
                mask = pc.equal(reasons, reason)
                if not pc.any(mask).as_py():
                    continue
                part = pf.read_row_group(rg, columns=wanted).filter(mask).slice(0, n - have)
            if part.num_rows:
                found.append(part)
                have += part.num_rows
        if have >= n:
            break
    if reason is not None and not found:
        seen = ", ".join(f"{r} ({c:,})" for r, c in sorted(facts["reasons"].items(), key=lambda kv: -kv[1]))
        raise InspectError(
            f"no document in {loc.uri} was removed for reason {reason!r}; reasons there: {seen or 'none'}"
        )
    table = pa.concat_tables(found, promote_options="permissive") if found else pa.table({})
    return table, facts


def _removed_in_stats(rejected_uri: str, reason: str) -> int | None:
    """How many documents the step removed for ``reason``, from ``OUT/_stats.json`` (None when unknown)."""
    step = location(rejected_uri.rstrip("/"))
    if posixpath.basename(step.path) == "rejected":
        step = location(posixpath.dirname(step.uri))
    stats = location(posixpath.dirname(step.uri)).child("_stats.json")
    try:
        data = stats.read_json()
    except (OSError, ValueError):
        return None
    key = posixpath.basename(step.path)
    for entry in data.get("steps", []) if isinstance(data, dict) else []:
        if entry.get("key") == key:
            return int((entry.get("stats") or {}).get("removed", {}).get(reason, 0))
    return None


def _format(value: Any, limit: int = 300) -> str:
    """A cell as one short string: floats to 4 digits, long lists (token ids) and long values cut."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple) and len(value) > 12:
        return f"[{', '.join(map(_format, value[:12]))}, … {len(value) - 12:,} more]"
    text = printable(str(value))
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters)"


#: control characters (C0 but newline and tab, DEL, C1): a page's ESC sequences could clear the screen, set the
#: window title or plant hyperlinks; shown as \x1b-style escapes instead
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters escaped, safe to print to a terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def inspect(
    path: str,
    reason: str | None = None,
    n: int = 5,
    columns: list[str] | None = None,
    chars: int = 800,
    console: Any = None,
) -> None:
    """Print ``n`` documents of ``path`` (``OUT/STEP``, ``OUT/STEP/rejected`` or one shard file) with their columns;
    ``reason`` keeps only documents removed for that reason; ``columns`` limits the columns shown; each text is cut
    to ``chars`` characters."""
    from rich.console import Console, Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    console = console or Console(highlight=False)
    table, facts = find_documents(path, reason, n, columns)
    head = Text.assemble(
        (facts["uri"], "bold"),
        f" — {facts['documents']:,} documents in {facts['shards']:,} shard{'s' if facts['shards'] != 1 else ''}",
    )
    if reason is not None:
        total = _removed_in_stats(facts["uri"], reason)
        head.append(
            f" · reason {reason}" + (f" ({total:,} removed in the run)" if total is not None else ""), style="cyan"
        )
    head.append(f" · showing {table.num_rows}", style="dim")
    console.print(head)
    names = table.column_names
    ordered = [c for c in CORE_FIRST if c in names] + [c for c in names if c not in CORE_FIRST and c != TEXT_COLUMN]
    for i, row in enumerate(table.to_pylist()):
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold cyan", no_wrap=True)
        grid.add_column(overflow="fold")
        for name in ordered:
            style = "bold red" if name == REASON_COLUMN else ""
            grid.add_row(Text(name), Text(_format(row[name]), style=style))
        parts: list[Any] = [grid]
        if TEXT_COLUMN in names:
            text = row[TEXT_COLUMN] or ""
            body = Text(printable(text[:chars]))
            if len(text) > chars:
                body.append(f" … ({len(text) - chars:,} more characters)", style="dim italic")
            parts += [Text(""), body]
        console.print(
            Panel(
                Group(*parts),
                title=Text(f"{i + 1}", style="bold"),
                title_align="left",
                border_style="red" if REASON_COLUMN in names else "green",
            )
        )


def main_inspect(argv: list[str] | None = None) -> int:
    """``curate inspect OUT/STEP [--reason R] [-n 5] [--columns a,b] [--chars 800]``."""
    parser = argparse.ArgumentParser(
        prog="curate inspect",
        description="Print documents of a step's output "
        "(OUT/STEP) or of what it removed (OUT/STEP/rejected) with their columns.",
    )
    parser.add_argument("path", help="OUT/<step>, OUT/<step>/rejected or one shard .parquet (local or s3://)")
    parser.add_argument("--reason", "-r", help="only documents removed for this reason (looks in rejected/)")
    parser.add_argument("-n", type=int, default=5, help="how many documents (default 5)")
    parser.add_argument("--columns", "-c", help="comma-separated columns to show (default: all)")
    parser.add_argument("--chars", type=int, default=800, help="characters of text shown per document")
    args = parser.parse_args(argv)
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    try:
        inspect(args.path, args.reason, args.n, columns, args.chars)
    except InspectError as exc:
        print(f"curate inspect: {exc}", file=sys.stderr)
        return 2
    return 0


main = main_inspect  # the CLI delegates `curate inspect ...` to curate.inspect:main

if __name__ == "__main__":
    sys.exit(main_inspect())

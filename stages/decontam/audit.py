"""``curate contamination OUT --benchmarks B ...``: how much of each benchmark an existing corpus holds (read-only).

The same matching as the ``decontaminate`` step (same index, same parameters), run over a recipe's output folder
(its last step's shards, or ``--step KEY``), one step's folder ``OUT/<step>``, or Parquet/JSONL files or globs.
Nothing is written. Prints, per benchmark: items, items found in the corpus, documents hit, top contaminating domains
(from the ``url`` column); ``--json`` prints the same table as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator

import pyarrow as pa

from curate.errors import CurateError
from curate.storage import location


class AuditError(CurateError, ValueError):
    """The corpus to audit cannot be found or read."""


def corpus_files(path: str, step: str | None = None) -> list[str]:
    """The Parquet/JSONL files of ``path``: a run's output folder (its last step, or ``step``), a step folder, or
    files/globs."""
    from curate.io import discover_inputs, folder_shards

    root = location(path)
    info = root.fs.get_file_info(root.path)
    if info.type.name == "Directory":
        stats = root.child("_stats.json")
        if step is None and stats.exists():
            steps = stats.read_json().get("steps") or []
            if steps:
                step = steps[-1].get("key")
        folder = root.child(step) if step else root
        shards = folder_shards(folder)
        if not shards:
            raise AuditError(
                f"no Parquet shards in {folder.uri}: give a recipe's output folder, OUT/<step>, or Parquet/JSONL files"
            )
        return [s.uri for s in shards]
    files = [f.uri for f in discover_inputs([path])]
    if not files:
        raise AuditError(f"nothing to audit at {path}: no such folder, file or glob match")
    return files


def _batches(files: list[str], batch_size: int) -> Iterator[tuple[str, pa.Table]]:
    from curate.io import iter_table_file

    for uri in files:
        for table in iter_table_file(uri, batch_size):
            if "text" not in table.column_names:
                raise AuditError(f"{uri} has no `text` column (columns: {table.column_names})")
            yield uri, table


def audit(path: str, benchmarks: list[str], step: str | None = None, batch_size: int = 4096, **params: object) -> dict:
    """The contamination table of the corpus at ``path`` (see the module docstring) plus ``docs`` read."""
    from curate.stages.decontam.stage import Decontaminate, add_hits, contamination_table, found_items, host_of
    from curate.stages.decontam.text import words

    stage = Decontaminate(benchmarks=benchmarks, **params)
    index = stage.build_index()
    items: dict[str, set[int]] = defaultdict(set)
    docs: Counter[str] = Counter()
    domains: dict[str, Counter[str]] = defaultdict(Counter)
    total = hit = 0
    for _, batch in _batches(corpus_files(path, step), batch_size):
        per_doc = found_items(index.match(words(batch.column("text"))))
        hosts = host_of(batch.column("url") if "url" in batch.column_names else None, batch.num_rows)
        rows = [d for d, its in sorted(per_doc.items()) for _ in its]
        found = [i for _, its in sorted(per_doc.items()) for i in its]
        add_hits(index, rows, found, [hosts[d] for d in rows], items, docs, domains)
        total += batch.num_rows
        hit += len(per_doc)
    table = contamination_table(index, items, docs, domains, stage.params.top_domains)
    return {"docs": total, "docs_hit": hit, "benchmarks": table}


def render(result: dict) -> str:
    head = ["benchmark", "items", "found", "share", "docs hit", "top domains"]
    rows = [
        [b, str(r["items"]), str(r["items_found"]), f"{r['found_share']:.2%}", str(r["docs_hit"]), r["top_domains"]]
        for b, r in result["benchmarks"].items()
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=False)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    out = [line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
    out.append(f"\n{result['docs_hit']:,} of {result['docs']:,} documents hold at least one benchmark item")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="curate contamination", description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="a recipe's output folder, OUT/<step>, or Parquet/JSONL files or globs")
    parser.add_argument(
        "--benchmarks",
        "-b",
        nargs="+",
        required=True,
        help="benchmark JSONL/Parquet files or globs, or hf:ID[/CONFIG][:SPLIT]",
    )
    parser.add_argument("--step", help="audit this step's output (default: the run's last step)")
    parser.add_argument("--ngram", type=int, default=13, help="n-gram length for long items (default 13)")
    parser.add_argument("--min-ngram", type=int, default=8, help="shortest n for short items (default 8)")
    parser.add_argument("--top-domains", type=int, default=5, help="domains listed per benchmark (default 5)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    args = parser.parse_args(argv)
    try:
        result = audit(
            args.path,
            args.benchmarks,
            args.step,
            ngram=args.ngram,
            min_ngram=args.min_ngram,
            top_domains=args.top_domains,
        )
    except ValueError as exc:  # pydantic parameter errors
        if isinstance(exc, CurateError):
            raise
        raise AuditError(str(exc)) from exc
    print(json.dumps(result, indent=1) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Per-file health of a run's WARC reading: input files in which nothing could be read, or in which a large share
of the records that could carry a document was skipped for one damage reason.

A WARC that reads as nothing (not an archive, a ``warc.paths.gz`` passed as a WARC, an HTTP framing quirk the
reader does not know) must not pass as an ordinary run with fewer documents: ``curate run`` prints these
warnings after its summary, the run report shows them (``curate.report``), and ``curate run --strict`` (what the
nightly job uses) turns them into a failure.

They are computed after the run from the ``warc_extract`` step's per-shard ``_done`` markers (one per input file),
so resumed shards are judged too and nothing is recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from curate.storage import location

#: records that are not meant to become documents: never a sign of damage, left out of the share's denominator
_EXPECTED_SKIPS = frozenset(
    {
        "skipped_request",
        "skipped_metadata",
        "skipped_warcinfo",
        "skipped_revisit",
        "skipped_unknown_type",
        "skipped_continuation",
    }
)
#: skip reasons that mean the reader or the file is broken, not that the page is of no use (non-HTML, empty)
DAMAGE_REASONS = (
    "skipped_bad_http_headers",
    "skipped_bad_length",
    "skipped_corrupt",
    "skipped_truncated",
    "skipped_content_encoding",
    "extract_timeout",
    "extract_error",
    "extract_crash",
)
#: default share of document-carrying records lost to one damage reason above which a file is flagged: a file
#: losing half its pages for one reason is a systematic problem (a reader gap, a broken writer), not noise
MAX_DAMAGE_SHARE = 0.5


def file_warning(counters: dict[str, int], max_share: float = MAX_DAMAGE_SHARE) -> str | None:
    """The warning for one input file's ``warc_extract`` counters, or None when the file read normally."""
    records = counters.get("records", 0)
    if counters.get("files_without_records") or records == 0:
        return "no record could be read (empty, or not a WARC/WET/ARC file)"
    if counters.get("bad_length_lookahead_cut"):  # records lost whose number cannot be known: always worth a word
        return (
            "records after a record with a wrong Content-Length were lost beyond the reader's look-ahead "
            "(bad_length_lookahead_cut): the file's framing is damaged"
        )
    candidates = records - sum(n for k, n in counters.items() if k in _EXPECTED_SKIPS)
    for reason in DAMAGE_REASONS:
        n = counters.get(reason, 0)
        if candidates and n / candidates > max_share:
            return f"{n:,} of {candidates:,} document records lost as {reason} ({n / candidates:.0%})"
    return None


def run_warnings(
    out: str, steps: Iterable[dict[str, Any]], shards: dict[str, str] | None = None, max_share: float = MAX_DAMAGE_SHARE
) -> list[str]:
    """``"FILE: warning"`` for every input file of the run's ``warc_extract`` steps that :func:`file_warning`
    flags; ``steps`` are the run's step entries (``key``, ``step``), ``shards`` maps shard names to input URIs
    (None: the shards whose ``_done`` marker is in the step's folder, named by shard; what the report uses, as it
    only has the output folder)."""
    root = location(out)
    warnings = []
    for step in steps:
        if step.get("step") != "warc_extract":
            continue
        done = root.child(step["key"], "_done")
        names = (
            sorted(shards)
            if shards is not None
            else [info.base_name[: -len(".json")] for info in done.list_files() if info.base_name.endswith(".json")]
        )
        with ThreadPoolExecutor(16) as pool:
            markers = list(pool.map(_read, [done.child(f"{s}.json") for s in names]))
        for shard, marker in zip(names, markers):
            if marker is None:
                continue
            warning = file_warning(marker.get("stats", {}).get("counters", {}), max_share)
            if warning:
                warnings.append(f"{shards[shard] if shards is not None else shard}: {warning}")
    return warnings


def _read(loc: Any) -> dict | None:
    try:
        return loc.read_json()
    except (FileNotFoundError, OSError, ValueError):
        return None

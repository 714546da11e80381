"""Errors a user can act on: each message says what was wrong, where, and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class CurateError(Exception):
    """Base of curate's user-facing errors (the CLI prints them without a traceback and exits with
    ``exit_code``; see :data:`EXIT_CODES`)."""

    exit_code = 2


class RecipeError(CurateError):
    """A recipe is invalid: the message names the file, line, field and what is allowed. ``partial``: the recipe's
    sound part (``curate.recipe.Recipe``) when one could be made, so ``curate validate`` checks it further."""

    partial: Any = None


class StepFailed(CurateError, RuntimeError):
    """A step raised on a unit of work; the message names the step, the shard and the cause."""

    exit_code = 3


class Unavailable(CurateError):
    """A remote store, a model download or a list of crawls cannot be reached (offline, DNS, refused, timed out)."""

    exit_code = 69  # EX_UNAVAILABLE: try again when the network is back


class AccessDenied(CurateError):
    """A store answered 401/403: bad or missing credentials, or a bucket that is not public."""

    exit_code = 77  # EX_NOPERM


@dataclass(frozen=True)
class Problem:
    """One problem with a file or model a step's parameters name, found before any work (``Stage.check_files``):
    the parameter, what is wrong and what to do. ``offline``: only the network is missing (a model neither cached
    nor reachable), so a report of nothing else exits with :class:`Unavailable`'s status."""

    field: str
    message: str
    offline: bool = False


#: the exit codes of ``curate`` (documented in the README for schedulers)
EXIT_CODES = {
    0: "done: every shard of every step finished",
    1: "internal error (a traceback: please report it)",
    2: "bad recipe or command line, refused before any work (file, field and what to do are printed): invalid "
    "parameters, missing files or models, a column no step makes, an unwritable output, --strict input patterns",
    3: "a step failed: on some unit of work, or in its setup (on a worker or, for a global step, on the driver); "
    "rerun to retry (finished shards are kept)",
    4: "--strict: the run finished but an input file read as nothing or lost most records to one damage reason",
    5: "nightly, partial: some new snapshots were built, then one failed; the next night resumes it",
    6: "zero documents from a non-empty input (a snapshot, or `curate run`'s input); --allow-empty accepts it",
    69: "a remote store, collinfo.json or a model to download cannot be reached (offline, DNS, refused; "
    "EX_UNAVAILABLE): retry later, or use the offline alternative the message names",
    73: "the output cannot be written once work started (read-only, permission denied, disk full; EX_CANTCREAT)",
    77: "access denied by a remote store (HTTP 401/403, bad S3 credentials; EX_NOPERM)",
    75: "the output folder is in use by another run (EX_TEMPFAIL: try again later)",
    130: "interrupted (Ctrl-C / SIGINT); rerun the same command to resume",
}

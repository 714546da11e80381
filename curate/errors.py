"""Errors a user can act on: each message says what was wrong, where, and what to do."""

from __future__ import annotations


class CurateError(Exception):
    """Base of curate's user-facing errors (the CLI prints them without a traceback and exits with
    ``exit_code``; see :data:`EXIT_CODES`)."""

    exit_code = 2


class RecipeError(CurateError):
    """A recipe is invalid: the message names the file, line, field and what is allowed."""


class StepFailed(CurateError, RuntimeError):
    """A step raised on a unit of work; the message names the step, the shard and the cause."""

    exit_code = 3


#: the exit codes of ``curate`` (documented in the README for schedulers)
EXIT_CODES = {
    0: "done: every shard of every step finished",
    1: "internal error (a traceback: please report it)",
    2: "bad recipe or command line, refused before any work (file, field and what to do are printed)",
    3: "failed shards: a step failed on some unit of work; rerun to retry them (finished shards are kept)",
    4: "--strict: the run finished but an input file read as nothing or lost most records to one damage reason",
    5: "nightly, partial: some new snapshots were built, then one failed; the next night resumes it",
    6: "zero documents from a non-empty input (a snapshot, or `curate run`'s input); --allow-empty accepts it",
    69: "a remote store or collinfo.json cannot be reached (offline, DNS, refused; EX_UNAVAILABLE): retry later",
    77: "access denied by a remote store (HTTP 401/403, bad S3 credentials; EX_NOPERM)",
    75: "the output folder is in use by another run (EX_TEMPFAIL: try again later)",
    130: "interrupted (Ctrl-C / SIGINT); rerun the same command to resume",
}

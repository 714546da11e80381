"""Errors a user can act on: each message says what was wrong, where, and what to do."""

from __future__ import annotations


class CurateError(Exception):
    """Base of curate's user-facing errors (the CLI prints them without a traceback)."""


class RecipeError(CurateError):
    """A recipe is invalid: the message names the file, line, field and what is allowed."""


class StepFailed(CurateError, RuntimeError):
    """A step raised on a unit of work; the message names the step, the shard and the cause."""

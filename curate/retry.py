"""Retrying remote reads: exponential backoff with full jitter, and which failures are worth retrying.

The schedule is AWS's "full jitter" (Marc Brooker, *Exponential Backoff And Jitter*, AWS Architecture Blog, 2015):
attempt ``n`` sleeps a uniform random time in ``[0, min(cap, base * 2**n)]``, which spreads the retries of many
workers hit by the same throttling apart instead of synchronising them. Defaults (``base`` 0.25 s, ``cap`` 20 s,
10 attempts, about 1.5 minutes of waiting at worst) follow the AWS SDKs' standard retry mode (base 0.1-1 s, cap
20 s) with more attempts, because a nightly job would rather wait out an S3 ``SlowDown`` storm than fail a shard.
A server's ``Retry-After`` is honoured when it asks for longer. Only transient failures are retried: throttling
(HTTP 429, 503 ``SlowDown``), server errors (500, 502, 504), resets, timeouts and bodies cut short; a 403 or 404
is an answer, not an accident.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: HTTP statuses that mean "try again later": throttling and transient server errors
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class TransientError(OSError):
    """A failure worth retrying (throttled, reset, cut short); ``kind`` names it for the counters."""

    def __init__(self, message: str, kind: str = "transient", retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


class RetriesExhausted(OSError):
    """A remote read kept failing after every attempt; the message names the file and the last failure."""


@dataclass
class Backoff:
    """Full-jitter exponential backoff: ``attempts`` tries at most, each wait uniform in ``[0, min(cap, base*2^n)]``."""

    base: float = 0.25
    cap: float = 20.0
    attempts: int = 10
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        wait = self.rng.uniform(0.0, min(self.cap, self.base * (2**attempt)))
        return max(wait, min(retry_after or 0.0, self.cap))


#: the policy remote readers use unless given one (tests shrink it so throttling costs milliseconds)
DEFAULT = Backoff()


def policy() -> Backoff:
    """A fresh copy of :data:`DEFAULT` (its own random stream, so workers do not retry in step)."""
    return Backoff(DEFAULT.base, DEFAULT.cap, DEFAULT.attempts)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure a retry may cure: :class:`TransientError`, a dropped or reset connection, a
    timeout, a body cut short (``http.client.IncompleteRead``), or an object store's throttling or network error."""
    import http.client
    import ssl

    if isinstance(
        exc,
        TransientError
        | ConnectionError
        | TimeoutError
        | http.client.IncompleteRead
        | http.client.RemoteDisconnected
        | http.client.BadStatusLine
        | ssl.SSLError,
    ):
        return True
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError | PermissionError):
        text = str(exc)
        return any(marker in text for marker in _S3_TRANSIENT)
    return False


#: markers of transient failures in pyarrow's S3 error messages (AWS SDK error names and S3 codes)
_S3_TRANSIENT = (
    "SlowDown",
    "SLOW_DOWN",
    "Throttl",
    "NETWORK_CONNECTION",
    "RequestTimeout",
    "ServiceUnavailable",
    "InternalError",
    "Connection reset",
    "Connection was closed",
    "curlCode: 18",
    "curlCode: 28",
    "curlCode: 56",
)


def call(
    fn: Callable[[], object],
    what: str,
    counters: dict[str, int] | None = None,
    backoff: Backoff | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> object:
    """``fn()`` with transient failures retried (counted in ``counters["remote_retries"]`` and by kind);
    :class:`RetriesExhausted` naming ``what`` when every attempt failed."""
    backoff = backoff or policy()
    for attempt in range(backoff.attempts):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified just below; non-transient ones propagate
            if not is_transient(exc):
                raise
            if attempt + 1 == backoff.attempts:
                raise RetriesExhausted(
                    f"{what}: still failing after {backoff.attempts} attempts ({type(exc).__name__}: {exc})"
                ) from exc
            count(counters, exc)
            sleep(backoff.delay(attempt, getattr(exc, "retry_after", None)))
    raise AssertionError("unreachable")


def count(counters: dict[str, int] | None, exc: BaseException) -> None:
    """Count one retry of ``exc`` in ``counters``: ``remote_retries`` and ``remote_retries_<kind>``."""
    if counters is None:
        return
    kind = getattr(exc, "kind", None) or ("dropped" if isinstance(exc, ConnectionError | EOFError) else "error")
    counters["remote_retries"] = counters.get("remote_retries", 0) + 1
    counters[f"remote_retries_{kind}"] = counters.get(f"remote_retries_{kind}", 0) + 1

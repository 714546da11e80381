"""Main-text extractors (trafilatura, resiliparse) and a per-document time limit that really interrupts them.

Trafilatura is called exactly as datatrove's ``Trafilatura`` step calls it for FineWeb
(``favor_precision=True, include_comments=False, deduplicate=True``, fallback extractors on). Resiliparse's
``extract_plain_text(main_content=True)`` is the fast alternative (an optional extra: ``pip install resiliparse``).

Time limit, two mechanisms (``timeout_mode``):

* ``signal`` — ``setitimer(ITIMER_PROF)`` raises :class:`ExtractTimeout` (a ``BaseException``, so trafilatura's
  ``except Exception`` blocks cannot swallow it; the timer re-fires every 50 ms until disarmed). The limit is
  CPU time, not wall time: a loaded machine does not time out more pages, so the same input gives the same
  output. Costs nothing per document and interrupts Python code and ``re`` matching; C code (lxml parsing) runs
  to completion, which the ``max_html_bytes`` limit bounds. Signals only work in the main thread of a process.
* ``process`` — the extractor lives in a child process (``spawn``, safe from threads) fed through a pipe; on
  timeout the child is killed and restarted. Works from any thread and also survives crashes and memory blow-ups
  in C code, for the price of one pickle round trip per document. The limit is wall time here.

``auto`` (default) uses ``signal`` in a main thread (local runs and Ray tasks, which run on the worker's main
thread) and ``process`` elsewhere (threaded actors, notebooks running steps in threads).
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import threading
from collections.abc import Callable
from typing import Any

Extractor = Callable[[str], "str | None"]


class ExtractTimeout(BaseException):  # noqa: N818 - BaseException on purpose: library `except Exception` misses it
    """Raised inside an extractor when its document's time limit is reached."""


class ExtractCrash(Exception):
    """The extractor process died (segfault, out of memory) while working on a document."""


def make_extractor(name: str, options: dict[str, Any]) -> Extractor:
    """Build ``html -> text`` for ``name`` ("trafilatura" | "resiliparse") with its options."""
    if name == "trafilatura":
        from trafilatura import extract

        opts = dict(options)

        def trafilatura_extract(html: str) -> str | None:
            return extract(html, **opts)

        return trafilatura_extract
    if name == "resiliparse":
        try:
            from resiliparse.extract.html2text import extract_plain_text
            from resiliparse.parse.html import HTMLTree
        except ImportError as exc:
            raise ImportError("warc_extract: extractor 'resiliparse' needs the optional extra: "
                              "pip install 'curate[fast]' (or pip install resiliparse)") from exc
        opts = dict(options)

        def resiliparse_extract(html: str) -> str | None:
            return extract_plain_text(HTMLTree.parse(html), **opts)

        return resiliparse_extract
    raise ValueError(f"warc_extract: unknown extractor {name!r}; use 'trafilatura' or 'resiliparse'")


class TimeLimitedExtractor:
    """Calls an extractor with a per-document wall-clock limit (see the module docstring for the two modes)."""

    def __init__(self, name: str, options: dict[str, Any], timeout_s: float | None, mode: str = "auto"):
        self.name, self.options, self.timeout_s = name, options, timeout_s
        self._auto = mode == "auto"
        if self._auto:
            mode = "signal" if _can_signal() else "process"
        if not timeout_s:
            mode = "none"
        self.mode = mode
        self._fn = make_extractor(name, options) if mode != "process" or self._auto else None
        self._sandbox: _Sandbox | None = None

    def __call__(self, html: str) -> str | None:
        if self.mode == "none":
            return self._fn(html)
        if self.mode == "signal" and (not self._auto or _can_signal()):
            return _with_alarm(self._fn, html, self.timeout_s)
        # process mode, or auto mode called from another thread than the one that built us
        if self._sandbox is None:
            self._sandbox = _Sandbox(self.name, self.options)
        return self._sandbox.run(html, self.timeout_s)

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None


def _can_signal() -> bool:
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


def _raise_timeout(signum: int, frame: Any) -> None:
    raise ExtractTimeout()


def _with_alarm(fn: Extractor, html: str, seconds: float) -> str | None:
    previous = signal.signal(signal.SIGPROF, _raise_timeout)
    signal.setitimer(signal.ITIMER_PROF, seconds, 0.05)
    try:
        return fn(html)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _child(conn: Any, name: str, options: dict[str, Any]) -> None:
    fn = make_extractor(name, options)
    conn.send(("ready", None))
    while True:
        try:
            html = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", fn(html)))
        except Exception as exc:  # noqa: BLE001 - reported to the parent as a per-document error
            conn.send(("error", repr(exc)))


class _Sandbox:
    """One persistent child process running the extractor; killed and restarted after a timeout or a crash."""

    START_TIMEOUT_S = 120.0

    def __init__(self, name: str, options: dict[str, Any]):
        self.name, self.options = name, options
        self._proc: Any = None
        self._conn: Any = None

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_child, args=(child, self.name, self.options), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        if not parent.poll(self.START_TIMEOUT_S):
            self.close()
            raise RuntimeError(f"warc_extract: the {self.name} extractor process did not start within "
                               f"{self.START_TIMEOUT_S:.0f} s")
        parent.recv()

    def run(self, html: str, timeout_s: float) -> str | None:
        if self._proc is None or not self._proc.is_alive():
            self.close()
            self._start()
        try:
            self._conn.send(html)
            ready = self._conn.poll(timeout_s)
        except (BrokenPipeError, EOFError, OSError) as exc:
            self.close()
            raise ExtractCrash(str(exc)) from exc
        if not ready:
            self.close()
            raise ExtractTimeout()
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            self.close()
            raise ExtractCrash("extractor process died") from exc
        if status == "error":
            raise RuntimeError(value)
        return value

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(timeout=5)
            self._proc = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

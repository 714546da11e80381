"""Main-text extractors (trafilatura, resiliparse) and a per-document time limit that really interrupts them.

Trafilatura is called exactly as datatrove's ``Trafilatura`` step calls it for FineWeb
(``favor_precision=True, include_comments=False, deduplicate=True``, fallback extractors on), through exact
shortcuts that give the same text (``trafilatura_fast.py``): its boilerplate XPaths evaluated by compiled Python
(``trafilatura_xpath.py``, ``compiled_xpaths``), element proxies made by lxml's C lookup (``compiled_lookup``) and
the readability fallback skipped where it cannot change the result (``compiled_fallbacks``); each ``false`` leaves
that part to trafilatura. Resiliparse's
``extract_plain_text(main_content=True)`` is the fast alternative (an optional extra: ``pip install resiliparse``).

Time limit, two mechanisms (``timeout_mode``), both counting CPU seconds, so that a loaded machine does not
time out more pages (the same input gives the same output); the limit is a safety net far above what any page
within ``bounds`` needs (see ``warc_extract``'s ``timeout_s``):

* ``signal`` — ``setitimer(ITIMER_PROF)`` raises :class:`ExtractTimeout` (a ``BaseException``, so trafilatura's
  ``except Exception`` blocks cannot swallow it; the timer re-fires every 50 ms until disarmed). Costs nothing per
  document and interrupts Python code and ``re`` matching; C code (lxml parsing) runs to completion, which the
  bounds limit. Signals only work in the main thread of a process.
* ``process`` — the extractor lives in a child interpreter (safe from threads) fed through a pipe. The child arms
  ``ITIMER_PROF`` with the default ``SIGPROF`` action before each document, so the kernel terminates it at the CPU
  limit, even inside C or C++ code; the parent counts that as a timeout and starts a fresh child. Works from any
  thread and also survives crashes and memory blow-ups in C code, for the price of one pickle round trip per
  document. The parent also waits at most ``WALL_BACKSTOP``x the limit in wall time (a child that hangs without
  using CPU), and without ``setitimer`` (Windows) it falls back to the limit in wall time.

``auto`` (default) uses ``signal`` in a main thread (local runs and Ray tasks, which run on the worker's main
thread) and ``process`` elsewhere (threaded actors, notebooks running steps in threads). Resiliparse always runs
in ``process`` mode under ``auto``: it is C++ code a signal handler never interrupts, so only the kernel's
``SIGPROF`` stops it. Before any of this, ``bounds`` skips pages whose size in elements, depth or total depth
is out of bounds, which does not depend on machine speed.
"""

from __future__ import annotations

import json
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

Extractor = Callable[[str], "str | None"]


class ExtractTimeout(BaseException):  # noqa: N818 - BaseException on purpose: library `except Exception` misses it
    """Raised inside an extractor when its document's time limit is reached."""


class ExtractCrash(Exception):
    """The extractor process died (segfault, out of memory) while working on a document."""


def make_extractor(name: str, options: dict[str, Any]) -> Extractor:
    """Build ``html -> text`` for ``name`` ("trafilatura" | "resiliparse") with its options; ``"domain"`` builds
    ``html -> {"texts", "signals"}`` (structure-keeping extraction, :mod:`curate.stages.domain.extract`)."""
    if name == "domain":
        from curate.stages.domain.extract import make_domain_extractor

        return make_domain_extractor(options)
    if name == "trafilatura":
        from trafilatura import extract

        from curate.stages.warc.trafilatura_fast import check_version, shared_extractor, shortcuts

        opts = dict(options)
        chosen = {part: opts.pop(f"compiled_{part}", True) for part in ("xpaths", "lookup", "fallbacks", "native")}
        if not any(chosen[part] for part in ("xpaths", "lookup", "fallbacks")):
            return lambda html: extract(html, **opts)
        check_version()  # fails at setup, not on the first page
        shared = shared_extractor(opts)
        call: dict[str, Any] = opts if shared is None else {"options": shared}

        def trafilatura_extract(html: str) -> str | None:
            with shortcuts(**chosen):
                return extract(html, **call)

        return trafilatura_extract
    if name == "resiliparse":
        try:
            from resiliparse.extract.html2text import extract_plain_text
            from resiliparse.parse.html import HTMLTree
        except ImportError as exc:
            raise ImportError(
                "warc_extract: extractor 'resiliparse' needs the optional extra: "
                "pip install 'curate[fast]' (or pip install resiliparse)"
            ) from exc
        opts = dict(options)

        def resiliparse_extract(html: str) -> str | None:
            return extract_plain_text(HTMLTree.parse(html), **opts)

        return resiliparse_extract
    raise ValueError(f"warc_extract: unknown extractor {name!r}; use 'trafilatura' or 'resiliparse'")


class TimeLimitedExtractor:
    """Calls an extractor with a per-document CPU-time limit (see the module docstring for the two modes)."""

    def __init__(self, name: str, options: dict[str, Any], timeout_s: float | None, mode: str = "auto"):
        self.name, self.options, self.timeout_s = name, options, timeout_s
        self._auto = mode == "auto"
        if self._auto:  # a signal cannot interrupt resiliparse's C++ code: its limit needs the child process
            mode = "signal" if _can_signal() and name != "resiliparse" else "process"
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

    def reset(self) -> None:
        """Forget state carried between documents, so each input file's output depends on that file alone.

        trafilatura's ``deduplicate`` keeps an LRU of text segments already seen; carried across files it would
        make a shard's text depend on which shards the same worker processed before (so on scheduling)."""
        if self.name in ("trafilatura", "domain"):  # domain extraction runs trafilatura inside
            from trafilatura.deduplication import LRU_TEST

            LRU_TEST.clear()
        if self._sandbox is not None:  # the child's cache: a fresh child starts empty
            self._sandbox.close()

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


def _send(stream: Any, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    """``n`` bytes from ``fd``; raises ExtractTimeout past ``deadline``, EOFError when the writer is gone."""
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise ExtractTimeout()
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("extractor process closed its pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _child_main(name: str, options_json: str) -> None:
    """The child's loop: length-prefixed pickles ``(html, cpu limit)`` in on stdin, ``(status, value)`` out on the
    original stdout. The limit arms ``ITIMER_PROF`` with SIGPROF's default action: the kernel terminates the child
    when the document has used that much CPU, wherever it is (C++ included)."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints from libraries go to stderr, never into the protocol
    sys.stdout = sys.stderr
    cpu_limit = hasattr(signal, "setitimer")
    if cpu_limit:
        signal.signal(signal.SIGPROF, signal.SIG_DFL)
    fn = make_extractor(name, json.loads(options_json))
    _send(out, ("ready", cpu_limit))
    fd = sys.stdin.buffer.fileno()
    while True:
        try:
            size = struct.unpack("<Q", _read_exact(fd, 8, None))[0]
            html, seconds = pickle.loads(_read_exact(fd, size, None))
        except EOFError:
            return
        if cpu_limit and seconds:
            signal.setitimer(signal.ITIMER_PROF, seconds)
        try:
            result = ("ok", fn(html))
        except Exception as exc:  # noqa: BLE001 - reported to the parent as a per-document error
            result = ("error", repr(exc))
        if cpu_limit:
            signal.setitimer(signal.ITIMER_PROF, 0)
        _send(out, result)


_CHILD_CODE = "import sys; from curate.stages.warc.extractors import _child_main; _child_main(sys.argv[1], sys.argv[2])"


class _Sandbox:
    """One persistent child process running the extractor; killed and restarted after a timeout or a crash.

    The child is a fresh interpreter (``python -c ... _child_main``) talking over its stdin/stdout:
    unlike multiprocessing's ``spawn`` it never re-imports the user's ``__main__`` (scripts without a
    ``__name__ == "__main__"`` guard, notebooks), and unlike ``fork`` it is safe from threads.
    """

    START_TIMEOUT_S = 120.0
    #: wall time the parent waits, as a multiple of the CPU limit, before killing a child that does not answer
    #: (one that hangs without using CPU; a loaded machine slows the child's CPU clock far less than this)
    WALL_BACKSTOP = 10.0

    def __init__(self, name: str, options: dict[str, Any]):
        self.name, self.options = name, options
        self._proc: subprocess.Popen | None = None
        self._cpu_limit = False

    def _start(self) -> None:
        cmd = [sys.executable, "-c", _CHILD_CODE, self.name, json.dumps(self.options)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            _, self._cpu_limit = self._receive(time.monotonic() + self.START_TIMEOUT_S)
        except (ExtractTimeout, EOFError) as exc:
            self.close()
            raise RuntimeError(
                f"warc_extract: the {self.name} extractor process did not start ({exc!r}); "
                f"is curate importable by {sys.executable}?"
            ) from None

    def _receive(self, deadline: float) -> Any:
        fd = self._proc.stdout.fileno()
        size = struct.unpack("<Q", _read_exact(fd, 8, deadline))[0]
        return pickle.loads(_read_exact(fd, size, deadline))

    def run(self, html: str, timeout_s: float) -> str | None:
        if self._proc is None or self._proc.poll() is not None:
            self.close()
            self._start()
        wall = timeout_s * self.WALL_BACKSTOP if self._cpu_limit else timeout_s
        try:
            _send(self._proc.stdin, (html, timeout_s))
            status, value = self._receive(time.monotonic() + wall)
        except ExtractTimeout:
            self.close()
            raise
        except (BrokenPipeError, EOFError, OSError) as exc:
            try:
                code = self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                code = None
            killed_at_limit = self._cpu_limit and code == -signal.SIGPROF
            self.close()
            if killed_at_limit:
                raise ExtractTimeout() from None
            raise ExtractCrash(f"extractor process died: {exc}") from exc
        if status == "error":
            raise RuntimeError(value)
        return value

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(timeout=10)
            for stream in (self._proc.stdin, self._proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self._proc = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

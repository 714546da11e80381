"""The download cache every step shares: ``$CURATE_CACHE`` (or ``$CURATE_CACHE_DIR``), else ``~/.cache/curate``;
and the one downloader that fills it (once per file, atomically, with an error a user can act on when offline)."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from curate.errors import Problem


def cache_dir(*parts: str) -> Path:
    """``$CURATE_CACHE/<parts>`` (``$CURATE_CACHE_DIR`` is read too), else ``~/.cache/curate/<parts>``."""
    root = os.environ.get("CURATE_CACHE") or os.environ.get("CURATE_CACHE_DIR") or Path.home() / ".cache" / "curate"
    return Path(root).joinpath(*parts)


def download(url: str, dest: Path, what: str = "file", offline_hint: str = "") -> Path:
    """``url`` saved at ``dest`` once (a temporary name renamed into place, so a killed download never looks
    complete); offline or unreachable: a ``RuntimeError`` saying what to do instead."""
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out, length=1 << 20)
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError) as exc:
        Path(tmp).unlink(missing_ok=True)
        hint = offline_hint or f"download it elsewhere and pass its local path instead (or place it at {dest})"
        raise RuntimeError(f"could not download {what} {url} ({exc}). Offline? {hint}") from exc
    return dest


#: seconds a reachability check waits for an answer (``curate validate`` stays quick offline)
REACH_TIMEOUT = 10.0


def unreachable(
    url: str, timeout: float = REACH_TIMEOUT, headers: dict[str, str] | None = None
) -> tuple[str, bool] | None:
    """None when ``url`` answers a HEAD request (redirects followed), else (why not, whether the network is the
    cause): ``("HTTP 404 Not Found", False)`` for a wrong name, ``("[Errno 111] Connection refused", True)``."""
    request = urllib.request.Request(url, method="HEAD", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except urllib.error.HTTPError as exc:
        if exc.code in (405, 501):  # a server that does not do HEAD is still there
            return None
        return f"HTTP {exc.code} {exc.reason}", exc.code in (408, 429) or exc.code >= 500
    except (urllib.error.URLError, OSError) as exc:
        return str(getattr(exc, "reason", exc)), True


def download_problem(field: str, url: str, dest: Path, what: str, offline_hint: str) -> list[Problem]:
    """What stops ``url`` being had by a run (nothing: cached at ``dest``, or reachable): for ``Stage.check_files``."""
    if dest.exists():
        return []
    head = f"{what} must be downloaded from {url} (it is not in the cache, {dest}), and that failed"
    return _fetch_problem(field, unreachable(url), head, offline_hint)


def _fetch_problem(field: str, failure: tuple[str, bool] | None, head: str, hint: str) -> list[Problem]:
    """The problem of a fetch that failed (:func:`unreachable`'s answer), or nothing when it did not."""
    if failure is None:
        return []
    why, offline = failure
    return [Problem(field, f"{head} ({why}). {'Offline? ' if offline else ''}{hint}", offline)]


def missing_path(field: str, value: str, what: str, hint: str = "") -> list[Problem]:
    """A problem when the local path ``value`` (``~`` expanded) does not exist; URIs (``s3://``, ``https://``) are
    checked where they are read."""
    if "://" in value or Path(value).expanduser().exists():
        return []
    return [Problem(field, f"{what} {value!r} does not exist" + (f": {hint}" if hint else ""))]


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` is set now (read at each call: huggingface_hub reads it once, at import)."""
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def hub_problem(field: str, repo_id: str, filename: str, what: str, hint: str) -> list[Problem]:
    """What stops a Hugging Face Hub file being had by a run (nothing: in the Hub's local cache, or reachable with the
    user's token); ``HF_HUB_OFFLINE`` set counts as offline, as the Hub's own clients treat it."""
    token = None
    try:
        from huggingface_hub import get_token, try_to_load_from_cache
    except ImportError:  # transformers' own dependency: without it nothing could load the model anyway
        pass
    else:
        try:
            if isinstance(try_to_load_from_cache(repo_id, filename), str):
                return []
        except ValueError as exc:  # not a Hub id at all (spaces, three parts …)
            return [Problem(field, f"{what} {repo_id!r} is neither an existing local path nor a Hub id ({exc})")]
        token = get_token()
    if hub_offline():
        failure: tuple[str, bool] | None = ("HF_HUB_OFFLINE is set", True)
    else:
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
        auth = {"Authorization": f"Bearer {token}"} if token else None
        failure = unreachable(f"{endpoint}/{repo_id}/resolve/main/{filename}", headers=auth)
    head = f"{what} {repo_id!r} is no local path, and its {filename} is neither in the Hugging Face cache nor reachable"
    return _fetch_problem(field, failure, head, hint)


def looks_like_path(value: str) -> bool:
    """A parameter value meant as a local path rather than a Hub id (``org/name``): ``./x``, ``/x``, ``~/x``, a
    file suffix, or more than one ``/``."""
    return (
        value.startswith((".", "/", "~"))
        or Path(value).suffix.lower() in (".json", ".bin", ".ftz")
        or (value.count("/") > 1)
    )

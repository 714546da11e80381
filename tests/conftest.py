"""Shared fixtures: the real data folder (../shared/data), a session-wide local Ray instance, input shards.

Real data is looked up only through :func:`shared_data` (inside a test) and :func:`needs_shared_data` (a mark):
both skip when the folder is absent (a user's fresh clone), and ``.ci/run`` fails without it, so in CI they run.
Tests that start Ray (the ``ray_instance`` fixture, ``RayExecutor``, ``executor=ray``) are marked ``ray``: a test
that takes ``ray_instance`` without the mark is a collection error."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


def _absent(path: Path) -> str:
    return f"../shared/data not found ({path}): real-data tests run in CI, where it sits beside the repo"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or a skip when it is absent (a user's fresh clone has none)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(_absent(path))
    return path


def needs_shared_data(*parts: str) -> pytest.MarkDecorator:
    """A mark that skips the test when a path under ../shared/data is absent (:func:`shared_data` as a decorator)."""
    path = SHARED_DATA.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=_absent(path))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that takes the session's Ray instance is marked ``ray`` (``-m "not ray"`` deselects them all)."""
    unmarked = [
        item.nodeid
        for item in items
        if "ray_instance" in getattr(item, "fixturenames", ()) and item.get_closest_marker("ray") is None
    ]
    if unmarked:
        raise pytest.UsageError(f"tests start Ray (ray_instance) but are not marked @pytest.mark.ray: {unmarked}")


@pytest.fixture(scope="session")
def ray_instance():
    """One local Ray instance for every Ray test of the session (starting Ray costs seconds)."""
    import sys

    import ray

    if not ray.is_initialized():
        path = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": path, "RAY_AUTH_MODE": "disabled"}},
        )
    yield ray
    ray.shutdown()


def run_quickstart(out: Path, *overrides: str) -> Any:
    """recipes/quickstart.yaml on the packaged sample into ``out`` (no report), run from the checkout's root."""
    from curate.pipeline import run_recipe
    from curate.recipe import load_recipe

    settings = [f"output={out}", "execution.report=false", *overrides]
    with contextlib.chdir(REPO):  # the recipe names the sample and tokenizer relative to the checkout
        return run_recipe(load_recipe(str(REPO / "recipes" / "quickstart.yaml"), settings))


@pytest.fixture(scope="session")
def quickstart_local(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """One local run of the quickstart (output folder, result), shared by the tests that check it: treat the folder
    as read-only (copy it to change it)."""
    out = tmp_path_factory.mktemp("quickstart") / "local"
    return out, run_quickstart(out, "execution.executor=local")


def write_shards(folder: Path, shards: int = 4, docs: int = 50, seed: int = 0) -> list[Path]:
    """Small Parquet input shards of documents with varied lengths (some below 20 characters)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in range(shards):
        texts = [" ".join(f"w{(seed + s * 7 + i * 3 + j) % 97}" for j in range((i * 5 + s) % 23)) for i in range(docs)]
        table = pa.table(
            {
                "id": [f"s{s}-{i}" for i in range(docs)],
                "text": texts,
                "url": [f"https://example.org/{s}/{i}" for i in range(docs)],
            }
        )
        path = folder / f"part-{s:03d}.parquet"
        pq.write_table(table, path)
        paths.append(path)
    return paths


@pytest.fixture
def input_shards(tmp_path: Path) -> Path:
    write_shards(tmp_path / "in")
    return tmp_path / "in"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    port = _free_port()
    server = Path(sys.executable).with_name("moto_server")
    if not server.exists():
        pytest.skip("moto_server not installed (pip install 'moto[server]')")
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint)
    for _ in range(100):
        try:
            client.list_buckets()
            break
        except Exception:
            time.sleep(0.1)
    yield client
    proc.terminate()
    proc.wait()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v

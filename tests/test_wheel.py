"""What a `pip install` user gets: the wheel ships the recipes and the sample, and `curate run quickstart` works
from an installed wheel in an empty folder, with no checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow


def test_the_wheel_runs_the_quickstart_by_name_without_a_checkout(tmp_path):
    source = tmp_path / "source"  # a copy of the checkout's files: setuptools leaves build/ in what it builds
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for name in files:
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(dist.glob("curate-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "curate/recipes/quickstart.yaml" in names and "curate/data/sample.warc.gz" in names
    assert "curate/data/tokenizer.json" in names and "curate/stages/filters/fineweb2_settings.json.xz" in names
    assert "curate/stages/filters/spacy_rules.json.xz" in names and "curate/report/html.py" in names
    assert any(n.startswith("curate/stages/warc/_native.") and n.endswith(".so") for n in names)  # compiled

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # the dependencies come from this environment's site-packages (installing them from the index would take
    # minutes); curate itself only from the wheel: a path in a .pth does not run that folder's .pth files, so the
    # checkout's editable install stays out
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"RAY_AUTH_MODE": "disabled"}
    where = subprocess.run(
        [str(python), "-c", "import curate; print(curate.__file__)"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(site) in where and str(REPO) not in where  # the installed wheel, not the checkout
    run = subprocess.run(
        [
            str(venv / "bin" / "curate"),
            "run",
            "quickstart",
            "--executor",
            "local",
            "-q",
            "--output",
            str(empty / "out"),
        ],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert list((empty / "out" / "pack" / "train").glob("*.bin"))
    listed = subprocess.run(
        [str(venv / "bin" / "curate"), "recipes"], cwd=empty, env=env, capture_output=True, text=True, timeout=120
    )
    assert "quickstart" in listed.stdout and "fineweb2" in listed.stdout

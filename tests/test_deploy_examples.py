"""The launch examples in deploy/ (cron, systemd timer, Kubernetes CronJob + KubeRay RayJob, Slurm) are valid: each
file parses as what it claims to be, and every `curate ...` command in it parses with curate's own command line
(so it uses only flags that exist) and names a recipe that exists and validates."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from curate.cli import build_parser
from curate.recipe import load_recipe

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"


def curate_commands(text: str) -> list[list[str]]:
    """Every `curate <command> ...` invocation in a file (shell line continuations joined), as argv after `curate`;
    in comments only the ones written as commands (`.venv/bin/curate ...`)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    commands = []
    for line in joined.splitlines():
        comment = line.lstrip().startswith("#")
        pattern = r"\.venv/bin/curate" if comment else r'(?:\bcurate|"\$CURATE")'
        for m in re.finditer(pattern + r"\s+(nightly|snapshots|run)\b([^|>;&#]*)", line):
            commands.append(shlex.split(f"{m.group(1)} {m.group(2)}"))
    return commands


def check_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)  # SystemExit (a test failure) on any unknown flag
    if hasattr(args, "recipe") and args.recipe:
        recipe = args.recipe.replace("/opt/curate/", "")
        assert (REPO / recipe).is_file(), recipe
        assert load_recipe(str(REPO / recipe)).commoncrawl is not None


def test_cron_entry():
    text = (DEPLOY / "cron" / "curate-nightly.cron").read_text()
    entries = [line for line in text.splitlines() if line and not line.startswith("#") and "=" not in line.split()[0]]
    assert len(entries) == 1
    fields = entries[0].split()[:5]
    assert all(re.fullmatch(r"[\d*/,-]+", f) for f in fields), fields
    commands = curate_commands(text)
    assert [c[0] for c in commands] == ["nightly", "nightly"]  # the documented first night and the cron entry
    for command in commands:
        check_command(command)


def test_systemd_service_and_timer():
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(DEPLOY / "systemd" / "curate-nightly.service")
    assert service["Service"]["Type"] == "oneshot"
    exec_start = shlex.split(service["Service"]["ExecStart"])
    assert exec_start[0].endswith("/curate") and exec_start[1] == "nightly"
    check_command(exec_start[1:])
    assert set(service["Service"]["SuccessExitStatus"].split()) == {"75", "69"}
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(DEPLOY / "systemd" / "curate-nightly.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Install"]["WantedBy"] == "timers.target"
    if shutil.which("systemd-analyze"):
        result = subprocess.run(["systemd-analyze", "calendar", timer["Timer"]["OnCalendar"]], capture_output=True)
        assert result.returncode == 0, result.stderr


def test_kubernetes_cronjob_starts_a_rayjob_running_curate_nightly():
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "curate-nightly.yaml").read_text()))
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) == {"ServiceAccount", "Role", "RoleBinding", "ConfigMap", "CronJob"}
    cron = kinds["CronJob"]["spec"]
    assert len(cron["schedule"].split()) == 5 and cron["concurrencyPolicy"] == "Forbid"
    pod = cron["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == kinds["ServiceAccount"]["metadata"]["name"]
    assert pod["containers"][0]["command"][:3] == ["kubectl", "create", "-f"]
    rayjob = yaml.safe_load(kinds["ConfigMap"]["data"]["rayjob.yaml"])
    assert rayjob["apiVersion"] == "ray.io/v1" and rayjob["kind"] == "RayJob"
    assert "create" in kinds["Role"]["rules"][0]["verbs"] and kinds["Role"]["rules"][0]["resources"] == ["rayjobs"]
    spec = rayjob["spec"]
    assert spec["shutdownAfterJobFinishes"] is True
    assert spec["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"]
    argv = shlex.split(spec["entrypoint"])
    assert argv[0] == "curate"
    check_command(argv[1:])


def test_slurm_script_starts_ray_and_runs_curate_nightly():
    path = DEPLOY / "slurm" / "curate-nightly.sbatch"
    text = path.read_text()
    assert text.startswith("#!/bin/bash") and "#SBATCH --nodes=" in text
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode == 0
    assert "start --head" in text and "start --address=" in text
    commands = curate_commands(text)
    assert [c[0] for c in commands] == ["nightly"]
    assert "--address" in commands[0]
    check_command(commands[0])


@pytest.mark.parametrize("argv", [["nightly", "r.yaml"], ["nightly", "r.yaml", "--state", "s", "--no-such-flag"]])
def test_the_checker_rejects_bad_commands(argv):
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)

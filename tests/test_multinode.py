"""A real multi-node Ray cluster on this machine: a head and two worker nodes started with ``ray start`` (separate
temp dirs, one advertising a GPU), input and output on the S3 stand-in (the nodes share no disk through curate).
The pretrain-like recipe (extract -> filters -> dedup -> GPU-labelled step -> buckets -> mix -> tokenize -> pack)
gives the same bytes as ``--executor local``; a worker node killed mid-run and a driver killed and restarted change
nothing. Every process started here is stopped by its own pid."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import REPO, _free_port, shared_data
from tokenize_fixtures import train_bpe

pytestmark = [pytest.mark.ray, pytest.mark.slow]
RAY = Path(sys.executable).with_name("ray")

RECIPE = """
name: multinode
input: {{paths: ["s3://multinode/in/*.warc.gz"]}}
output: {output}
steps:
  - warc_extract: {{}}
  - gopher_repetition: {{}}
  - gopher_quality: {{}}
  - exact_dedup: {{partitions: 2}}
  - minhash_dedup: {{partitions: 2}}
  - language_id: {{model: lid176-ftz, gpus: 1}}
  - quality_buckets: {{scores: [language_score], buckets: 4}}
  - mix: {{by: quality_bucket, repeat: {{'0': 0, '1': 1, '2': 1, '3': 2}}}}
  - tokenize: {{tokenizer: s3://multinode/tokenizer.json}}
  - pack: {{seq_len: 256, valid_fraction: 0.0, format: both}}
execution: {{executor: ray, report: false, max_retries: 5}}
"""


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "RAY_AUTH_MODE": "disabled",
        "PYTHONPATH": str(REPO / "tests"),
        "RAY_USAGE_STATS_ENABLED": "0",
    }


def _node_processes(temp_dir: Path) -> list[int]:
    """Pids of the processes of the node whose temp dir is ``temp_dir`` (its raylet and workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(temp_dir) in cmdline and int(entry.name) != os.getpid():
            pids.append(int(entry.name))
    return pids


def _cluster_nodes(address: str) -> list[dict]:
    script = (
        f"import json, ray; ray.init(address={address!r}, logging_level='ERROR'); "
        "print(json.dumps([{'id': n['NodeID'], 'resources': n['Resources']} for n in ray.nodes() "
        "if n['Alive']]))"
    )
    out = subprocess.run([sys.executable, "-c", script], env=_env(), capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 and out.stdout.strip() else []


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, s3_server):
    base = Path(tempfile.mkdtemp(prefix="rc", dir="/tmp"))  # short: Ray's socket paths must stay under 108 bytes
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--block", "--num-cpus=1", "--node-ip-address=127.0.0.1", "--disable-usage-stats"]
    nodes = {
        "head": ["--head", f"--port={port}", "--include-dashboard=false", '--resources={"head_node": 1}'],
        "gpu": [f"--address={address}", "--num-gpus=1", '--resources={"gpu_node": 1}'],
        "cpu": [f"--address={address}", '--resources={"cpu_node": 1}'],
    }
    procs: dict[str, subprocess.Popen] = {}
    temp_dirs: dict[str, Path] = {}
    try:
        for name, args in nodes.items():
            temp_dirs[name] = base / f"t-{name}"
            log = open(base / f"{name}.log", "wb")  # noqa: SIM115 - the node's lifetime is the fixture's
            procs[name] = subprocess.Popen(
                [str(RAY), "start", *common, *args, f"--temp-dir={temp_dirs[name]}"],
                env=_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            if name == "head":
                time.sleep(8)
        deadline = time.time() + 120
        while time.time() < deadline and len(_cluster_nodes(address)) < 3:
            time.sleep(2)
        found = _cluster_nodes(address)
        if len(found) < 3:
            logs = {name: (base / f"{name}.log").read_text(errors="replace")[-1500:] for name in nodes}
            pytest.fail(f"the three-node cluster did not come up: {found}; logs: {logs}")
        yield {"address": address, "nodes": found, "procs": procs, "temp_dirs": temp_dirs}
    finally:
        for proc in procs.values():  # `ray start --block` stops the processes it started on SIGTERM
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for temp_dir in temp_dirs.values():  # anything left of this test's nodes, by pid
            for pid in _node_processes(temp_dir):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def inputs(cluster, s3_server, tmp_path_factory):
    s3_server.create_bucket(Bucket="multinode")
    for name in ("dolma__sample-0000.warc.gz", "dolma__sample-0001.warc.gz"):
        s3_server.upload_file(str(shared_data("warc", "real_crawls", name)), "multinode", f"in/{name}")
    tokenizer = train_bpe(tmp_path_factory.mktemp("bpe") / "tokenizer.json", vocab_size=2000, lines_per_language=40)
    s3_server.upload_file(str(tokenizer), "multinode", "tokenizer.json")
    return s3_server


def run(tmp_path: Path, output: str, *args: str, wait: bool = True) -> subprocess.CompletedProcess | subprocess.Popen:
    recipe = tmp_path / f"recipe-{time.monotonic_ns()}.yaml"
    recipe.write_text(RECIPE.format(output=output))
    command = [sys.executable, "-m", "curate.cli", "run", str(recipe), "-q", *args]
    if not wait:
        return subprocess.Popen(command, env=_env())
    proc = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def objects(client, prefix: str) -> dict[str, bytes]:
    """Every shard and pack file under ``prefix`` by relative key (markers hold timings and nodes; scratch, stats
    and folder placeholders are left out)."""
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket="multinode", Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    found = {}
    for key in sorted(keys):
        if key.endswith("/") or "/_work/" in key or "/_done/" in key or key.endswith(".json") or ".curate-tmp-" in key:
            continue
        try:
            found[key[len(prefix) :]] = client.get_object(Bucket="multinode", Key=key)["Body"].read()
        except client.exceptions.NoSuchKey:  # a run in progress replaced it between the listing and the read
            continue
    return found


def test_three_nodes_give_the_local_bytes_and_the_gpu_step_runs_on_the_gpu_node(cluster, inputs, tmp_path):
    run(tmp_path, "s3://multinode/local", "--executor", "local")
    run(tmp_path, "s3://multinode/ray", "--address", cluster["address"])
    local, on_ray = objects(inputs, "local/"), objects(inputs, "ray/")
    assert local and sorted(local) == sorted(on_ray)
    assert [k for k in local if local[k] != on_ray[k]] == []
    assert any(k.startswith("pack/train/") and k.endswith(".bin") for k in local)
    stats = json.loads(inputs.get_object(Bucket="multinode", Key="ray/_stats.json")["Body"].read())
    gpu_nodes = {n["id"] for n in cluster["nodes"] if n["resources"].get("GPU")}
    placed = {s["key"]: set(s["nodes"]) for s in stats["steps"]}
    assert placed["language_id"] and placed["language_id"] <= gpu_nodes  # the GPU step only on the GPU node
    assert len(set().union(*placed.values())) >= 2  # the work really spread over nodes


def test_a_local_output_on_a_multinode_cluster_is_refused(cluster, inputs, tmp_path):
    recipe = tmp_path / "local-out.yaml"
    recipe.write_text(RECIPE.format(output=tmp_path / "out"))
    proc = subprocess.run(
        [sys.executable, "-m", "curate.cli", "run", str(recipe), "-q", "--address", cluster["address"]],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and "3 nodes" in proc.stderr and "shared_filesystem" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_worker_node_dying_and_the_driver_restarting_change_nothing(cluster, inputs, tmp_path):
    if not objects(inputs, "local/"):
        run(tmp_path, "s3://multinode/local", "--executor", "local")
    driver = run(tmp_path, "s3://multinode/failures", "--address", cluster["address"], wait=False)
    deadline = time.time() + 300
    while time.time() < deadline and not objects(inputs, "failures/gopher_quality/"):
        time.sleep(0.2)
    for pid in _node_processes(cluster["temp_dirs"]["cpu"]):  # the CPU worker node dies: its raylet and workers
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    while time.time() < deadline and not objects(inputs, "failures/minhash_dedup/"):
        time.sleep(0.2)
    driver.send_signal(signal.SIGKILL)  # and the driver dies mid-run
    driver.wait()
    run(tmp_path, "s3://multinode/failures", "--address", cluster["address"])  # restarted: resumes
    local, resumed = objects(inputs, "local/"), objects(inputs, "failures/")
    assert sorted(local) == sorted(resumed) and [k for k in local if local[k] != resumed[k]] == []

"""Common Crawl input: snapshots from collinfo.json, files from <kind>.paths.gz, segment sampling, remote reading
with retries (loopback stand-ins for data.commoncrawl.org and S3), and every user error as one line + exit code."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cc_fixtures import SNAPSHOT_A, SNAPSHOT_B, Faults, StandIn, build_mirror, free_port

from curate import commoncrawl, retry
from curate.cli import main
from curate.commoncrawl import CommonCrawlSpec
from curate.io import shard_name
from curate.outdir import OutputLock

RECIPE = """name: cc-test
input: {{commoncrawl: {{snapshot: {snapshot}, kind: {kind}, base: "{base}"{extra}}}}}
output: {out}
steps:
  - warc_extract: {{}}
execution: {{executor: local, report: false}}
"""


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    m = build_mirror(tmp_path_factory.mktemp("cc") / "mirror")
    m.publish(SNAPSHOT_A, SNAPSHOT_B)
    return m


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch, tmp_path):
    """Backoff in milliseconds, and a private cache for downloaded paths lists."""
    monkeypatch.setattr(retry, "DEFAULT", retry.Backoff(base=0.001, cap=0.01, attempts=6))
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))


def write_recipe(
    tmp_path: Path, base: str, snapshot: str = "latest", kind: str = "warc", extra: str = "", out: str = "out"
) -> Path:
    path = tmp_path / f"recipe-{kind}-{snapshot}.yaml"
    path.write_text(RECIPE.format(snapshot=snapshot, kind=kind, base=base, extra=extra, out=tmp_path / out))
    return path


def documents(out: Path) -> list[tuple[str, str, str]]:
    rows = []
    for shard in sorted((out / "warc_extract").glob("*.parquet")):
        table = pq.read_table(shard, columns=["id", "url", "text"])
        rows += zip(*(table.column(c).to_pylist() for c in ("id", "url", "text")))
    return sorted(rows)


def test_snapshots_resolve_through_collinfo_and_paths_lists(mirror):
    spec = CommonCrawlSpec(base=str(mirror.root))
    assert [s.id for s in commoncrawl.list_snapshots(spec)] == [SNAPSHOT_A, SNAPSHOT_B]  # oldest first
    assert commoncrawl.resolve_snapshot(spec) == SNAPSHOT_B  # latest
    files = commoncrawl.input_files(spec, SNAPSHOT_A)
    assert [f.uri for f in files] == [str(mirror.root / p) for p in mirror.files[SNAPSHOT_A]]
    assert files[0].shard == "1707947473347.0__warc__CC-MAIN-20240220211055-20240221001055-00000"
    assert all(f.size == os.path.getsize(f.uri) for f in files)
    # trial runs: one segment (spread over the crawl), at most one file of it
    sample = commoncrawl.input_files(spec.model_copy(update={"segments": 1, "files_per_segment": 1}), SNAPSHOT_A)
    assert [f.uri for f in sample] == [files[0].uri]
    wet = commoncrawl.input_files(spec.model_copy(update={"kind": "wet"}), SNAPSHOT_A)
    assert [f.shard for f in wet] == [shard_name(f.uri.split("/segments/", 1)[1]) for f in wet]
    assert all("__wet__" in f.shard for f in wet) and not {f.shard for f in wet} & {f.shard for f in files}
    # an even spread: 2 of 4 segments are the first and the third
    paths = [f"crawl-data/X/segments/s{i}/warc/f.warc.gz" for i in range(4)]
    assert commoncrawl.select_segments(paths, 2, None) == [paths[0], paths[2]]


def test_a_snapshot_runs_and_a_paths_list_in_input_paths_reads_the_same_files(mirror, tmp_path):
    assert main(["run", "-q", str(write_recipe(tmp_path, str(mirror.root), SNAPSHOT_A))]) == 0
    by_snapshot = documents(tmp_path / "out")
    assert len(by_snapshot) == 37  # every HTML response of A with text
    listed = tmp_path / "listed.yaml"
    listed.write_text(
        f"name: listed\ninput: [{mirror.root}/crawl-data/{SNAPSHOT_A}/warc.paths.gz]\n"
        f"output: {tmp_path / 'listed'}\nsteps: [warc_extract]\nexecution: {{executor: local}}\n"
    )
    assert main(["run", "-q", str(listed)]) == 0
    assert documents(tmp_path / "listed") == by_snapshot
    assert sorted(p.name for p in (tmp_path / "listed" / "warc_extract").glob("*.parquet")) == sorted(
        p.name for p in (tmp_path / "out" / "warc_extract").glob("*.parquet")
    )


def test_wet_files_give_common_crawls_text(mirror, tmp_path):
    assert main(["run", "-q", str(write_recipe(tmp_path, str(mirror.root), SNAPSHOT_A, kind="wet"))]) == 0
    table = pq.read_table(tmp_path / "out" / "warc_extract")
    assert table.num_rows >= 30 and set(table.column("charset_source").to_pylist()) == {"wet"}


def test_a_paths_list_given_as_a_warc_is_zero_documents_and_exit_6(mirror, tmp_path, capsys):
    junk = tmp_path / "in" / "CC-MAIN-x.warc.gz"
    junk.parent.mkdir()
    junk.write_bytes((mirror.root / "crawl-data" / SNAPSHOT_A / "warc.paths.gz").read_bytes())
    recipe = tmp_path / "junk.yaml"
    recipe.write_text(
        f"name: junk\ninput: [{junk}]\noutput: {tmp_path / 'out'}\nsteps: [warc_extract]\n"
        "execution: {executor: local}\n"
    )
    assert main(["run", "-q", str(recipe)]) == 6
    err = capsys.readouterr().err
    assert "0 documents from 1 input file" in err and "--allow-empty" in err and "Traceback" not in err
    assert main(["run", "-q", "--allow-empty", str(recipe)]) == 0


def test_block_reader_retries_throttling_and_resumes_a_dropped_body(mirror):
    path = mirror.files[SNAPSHOT_A][1]
    want = (mirror.root / path).read_bytes()
    with StandIn(mirror.root, Faults(throttle_every=2, drop_bodies=1)) as server:
        from curate.storage import location

        reader = location(f"{server.url}/{path}").open_input()
        got = b"".join(iter(lambda: reader.read(1 << 16), b""))
    assert got == want
    assert reader.counters["remote_retries_throttled"] == server.faults.throttled >= 1
    assert reader.counters["remote_resumed_reads"] == server.faults.dropped == 1


def test_https_and_s3_stand_ins_that_throttle_give_the_local_mirrors_documents(mirror, tmp_path, monkeypatch):
    assert main(["run", "-q", str(write_recipe(tmp_path, str(mirror.root), SNAPSHOT_A, out="local"))]) == 0
    want = documents(tmp_path / "local")
    with StandIn(mirror.root, Faults(throttle_every=4, drop_bodies=2)) as server:
        assert main(["run", "-q", str(write_recipe(tmp_path, server.url, SNAPSHOT_A, out="http"))]) == 0
        assert server.faults.throttled >= 2 and server.faults.dropped == 2
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(var, raising=False)
        s3 = write_recipe(
            tmp_path,
            "s3://commoncrawl",
            SNAPSHOT_A,
            out="s3",
            extra=f", collinfo: '{server.url}/crawl-info/collinfo.json'",
        )
        assert main(["run", "-q", str(s3)]) == 0
    assert documents(tmp_path / "http") == want
    assert documents(tmp_path / "s3") == want
    counters = json.loads((tmp_path / "http" / "_stats.json").read_text())["steps"][0]["stats"]["counters"]
    assert counters["remote_resumed_reads"] == 2 and counters["remote_retries_dropped"] == 2  # in the run's stats
    assert counters["remote_retries_throttled"] >= 1


def test_remote_paths_lists_are_cached(mirror, tmp_path):
    with StandIn(mirror.root) as server:
        uri = commoncrawl.paths_uri(server.url, SNAPSHOT_A, "warc")
        lines = commoncrawl.read_paths_file(uri)
        before = server.faults.requests
        assert commoncrawl.read_paths_file(uri) == lines == mirror.files[SNAPSHOT_A]
        assert server.faults.requests == before  # the second read came from the cache
    cached = list((tmp_path / "cache" / "commoncrawl").rglob("warc.paths.gz"))
    assert len(cached) == 1 and gzip.decompress(cached[0].read_bytes()).decode().split() == lines


# ---------------------------------------------------------------------------------------------------------------
# user errors: one line each, a documented exit code, no traceback


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return err


def test_offline_is_exit_69(tmp_path, capsys):
    recipe = write_recipe(tmp_path, f"http://127.0.0.1:{free_port()}")
    assert main(["run", "-q", str(recipe)]) == 69
    err = _error(capsys)
    assert err.startswith("error: cannot reach http://127.0.0.1") and "check the network" in err


def test_no_such_snapshot_is_exit_2(mirror, tmp_path, capsys):
    assert main(["run", "-q", str(write_recipe(tmp_path, str(mirror.root), "CC-MAIN-2024-11"))]) == 2
    err = _error(capsys)
    assert "no snapshot CC-MAIN-2024-11" in err and "CC-MAIN-2024-10" in err and "curate snapshots" in err
    bad = write_recipe(tmp_path, str(mirror.root), "CC-2024")
    assert main(["run", "-q", str(bad)]) == 2
    assert "expected `latest` or a crawl id" in _error(capsys)


def test_bad_credentials_are_exit_77(mirror, tmp_path, capsys, monkeypatch):
    with StandIn(mirror.root, Faults(deny=True)) as server:
        assert main(["run", "-q", str(write_recipe(tmp_path, server.url))]) == 77
        assert "access denied" in _error(capsys)
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
        collinfo = tmp_path / "collinfo.json"
        collinfo.write_text(json.dumps([{"id": SNAPSHOT_A}]))
        s3 = write_recipe(tmp_path, "s3://commoncrawl", SNAPSHOT_A, extra=f", collinfo: '{collinfo}'")
        assert main(["run", "-q", str(s3)]) == 77
        err = _error(capsys)
        assert "access denied at s3://commoncrawl/crawl-data/CC-MAIN-2024-10/warc.paths.gz" in err
        assert "credentials" in err


def test_nightly_errors_missing_state_busy_state_and_no_commoncrawl_input(mirror, tmp_path, capsys):
    recipe = write_recipe(tmp_path, str(mirror.root))
    assert main(["nightly", "-q", str(recipe), "--state", str(tmp_path / "state")]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["nightly"] == "error" and "--init" in err and "Traceback" not in err
    assert main(["snapshots", "--state", str(tmp_path / "nowhere")]) == 2
    assert "no nightly state" in _error(capsys)
    (tmp_path / "busy").mkdir()
    with OutputLock(str(tmp_path / "busy")):
        assert main(["nightly", "-q", str(recipe), "--state", str(tmp_path / "busy"), "--init"]) == 75
    assert json.loads(capsys.readouterr().out)["exit"] == 75
    plain = tmp_path / "plain.yaml"
    plain.write_text(f"name: p\ninput: [{mirror.root}/crawl-data]\noutput: {tmp_path / 'o'}\nsteps: [warc_extract]\n")
    assert main(["nightly", "-q", str(plain), "--state", str(tmp_path / "s2"), "--init"]) == 2
    assert "builds Common Crawl snapshots" in capsys.readouterr().err

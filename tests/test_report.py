"""The run report (OUT/_report/index.html) and `curate inspect`.

The page is rendered in headless Chromium and the funnel figures are read back from the rendered DOM and compared
with OUT/_stats.json, for a fabricated run (tests/report_fixtures.py), a real engine run over generated shards, the
quickstart recipe on the packaged sample (the session's shared run) and real documents from ../shared/data.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import shared_data
from report_fixtures import HOSTILE, fabricate_run, fabricate_stats

from curate.report import ReportError, build_report, main_report, render_report

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--disable-dev-shm-usage",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium not installed (`apt-get install -y chromium`; .ci/run installs it)")


def render_in_chromium(page: Path, tmp_path: Path, name: str = "report") -> tuple[str, Path]:
    """The DOM after Chromium rendered ``page``, and a full-height screenshot of it."""
    binary = _chromium()
    profile = tmp_path / f"chromium-profile-{name}"
    url = page.resolve().as_uri()
    base = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True).stdout
    shot = tmp_path / f"{name}.png"
    subprocess.run(
        [*base, "--window-size=1400,3000", f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True
    )
    print(f"report screenshot: {shot}")
    return dom, shot


def funnel_from_dom(dom: str) -> dict[str, dict[str, str]]:
    """{step key: {field: (displayed text, data-value)}} from the rendered funnel table."""
    import lxml.html

    tree = lxml.html.fromstring(dom)
    rows = tree.xpath('//table[@id="funnel-table"]//tr[contains(@class, "funnel-row")]')
    out = {}
    for row in rows:
        cells = {
            td.get("data-field"): (td.text_content().strip(), td.get("data-value"), td.get("data-source"))
            for td in row.xpath("./td[@data-field]")
        }
        out[row.get("data-step-key")] = {"id": row.get("id"), **cells}
    return out


def assert_funnel_matches(dom: str, stats: dict) -> None:
    import lxml.html

    funnel = funnel_from_dom(dom)
    inferred = {s["key"]: set() for s in stats["steps"]}
    for td in lxml.html.fromstring(dom).xpath('//table[@id="funnel-table"]//td[@data-inferred]'):
        inferred[td.getparent().get("data-step-key")].add(td.get("data-field"))
    assert list(funnel) == [s["key"] for s in stats["steps"]], "funnel rows must follow the pipeline order"
    for i, step in enumerate(stats["steps"], start=1):
        row, s = funnel[step["key"]], step["stats"]
        assert row["id"] == f"funnel-{i}"
        for name in ("docs_in", "docs_out"):  # shown in full, with thousands separators
            text, value, _ = row[name]
            if name in inferred[step["key"]]:  # the step recorded 0 (global steps): docs out + removed is shown
                assert s[name] == 0
                assert int(value) == s["docs_out"] + sum(s["removed"].values())
            else:
                assert int(value) == s[name]
            assert int(text.replace(",", "")) == int(value), (step["key"], name, text)
        for name in ("bytes_in", "bytes_out"):  # shown as kB/MB, exact in data-value
            if name in inferred[step["key"]]:
                assert s[name] == 0
            else:
                assert int(row[name][1]) == s[name], (step["key"], name)
        removed_text, removed_value, _ = row["removed"]
        assert int(removed_value) == sum(s["removed"].values())
        if removed_value != "0":
            assert int(removed_text.replace(",", "")) == int(removed_value)
        tokens_text, tokens_value, source = row["tokens"]
        exact = s["counters"].get("tokens")
        splits = [n for k, n in s["counters"].items() if re.fullmatch(r"tokens:[^:]+", k)]  # pack: tokens:train …
        if exact is None and splits:
            exact = sum(splits)
        if exact is not None:
            assert source == "counter" and int(tokens_value) == exact
            assert int(tokens_text.replace(",", "")) == exact
    removals = {}
    for r in lxml.html.fromstring(dom).xpath('//tr[contains(@class, "removal-row")]'):
        removals[(r.get("data-step-key"), r.get("data-reason"))] = int(
            r.xpath('./td[@data-field="removed"]')[0].get("data-value")
        )
    assert removals == {
        (st["key"], reason): n for st in stats["steps"] for reason, n in st["stats"]["removed"].items() if n
    }


# -- the rendered page --------------------------------------------------------------------------------------------


def test_fabricated_run_report_renders_and_funnel_matches_stats(tmp_path: Path) -> None:
    out = tmp_path / "out"
    stats = fabricate_run(out, n_docs=1500, shards=3)
    page = Path(build_report(str(out)))
    assert page == out / "_report" / "index.html"
    dom, shot = render_in_chromium(page, tmp_path)
    assert shot.stat().st_size > 20_000
    assert_funnel_matches(dom, stats)
    # the last step counted its tokens: the headline card shows them
    assert 'id="summary-tokens-out"' in dom
    # hostile sample text is shown as text, never as markup
    assert "<script>alert" not in dom
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in dom or '&lt;script&gt;alert("x")' in dom


def test_real_engine_run_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real `curate run` (local executor) over generated shards, with a filter that keeps its rejected rows and a
    global step; the report it writes at the end matches its _stats.json once rendered."""
    from curate.pipeline import run_recipe
    from curate.recipe import load_recipe

    inputs = tmp_path / "in"
    inputs.mkdir()
    for s in range(3):
        texts = [("word " * ((i * 7 + s) % 60)).strip() + f" <b>doc {s}-{i}</b>" for i in range(400)]
        pq.write_table(
            pa.table(
                {
                    "id": [f"{s}-{i}" for i in range(400)],
                    "text": texts,
                    "url": [f"https://x.example/{s}/{i}" for i in range(400)],
                    "date": ["2024"] * 400,
                    "source": ["gen"] * 400,
                }
            ),
            inputs / f"part{s}.parquet",
        )
    out = tmp_path / "out"
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(
        f"name: engine-report\ninput: {{paths: ['{inputs}/*.parquet']}}\noutput: {out}\n"
        "steps:\n  - engine_stages:MinLength: {min_chars: 120, keep_rejected: true}\n"
        "  - engine_stages:CountWords: {}\nexecution: {executor: local}\n"
    )
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    run_recipe(load_recipe(str(recipe_file), []), executor="local")
    stats = json.loads((out / "_stats.json").read_text())
    page = out / "_report" / "index.html"
    if not page.exists():  # the run writes it when execution.report is on; build it here otherwise
        build_report(str(out))
    dom, _ = render_in_chromium(page, tmp_path, "engine")
    assert_funnel_matches(dom, stats)
    assert "too_short" in dom


def test_quickstart_report(tmp_path: Path, quickstart_local: tuple[Path, object]) -> None:
    """The quickstart recipe, run locally (the lead's recipe: the packaged sample WARC); its report's funnel matches
    its _stats.json once rendered in Chromium."""
    out = tmp_path / "quickstart"  # a copy: the shared run's folder stays as the run left it
    shutil.copytree(quickstart_local[0], out)
    stats = json.loads((out / "_stats.json").read_text())
    page = Path(build_report(str(out)))
    dom, shot = render_in_chromium(page, tmp_path, "quickstart")
    assert_funnel_matches(dom, stats)
    assert shot.stat().st_size > 20_000
    for column in ("id", "text", "url", "payload_digest"):  # identifiers and core columns are never plotted
        assert f'id="dist-{column}"' not in dom


# -- the page itself (no browser) -----------------------------------------------------------------------------


def test_report_is_self_contained_escaped_and_redacted(tmp_path: Path) -> None:
    stats = fabricate_run(tmp_path / "out", n_docs=600, shards=2)
    page = render_report(stats, out=str(tmp_path / "out"))
    assert "<script" not in page.lower(), "the page runs no scripts"
    assert not re.search(r'(src|href)="(https?:)?//', page.replace('href="https://', 'href="LINK'))
    assert "<link" not in page and "@import" not in page and "url(http" not in page
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert '"><img src=x' not in page  # a sample URL cannot break out of its attribute
    assert "sk-should-never-show" not in page  # secrets in a recipe are masked
    assert page.count("<svg") >= 6  # funnel, removals, length, language, scores, cluster sizes, token counts
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "element ids are unique across the inlined plots"
    for col in ("language", "language_score", "cluster_size", "quality_score", "token_count", "length_chars"):
        assert f'id="dist-{col}"' in page


def test_report_handles_sparse_stats(tmp_path: Path) -> None:
    """A run whose steps recorded nothing but counts (no samples, no distributions, zero documents)."""
    data = {
        "recipe": {},
        "run": {},
        "steps": [
            {"key": "a", "step": "a", "stats": {"docs_in": 0, "docs_out": 0}},
            {"key": "b", "step": "b", "fingerprint": "f", "stats": {"docs_in": 0, "docs_out": 0, "removed": {"x": 0}}},
        ],
    }
    page = render_report(data)
    assert 'id="funnel-2"' in page and "No step removed any document" in page
    with pytest.raises(ReportError, match="no steps"):
        render_report({"steps": []})


def test_report_survives_odd_distributions() -> None:
    """NaN/inf scores, constants, booleans, empty lists, hostile category names, samples without text."""
    dists = {
        "length_chars": {"kind": "numeric", "values": [5.0] * 10},
        "score": {"kind": "numeric", "values": [float("nan"), 0.5, float("inf"), 0.7]},
        "all_nan": {"kind": "numeric", "values": [float("nan")]},
        "empty": {"kind": "numeric", "values": []},
        "flag": {"kind": "numeric", "values": [0.0, 1.0, 1.0]},
        "domain": {"kind": "categorical", "counts": {"<b>x</b>": 3, "(other)": 2}},
    }
    data = {
        "recipe": {"name": "<odd>"},
        "run": {"wall_seconds": 0},
        "steps": [
            {
                "key": "s",
                "step": "s",
                "stats": {
                    "docs_in": 4,
                    "docs_out": 3,
                    "removed": {"r<1>": 1},
                    "distributions": dists,
                    "samples": {
                        "kept": [{"id": None, "url": None, "excerpt": None}],
                        "removed": {"r<1>": [{"id": "i", "url": "javascript:x()", "excerpt": ""}]},
                    },
                },
            }
        ],
    }
    page = render_report(data)
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert 'href="javascript' not in page  # only http(s) URLs become links
    assert 'id="dist-score"' in page and 'id="dist-flag"' in page and 'id="dist-all_nan"' not in page


def test_build_report_needs_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ReportError, match="_stats.json"):
        build_report(str(tmp_path))
    assert main_report([str(tmp_path)]) == 2
    assert "curate run" in capsys.readouterr().err


def test_cli_report_and_large_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from curate.cli import main

    (tmp_path / "_stats.json").write_text(json.dumps(fabricate_stats(n_docs=1_000_000, shards=500)))
    assert main(["report", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "_report" / "index.html")
    page = (tmp_path / "_report" / "index.html").read_text()
    assert 'data-field="docs_in" data-value="1000000"' in page


# -- curate inspect ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("inspect") / "out"
    fabricate_run(out, n_docs=600, shards=2)
    return out


def test_inspect_kept_documents(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from curate.inspect import main_inspect

    assert main_inspect([str(run_dir / "02_language_id"), "-n", "3", "--chars", "60"]) == 0
    out = capsys.readouterr().out
    assert out.count("<urn:uuid:") == 3 and "language_score" in out and "… (" in out


def test_inspect_rejected_by_reason(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from curate.inspect import find_documents, inspect

    table, facts = find_documents(str(run_dir / "02_language_id"), reason="language_low_score", n=4)
    assert facts["uri"].endswith("rejected") and table.num_rows == 4
    assert set(table.column("reason").to_pylist()) == {"language_low_score"}
    inspect(str(run_dir / "02_language_id" / "rejected"), reason="language_not_kept", n=2, columns=["id", "language"])
    out = capsys.readouterr().out
    assert "language_not_kept" in out and "removed in the run" in out and "language " in out


def test_inspect_errors_say_what_to_do(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from curate.cli import main
    from curate.inspect import InspectError, inspect

    with pytest.raises(InspectError, match="reasons there: language_not_kept"):
        inspect(str(run_dir / "02_language_id"), reason="no_such_reason")
    with pytest.raises(InspectError, match="02_language_id"):  # pointed at OUT: lists the step folders
        inspect(str(run_dir))
    assert main(["inspect", str(run_dir / "01_warc_extract"), "-n", "1"]) == 0
    assert "<urn:uuid:" in capsys.readouterr().out


def test_hostile_text_printed_literally(run_dir: Path) -> None:
    from rich.console import Console

    from curate.inspect import inspect

    console = Console(record=True, width=200, file=open(os.devnull, "w"))
    inspect(str(run_dir / "01_warc_extract"), n=1, console=console, chars=200)
    assert "<b>bold</b>" in console.export_text()  # shown as typed, not parsed as markup


def test_real_data_dedup_tokenize_pack_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real web documents (HPLT v2 inspection set, with planted exact copies) through the real exact and MinHash
    dedup, tokenize and pack steps; the rendered funnel matches _stats.json, including the tokens pack counts."""
    source = shared_data("quality_labels", "hplt_v2_inspection", "hplt_v2_annotated.jsonl")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    from curate.pipeline import run_recipe
    from curate.recipe import load_recipe

    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()[:1500]]
    rows += rows[:200]  # exact copies for exact_dedup to find
    inputs = tmp_path / "in"
    inputs.mkdir()
    for s in range(2):
        part = rows[s::2]
        pq.write_table(
            pa.table(
                {
                    "id": [f"{r['id']}-{s}-{i}" for i, r in enumerate(part)],
                    "text": [r["text"] for r in part],
                    "url": [f"https://hplt.example/{r['lang']}/{r['id']}" for r in part],
                    "date": ["2024"] * len(part),
                    "source": ["hplt_v2"] * len(part),
                }
            ),
            inputs / f"part{s}.parquet",
        )
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.train_from_iterator(
        (r["text"] for r in rows[:300]),
        trainers.BpeTrainer(
            vocab_size=1000,
            special_tokens=["<|endoftext|>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    out = tmp_path / "out"
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(
        f"name: hplt-dedup-tokenize\ninput: {{paths: ['{inputs}/*.parquet']}}\noutput: {out}\nsteps:\n"
        "  - exact_dedup: {keep_rejected: true}\n  - minhash_dedup: {}\n"
        f"  - tokenize: {{tokenizer: {tmp_path / 'tokenizer.json'}}}\n  - pack: {{seq_len: 512}}\n"
        "execution: {executor: local}\n"
    )
    run_recipe(load_recipe(str(recipe_file), []), executor="local")
    stats = json.loads((out / "_stats.json").read_text())
    dom, _ = render_in_chromium(out / "_report" / "index.html", tmp_path, "hplt")
    assert_funnel_matches(dom, stats)
    funnel = funnel_from_dom(dom)
    assert stats["steps"][0]["stats"]["removed"].get("exact_duplicate", 0) >= 200
    assert funnel[stats["steps"][-1]["key"]]["tokens"][2] == "counter"  # pack's tokens:train + tokens:valid


def test_report_shows_input_files_that_read_badly(tmp_path: Path) -> None:
    """A real WARC beside a ``warc.paths.gz`` passed as a WARC: the report names the unreadable file and why (the
    warning `curate run` prints, stages/warc/health.py), above the funnel, and not the good file."""
    import gzip

    import lxml.html

    from curate.pipeline import run_recipe
    from curate.recipe import load_recipe

    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(REPO / "curate" / "data" / "sample.warc.gz", inputs / "good.warc.gz")
    (inputs / "paths.warc.gz").write_bytes(gzip.compress(b"crawl-data/CC-MAIN-2024-22/segments/1/a.warc.gz\n" * 9))
    out = tmp_path / "out"
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(
        f"name: input-health\ninput: {{paths: ['{inputs}/*.warc.gz']}}\noutput: {out}\n"
        "steps:\n  - warc_extract: {extract: false}\nexecution: {executor: local}\n"
    )
    run_recipe(load_recipe(str(recipe_file), []), executor="local")
    page = Path(build_report(str(out)))
    dom, _ = render_in_chromium(page, tmp_path, "warnings")
    tree = lxml.html.fromstring(dom)
    items = [li.text_content() for li in tree.xpath('//section[@id="input-warnings"]//li')]
    assert items == ["paths: no record could be read (empty, or not a WARC/WET/ARC file)"]
    assert dom.index('id="input-warnings"') < dom.index('id="funnel"')
    # without warnings there is no such section
    assert 'id="input-warnings"' not in render_report(json.loads((out / "_stats.json").read_text()), str(out))

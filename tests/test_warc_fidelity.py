"""Reader fidelity (issue 13): real records from the shared WARCs, rewritten with one real-world quirk each, must
give the same document as the original; what cannot be read is counted under its own reason, never silently."""

from __future__ import annotations

import gzip
import io
import re

import pyarrow as pa
import pytest
from conftest import shared_data

from curate.stage import SourceFile
from curate.stages import WarcExtract
from curate.stages.warc.native import available as native_available
from curate.stages.warc.stream import gzip_members

DOLMA = ("warc", "real_crawls", "dolma__sample-0000.warc.gz")


def read(data: bytes, name: str = "x.warc", **params) -> tuple[pa.Table, dict[str, int]]:
    step = WarcExtract(extract=False, **params)
    tables, counters = [], {}
    for out in step.read(SourceFile.from_bytes(name, data)):
        tables.append(out.kept)
        for k, v in out.counters.items():
            counters[k] = counters.get(k, 0) + v
    return (pa.concat_tables(tables) if tables else pa.table({})), counters


def split_record(record: bytes) -> tuple[bytes, bytes, bytes]:
    """``(WARC head, HTTP head, HTTP body)`` of one uncompressed response record (trailing CRLFCRLF dropped)."""
    warc_head, _, rest = record.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^content-length:\s*(\d+)", warc_head).group(1))
    block = rest[:length]
    http_head, _, body = block.partition(b"\r\n\r\n")
    return warc_head, http_head, body


def build(warc_head: bytes, block: bytes) -> bytes:
    """A WARC record with ``block`` and a Content-Length that fits it (WARC 1.1 §5.3)."""
    head = re.sub(rb"(?im)^content-length:[^\r\n]*", b"Content-Length: %d" % len(block), warc_head)
    return head + b"\r\n\r\n" + block + b"\r\n\r\n"


@pytest.fixture(scope="module")
def responses() -> list[tuple[bytes, bytes, bytes]]:
    """The HTML responses of a real wget crawl (dolma sample-0000: 22 pages), as (WARC head, HTTP head, body)."""
    out = []
    for member in gzip_members(shared_data(*DOLMA).read_bytes()):
        record = gzip.decompress(member)
        if b"WARC-Type: response" in record[:2000] and b"text/html" in record[:4000]:
            out.append(split_record(record))
    assert len(out) >= 20
    return out


def original(responses, n: int = 5) -> tuple[pa.Table, bytes]:
    data = b"".join(build(w, h + b"\r\n\r\n" + b) for w, h, b in responses[:n])
    table, counters = read(data)
    assert table.num_rows == n, counters
    return table, data


def with_status_line(responses, status_line: bytes, n: int = 5) -> bytes:
    out = b""
    for warc_head, http_head, body in responses[:n]:
        head = re.sub(rb"^HTTP/1\.[01] 200 OK", status_line, http_head)
        assert head != http_head
        out += build(warc_head, head + b"\r\n\r\n" + body)
    return out


def assert_same_documents(responses, data: bytes, n: int = 5) -> None:
    table, counters = read(data)
    expected, _ = original(responses, n)
    assert counters.get("html_records") == n, counters
    assert table.column("text").to_pylist() == expected.column("text").to_pylist()
    assert table.column("http_status").to_pylist() == [200] * n


# -- status line quirks (each one seen in real archives; warcio accepts them) -------------------------------------
def test_doubled_protocol_token(responses):
    assert_same_documents(responses, with_status_line(responses, b"HTTP/1.1 HTTP/1.1 200 OK"))


def test_missing_protocol_token(responses):
    assert_same_documents(responses, with_status_line(responses, b"200 OK"))


def test_missing_reason_phrase(responses):
    assert_same_documents(responses, with_status_line(responses, b"HTTP/1.1 200"))


def test_lowercase_protocol(responses):
    assert_same_documents(responses, with_status_line(responses, b"http/1.0 200 OK"))


def test_http2_status_line(responses):
    assert_same_documents(responses, with_status_line(responses, b"HTTP/2 200"))


# -- header line quirks ----------------------------------------------------------------------------------------
def test_bare_lf_http_head(responses):
    data = b"".join(build(w, h.replace(b"\r\n", b"\n") + b"\n\n" + b) for w, h, b in responses[:5])
    assert_same_documents(responses, data)


def test_folded_and_spaced_headers(responses):
    data = b""
    for warc_head, http_head, body in responses[:5]:
        # "Content-Type: text/html; charset=utf-8" -> "Content-Type :\r\n text/html; charset=utf-8" (obs-fold)
        head = re.sub(rb"(?im)^content-type:\s*", b"Content-Type :\r\n   ", http_head)
        assert head != http_head
        data += build(warc_head, head + b"\r\n\r\n" + body)
    assert_same_documents(responses, data)


def test_unparsable_http_head_is_skipped_under_its_own_reason(responses):
    warc_head, http_head, body = responses[0]
    broken = build(warc_head, b"\x00\x17garbage that is no status line\r\n" + http_head + b"\r\n\r\n" + body)
    _, good = original(responses, 2)
    table, counters = read(broken + good)
    assert table.num_rows == 2 and counters["skipped_bad_http_headers"] == 1
    assert "skipped_non_html" not in counters  # the right reason, not a wrong one


# -- damaged framing and junk input ------------------------------------------------------------------------------
def test_absurd_content_length_loses_only_its_record_gzip(responses):
    records = [build(w, h + b"\r\n\r\n" + b) for w, h, b in responses[:4]]
    bad = re.sub(rb"(?im)^content-length:[^\r\n]*", b"Content-Length: 1000000000000000", records[1])
    data = b"".join(gzip.compress(r) for r in (records[0], bad, records[2], records[3]))
    table, counters = read(data, "x.warc.gz")
    expected, _ = original(responses, 4)
    texts = expected.column("text").to_pylist()
    assert table.column("text").to_pylist() == [texts[0], texts[2], texts[3]]
    assert counters["skipped_bad_length"] == 1


def test_absurd_content_length_loses_only_its_record_plain(responses, tmp_path):
    records = [build(w, h + b"\r\n\r\n" + b) for w, h, b in responses[:4]]
    bad = re.sub(rb"(?im)^content-length:[^\r\n]*", b"Content-Length: 1000000000000000", records[1])
    path = tmp_path / "x.warc"
    path.write_bytes(records[0] + bad + records[2] + records[3])
    step = WarcExtract(extract=False)
    outs = list(step.read(SourceFile(str(path), lambda: open(path, "rb"))))
    urls = [u for o in outs for u in o.kept.column("url").to_pylist()]
    assert len(urls) == 3 and sum(o.counters.get("skipped_bad_length", 0) for o in outs) == 1


class Pipe(io.RawIOBase):
    """A non-seekable byte stream (a pipe, a download read as it arrives): no size, no going back."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data.read(min(len(buffer), 1 << 16))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def read_layout(data: bytes, layout: str) -> tuple[pa.Table, dict[str, int]]:
    """Read uncompressed WARC ``data`` as a plain seekable file, a plain pipe, or one single gzip member."""
    if layout == "single-member gzip":
        return read(gzip.compress(data), "x.warc.gz")
    if layout == "plain pipe":
        step = WarcExtract(extract=False)
        tables, counters = [], {}
        for out in step.read(SourceFile("x.warc", lambda: Pipe(data))):
            tables.append(out.kept)
            for k, v in out.counters.items():
                counters[k] = counters.get(k, 0) + v
        return pa.concat_tables(tables), counters
    return read(data)


LAYOUTS = ["single-member gzip", "plain pipe", "plain file"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("length", [10**15, 50_000_000])
def test_wrong_content_length_loses_only_its_record_in_any_layout(responses, layout, length):
    """Nothing but the end of the stream bounds a block here: an absurd length (beyond MAX_BLOCK_BYTES) resyncs at
    once, a plausible one is proven wrong when the stream ends inside it; either way reading resumes at the next
    record header, past a ``WARC/`` line of the damaged body that starts no header block."""
    records = [build(w, h + b"\r\n\r\n" + b) for w, h, b in responses[:5]]
    bad = re.sub(rb"(?im)^content-length:[^\r\n]*", b"Content-Length: %d" % length, records[1])
    bad = bad.replace(b"\r\n\r\n", b"\r\n\r\nWARC/1.0 is the format of this archive\r\n", 1)
    table, counters = read_layout(records[0] + bad + b"".join(records[2:]), layout)
    texts = original(responses, 5)[0].column("text").to_pylist()
    assert table.column("text").to_pylist() == [texts[0]] + texts[2:], counters
    assert counters["skipped_bad_length"] == 1 and counters["records"] == 5, counters
    assert "skipped_truncated" not in counters and "bad_length_lookahead_cut" not in counters


@pytest.mark.parametrize("layout", LAYOUTS + ["gzip per record"])
def test_warc_lines_inside_a_block_that_fits_are_no_resync(responses, layout):
    """A real record whose body holds a whole WARC record header at a line start (a WARC about WARCs) is read
    intact: its Content-Length fits, so it is never second-guessed."""
    warc_head, http_head, body = responses[0]
    inner = (
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:inner>\r\nContent-Length: 4\r\n\r\nabcd\r\n\r\n"
    )
    cut = body.index(b"\n") + 1
    records = [build(warc_head, http_head + b"\r\n\r\n" + body[:cut] + inner + body[cut:])]
    records += [build(w, h + b"\r\n\r\n" + b) for w, h, b in responses[1:3]]
    if layout == "gzip per record":
        table, counters = read(b"".join(gzip.compress(r) for r in records), "x.warc.gz")
    else:
        table, counters = read_layout(b"".join(records), layout)
    texts = table.column("text").to_pylist()
    assert counters["records"] == 3 and len(texts) == 3, counters
    assert "WARC-Record-ID: <urn:uuid:inner>" in texts[0]
    assert texts[1:] == original(responses, 3)[0].column("text").to_pylist()[1:]


def test_stream_cut_inside_a_record_is_truncated_not_bad_length(responses):
    """No record header after the last record's headers: the stream was cut, the length is not proven wrong."""
    records = [build(w, h + b"\r\n\r\n" + b) for w, h, b in responses[:3]]
    data = b"".join(records)[:-500]
    for layout in LAYOUTS:
        table, counters = read_layout(data, layout)
        assert table.num_rows == 2 and counters["skipped_truncated"] == 1, (layout, counters)
        assert "skipped_bad_length" not in counters


def test_lookahead_keeps_at_most_its_cap(responses, monkeypatch):
    """Memory stays bounded: the look-ahead keeps WATCH_CAP bytes after the damaged record's headers; records past
    them are lost when the length is proven wrong only at the end of the stream, and that is counted
    (``bad_length_lookahead_cut``), never silent."""
    from curate.stages.warc import stream as warc_stream

    records = [build(w, h + b"\r\n\r\n" + b) for w, h, b in responses[:6]]
    bad = re.sub(rb"(?im)^content-length:[^\r\n]*", b"Content-Length: 50000000", records[0])
    block = len(bad) - bad.index(b"\r\n\r\n") - 4  # what follows the damaged record's headers: its block, then
    monkeypatch.setattr(warc_stream, "WATCH_CAP", block + sum(map(len, records[1:3])))  # records 1 and 2 fit
    table, counters = read_layout(bad + b"".join(records[1:]), "plain pipe")
    texts = original(responses, 6)[0].column("text").to_pylist()
    assert table.column("text").to_pylist() == texts[1:3], counters
    assert counters["skipped_bad_length"] == 1 and counters["bad_length_lookahead_cut"] == 1


def test_garbage_between_records_is_counted(responses):
    records = [build(w, h + b"\r\n\r\n" + b) for w, h, b in responses[:3]]
    table, counters = read(records[0] + b"\x00junk\r\nmore junk\r\n" + records[1] + b"zzz\n" + records[2])
    assert table.num_rows == 3 and counters["garbage_between_records"] == 2


@pytest.mark.parametrize(
    "name,data",
    [
        ("empty.warc", b""),
        ("warc.paths.gz", gzip.compress(b"crawl-data/CC-MAIN-2024-22/segments/1/warc/a.warc.gz\n" * 50)),
        ("notes.txt.gz", gzip.compress(b"Plain text, no archive at all.\n" * 20)),
        ("random.warc.gz", bytes(range(256)) * 40),
    ],
)
def test_junk_input_is_counted_not_silent(name, data):
    table, counters = read(data, name)
    assert table.num_rows == 0 and counters["files_without_records"] == 1


# -- per-file warnings and --strict ------------------------------------------------------------------------------
def test_run_warns_about_a_file_read_as_nothing_and_strict_fails(tmp_path, responses, capsys):
    """A good WARC beside a ``warc.paths.gz`` passed as a WARC: a warning naming the file; ``--strict``: exit 3."""
    import json

    from curate.cli import EXIT_INPUT_WARNINGS, main

    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "good.warc.gz").write_bytes(gzip.compress(original(responses, 2)[1]))
    (inputs / "paths.warc.gz").write_bytes(gzip.compress(b"crawl-data/CC-MAIN-2024-22/segments/1/a.warc.gz\n" * 9))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        json.dumps(
            {
                "name": "health",
                "input": {"paths": [str(inputs / "*.warc.gz")]},
                "output": str(tmp_path / "out"),
                "steps": [{"warc_extract": {"extract": False}}],
            }
        )
    )
    assert main(["run", str(recipe), "--executor", "local", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "paths.warc.gz: no record could be read" in err and "good.warc.gz" not in err
    assert main(["run", str(recipe), "--executor", "local", "--quiet", "--strict"]) == EXIT_INPUT_WARNINGS
    assert "--strict" in capsys.readouterr().err


def test_file_warning_for_one_dominant_damage_reason():
    from curate.stages.warc.health import file_warning

    # the archive: 1,020 responses (plus their requests) whose HTTP heads could not be parsed
    assert "skipped_bad_http_headers" in file_warning(
        {"records": 2041, "skipped_request": 1020, "skipped_warcinfo": 1, "skipped_bad_http_headers": 1020}
    )
    # a normal crawl: most records are requests, metadata and non-HTML responses
    assert (
        file_warning(
            {
                "records": 300,
                "skipped_request": 100,
                "skipped_metadata": 100,
                "skipped_non_html": 60,
                "documents": 38,
                "extract_timeout": 2,
            }
        )
        is None
    )


# -- deterministic bounds before the time limit ------------------------------------------------------------------
def test_pathologically_nested_page_is_skipped_by_its_shape_not_by_the_clock(responses):
    """100k nested ``<div>`` (1.1 MB): resiliparse took 9.5 min on it; the depth bound skips it at once, on any
    machine, under its own reason."""
    pytest.importorskip("resiliparse")
    warc_head, http_head, _ = responses[0]
    head = re.sub(rb"(?im)^content-type:[^\r\n]*", b"Content-Type: text/html", http_head)

    def nested(n: int) -> bytes:
        deep = b"<html><body>" + b"<div>" * n + b"text" + b"</div>" * n + b"</body></html>"
        return build(warc_head, head + b"\r\n\r\n" + deep)

    data = nested(100_000) + nested(20_000) + original(responses, 1)[1]
    for extractor in ("resiliparse", "trafilatura"):
        step = WarcExtract(extractor=extractor, timeout_s=60)
        counters = {}
        for out in step.read(SourceFile.from_bytes("x.warc", data)):
            for k, v in out.counters.items():
                counters[k] = counters.get(k, 0) + v
        step.close()
        assert counters["skipped_too_many_elements"] == 1 and counters["skipped_too_deep"] == 1, counters
        assert counters["documents"] == 1, (extractor, counters)


def test_shape_skips_comments_and_raw_text_and_sums_depths():
    """Tags inside comments and ``<script>`` are no elements (a page's JS templates made its depth look like 1,534);
    self-closing and void tags never stay open; total depth is the sum of every element's ancestors."""
    from curate.stages.warc.bounds import over_bounds, shape

    page = (
        "<html><body><!-- <div><div> --><script>var t = '<span><span><span>';</script>"
        "<div><p>a<br>b</p><svg><path d='x'/></svg><div><p>c</p></div></div></body></html>"
    )
    # depths: html 0, body 1, script 2, div 2, p 3, br 4, svg 3, path 4, div 3, p 4 (sum 26; deepest open: 5)
    assert shape(page) == (10, 5, 26)
    chain = "<div>" * 2_000 + "x" + "</div>" * 2_000  # 2,000 deep: within max_depth, over max_total_depth
    assert over_bounds(chain, 50_000, 5_000, 1_000_000) == "too_nested"
    assert over_bounds(chain, 50_000, 1_999, 10_000_000) == "too_deep"
    assert over_bounds(chain, 50_000, 5_000, 10_000_000) is None


#: what the size-bounds regex turns on: tag punctuation, comments, the raw-text names in every case (with the letters
#: IGNORECASE maps onto ASCII ones: ſ, İ, ı, K), void names, word characters after a name, Unicode whitespace
_SHAPE_PIECES = [
    "<",
    "<",
    ">",
    ">",
    "/",
    "//",
    "!",
    "-",
    "--",
    "<!--",
    "-->",
    "<!---->",
    "</",
    "/>",
    " ",
    "\t",
    "\n",
    "\xa0",
    "\x85",
    "\u2003",
    "\x1c",
    "=",
    '"',
    "'",
    "x",
    "_",
    "1",
    "é",
    "€",
    "\U0001f600",
    "script",
    "SCRIPT",
    "Script",
    "\u017fcript",
    "scr\u0130pt",
    "scr\u0131pt",
    "style",
    "STYLE",
    "\u017ftyle",
    "textarea",
    "tExtarea",
    "title",
    "tİtle",
    "t\u0131tle",
    "div",
    "DIV",
    "p",
    "br",
    "BR",
    "img",
    "lin\u212a",
    "keygen",
    "\u212aeygen",
    "wbr",
    "input",
    "a-b",
    "h1",
    "span",
    "\u0130",
    "\u0131",
    "\u017f",
    "\u212a",
]


@pytest.mark.skipif(native_available() is False, reason="the compiled module _native is not built")
def test_native_shape_reads_the_tokens_the_regex_reads():
    """``_native.html_shape`` against the regex pass on 30,000 strings built from the pieces the regex turns on, on
    tag soup around raw-text elements, and on every HTML page of the shared WARCs (counted exactly: the bounds
    decide which pages are skipped)."""
    import random

    from curate.stages.warc.bounds import over_bounds, shape
    from curate.stages.warc.native import module

    rng = random.Random(20261128)
    built = ["".join(rng.choices(_SHAPE_PIECES, k=rng.randint(0, 30))) for _ in range(30_000)]
    built += [
        f"<{a}{name}{b}>{body}</{c}{close}{d}>{tail}"
        for name in ("script", "style", "textarea", "title")
        for close in (name, name.upper(), name.replace("s", "\u017f").replace("i", "\u0130"))
        for a, b, c, d in (("", "", "", ""), ("", " x=1", "", " \u2003"), ("", "s", "", ""), ("", "", "", "\x85"))
        for body in ("a<b>c", "</scrip>", "<!-- x -->")
        for tail in ("", "<p><br/></p>")
    ]
    differ = [text for text in built if module.html_shape(text) != shape(text, native=False)]
    assert not differ, [(text, module.html_shape(text), shape(text, native=False)) for text in differ[:5]]
    # over_bounds' cheap test: both counts in one pass, on one-, two- and four-byte strings alike
    assert all(module.tag_marks(text) == (text.count("<"), text.count("</")) for text in built)
    pages = [page for path in (shared_data("warc", "pages_with_gold", "dev_pages.warc.gz"),) for page in _html(path)]
    assert len(pages) > 1000
    assert all(module.html_shape(page) == shape(page, native=False) for page in pages)
    assert all(module.tag_marks(page) == (page.count("<"), page.count("</")) for page in pages)
    assert all(
        over_bounds(page, 2_000, 500, 50_000) == over_bounds(page, 2_000, 500, 50_000, native=False) for page in pages
    )


def _html(path) -> list[str]:
    step = WarcExtract(extract=False)
    tables = [out.kept for out in step.read(SourceFile(str(path), lambda: open(path, "rb")))]
    return pa.concat_tables(tables).column("text").to_pylist()


def test_resiliparse_time_limit_is_enforced_in_a_child_process():
    pytest.importorskip("resiliparse")
    from curate.stages.warc.extractors import TimeLimitedExtractor

    assert TimeLimitedExtractor("resiliparse", {}, 1.0).mode == "process"  # a signal cannot stop its C++ code
    assert TimeLimitedExtractor("trafilatura", {}, 1.0).mode == "signal"


#: the slowest real page of the shared WARCs (bench/extract_bounds.py: 35,271 elements, 1.3-2.1 trafilatura CPU-s;
#: against datatrove's 1 s limit it flips between kept and timed out with machine load)
SLOWEST = (
    ("warc", "real_crawls", "aut__IAH-20080430-blackbook_archive.org.warc.gz"),
    b"http://www.archive.org/iathreads/forum-display.php?poster=William%20Tell",
)


@pytest.fixture(scope="module")
def slowest_page() -> bytes:
    """The slowest real page's response record, as a one-record WARC built from the shared data at test time."""
    parts, url = SLOWEST
    path = shared_data(*parts)
    for member in gzip_members(path.read_bytes()):
        record = gzip.decompress(member)
        if b"WARC-Type: response" in record[:2000] and url + b"\r\n" in record[:2000]:
            return record
    raise AssertionError(f"{url!r} not in {path}")


@pytest.mark.parametrize("extractor", ["trafilatura", "resiliparse"])
def test_slowest_real_page_gives_the_same_output_under_cpu_load(slowest_page, extractor):
    """Same input, same output on a loaded machine: the slowest real page, extracted twice while other processes
    keep every core busy, is kept with the same text both times (the time limit counts CPU seconds and sits
    far above what the page needs; the bounds, not the clock, decide what is skipped)."""
    import os
    import subprocess
    import sys

    if extractor == "resiliparse":
        pytest.importorskip("resiliparse")
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    try:
        results = []
        for _ in range(2):
            step = WarcExtract(extractor=extractor)
            tables, counters = [], {}
            for out in step.read(SourceFile.from_bytes("slow.warc", slowest_page)):
                tables.append(out.kept)
                for k, v in out.counters.items():
                    counters[k] = counters.get(k, 0) + v
            step.close()
            texts = pa.concat_tables(tables).column("text").to_pylist()
            results.append((texts, {k: v for k, v in counters.items() if k.startswith(("extract", "skipped"))}))
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert results[0][1] == {} and len(results[0][0]) == 1 and len(results[0][0][0]) > 1000, results[0][1]
    assert results[1] == results[0]

"""warc_extract: every record of the real WARC/WET/ARC data read, bad input counted and skipped, charsets decoded."""

from __future__ import annotations

import gzip
import io
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import shared_data

from curate.registry import resolve
from curate.stage import SourceFile
from curate.stages import WarcExtract, read_warc
from curate.stages.warc.decode import dechunk, decode_html, normalise_charset, sniff_html
from curate.stages.warc.extractors import ExtractTimeout, TimeLimitedExtractor, _with_alarm
from curate.stages.warc.stream import gzip_members

DEV = ("warc", "pages_with_gold", "dev_pages.warc.gz")


def run(step: WarcExtract, path: Path | str, data: bytes | None = None) -> tuple[pa.Table, dict[str, int]]:
    source = (
        SourceFile.from_bytes(str(path), data) if data is not None else SourceFile(str(path), lambda: open(path, "rb"))
    )
    tables, counters = [], {}
    for out in step.read(source):
        tables.append(out.kept)
        for k, v in out.counters.items():
            counters[k] = counters.get(k, 0) + v
    table = pa.concat_tables(tables) if tables else pa.table({})
    return table, counters


def members(path: Path) -> list[bytes]:
    return gzip_members(path.read_bytes())


# -- synthetic records ---------------------------------------------------------------------------------------------
def warc_record(
    payload: bytes,
    http_headers: str | None = "Content-Type: text/html",
    rec_type: str = "response",
    url: str = "http://example.com/",
    extra: str = "",
) -> bytes:
    block = (
        payload
        if http_headers is None
        else f"HTTP/1.1 200 OK\r\n{http_headers}\r\n\r\n".encode()
        if http_headers
        else b"HTTP/1.1 200 OK\r\n\r\n"
    )
    if http_headers is not None:
        block += payload
    head = (
        f"WARC/1.0\r\nWARC-Type: {rec_type}\r\nWARC-Record-ID: <urn:uuid:{abs(hash((payload, url)))}>\r\n"
        f"WARC-Target-URI: {url}\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n{extra}"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(block)}\r\n\r\n"
    )
    return head.encode() + block + b"\r\n\r\n"


def html_page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body><article><p>{body}</p></article></body></html>"


LONG = (
    "Die Stadtbibliothek öffnet am Montag wieder ihre Türen für alle Leserinnen und Leser. "
    "Nach der Renovierung gibt es mehr Platz für Bücher, Zeitschriften und einen neuen Lesesaal. "
) * 3


# -- real data -----------------------------------------------------------------------------------------------------
def test_dev_pages_every_html_record_is_read():
    table, counters = run(WarcExtract(extract=False, keep_headers=["WARC-Gold-Id"]), shared_data(*DEV))
    assert counters["records"] == 1120
    assert counters["html_records"] == 1120
    assert table.num_rows == 1120
    assert len(set(table.column("id").to_pylist())) == 1120
    assert table.column("warc_gold_id").null_count == 0
    assert set(table.column("http_status").to_pylist()) == {200}
    assert table.schema.field("http_status").type == pa.int32()
    assert all(text.lstrip()[:1] == "<" for text in table.column("text").to_pylist()[:50])


def test_dev_pages_extraction_on_a_sample(tmp_path):
    parts = members(shared_data(*DEV))
    sample = tmp_path / "sample.warc.gz"
    small = [p for p in parts if len(p) < 25_000]
    sample.write_bytes(b"".join(small[:: len(small) // 12][:12]))  # 12 pages, both gold sources
    table, counters = run(WarcExtract(keep_headers=["WARC-Gold-Id"], timeout_s=0), sample)
    assert counters["html_records"] == 12
    assert table.num_rows + counters.get("extract_empty", 0) == 12
    assert table.num_rows >= 11
    gold = {}
    with gzip.open(shared_data("warc", "pages_with_gold", "dev_pages.gold.jsonl.gz"), "rt") as f:
        for line in f:
            import json

            row = json.loads(line)
            gold[row["id"]] = row
    found = total = 0
    for gid, text in zip(table.column("warc_gold_id").to_pylist(), table.column("text").to_pylist()):
        for snippet in gold[gid].get("with", []):
            total += 1
            found += snippet in text
    assert total >= 10 and found / total > 0.8


EDGE_EXPECTED = {
    # file: (html_records, documents at least, counters that must be present)
    "aut__IAH-20080430-blackbook_ARC_format.arc.gz": (135, 100, {"skipped_non_html", "skipped_empty_payload"}),
    "cdxwriter__giant_html_431MB_uncompressed.warc.gz": (0, 0, {"skipped_too_large"}),
    "resiliparse__clueweb09-ja_quirk_WARC018.warc.gz": (29, 3, {"skipped_warcinfo"}),
    "warcio__example-iana.org-chunked.warc": (1, 1, {"skipped_request"}),
    "warcio__example-trunc.warc": (1, 1, {"skipped_request"}),
}


@pytest.mark.parametrize("name", sorted(EDGE_EXPECTED))
def test_edge_cases_pass_with_reasons(name):
    path = shared_data("warc", "edge_cases", name)
    html_records, min_docs, reasons = EDGE_EXPECTED[name]
    start = time.perf_counter()
    table, counters = run(WarcExtract(extractor="resiliparse" if name.endswith(".arc.gz") else "trafilatura"), path)
    assert time.perf_counter() - start < 120  # bounded (a generous ceiling, not a benchmark)
    assert counters.get("html_records", 0) == html_records
    assert table.num_rows >= min_docs
    assert reasons <= set(counters)
    documents = counters.get("documents", 0)
    skipped = sum(v for k, v in counters.items() if k.startswith("skipped_"))
    extract_lost = sum(counters.get(k, 0) for k in ("extract_empty", "extract_timeout", "extract_error"))
    assert documents + skipped + extract_lost == counters["records"]  # nothing vanishes without a reason


def test_giant_page_is_streamed_not_loaded():
    path = shared_data("warc", "edge_cases", "cdxwriter__giant_html_431MB_uncompressed.warc.gz")
    import tracemalloc

    tracemalloc.start()
    table, counters = run(WarcExtract(extract=False, oversize="truncate", max_html_bytes=2_000_000), path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert counters["truncated_too_large"] == 1 and table.num_rows == 1
    assert len(table.column("text")[0].as_py()) <= 2_000_000
    assert peak < 100_000_000  # 431 MB decompressed, never held


def test_chunked_payload_is_dechunked():
    table, _ = run(
        WarcExtract(extract=False), shared_data("warc", "edge_cases", "warcio__example-iana.org-chunked.warc")
    )
    html = table.column("text")[0].as_py()
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "\n001c37" not in html and not html.startswith("001c37")


def test_clueweb_quirks_charset_and_fake_gzip():
    path = shared_data("warc", "edge_cases", "resiliparse__clueweb09-ja_quirk_WARC018.warc.gz")
    table, _ = run(WarcExtract(extract=False), path)
    assert table.num_rows == 29
    assert set(table.column("charset").to_pylist()) == {"euc_jp"}
    assert "新作入荷" in table.column("text")[0].as_py()
    assert table.column("date")[0].as_py() == "2008-10-294T05:21:46-0700"  # invalid dates kept as written


def test_arc_records_get_ids_and_iso_dates():
    table, counters = run(
        WarcExtract(extract=False), shared_data("warc", "edge_cases", "aut__IAH-20080430-blackbook_ARC_format.arc.gz")
    )
    assert counters["records"] == 300  # 299 records + the filedesc header
    ids = table.column("id").to_pylist()
    assert len(set(ids)) == len(ids) and all(i.startswith("<urn:uuid:") for i in ids)
    assert table.column("date")[0].as_py() == "2008-04-30T20:48:34Z" or table.column("date")[0].as_py()[:4] == "2008"
    assert all(u.startswith("http") for u in table.column("url").to_pylist())


def test_wet_conversion_records_are_documents():
    cc = ("warc", "common_crawl_format")
    table, counters = run(
        WarcExtract(keep_headers=["WARC-Identified-Content-Language"]),
        shared_data(*cc, "whirlwind__CC-MAIN-2024-22_an.wikipedia_Escopete.warc.wet.gz"),
    )
    assert table.num_rows == 1 and "Escopete" in table.column("text")[0].as_py()
    assert table.column("warc_identified_content_language")[0].as_py()
    table, _ = run(
        WarcExtract(), shared_data(*cc, "CC-MAIN-20140820021334-00006-ip-10-180-136-8.ec2.internal.warc.wet")
    )
    assert table.num_rows == 3


def test_real_crawls_html_counts():
    expected = {
        "pywb__iana.warc.gz": 20,
        "ukwa__BL-20140325122341434-data.gov.uk-revisits.warc.gz": 7,
        "dolma__sample-0000.warc.gz": 22,
    }
    for name, html in expected.items():
        _, counters = run(WarcExtract(extract=False), shared_data("warc", "real_crawls", name))
        assert counters.get("html_records", 0) + counters.get("skipped_empty_payload", 0) == html, name
    _, counters = run(WarcExtract(extract=False), shared_data("warc", "real_crawls", "pywb__iana.warc.gz"))
    assert counters["skipped_revisit"] == 123


def test_read_warc_api():
    table = read_warc(str(shared_data("warc", "common_crawl_format", "jwarc__cc.warc.gz")))
    assert table.num_rows == 1
    assert table.column_names[:5] == ["id", "text", "url", "date", "source"]
    assert resolve("warc_extract") is WarcExtract


# -- damaged files -------------------------------------------------------------------------------------------------
@pytest.fixture(params=["isal", "zlib"])
def inflater(request, monkeypatch):
    """Both inflate back ends the stream may use (ISA-L from the `fast` extra, else zlib) meet damage alike."""
    import zlib

    from curate.stages.warc import stream

    if request.param == "zlib":
        monkeypatch.setattr(stream, "inflate", zlib)
        monkeypatch.setattr(stream, "INFLATE_ERRORS", (zlib.error,))
    else:
        isal_zlib = pytest.importorskip("isal.isal_zlib")
        assert stream.inflate is isal_zlib  # installed with the `fast` extra: the stream uses it
    return request.param


def three_member_warc() -> list[bytes]:
    return [
        gzip.compress(warc_record(html_page(f"Seite {i}. " + LONG).encode(), url=f"http://e.com/{i}")) for i in range(3)
    ]


def test_corrupt_gzip_member_is_skipped_and_reading_goes_on(inflater):
    parts = three_member_warc()
    bad = bytearray(parts[1])
    bad[len(bad) // 2 : len(bad) // 2 + 40] = b"\x00" * 40
    table, counters = run(WarcExtract(extract=False), "x.warc.gz", parts[0] + bytes(bad) + parts[2])
    assert sorted(table.column("url").to_pylist()) == ["http://e.com/0", "http://e.com/2"]
    assert counters["gzip_damaged_members"] == 1  # the damaged member's record is lost, counted here


def test_truncated_file_keeps_complete_records(inflater):
    parts = three_member_warc()
    data = b"".join(parts)
    table, counters = run(WarcExtract(extract=False), "x.warc.gz", data[: len(data) - len(parts[2]) // 2])
    assert table.column("url").to_pylist() == ["http://e.com/0", "http://e.com/1"]
    assert counters["skipped_truncated"] == 1 and counters["gzip_truncated_file"] == 1
    plain = b"".join(gzip.decompress(p) for p in parts)
    table, counters = run(WarcExtract(extract=False), "x.warc", plain[:-200])
    assert table.num_rows == 2 and counters["skipped_truncated"] == 1


def test_garbage_between_records_and_lf_only_headers():
    rec = warc_record(html_page(LONG).encode()).replace(b"\r\n", b"\n")
    data = (
        b"garbage line\n\x00\x00\n" + rec + b"more garbage\n" + warc_record(html_page(LONG).encode(), url="http://b/")
    )
    table, counters = run(WarcExtract(extract=False), "x.warc", data)
    assert table.num_rows == 2


# -- decoding ------------------------------------------------------------------------------------------------------
CHARSET_CASES = [
    # (payload, http headers, expected substring, expected charset)
    (
        html_page("Ça coûte 5 €").encode("cp1252"),
        "Content-Type: text/html; charset=windows-1252",
        "Ça coûte 5 €",
        "cp1252",
    ),
    (
        html_page("Ça coûte 5 €").encode("cp1252"),
        "Content-Type: text/html; charset=ISO-8859-1",
        "Ça coûte 5 €",
        "cp1252",
    ),  # WHATWG: latin1 labels decode as windows-1252
    (
        ("<html><head><meta charset='windows-1251'></head><body><p>Привет, мир</p></body></html>").encode("cp1251"),
        "Content-Type: text/html",
        "Привет, мир",
        "cp1251",
    ),
    (
        html_page("Grüße aus Köln").encode("utf-8"),
        "Content-Type: text/html; charset=iso-8859-1",
        "Grüße aus Köln",
        "utf-8",
    ),  # mislabelled UTF-8
    (b"\xef\xbb\xbf" + html_page("naïve café").encode("utf-8"), "Content-Type: text/html", "naïve café", "utf-8"),
    (
        html_page("これは日本語のテキストです。東京都の天気は晴れです。" * 5).encode("shift_jis"),
        "Content-Type: text/html",
        "日本語のテキスト",
        None,
    ),  # undeclared: detected
    (html_page("bad \xff\xfe bytes").encode("latin-1"), "Content-Type: text/html; charset=utf-8", "bad", "utf-8"),
    (
        html_page("falsches Label").encode(),
        "Content-Type: text/html; charset=x-no-such-charset",
        "falsches Label",
        "utf-8",
    ),
    (html_page("ohne Typ").encode(), "", "ohne Typ", "utf-8"),  # no Content-Type: sniffed as HTML
]


@pytest.mark.parametrize("payload,headers,expected,charset", CHARSET_CASES)
def test_charsets(payload, headers, expected, charset):
    table, counters = run(WarcExtract(extract=False), "x.warc", warc_record(payload, headers))
    assert table.num_rows == 1, counters
    assert expected in table.column("text")[0].as_py()
    if charset:
        assert table.column("charset")[0].as_py() == charset


def test_invalid_bytes_are_replaced_and_counted():
    payload = html_page("caf\xe9 ok").encode("latin-1")
    record = warc_record(payload, "Content-Type: text/html; charset=utf-8")
    table, counters = run(WarcExtract(extract=False), "x.warc", record)
    assert "\ufffd" in table.column("text")[0].as_py() and counters["charset_replaced"] == 1


def test_content_encoding_and_non_html():
    gz = gzip.compress(html_page(LONG).encode())
    recs = [
        warc_record(gz, "Content-Type: text/html\r\nContent-Encoding: gzip", url="http://gz/"),
        warc_record(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "", url="http://png/"),
        warc_record(b"body{color:red}", "Content-Type: text/css", url="http://css/"),
        warc_record(b"", "Content-Type: text/html", url="http://empty/"),
        warc_record(b"x" * 5000, "Content-Type: text/html", url="http://big/"),
        warc_record(html_page(LONG).encode(), "Content-Type: text/html", rec_type="revisit", url="http://r/"),
        warc_record(html_page(LONG).encode(), "Content-Type: text/html", rec_type="request", url="http://q/"),
    ]
    table, counters = run(WarcExtract(extract=False, max_html_bytes=4000), "x.warc", b"".join(recs))
    assert table.column("url").to_pylist() == ["http://gz/"]
    assert LONG.strip()[:40] in table.column("text")[0].as_py()
    assert counters["skipped_non_html"] == 2 and counters["skipped_empty_payload"] == 1
    assert counters["skipped_too_large"] == 1 and counters["skipped_revisit"] == 1
    assert counters["skipped_request"] == 1


def test_decode_helpers():
    assert dechunk(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n") == b"hello world"
    assert dechunk(b"not chunked at all") == b"not chunked at all"
    assert normalise_charset("ISO-8859-1") == "cp1252" and normalise_charset("gb2312") == "gb18030"
    assert normalise_charset("nonsense-charset") is None
    assert sniff_html(b"  \n<!doctype html><html>") and not sniff_html(b"%PDF-1.4")
    assert decode_html("héllo".encode(), None) == ("héllo", "utf-8", "utf-8", False)


def test_oversize_truncate_and_only_2xx():
    recs = warc_record(html_page(LONG).encode(), "Content-Type: text/html")
    not_found = warc_record(html_page(LONG).encode(), "Content-Type: text/html").replace(b"200 OK", b"404 NF")
    table, counters = run(WarcExtract(extract=False, only_2xx=True), "x.warc", recs + not_found)
    assert table.num_rows == 1 and counters["skipped_http_status"] == 1


# -- time limit ----------------------------------------------------------------------------------------------------
def test_signal_time_limit_interrupts_python_loops():
    def spin(_html: str) -> str:
        while True:
            try:
                sum(range(1000))
            except Exception:  # a library that swallows exceptions cannot swallow the timeout
                pass

    start = time.perf_counter()
    with pytest.raises(ExtractTimeout):
        _with_alarm(spin, "", 0.2)
    assert time.perf_counter() - start < 10


def test_process_time_limit_from_a_thread():
    results = {}
    ex = TimeLimitedExtractor("trafilatura", {"favor_precision": True}, 30.0)  # built in the main thread
    assert ex.mode == "signal"

    def work():
        results["mode"] = TimeLimitedExtractor("trafilatura", {}, 1.0).mode
        results["text"] = ex(html_page(LONG))  # called from another thread: runs in the child process

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(120)
    assert results["mode"] == "process"
    assert "Stadtbibliothek" in results["text"] and ex._sandbox is not None
    ex.close()


def test_extract_timeout_is_counted(monkeypatch):
    step = WarcExtract(timeout_s=1.0)
    step.ensure_setup()

    def slow(html: str) -> str:
        raise ExtractTimeout()

    monkeypatch.setattr(step, "_extractor", slow)
    table, counters = run(step, "x.warc", warc_record(html_page(LONG).encode()))
    assert table.num_rows == 0 and counters["extract_timeout"] == 1


def test_bytesio_source():
    data = io.BytesIO(gzip.compress(warc_record(html_page(LONG).encode())))
    table, _ = run(WarcExtract(), "x.warc.gz", data.getvalue())
    assert table.num_rows == 1 and "Stadtbibliothek" in table.column("text")[0].as_py()


def test_process_mode_kills_a_slow_page_and_recovers():
    ex = TimeLimitedExtractor("trafilatura", {"favor_precision": True}, 0.05, mode="process")
    ex.timeout_s = 60.0
    assert "Stadtbibliothek" in ex(html_page(LONG))  # child started and warm
    ex.timeout_s = 0.05
    with pytest.raises(ExtractTimeout):
        ex(html_page(LONG * 3000))  # ~1 MB of paragraphs: far more than 50 ms
    ex.timeout_s = 60.0
    assert "Stadtbibliothek" in ex(html_page(LONG))  # a fresh child took over
    ex.close()


def test_extraction_of_a_file_does_not_depend_on_files_read_before():
    """trafilatura's dedup cache is reset per file: the same WARC read twice by one worker gives the same text
    (otherwise a shard's output would depend on which shards Ray scheduled on that worker before)."""
    sample = Path(__file__).resolve().parents[1] / "curate" / "data" / "sample.warc.gz"
    stage = WarcExtract(timeout_mode="signal")
    runs = [
        pa.concat_tables([out.kept for out in stage.read(SourceFile(str(sample), lambda: sample.open("rb")))])
        for _ in range(2)
    ]
    texts = [run.column("text").to_pylist() for run in runs]
    assert texts[0] == texts[1] == read_warc(str(sample)).column("text").to_pylist()

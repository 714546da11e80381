"""Charsets (issue 13): real sentences re-encoded into legacy charsets, with and without a declaration, read back
to the original text; the chosen charset and how it was chosen are kept as columns."""

from __future__ import annotations

import pyarrow as pa
import pytest
from conftest import shared_data

from curate.stage import SourceFile
from curate.stages import WarcExtract

SENTENCES = ("langid", "lingua_testdata", "sentences")

#: WHATWG label -> (Python codec of that WHATWG encoding, a language written in it)
CASES = {
    "windows-1252": ("cp1252", "pt"),
    "windows-1250": ("cp1250", "cs"),
    "iso-8859-2": ("iso8859_2", "pl"),
    "windows-1251": ("cp1251", "ru"),
    "koi8-r": ("koi8_r", "ru"),
    "iso-8859-7": ("iso8859_7", "el"),
    "shift_jis": ("cp932", "ja"),
    "gb18030": ("gb18030", "zh"),
    "euc-kr": ("cp949", "ko"),
}


def page(lang: str, codec: str, n: int = 15, start: int = 0) -> str:
    """An HTML page of ``n`` real sentences of ``lang`` that ``codec`` represents (the others are left out)."""
    good = []
    for line in shared_data(*SENTENCES, f"{lang}.txt").read_text(encoding="utf-8").splitlines()[start:]:
        try:
            if line.strip() and line.encode(codec).decode(codec) == line:
                good.append(line.strip())
        except UnicodeEncodeError:
            continue
        if len(good) == n:
            break
    body = "".join(f"<p>{s}</p>" for s in good)
    return f"<!DOCTYPE html><html><head><title>{good[0][:40]}</title></head><body>{body}</body></html>"


def record(payload: bytes, content_type: str, i: int) -> bytes:
    block = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n\r\n".encode() + payload
    head = (
        f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{i}>\r\nWARC-Target-URI: http://x.example/{i}"
        f"\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: {len(block)}\r\n\r\n"
    )
    return head.encode() + block + b"\r\n\r\n"


def read(records: list[bytes]) -> pa.Table:
    step = WarcExtract(extract=False)
    return pa.concat_tables([o.kept for o in step.read(SourceFile.from_bytes("x.warc", b"".join(records)))])


@pytest.mark.parametrize("label", sorted(CASES))
def test_declared_charsets_decode_exactly(label):
    codec, lang = CASES[label]
    html = page(lang, codec)
    meta = html.replace("<head>", f'<head><meta charset="{label}">')
    table = read(
        [
            record(meta.encode(codec), "text/html", 0),
            record(html.encode(codec), f"text/html; charset={label.upper()}", 1),
        ]
    )
    assert table.column("text").to_pylist() == [meta, html]
    assert table.column("charset_source").to_pylist() == ["meta", "http"]


@pytest.mark.parametrize("label", sorted(CASES))
def test_undeclared_charsets_are_detected(label):
    codec, lang = CASES[label]
    pages = [page(lang, codec, start=start) for start in (0, 200, 400)]
    table = read([record(p.encode(codec), "text/html", i) for i, p in enumerate(pages)])
    right = sum(a == b for a, b in zip(table.column("text").to_pylist(), pages))
    assert right >= 2, label  # bench/charset_accuracy.py measures the whole corpus (0.99 of undeclared pages)
    assert set(table.column("charset_source").to_pylist()) == {"detected"}


def test_undeclared_western_pages_are_not_read_as_central_european():
    """The issue's garbling: undeclared windows-1252 Portuguese and Norwegian read as cp1250 (``reproduçăo``,
    ``ř`` for ``ø``)."""
    for lang in ("pt", "nb", "fr"):
        html = page(lang, "cp1252", n=40)
        assert not html.isascii()
        table = read([record(html.encode("cp1252"), "text/html", 0)])
        assert table.column("text")[0].as_py() == html
        assert table.column("charset")[0].as_py() == "cp1252"


def test_iso_8859_1_label_decodes_as_windows_1252():
    """WHATWG: the label ISO-8859-1 means windows-1252, so 0x80-0x9F are € ‚ “ ” … rather than C1 controls."""
    html = page("fr", "cp1252").replace("</p>", " « 5 € » “cité”</p>", 1)
    payload = html.replace("<head>", '<head><meta charset="ISO-8859-1">').encode("cp1252")
    table = read([record(payload, "text/html", 0)])
    assert "« 5 € » “cité”" in table.column("text")[0].as_py()
    assert table.column("charset")[0].as_py() == "cp1252"


def test_valid_utf8_is_preferred_when_undeclared():
    html = page("ru", "utf-8")
    table = read([record(html.encode("utf-8"), "text/html", 0)])
    assert table.column("text")[0].as_py() == html
    assert (table.column("charset")[0].as_py(), table.column("charset_source")[0].as_py()) == ("utf-8", "utf-8")

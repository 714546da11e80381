"""The quickstart sample curate/data/sample.warc.gz: reproducible, a valid WARC, and holding what its README promises.

The counts asserted here are the design of the sample (curate/data/README.md); other areas' tests may rely on them.
"""

from __future__ import annotations

import base64
import collections
import gzip
import hashlib
import importlib.util
import ipaddress
import itertools
import json
import re
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

DATA = Path(__file__).resolve().parents[1] / "curate" / "data"
WARC = DATA / "sample.warc.gz"
MANIFEST = DATA / "sample_manifest.json"

EXPECTED_CATEGORIES = {  # response records by manifest category
    "article": 28,
    "exact_duplicate": 4,
    "near_duplicate": 5,
    "code": 2,
    "math": 4,
    "qa": 1,
    "forum": 1,
    "pii": 1,
    "adult_url": 1,
    "boilerplate": 2,
    "cookie_wall": 1,
    "soft_404": 1,
    "spam": 7,
    "non_html": 1,
    "http_error": 1,
}
EXPECTED_ARTICLE_LANGUAGES = {"en": 12, "de": 4, "fr": 4, "es": 3, "it": 1, "nl": 1, "pt": 1, "ja": 1, "ru": 1}
EXPECTED_SPAM = {
    "keyword_stuffing",
    "repeated_lines",
    "product_list",
    "lorem_ipsum",
    "all_caps",
    "javascript",
    "very_short",
}


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("curate_make_sample", DATA / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def manifest() -> dict[str, dict]:
    return {m["url"]: m for m in json.loads(MANIFEST.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def texts(gen) -> dict[str, str]:
    return {f["url"]: f["text"] for f in gen.build_fetches() if "text" in f}


def _members(data: bytes) -> list[bytes]:
    """Decompress gzip member by member."""
    out = []
    while data:
        d = zlib.decompressobj(31)
        out.append(d.decompress(data) + d.flush())
        assert d.eof, "truncated gzip member"
        data = d.unused_data
    return out


def _sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _jaccard(a: str, b: str) -> float:
    sa, sb = _shingles(a), _shingles(b)
    return len(sa & sb) / len(sa | sb)


def test_regenerating_gives_identical_bytes(gen, tmp_path):
    warc, man = gen.write_sample(tmp_path)
    assert man.read_bytes() == MANIFEST.read_bytes(), "manifest differs: rerun curate/data/make_sample.py"
    new, committed = warc.read_bytes(), WARC.read_bytes()
    assert _members(new) == _members(committed), "records differ: rerun curate/data/make_sample.py and commit"
    if "ng" in zlib.ZLIB_RUNTIME_VERSION.lower():
        pytest.skip(f"zlib {zlib.ZLIB_RUNTIME_VERSION} deflates differently; records are identical")
    assert new == committed


def test_small_and_one_gzip_member_per_record():
    data = WARC.read_bytes()
    assert len(data) < 300_000
    members = _members(data)
    assert all(m.startswith(b"WARC/1.1\r\n") and m.count(b"\r\nWARC-Type: ") == 1 for m in members)
    assert gzip.decompress(data) == b"".join(members)


def test_lengths_and_digests_by_hand():
    """Independent of warcio: Content-Length, block and payload digests, unique ids, revisit points at a response."""
    ids, payload_digests, types = set(), {}, collections.Counter()
    for member in _members(WARC.read_bytes()):
        head, _, rest = member.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
        length = int(headers["Content-Length"])
        block = rest[:length]
        assert len(block) == length and rest[length:] == b"\r\n\r\n"
        assert headers["WARC-Block-Digest"] == _sha1(block)
        assert re.fullmatch(r"<urn:uuid:[0-9a-f-]{36}>", headers["WARC-Record-ID"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", headers["WARC-Date"])
        assert headers["WARC-Record-ID"] not in ids
        ids.add(headers["WARC-Record-ID"])
        types[headers["WARC-Type"]] += 1
        if headers["WARC-Type"] == "response":
            http_head, _, payload = block.partition(b"\r\n\r\n")
            assert headers["WARC-Payload-Digest"] == _sha1(payload)
            assert f"Content-Length: {len(payload)}".encode() in http_head
            payload_digests[headers["WARC-Target-URI"]] = headers["WARC-Payload-Digest"]
        elif headers["WARC-Type"] == "revisit":
            assert headers["WARC-Payload-Digest"] == payload_digests[headers["WARC-Refers-To-Target-URI"]]
            assert headers["WARC-Refers-To"] in ids
    assert types == {"warcinfo": 1, "request": 60, "response": 60, "revisit": 1}


def test_warcio_parses_and_verifies_digests(manifest):
    statuses, ctypes, seen = collections.Counter(), collections.Counter(), []
    with WARC.open("rb") as f:
        for record in ArchiveIterator(f, check_digests="raise"):
            record.content_stream().read()
            if record.rec_type in ("request", "response"):
                assert record.digest_checker.passed is True
            if record.rec_type == "response":
                url = record.rec_headers.get_header("WARC-Target-URI")
                seen.append(url)
                statuses[record.http_headers.get_statuscode()] += 1
                ctypes[record.http_headers.get_header("Content-Type").split(";")[0]] += 1
                assert manifest[url]["record_id"] == record.rec_headers.get_header("WARC-Record-ID")
    assert seen == list(manifest) and len(set(seen)) == 60
    assert statuses == {"200": 59, "404": 1}
    assert ctypes == {"text/html": 59, "image/png": 1}


def test_categories_and_languages_as_designed(manifest):
    assert collections.Counter(m["category"] for m in manifest.values()) == EXPECTED_CATEGORIES
    languages = collections.Counter(m["language"] for m in manifest.values() if m["category"] == "article")
    assert languages == EXPECTED_ARTICLE_LANGUAGES
    assert {m["subcategory"] for m in manifest.values() if m["category"] == "spam"} == EXPECTED_SPAM


def test_charsets(manifest):
    payloads = {}
    with WARC.open("rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_type == "response":
                url = record.rec_headers.get_header("WARC-Target-URI")
                payloads[manifest[url]["key"]] = (
                    record.http_headers.get_header("Content-Type"),
                    record.content_stream().read(),
                )
    ctype, body = payloads["wald"]  # windows-1252, declared only in <meta>
    assert ctype == "text/html" and b'charset=windows-1252"' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "„Brotbaum“" in body.decode("windows-1252") and "tausend €" in body.decode("windows-1252")
    ctype, body = payloads["baikal"]  # windows-1251, declared only in the HTTP header
    assert ctype == "text/html; charset=windows-1251" and b"charset" not in body
    assert "Байкал" in body.decode("windows-1251")
    ctype, body = payloads["patebrisee"]  # UTF-8, declared nowhere
    assert ctype == "text/html" and b"charset" not in body.lower()
    assert "pâte brisée" in body.decode("utf-8")


def test_article_lengths(manifest, texts):
    for url, m in manifest.items():
        if m["category"] in ("article", "exact_duplicate", "near_duplicate"):
            if m["language"] == "ja":
                assert 600 <= len(texts[url]) <= 3000, url
            else:
                assert 300 <= m["words"] == len(texts[url].split()) <= 1200, url


def test_exact_and_near_duplicates(manifest, texts):
    original = {m["key"]: url for url, m in manifest.items() if m["category"] == "article"}
    exact = [(url, m) for url, m in manifest.items() if m["category"] == "exact_duplicate"]
    near = [(url, m) for url, m in manifest.items() if m["category"] == "near_duplicate"]
    assert len({m["exact_dup_of"] for _, m in exact}) >= 3 and len({m["near_dup_of"] for _, m in near}) >= 3
    for url, m in exact:
        assert texts[url] == texts[original[m["exact_dup_of"]]]
    for url, m in near:
        assert texts[url] != texts[original[m["near_dup_of"]]]
        assert _jaccard(texts[url], texts[original[m["near_dup_of"]]]) >= 0.8, url
    for a, b in itertools.combinations(sorted(original.values()), 2):
        assert _jaccard(texts[a], texts[b]) < 0.05, (a, b)


def test_pii_and_adult_url(manifest, texts):
    (pii_url,) = [u for u, m in manifest.items() if m["category"] == "pii"]
    assert re.search(r"[\w.]+@example\.org", texts[pii_url])
    ips = re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", texts[pii_url])
    assert ips and all(ipaddress.ip_address(ip).is_global for ip in ips)
    (adult_url,) = [u for u, m in manifest.items() if m["category"] == "adult_url"]
    assert {"xxx", "sex"} <= set(re.split(r"[^a-z]+", adult_url))


def test_code_and_math_pages(manifest):
    bodies = {}
    with WARC.open("rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_type == "response":
                key = manifest[record.rec_headers.get_header("WARC-Target-URI")]["key"]
                bodies[key] = record.content_stream().read().decode("utf-8", "replace")
    assert bodies["wordcount"].count("<pre><code") == 3
    assert "<math " in bodies["geometric"] and r"\sum_{k=0}" in bodies["geometric"]
    assert '<annotation encoding="application/x-tex">a^2 + b^2 = c^2</annotation>' in bodies["pythagoras"]  # KaTeX
    assert bodies["quadratic"].count('<script type="math/tex') == 11  # MathJax 2 input
    assert bodies["variance"].count("<mjx-assistive-mml") == 5  # MathJax 3 output with its MathML
    assert '<td class="linenos">' in bodies["ringbuffer"]  # Pygments line-number table
    assert bodies["forum_solder"].count('class="post has-profile') == 3  # phpBB prosilver thread

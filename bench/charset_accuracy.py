"""Charset decoding accuracy: real text re-encoded into legacy charsets, with and without a declaration.

Corpus (built in memory, nothing written to the repo):

* **Real pages**: the 1,120 HTML pages of ``pages_with_gold/dev_pages.warc.gz``, decoded by our reader. A page
  joins the corpus of a charset when its script matches the charset's (by the non-ASCII letters it contains:
  Latin without Central-European letters → windows-1252; Central-European Latin letters such as ``ą č ő ł`` →
  windows-1250 and ISO-8859-2; Cyrillic → windows-1251 and KOI8-R; Greek → ISO-8859-7; kana → Shift_JIS; Hangul →
  EUC-KR; Han without kana → GB18030) **and** every character of the page is representable in that charset. Pages
  with no non-ASCII character are left out (any decoder gets them right).
* **Sentence pages**: ``langid/lingua_testdata/sentences`` (Leipzig corpora, real web/news sentences) of the
  languages written in each charset (windows-1252: fr de es pt it nl da sv nb fi ca; windows-1250 and ISO-8859-2:
  pl cs sk sl hr hu; windows-1251: ru uk bg mk be; KOI8-R: ru; ISO-8859-7: el; Shift_JIS: ja; GB18030: zh; EUC-KR:
  ko), 20 consecutive sentences per page in a small HTML page, sentences the charset cannot represent dropped.
  Up to ``--pages`` sentence pages per charset, split evenly over its languages; pure-ASCII pages are left out
  (the ``es`` file has its accents stripped at the source).

Each page is encoded with the Python codec that implements the WHATWG encoding of its label (``cp932`` for
Shift_JIS, ``cp949`` for EUC-KR: what browsers decode; text that does not survive the codec's round trip is
left out), in two variants: **undeclared** (every ``<meta>`` charset
declaration removed, ``Content-Type: text/html``) and **declared** (alternately ``<meta charset=LABEL>`` in the
head and an HTTP ``charset`` parameter; windows-1252 pages alternately labelled ``ISO-8859-1``, which WHATWG
decodes as windows-1252). All pages go into one in-memory WARC, read by our reader (``warc_extract``,
``extract=False``) and by datatrove 0.10.1's ``WarcReader`` record function (UTF-8, else cchardet; no
declaration is looked at). A page counts as right when the decoded HTML equals the original text exactly.

``--detector`` swaps the detector used for undeclared pages (to compare libraries on this corpus):
``default`` (what curate ships), ``charset_normalizer``, ``chardet``, ``cchardet``, ``chardetng``.

Usage: .venv/bin/python bench/charset_accuracy.py [--pages 48] [--detector default] [--skip-datatrove]
Last line: ``RESULT charset_accuracy undeclared=… declared=… vs_datatrove=…`` (vs_datatrove: our share right
minus datatrove's, over both variants).
"""

from __future__ import annotations

import argparse
import io
import re
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from curate.stage import SourceFile
from curate.stages.warc import decode as warc_decode
from curate.stages.warc.extract import WarcExtract, read_warc

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEV = SHARED / "warc" / "pages_with_gold" / "dev_pages.warc.gz"
SENTENCES = SHARED / "langid" / "lingua_testdata" / "sentences"

#: label -> (Python codec implementing the WHATWG encoding, languages of the sentence pages, script)
CHARSETS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "windows-1252": ("cp1252", ("fr", "de", "es", "pt", "it", "nl", "da", "sv", "nb", "fi", "ca"), "latin"),
    "windows-1250": ("cp1250", ("pl", "cs", "sk", "sl", "hr", "hu"), "central"),
    "iso-8859-2": ("iso8859_2", ("pl", "cs", "sk", "sl", "hr", "hu"), "central"),
    "windows-1251": ("cp1251", ("ru", "uk", "bg", "mk", "be"), "cyrillic"),
    "koi8-r": ("koi8_r", ("ru",), "cyrillic"),
    "iso-8859-7": ("iso8859_7", ("el",), "greek"),
    "shift_jis": ("cp932", ("ja",), "kana"),
    "gb18030": ("gb18030", ("zh",), "han"),
    "euc-kr": ("cp949", ("ko",), "hangul"),
}
_CENTRAL = set("ąćęłńśźżčďěňřšťůžőűĺľŕăĄĆĘŁŃŚŹŻČĎĚŇŘŠŤŮŽŐŰĹĽŔĂ")
_META = re.compile(r"<meta[^>]*charset[^>]*>", re.IGNORECASE)


def script_of(text: str) -> str | None:
    """The dominant script of the page's non-ASCII letters (see the module doc), None for pure ASCII."""
    counts: Counter[str] = Counter()
    for ch in text:
        if ord(ch) < 128 or not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        if "HIRAGANA" in name or "KATAKANA" in name:
            counts["kana"] += 1
        elif "HANGUL" in name:
            counts["hangul"] += 1
        elif "CJK" in name:
            counts["han"] += 1
        elif "CYRILLIC" in name:
            counts["cyrillic"] += 1
        elif "GREEK" in name:
            counts["greek"] += 1
        elif "LATIN" in name:
            counts["central" if ch in _CENTRAL else "latin"] += 1
    if not counts:
        return None
    if counts["kana"]:
        return "kana"
    if counts["central"]:
        return "central"
    return counts.most_common(1)[0][0]


def encodable(text: str, codec: str) -> bool:
    """Every character representable in ``codec`` and decoded back to itself (cp932 encodes U+301C WAVE DASH as
    0x8160 but decodes 0x8160 as U+FF5E: such text has no single right decoding and is left out)."""
    try:
        return text.encode(codec).decode(codec) == text
    except UnicodeEncodeError:
        return False


def sentence_pages(lang: str, codec: str, n: int) -> list[str]:
    lines = (SENTENCES / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
    good = [s.strip() for s in lines if s.strip() and encodable(s, codec)]
    pages = []
    for i in range(0, len(good) - 19, 20):
        body = "".join(f"<p>{s}</p>\n" for s in good[i : i + 20])
        pages.append(
            f"<!DOCTYPE html>\n<html><head><title>{good[i][:60]}</title></head>\n<body><article>\n"
            f"{body}</article></body></html>\n"
        )
        if len(pages) == n:
            break
    return pages


def build_corpus(pages_per_charset: int) -> list[tuple[str, str, str]]:
    """``(label, source, html)`` for every page of the corpus (the undeclared original text)."""
    dev = [_META.sub("", html) for html in read_warc(str(DEV), extract=False).column("text").to_pylist()]
    by_script = defaultdict(list)
    for html in dev:
        script = script_of(html)
        if script:
            by_script[script].append(html)
    corpus = []
    for label, (codec, langs, script) in CHARSETS.items():
        corpus += [(label, "dev_pages", html) for html in by_script[script] if encodable(html, codec)]
        per_lang = max(1, pages_per_charset // len(langs))
        for lang in langs:
            corpus += [
                (label, f"lingua:{lang}", html) for html in sentence_pages(lang, codec, per_lang) if not html.isascii()
            ]
    return corpus


def declared(html: str, label: str, i: int) -> tuple[str, str]:
    """The page with a declaration: ``(html, Content-Type)``; alternately ``<meta charset>`` and HTTP."""
    if label == "windows-1252" and i % 4 < 2:
        label = "ISO-8859-1"
    if i % 2 == 0:
        meta = f'<meta charset="{label}">'
        at = re.search(r"<head[^>]*>", html, re.IGNORECASE)
        html = html[: at.end()] + meta + html[at.end() :] if at else meta + html
        return html, "text/html"
    return html, f"text/html; charset={label}"


def warc_of(pages: list[tuple[str, bytes, str]]) -> bytes:
    """One WARC response record per page (``X-Corpus-Id`` keys back into ``pages``)."""
    out = io.BytesIO()
    for i, (_, payload, content_type) in enumerate(pages):
        block = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n\r\n".encode() + payload
        head = (
            f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{i:012d}>\r\n"
            f"WARC-Target-URI: http://corpus.example/{i}\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
            f"WARC-Identified-Payload-Type: text/html\r\nX-Corpus-Id: {i}\r\n"
            f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(block)}\r\n\r\n"
        )
        out.write(head.encode() + block + b"\r\n\r\n")
    return out.getvalue()


def read_ours(data: bytes) -> dict[int, str]:
    step = WarcExtract(extract=False, keep_headers=["X-Corpus-Id"])
    texts = {}
    for out in step.read(SourceFile.from_bytes("corpus.warc", data)):
        for cid, text in zip(out.kept.column("x_corpus_id").to_pylist(), out.kept.column("text").to_pylist()):
            texts[int(cid)] = text
    return texts


def read_datatrove(data: bytes) -> dict[int, str]:
    from datatrove.pipeline.readers.warc import process_record
    from warcio.archiveiterator import ArchiveIterator

    texts = {}
    for record in ArchiveIterator(io.BytesIO(data)):
        doc = process_record(record)
        if doc is not None:
            texts[int(record.rec_headers.get_header("X-Corpus-Id"))] = doc["text"]
    return texts


DETECTORS = {
    "charset_normalizer": lambda b: (lambda r: r.encoding if r else None)(
        __import__("charset_normalizer").from_bytes(b, steps=4, chunk_size=2048).best()
    ),
    "chardet": lambda b: __import__("chardet").detect(b)["encoding"],
    "cchardet": lambda b: __import__("cchardet").detect(b)["encoding"],
    "chardetng": lambda b: __import__("chardetng_py").detect(b),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=48, help="sentence pages per charset")
    parser.add_argument("--detector", default="default", choices=["default", *DETECTORS])
    parser.add_argument("--skip-datatrove", action="store_true")
    args = parser.parse_args()
    if args.detector != "default":
        detect = DETECTORS[args.detector]
        warc_decode.detect_charset = lambda payload, tld=None: warc_decode.normalise_charset(detect(payload[:65536]))
    corpus = build_corpus(args.pages)
    pages: list[tuple[str, bytes, str]] = []  # (variant, payload, content type) with the original text beside
    originals: list[str] = []
    labels: list[str] = []
    for i, (label, _, html) in enumerate(corpus):
        codec = CHARSETS[label][0]
        pages.append(("undeclared", html.encode(codec), "text/html"))
        originals.append(html)
        labels.append(label)
        dhtml, content_type = declared(html, label, i)
        pages.append(("declared", dhtml.encode(codec), content_type))
        originals.append(dhtml)
        labels.append(label)
    data = warc_of(pages)
    start = time.perf_counter()
    ours = read_ours(data)
    ours_s = time.perf_counter() - start
    theirs = {} if args.skip_datatrove else read_datatrove(data)

    right: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for i, (variant, _, _) in enumerate(pages):
        for who, texts in (("ours", ours), ("datatrove", theirs)):
            cell = right[(who, variant, labels[i])]
            cell[0] += texts.get(i) == originals[i]
            cell[1] += 1
    sources = Counter((label, src.split(":")[0]) for label, src, _ in corpus)
    print(f"corpus: {len(corpus)} pages x 2 variants; read in {ours_s:.1f} s by curate")
    print(f"{'charset':14} {'dev':>4} {'lingua':>6} | {'undeclared':>10} {'declared':>8} | datatrove undecl/decl")
    for label in CHARSETS:
        u, d = right[("ours", "undeclared", label)], right[("ours", "declared", label)]
        tu, td = right[("datatrove", "undeclared", label)], right[("datatrove", "declared", label)]
        print(
            f"{label:14} {sources[(label, 'dev_pages')]:4} {sources[(label, 'lingua')]:6} | "
            f"{u[0] / u[1]:10.3f} {d[0] / d[1]:8.3f} | {tu[0] / tu[1]:.3f} / {td[0] / td[1]:.3f}"
        )

    def share(who: str, variant: str | None) -> float:
        cells = [v for (w, var, _), v in right.items() if w == who and variant in (None, var)]
        return sum(c[0] for c in cells) / sum(c[1] for c in cells)

    undeclared, declared_share = share("ours", "undeclared"), share("ours", "declared")
    if args.skip_datatrove:
        print(f"RESULT charset_accuracy undeclared={undeclared:.4f} declared={declared_share:.4f}")
        return
    dt_u, dt_d = share("datatrove", "undeclared"), share("datatrove", "declared")
    print(f"datatrove 0.10.1 reader: undeclared={dt_u:.4f} declared={dt_d:.4f}")
    vs = share("ours", None) - share("datatrove", None)
    print(f"RESULT charset_accuracy undeclared={undeclared:.4f} declared={declared_share:.4f} vs_datatrove={vs:+.4f}")


if __name__ == "__main__":
    main()

"""``warc_extract``: WARC / WET / ARC files to documents (main text of every HTML response, with its metadata).

Reading is our own streaming parser (:mod:`curate.stages.warc.stream`, :mod:`curate.stages.warc.records`):
it survives damaged gzip members, truncated files, WARC/0.18 and ARC quirks, and never holds more than
``max_html_bytes`` of a payload in memory. Decoding (chunked transfer coding, gzip/br content coding, HTML
sniffing, charsets) is :mod:`curate.stages.warc.decode`; extraction and its time limit are
:mod:`curate.stages.warc.extractors`.

Why not fastwarc: it is ~5x faster at raw record parsing (0.9 s vs ~1.5 s for the 1,120 records of
dev_pages.warc.gz), but it has no ARC support, and reading is 2-3 % of a trafilatura pipeline's time (extraction
runs at ~16-35 docs/s per core); robustness on every input came first.

Every record that does not become a document is counted under a named reason in the step's counters
(``skipped_request``, ``skipped_revisit``, ``skipped_non_html``, ``skipped_too_large``, ``skipped_too_many_elements``,
``skipped_too_deep``, ``skipped_too_nested``, ``skipped_truncated``,
``skipped_corrupt``, ``skipped_bad_length``, ``skipped_bad_http_headers``, ``skipped_content_encoding``,
``extract_timeout``, ``extract_error``, ``extract_empty`` …), beside ``records`` (all records seen) and
``html_records`` (HTML responses found, before extraction). Damage that is not a record is counted too:
``garbage_between_records`` (runs of bytes that are no record header, skipped), ``gzip_damaged_members``,
``gzip_truncated_file``, and ``files_without_records`` (an empty file, or one that is no WARC/WET/ARC at all).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field

from curate.registry import register
from curate.stage import Params, SourceFile, Stage, StepOutput
from curate.stages.warc.bounds import over_bounds
from curate.stages.warc.decode import (
    HTML_TYPES,
    UNKNOWN_TYPES,
    dechunk,
    decode_content_encoding,
    decode_html,
    media_type,
    sniff_html,
)
from curate.stages.warc.domain import SIGNAL_COLUMNS, SIGNAL_SCHEMA, domain_documents
from curate.stages.warc.extractors import ExtractCrash, ExtractTimeout, TimeLimitedExtractor
from curate.stages.warc.records import Record, iter_records
from curate.stages.warc.stream import ArchiveStream

#: record types that can carry a document: HTTP responses, archived resources, WET text conversions
_DOCUMENT_TYPES = frozenset({"response", "resource", "conversion"})

_BASE_SCHEMA = [
    ("id", pa.string()),
    ("text", pa.string()),
    ("url", pa.string()),
    ("date", pa.string()),
    ("source", pa.string()),
    ("payload_digest", pa.string()),
    ("http_status", pa.int32()),
    ("content_type", pa.string()),
    ("charset", pa.string()),
    ("charset_source", pa.string()),
]


def header_column(name: str) -> str:
    """Column name for a kept WARC header: ``WARC-Gold-Id`` → ``warc_gold_id``."""
    return name.strip().lower().replace("-", "_")


@register
class WarcExtract(Stage):
    """Read WARC/WET/ARC files and extract the main text of every HTML response (trafilatura or resiliparse).

    Defaults follow FineWeb's extraction (datatrove ``Trafilatura``: ``favour_precision=True``, no comments,
    ``deduplicate=True``) except for the time limit: what a page may cost is decided by bounds that do not depend
    on machine speed (``max_html_bytes``, 5 MB: Common Crawl itself truncates payloads at 1 MiB; ``max_elements``,
    ``max_depth``, ``max_total_depth``: :mod:`curate.stages.warc.bounds`), each skipping under its own reason, and
    the time limit (60 CPU-s, not datatrove's 1 wall-s) is a safety net far above what any page within them
    needs, so the same input gives the same output on any machine. WET ``conversion`` records
    become documents as they are (their text is already extracted).
    """

    name = "warc_extract"
    kind = "source"
    requires = ()
    adds = tuple(name for name, _ in _BASE_SCHEMA)
    version = 3

    class Params(Params):
        extractor: Literal["trafilatura", "resiliparse"] = Field(
            "trafilatura", description="main-text extractor; resiliparse is ~10x faster (optional extra 'fast')"
        )
        favour_precision: bool = Field(True, description="trafilatura favor_precision (FineWeb: true)")
        include_comments: bool = Field(False, description="trafilatura include_comments (FineWeb: false)")
        deduplicate: bool = Field(True, description="trafilatura deduplicate (FineWeb: true)")
        fast: bool = Field(False, description="trafilatura fast mode: skip the readability/jusText fallbacks")
        include_tables: bool = Field(True, description="keep table text (trafilatura include_tables)")
        compiled_xpaths: bool = Field(
            True,
            description="evaluate trafilatura's boilerplate XPaths as compiled Python instead of lxml + EXSLT "
            "callbacks: the same elements, so the same text, ~1.5x faster (trafilatura_xpath.py)",
        )
        compiled_native: bool = Field(
            True,
            description="use the compiled helpers (the optional module _native, built at install when a C "
            "compiler is present; without it this has no effect): the XPath walks, element text, the link-density "
            "and readability lengths and the size-bounds pass in C, the same answers, ~20 % less CPU",
        )
        compiled_lookup: bool = Field(
            True,
            description="trafilatura's HTML loading: its parser makes element proxies through lxml's C class "
            "lookup instead of lxml.html's Python one, and the scan for XML-invalid control characters runs over "
            "the page's UTF-8 bytes instead of a regex over the string: the same text, ~15 % less CPU "
            "(trafilatura_fast.py)",
        )
        compiled_fallbacks: bool = Field(
            True,
            description="skip trafilatura's readability fallback where a bound on its text length proves it "
            "cannot be chosen, and copy the tree jusText reads only when it runs: the same text "
            "(trafilatura_fast.py)",
        )
        max_html_bytes: int = Field(5_000_000, gt=0, description="payload bytes kept per record (after decoding)")
        max_elements: int = Field(
            50_000,
            gt=0,
            description="pages with more HTML elements are not extracted "
            "(skipped_too_many_elements); the most in the shared WARCs: "
            "35,271 (stages/warc/bounds.py, bench/extract_bounds.py)",
        )
        max_depth: int = Field(
            1_000,
            gt=0,
            description="pages nested deeper are not extracted (skipped_too_deep); "
            "the deepest in the shared WARCs: 229 (stages/warc/bounds.py)",
        )
        max_total_depth: int = Field(
            2_500_000,
            gt=0,
            description="pages whose elements' depths sum to more are not extracted "
            "(skipped_too_nested): extraction time grows with it; the most in the "
            "shared WARCs: 289,062 (stages/warc/bounds.py)",
        )
        oversize: Literal["skip", "truncate"] = Field(
            "skip",
            description="payloads above max_html_bytes: skip them (skipped_too_large) or extract the "
            "first max_html_bytes (counted as truncated_too_large)",
        )
        timeout_s: float = Field(
            60.0,
            ge=0,
            description="per-document extraction limit in CPU seconds (0: none), a safety net behind "
            "the bounds: the slowest of the 1,549 real pages of the shared WARCs takes "
            "1.3-2.1 CPU-s (trafilatura), the slowest page built within the bounds 6.2 "
            "(bench/extract_bounds.py); datatrove's 1 s wall limit flips real pages "
            "with machine load",
        )
        timeout_mode: Literal["auto", "signal", "process"] = Field(
            "auto",
            description="how the time limit interrupts: signal (main thread only), process (a child "
            "process killed by the kernel at the CPU limit, any thread), auto (signal when "
            "possible; process for resiliparse)",
        )
        only_2xx: bool = Field(False, description="skip HTTP responses whose status is not 2xx (skipped_http_status)")
        keep_headers: list[str] = Field(
            default_factory=list, description="extra WARC headers kept as string columns (WARC-Gold-Id -> warc_gold_id)"
        )
        extract: bool = Field(True, description="false: keep the decoded HTML as `text` (no extraction)")
        domain: bool = Field(
            False,
            description="RedStone-style extraction that keeps structure (trafilatura inside): code blocks "
            "byte-exact and fenced, formulas as LaTeX in $…$/$$…$$, QA threads in the thread "
            "format; adds the page-signal columns domain_detect reads (docs/redstone.md). Off "
            "for FineWeb recipes",
        )
        qa_format: Literal["thread", "pairs"] = Field(
            "thread",
            description="domain: a QA page as one document (thread) or one document per answer (pairs, "
            "ids suffixed #qa1, #qa2 …)",
        )
        forums: bool = Field(
            False, description="domain: read forum threads (first post as question, replies as answers) as QA threads"
        )

    def output_columns(self) -> set[str]:
        extra = set(SIGNAL_COLUMNS) if self.params.domain and self.params.extract else set()
        return super().output_columns() | extra | {header_column(h) for h in self.params.keep_headers}

    def setup(self) -> None:
        p = self.params
        if p.extractor == "trafilatura":
            options = {
                "favor_precision": p.favour_precision,
                "include_comments": p.include_comments,
                "deduplicate": p.deduplicate,
                "fast": p.fast,
                "include_tables": p.include_tables,
                "compiled_xpaths": p.compiled_xpaths,
                "compiled_native": p.compiled_native,
                "compiled_lookup": p.compiled_lookup,
                "compiled_fallbacks": p.compiled_fallbacks,
            }
        else:
            options = {"main_content": True, "alt_texts": False, "comments": p.include_comments}
        name = p.extractor
        if p.domain:
            if p.extractor != "trafilatura":
                raise ValueError(
                    "warc_extract: domain extraction keeps structure around trafilatura's main-content "
                    "decisions; use extractor: trafilatura with domain: true"
                )
            name, options = "domain", {**options, "qa_format": p.qa_format, "forums": p.forums}
        self._extractor = (
            TimeLimitedExtractor(name, options, p.timeout_s or None, p.timeout_mode) if p.extract else None
        )

    # -- source ------------------------------------------------------------------------------------------------
    def read(self, source: SourceFile) -> Iterator[StepOutput]:
        self.ensure_setup()
        reset = getattr(self._extractor, "reset", None)  # any callable html -> text may stand in for extraction
        if reset is not None:
            reset()
        batch_size = self.options.batch_size or 1000
        columns = self._columns()
        rows: dict[str, list[Any]] = {c: [] for c in columns}
        counters: dict[str, int] = {}
        records = 0
        with source.open() as raw:
            stream = ArchiveStream(raw)
            for doc in self._documents(stream, source.path, counters):
                for c in columns:
                    rows[c].append(doc.get(c))
                if len(rows["id"]) >= batch_size:
                    records += counters.get("records", 0)
                    yield StepOutput(self._table(rows), counters=dict(counters))
                    rows = {c: [] for c in columns}
                    counters.clear()
            if not records + counters.get("records", 0):  # empty, or not an archive (a paths list, plain text)
                counters["files_without_records"] = 1
            if stream.damage:
                counters["gzip_damaged_members"] = counters.get("gzip_damaged_members", 0) + stream.damage
            if stream.truncated:
                counters["gzip_truncated_file"] = counters.get("gzip_truncated_file", 0) + 1
            for name, n in (getattr(raw, "counters", None) or {}).items():  # remote reads: retries, resumed reads
                counters[name] = counters.get(name, 0) + n
        if rows["id"] or counters:
            yield StepOutput(self._table(rows), counters=counters)

    def _fields(self) -> list[tuple[str, pa.DataType]]:
        extra = SIGNAL_SCHEMA if self.params.domain and self.params.extract else []
        return _BASE_SCHEMA + extra + [(header_column(h), pa.string()) for h in self.params.keep_headers]

    def _columns(self) -> list[str]:
        return [name for name, _ in self._fields()]

    def _table(self, rows: dict[str, list[Any]]) -> pa.Table:
        fields = self._fields()
        schema = pa.schema(fields)
        return pa.Table.from_arrays([pa.array(rows[name], type) for name, type in fields], schema=schema)

    def _documents(self, stream: ArchiveStream, path: str, counters: dict[str, int]) -> Iterator[dict[str, Any]]:
        p = self.params

        def count(name: str) -> None:
            counters[name] = counters.get(name, 0) + 1

        def want_block(record: Record) -> bool:
            return record.rec_type in _DOCUMENT_TYPES

        def want_payload(record: Record) -> bool:
            return (
                record.rec_type == "conversion"
                or _content_type(record) in HTML_TYPES
                or _content_type(record) in UNKNOWN_TYPES
            )

        records = iter_records(
            stream,
            want_block,
            want_payload,
            p.max_html_bytes,
            read_oversize=p.oversize == "truncate",
            counters=counters,
        )
        for record in records:
            count("records")
            if record.problem:
                count(f"skipped_{record.problem}")
                continue
            if record.rec_type not in _DOCUMENT_TYPES:
                count(f"skipped_{record.rec_type or 'unknown_type'}")
                continue
            if record.rec_type == "conversion":
                doc = self._wet_document(record, path)
                if doc is None:
                    count("extract_empty")
                else:
                    count("documents")
                    yield doc
                continue
            reason, html, charset = _html_of(record, p.max_html_bytes, p.oversize == "truncate", counters)
            if reason is not None:
                count(reason)
                continue
            count("html_records")
            if p.only_2xx and record.http_status is not None and not 200 <= record.http_status < 300:
                count("skipped_http_status")
                continue
            bound = (
                None
                if self._extractor is None
                else over_bounds(html, p.max_elements, p.max_depth, p.max_total_depth, p.compiled_native)
            )
            if bound is not None:
                count(f"skipped_{bound}")
                continue
            text = self._extract(html, counters)
            if not text:
                continue
            if isinstance(text, dict):  # domain extraction: texts and page signals
                yield from domain_documents(self._document(record, path, "", charset), text, count)
                continue
            count("documents")
            yield self._document(record, path, text, charset)

    def _extract(self, html: str, counters: dict[str, int]) -> str | dict[str, Any] | None:
        def count(name: str) -> None:
            counters[name] = counters.get(name, 0) + 1

        if self._extractor is None:
            return html
        try:
            text = self._extractor(html)
        except ExtractTimeout:
            count("extract_timeout")
            return None
        except ExtractCrash:
            count("extract_crash")
            return None
        except Exception:  # noqa: BLE001 - a page the extractor cannot handle is counted, not fatal
            count("extract_error")
            return None
        if isinstance(text, dict):
            if not text.get("texts"):
                count("extract_empty")
                return None
            return text
        if not text or not text.strip():
            count("extract_empty")
            return None
        return text

    def _document(self, record: Record, path: str, text: str, charset: tuple[str, str]) -> dict[str, Any]:
        url = record.header("warc-target-uri") or ""
        date = record.header("warc-date") or ""
        doc = {
            "id": record.header("warc-record-id") or _synthetic_id(url, date),
            "text": text,
            "url": url,
            "date": date,
            "source": path,
            "payload_digest": record.header("warc-payload-digest"),
            "http_status": record.http_status,
            "content_type": _content_type(record) or None,
            "charset": charset[0],
            "charset_source": charset[1],
        }
        for name in self.params.keep_headers:
            doc[header_column(name)] = record.header(name)
        return doc

    def _wet_document(self, record: Record, path: str) -> dict[str, Any] | None:
        text = record.payload.decode("utf-8", errors="replace").strip()
        if not text:
            return None
        return self._document(record, path, text, ("utf-8", "wet"))

    def close(self) -> None:
        if getattr(self, "_extractor", None) is not None:
            self._extractor.close()

    def teardown(self) -> None:
        """The worker's last unit of the run is done: stop the time limit's child process (``process`` mode) and
        drop the XPath verdicts this process remembered, so a worker kept for the next run holds nothing of this
        one and starts it as a fresh process would."""
        from curate.stages.warc.trafilatura_xpath import forget_verdicts

        self.close()
        forget_verdicts()


def _synthetic_id(url: str, date: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url + ' ' + date)}>"


def _content_type(record: Record) -> str:
    """The payload's media type: HTTP Content-Type, else the WARC/ARC declared types (resource records)."""
    if record.http_status is not None:
        declared = media_type(record.http_headers.get("content-type"))
        if declared not in UNKNOWN_TYPES:
            return declared
        return media_type(record.header("warc-identified-payload-type"))
    if record.is_arc:
        return media_type(record.header("arc-content-type"))
    if record.rec_type == "resource":
        return media_type(record.header("content-type"))
    return media_type(record.header("warc-identified-payload-type"))


def _html_of(
    record: Record, max_bytes: int, truncate: bool, counters: dict[str, int]
) -> tuple[str | None, str, tuple[str, str]]:
    """``(skip reason, html, (charset, how it was chosen))`` for a response/resource record."""
    declared = _content_type(record)
    if declared not in HTML_TYPES and declared not in UNKNOWN_TYPES:
        return "skipped_non_html", "", ("", "")
    if record.oversize and not truncate:
        return "skipped_too_large", "", ("", "")
    payload = record.payload
    if record.oversize:
        counters["truncated_too_large"] = counters.get("truncated_too_large", 0) + 1
    if "chunked" in record.http_headers.get("transfer-encoding", "").lower():
        payload = dechunk(payload)
    encoding = record.http_headers.get("content-encoding", "")
    if encoding:
        payload, problem = decode_content_encoding(payload, encoding, max_bytes)
        if problem is not None:
            return f"skipped_{problem}", "", ("", "")
    if declared in UNKNOWN_TYPES and not sniff_html(payload):
        return "skipped_non_html", "", ("", "")
    if not payload.strip():
        return "skipped_empty_payload", "", ("", "")
    html, charset, how, replaced = decode_html(
        payload, record.http_headers.get("content-type"), record.header("warc-target-uri")
    )
    if replaced:
        counters["charset_replaced"] = counters.get("charset_replaced", 0) + 1
    return None, html, (charset, how)


def read_warc(path: str, **params: Any) -> pa.Table:
    """Read one WARC/WET/ARC file (local or ``s3://``) into a Table of documents, as ``warc_extract`` does."""
    from curate.storage import location

    step = WarcExtract(**params)
    loc = location(path)
    source = SourceFile(loc.uri, loc.open_input)
    tables = [out.kept for out in step.read(source)]
    step.close()
    if not tables:
        return step._table({c: [] for c in step._columns()})
    return pa.concat_tables(tables)

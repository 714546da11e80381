"""Structure-keeping extraction for domain corpora (RedStone: code, math, QA), built around trafilatura.

RedStone (Chang et al. 2024) extracts domain pages so that code stays code and formulas stay LaTeX. Here:

1. the page is parsed once (lxml); a question–answer thread is looked for first (:mod:`~curate.stages.domain.qa`);
2. every formula element becomes ``$…$``/``$$…$$`` text in the tree (:mod:`~curate.stages.domain.formulas`);
3. every code block is taken out byte-exact (:mod:`~curate.stages.domain.code`) and replaced by a placeholder
   paragraph; inline ``<code>`` becomes ```` `text` ```` so it stays inline;
4. a QA thread is written in the thread format below from its own elements; any other page goes through trafilatura
   (the same options as plain extraction: it decides what is main content), and placeholders that survive are
   replaced by fenced blocks (```` ```lang ````), so a block trafilatura judged boilerplate stays out;
5. TeX delimiters in the text are normalised (``\\(…\\)`` → ``$…$``), outside code blocks only.

Thread format (``qa_format: thread``, one document per page)::

    Question: <title>

    <question body>

    Answer (accepted, 12 votes):
    <answer body>

``qa_format: pairs`` writes one document per answer, each ``Question: … Answer …:`` with the question repeated.

:func:`extract_structured` returns the text(s) and the page's structural signals (code blocks, program-like code
blocks, formulas by kind, QA source and answer count, whether a TeX renderer is loaded) for the detectors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import lxml.html
from lxml import etree

from curate.stages.domain.code import CodeBlock, fence, find_code_blocks
from curate.stages.domain.formulas import dollar_formulas, normalise_delimiters, replace_math, replace_with_text
from curate.stages.domain.qa import Thread, find_thread, is_qa_page
from curate.stages.domain.signals import code_likeness

_BLOCK = frozenset(
    {
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "tr",
        "table",
        "section",
        "article",
        "pre",
        "hr",
        "dl",
        "dt",
        "dd",
        "figure",
        "figcaption",
        "header",
        "footer",
        "details",
        "summary",
        "main",
        "aside",
        "nav",
    }
)
_SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg", "button", "form", "select", "iframe"})
_HOLDER_TAG = "p"
_TOKEN = "CURATECODEBLOCK{:05d}X"
_END = "CURATECODEEND{:05d}X"
_TOKEN_RE = re.compile(r"(CURATECODEBLOCK\d{5}X)(?:.*?CURATECODEEND\d{5}X)?", re.S)
_TEX_RENDERER = re.compile(r"mathjax|katex", re.I)


def _parse(html: str) -> etree._Element | None:
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        try:
            root = lxml.html.document_fromstring(html.encode("utf-8", "replace"))
        except (etree.ParserError, ValueError):
            return None
    for comment in list(root.iter(etree.Comment)):
        replace_with_text(comment, "")
    return root


def _inline_code(root: etree._Element) -> None:
    for code in list(root.iter("code", "tt", "kbd", "samp")):
        if code.getparent() is None or any(a.tag == "pre" for a in code.iterancestors()):
            continue
        text = code.text_content()
        if text.strip() and "\n" not in text.strip():
            replace_with_text(code, f"`{text.strip()}`")


_TEX_TEXT = re.compile(r"\$\$|\\\[|\\\(|\$[^$\s][^$]*\$")


def _math_divs_as_paragraphs(root: etree._Element) -> None:
    """A ``<div>`` whose own text holds TeX (``<div>$$…$$</div>``, as Markdown renderers write display math) is a
    paragraph: trafilatura keeps text in paragraphs and drops bare text in divs."""
    for div in root.iter("div"):
        own = (div.text or "") + "".join(c.tail or "" for c in div)
        if _TEX_TEXT.search(own) and not any(isinstance(c.tag, str) and c.tag in _BLOCK for c in div):
            div.tag = "p"


def element_text(el: etree._Element, blocks: dict[etree._Element, CodeBlock] | None = None) -> str:
    """Readable text of an element: block elements on their own lines, inline whitespace collapsed, code blocks
    fenced, list items with ``- ``."""
    if blocks is None:
        blocks = {b.element: b for b in find_code_blocks(el)}
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _SKIP or not tag:
            return
        if node in blocks:
            b = blocks[node]
            parts.append("\n\n" + fence(b.text, b.language) + "\n\n")
            return
        if tag == "br":
            parts.append("\n")
        block = tag in _BLOCK
        if block:
            parts.append("\n\n" if tag in ("p", "pre", "blockquote", "table", "h1", "h2", "h3") else "\n")
        if tag == "li":
            parts.append("- ")
        if node.text:
            parts.append(re.sub(r"\s+", " ", node.text))
        for child in node:
            walk(child)
            if child.tail:
                parts.append(re.sub(r"\s+", " ", child.tail))
        if block:
            parts.append("\n")

    walk(el)
    return _tidy("".join(parts))


def _tidy(text: str) -> str:
    out: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if line.startswith("```"):
            fenced = not fenced if line.strip("`").strip() == "" or not fenced else fenced
            out.append(line)
            continue
        out.append(line if fenced else line.strip())
    return squeeze_blank_lines("\n".join(out)).strip()


def squeeze_blank_lines(text: str) -> str:
    """At most one blank line between paragraphs, outside fenced code (whose blank lines are the code's)."""
    out, pos = [], 0
    for start, end in _fenced_regions(text):
        out += [re.sub(r"\n{3,}", "\n\n", text[pos:start]), text[start:end]]
        pos = end
    return "".join(out + [re.sub(r"\n{3,}", "\n\n", text[pos:])])


def _fenced_regions(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"(?ms)^(`{3,})[^\n]*\n.*?^\1$", text)]


def normalise_outside_code(text: str) -> tuple[str, list[str]]:
    """Normalise TeX delimiters everywhere except inside fenced code blocks."""
    out, found, pos = [], [], 0
    for start, end in _fenced_regions(text):
        chunk, f = normalise_delimiters(text[pos:start])
        out += [chunk, text[start:end]]
        found += f
        pos = end
    chunk, f = normalise_delimiters(text[pos:])
    return "".join(out + [chunk]), found + f


def format_thread(thread: Thread, pairs: bool = False) -> list[str]:
    """The thread as one text (or one per answer) in the documented format."""
    question = (
        f"Question: {thread.title}".rstrip()
        + "\n\n"
        + (element_text(thread.question) if thread.question is not None else "")
    )
    answers = []
    for a in thread.answers:
        marks = (["accepted"] if a.accepted else []) + ([f"{a.votes} votes"] if a.votes is not None else [])
        head = "Answer" + (f" ({', '.join(marks)})" if marks else "") + ":"
        answers.append(head + "\n" + element_text(a.body))
    if pairs:
        return [question.strip() + "\n\n" + a for a in answers] or [question.strip()]
    return ["\n\n".join([question.strip(), *answers])]


def extract_structured(
    html: str, main_text: Callable[[str], str | None], qa: bool = True, qa_format: str = "thread", forums: bool = False
) -> dict[str, Any] | None:
    """``{"texts": [...], "signals": {...}}`` for a page; ``main_text`` is the boilerplate remover (trafilatura)."""
    root = _parse(html)
    if root is None:
        return None
    renderer = any(
        _TEX_RENDERER.search((s.get("src") or "") + (s.text or "")[:2000]) for s in root.iter("script")
    ) or any(_TEX_RENDERER.search(link.get("href") or "") for link in root.iter("link"))
    qa_page = is_qa_page(root)
    thread = find_thread(root, forums=forums) if qa else None
    math = replace_math(root)
    if thread is not None:
        for el in [thread.question, *(a.body for a in thread.answers)]:
            if el is not None and el.getroottree().getroot() is not root:
                f = replace_math(el)
                math.formulas += f.formulas
                for k, n in f.kinds.items():
                    math.kinds[k] = math.kinds.get(k, 0) + n
    blocks = find_code_blocks(root)
    if thread is not None:
        for el in [thread.question, *(a.body for a in thread.answers)]:
            if el is not None and el.getroottree().getroot() is not root:
                blocks += find_code_blocks(el)
    _inline_code(root)
    _math_divs_as_paragraphs(root)
    if thread is not None:
        texts = format_thread(thread, pairs=qa_format == "pairs")
    else:
        by_token = {}
        for i, b in enumerate(blocks):
            if b.element.getparent() is None:
                continue
            token = _TOKEN.format(i)
            by_token[token] = b
            for a in b.element.iterancestors("figure"):  # a code listing's figure: trafilatura drops figures
                a.tag = "div"
            holder = etree.Element(_HOLDER_TAG)
            holder.text = f"{token} {' '.join(b.text.split())} {_END.format(i)}"
            holder.tail = b.element.tail
            b.element.getparent().replace(b.element, holder)
        text = main_text(etree.tostring(root, encoding="unicode", method="html")) or ""

        def restore(m: re.Match) -> str:
            b = by_token.get(m.group(1))
            return "\n" + fence(b.text, b.language) + "\n" if b else ""

        text = _TOKEN_RE.sub(restore, text)
        texts = [squeeze_blank_lines(text).strip()]
    normalised = [normalise_outside_code(t) for t in texts]
    texts = [t for t, _ in normalised if t]
    in_text = [f for _, fs in normalised for f in fs] + [f for t in texts for f in dollar_formulas(t)]
    signals = {
        "code_blocks": len(blocks),
        "code_program_blocks": sum(code_likeness(b.text, b.language) >= 0.5 for b in blocks),
        "code_other_blocks": sum(0 < code_likeness(b.text, b.language) < 0.5 for b in blocks),
        "math_elements": len(math.formulas),
        "math_text_formulas": len(in_text),
        "tex_renderer": renderer,
        "qa_source": thread.source if thread is not None else ("declared" if qa_page else ""),
        "qa_answers": len(thread.answers) if thread is not None else 0,
    }
    return {"texts": texts, "signals": signals}


def make_domain_extractor(options: dict[str, Any]) -> Callable[[str], dict[str, Any] | None]:
    """``html -> {"texts", "signals"}`` with trafilatura (its options in ``options``, as ``warc_extract`` passes
    them) deciding main content; ``qa``, ``qa_format`` and ``forums`` as in :func:`extract_structured`."""
    from curate.stages.warc.extractors import make_extractor

    opts = dict(options)
    qa, qa_format, forums = opts.pop("qa", True), opts.pop("qa_format", "thread"), opts.pop("forums", False)
    main_text = make_extractor("trafilatura", opts)
    return lambda html: extract_structured(html, main_text, qa=qa, qa_format=qa_format, forums=forums)

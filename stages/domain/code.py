"""Code blocks out of HTML, byte for byte: ``<pre>`` blocks, line tables and ``<br>``-laid-out ``<code>``.

The rules are HTML's and the highlighters': the text of an outermost ``<pre>`` is its text content with ``<br>``
read as a newline and one leading newline dropped (HTML 5, "the pre element"); line-number gutters
(SyntaxHighlighter ``.gutter``, Pygments ``.linenos``, highlight.js ``.hljs-ln-numbers``, Prism
``.line-numbers-rows``, GitHub/Gitea ``td[data-line-number]``) and ``<script>``/``<style>`` inside a block are not
code; highlighters that lay code out as a table of lines (SyntaxHighlighter ``.syntaxhighlighter``, GitHub / Gitea /
Gitiles blob tables) are joined line by line; a ``<pre>`` beside a gutter cell (Pygments ``highlighttable``) stands
for its whole table; a ``<code>`` laid out with ``<br>`` outside any ``<pre>`` (php.net, vBulletin) is read as a
browser shows it (whitespace collapsed, ``<br>`` a newline). NBSP becomes a space. The
language hint comes from class names as highlighters write them (``language-x``/``lang-x`` — the HTML spec's
suggestion for ``<code>`` —, SyntaxHighlighter ``brush: x``, GitHub ``highlight-source-x``, Pygments/pandoc
``highlight-x`` / ``sourceCode x``). This is the code half of RedStone-Code's extraction (Chang et al. 2024).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

_SKIP = frozenset({"script", "style", "noscript", "template", "textarea"})
_GUTTER_CLASSES = (
    "gutter",
    "linenos",
    "lineno",
    "line-numbers-rows",
    "hljs-ln-numbers",
    "ln-num",
    "line-number",
    "linenumber",
    "blob-num",
    "lines-num",
    "gl",
    "line-numbers",
)
_LINE_TABLE_CODE = (
    ("syntaxhighlighter", "code"),
    ("highlight", "blob-code"),
    ("file", "lines-code"),
    ("FileContents", "FileContents-lineContents"),
    ("highlighttable", "code"),
)
_LANG_PATTERNS = [
    re.compile(p)
    for p in (
        r"(?:^|\s)(?:language|lang)-([\w#+.-]+)",
        r"brush:\s*([\w#+.-]+)",
        r"(?:^|\s)highlight-source-([\w#+.-]+)",
        r"(?:^|\s)highlight-([\w#+-]+)",
        r"(?:^|\s)sourceCode\s+([\w#+-]+)",
        r"(?:^|\s)hljs\s+([\w#+-]+)",
        r"(?:^|\s)prettyprint\s+lang-([\w#+-]+)",
    )
]
_NOT_LANGS = frozenset(
    {
        "none",
        "plain",
        "plaintext",
        "text",
        "nohighlight",
        "default",
        "source",
        "hljs",
        "notranslate",
        "js-code",
        "code",
        "s-code-block",
        "highlight",
        "sourcecode",
    }
)


@dataclass
class CodeBlock:
    """One code block: its element (replaced in the tree by the caller), exact text and language hint."""

    element: etree._Element
    text: str
    language: str


def classes(el: etree._Element) -> str:
    value = el.get("class")
    return value if isinstance(value, str) else ""


def _class_set(el: etree._Element) -> set[str]:
    return set(classes(el).split())


def is_gutter(el: etree._Element) -> bool:
    if el.get("data-line-number") is not None:
        return True
    names = _class_set(el)
    return any(g in names for g in _GUTTER_CLASSES)


def language_of(el: etree._Element) -> str:
    """A language hint from the class names of the block, its ``<code>`` child or its two nearest ancestors."""
    candidates = [el, *el.iterchildren("code")]
    parent = el.getparent()
    for _ in range(2):
        if parent is None:
            break
        candidates.append(parent)
        parent = parent.getparent()
    for node in candidates:
        for key in ("class", "data-lang", "data-language"):
            value = node.get(key) or ""
            if key != "class" and value:
                return _clean_lang(value)
            for pattern in _LANG_PATTERNS:
                m = pattern.search(value)
                if m and _clean_lang(m.group(1)):
                    return _clean_lang(m.group(1))
    return ""


def _clean_lang(value: str) -> str:
    value = value.strip().lower().rstrip(";")
    return "" if value in _NOT_LANGS or len(value) > 20 else value


def pre_text(el: etree._Element) -> str:
    """Text of a ``<pre>`` as a browser lays it out: ``<br>`` as newline, gutters and scripts dropped, one leading
    newline removed, NBSP as space."""
    parts: list[str] = []
    _walk(el, parts, root=True)
    text = "".join(parts).replace("\u00a0", " ").replace("\r\n", "\n").replace("\r", "\n")
    return text[1:] if text.startswith("\n") else text


def _walk(el: etree._Element, parts: list[str], root: bool = False, br: str = "\n") -> None:
    if not root:
        if not isinstance(el.tag, str) or el.tag in _SKIP or is_gutter(el):
            return
        if el.tag == "br":
            parts.append(br)
    if el.text and isinstance(el.tag, str):
        parts.append(el.text)
    for child in el:
        _walk(child, parts, br=br)
        if child.tail:
            parts.append(child.tail)


def _collapsed_text(el: etree._Element) -> str:
    """A ``<code>`` laid out with ``<br>``: each line's whitespace collapsed as a browser renders it (NBSP is not
    collapsible whitespace, so indentation written with ``&nbsp;`` stays)."""
    parts: list[str] = []
    _walk(el, parts, root=True, br="\x00")
    lines = "".join(parts).split("\x00")
    out = [re.sub(r"[ \t\r\n\f]+", " ", line).strip(" ").replace("\u00a0", " ") for line in lines]
    return "\n".join(out).strip("\n") + "\n"


def _line_table_text(table: etree._Element, cell_class: str) -> str:
    lines = []
    for cell in table.iter():
        if isinstance(cell.tag, str) and cell_class in _class_set(cell):
            if cell.tag in ("td", "div") and cell.find(".//div[@class]") is not None and cell_class == "code":
                for line in cell.iter("div"):  # SyntaxHighlighter: td.code > div.container > div.line
                    if "line" in _class_set(line):
                        lines.append(pre_text(line))
            else:
                lines.append(pre_text(cell).rstrip("\n"))
    return "\n".join(lines) + "\n" if lines else ""


def _has_class_below(el: etree._Element, name: str) -> bool:
    return any(isinstance(d.tag, str) and name in _class_set(d) for d in el.iterdescendants())


def _gutter_table(pre: etree._Element) -> etree._Element | None:
    """The table a highlighter lays a block out in, beside its line-number gutter (Pygments ``highlighttable``:
    ``td.linenos`` then ``td.code``), so the whole table is the block and no empty cell is left around it."""
    cell = next((a for a in pre.iterancestors() if a.tag in ("td", "table")), None)
    if cell is None or cell.tag != "td":
        return None
    table = next((a for a in cell.iterancestors("table")), None)
    if table is None or not any(is_gutter(c) for c in table.iter("td")):
        return None
    code = [p for p in table.iter("pre") if not any(is_gutter(a) for a in p.iterancestors())]
    return table if len(code) == 1 else None


def find_code_blocks(root: etree._Element) -> list[CodeBlock]:
    """Every code block of the page in document order (outermost only; line tables and ``<br>`` code too)."""
    blocks: list[CodeBlock] = []
    taken: set[etree._Element] = set()

    def inside_taken(el: etree._Element) -> bool:
        return any(a in taken for a in el.iterancestors())

    for el in root.iter():
        if not isinstance(el.tag, str) or inside_taken(el):
            continue
        if any(a.tag in _SKIP for a in el.iterancestors() if isinstance(a.tag, str)):
            continue
        names = _class_set(el)
        if el.tag in ("table", "div") and el.find(".//pre") is None:
            cell = next((c for k, c in _LINE_TABLE_CODE if k in names and _has_class_below(el, c)), None)
            if cell is not None:
                text = _line_table_text(el, cell)
                if text.strip():
                    blocks.append(CodeBlock(el, text, language_of(el)))
                    taken.add(el)
            continue
        if el.tag == "pre":
            if any(is_gutter(a) for a in el.iterancestors()) or is_gutter(el):
                continue
            text = pre_text(el)
            if text.strip():
                table = _gutter_table(el)
                if table is not None and table not in taken:
                    blocks.append(CodeBlock(table, text, language_of(el) or language_of(table)))
                    taken.add(table)
                elif table is None:
                    blocks.append(CodeBlock(el, text, language_of(el)))
                taken.add(el)
        elif el.tag == "code" and el.find(".//br") is not None and el.find(".//pre") is None:
            text = _collapsed_text(el)
            if text.strip():
                blocks.append(CodeBlock(el, text, language_of(el)))
                taken.add(el)
    return blocks


def fence(text: str, language: str) -> str:
    """Markdown fence around a block: backticks longer than any run inside, the language after the opening."""
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    ticks = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{ticks}{language}\n{body}{ticks}"

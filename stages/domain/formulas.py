"""Formulas out of HTML as LaTeX: every way a page writes math becomes ``$…$`` (inline) or ``$$…$$`` (display).

Sources, each read by the rules of the markup that writes it:

* MathJax v2 input scripts ``<script type="math/tex">`` (``; mode=display`` is display math) — the rendered
  copies MathJax writes beside them (``.MathJax``, ``.MathJax_Display``, ``.MathJax_Preview``, ``.MJX_Assistive_MathML``
  …) are dropped; rendered MathJax v3 ``<mjx-container>`` (``display="true"``) through its assistive MathML.
* KaTeX's ``.katex`` span (``.katex-display`` for display) through its ``<annotation encoding="application/x-tex">``.
* MathML ``<math>`` (``display="block"``): an x-tex annotation, else ``alttext``, else converted
  (:mod:`curate.stages.domain.mathml`); Wikipedia's ``.mwe-math-element`` with its fallback image's ``alt``.
* Formula images: ``img.tex`` (old MediaWiki), ``img.latex`` and ``latex.php?latex=`` (WordPress), CodeCogs,
  mimeTeX / mathTeX (``mimetex.cgi?…``: the query is the formula), Google Chart ``cht=tx``; ``data-tex`` /
  ``data-latex`` attributes (Zhihu and others).
* TeX already in the text: ``\\(…\\)`` → ``$…$``, ``\\[…\\]`` → ``$$…$$`` (MathJax's default delimiters), and
  forum BB-code ``[tex]``/``[math]`` (display), ``[itex]``/``[latex]`` (inline) as vBulletin/XenForo LaTeX plugins
  define them; ``$…$`` and ``$$…$$`` stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from lxml import etree

from curate.stages.domain.code import classes
from curate.stages.domain.mathml import local, mathml_to_latex, tex_annotation

_MATHJAX_RENDERED = frozenset(
    {
        "MathJax",
        "MathJax_Display",
        "MathJax_Preview",
        "MathJax_CHTML",
        "MathJax_SVG",
        "MathJax_SVG_Display",
        "MathJax_MathML",
        "MathJax_PHTML",
        "MJX_Assistive_MathML",
    }
)
_TEX_IMG_SRC = re.compile(
    r"(?:latex\.php\?|codecogs\.com/.*?\?|mime?tex\.cgi\?|mathtex\.cgi\?|"
    r"chart\.apis\.google\.com/chart\?.*cht=tx|chart\.googleapis\.com/chart\?.*cht=tx|"
    r"/latex\?|latex\.codecogs|wp\.com/latex\.php)",
    re.I,
)


@dataclass
class MathFound:
    """What replace_math found: formulas in page order, counted by source kind."""

    formulas: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)

    def add(self, tex: str, kind: str) -> None:
        self.formulas.append(tex)
        self.kinds[kind] = self.kinds.get(kind, 0) + 1


def wrap(tex: str, display: bool) -> str:
    tex = tex.strip()
    return f"$${tex}$$" if display else f"${tex}$"


def replace_with_text(el: etree._Element, text: str) -> None:
    """Put ``text`` where ``el`` was (keeping the text that followed it) and remove ``el``."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail or ""
    prev = el.getprevious()
    if prev is not None:
        prev.tail = (prev.tail or "") + text + tail
    else:
        parent.text = (parent.text or "") + text + tail
    parent.remove(el)


def _has_class(el: etree._Element, names: frozenset[str] | set[str]) -> bool:
    return bool(names.intersection(classes(el).split()))


def _img_tex(img: etree._Element) -> tuple[str | None, str]:
    for attr in ("data-tex", "data-latex", "data-formula"):
        if img.get(attr):
            return img.get(attr).strip(), "data-tex"
    src = img.get("src") or img.get("data-src") or ""
    alt = (img.get("alt") or "").strip()
    cls = set(classes(img).split())
    if (
        "tex" in cls
        or "latex" in cls
        or "mwe-math-fallback-image-inline" in cls
        or "mwe-math-fallback-image-display" in cls
    ):
        return (alt or None), "img-latex-alt"
    if not _TEX_IMG_SRC.search(src):
        return None, ""
    if re.search(r"mime?tex\.cgi\?|mathtex\.cgi\?", src, re.I):
        return unquote(src.split("?", 1)[1]).strip() or None, "img-mimetex-src"
    if alt:
        return alt, "img-latex-alt"
    query = parse_qs(urlsplit(src).query)
    for key in ("latex", "chl"):
        if query.get(key):
            return query[key][0].strip(), "img-latex-src"
    return unquote(src.split("?", 1)[1]).strip() or None, "img-latex-src"


def replace_math(root: etree._Element) -> MathFound:
    """Replace every formula element under ``root`` by its LaTeX in ``$…$``/``$$…$$`` text; report what was found."""
    found = MathFound()
    scripts = [s for s in root.iter("script") if (s.get("type") or "").lower().startswith("math/tex")]
    if scripts:  # MathJax v2 with its input kept: the rendered copies are redundant
        for el in list(root.iter()):
            if (
                isinstance(el.tag, str)
                and el.getparent() is not None
                and _has_class(el, _MATHJAX_RENDERED)
                and el.find(".//script") is None
            ):
                replace_with_text(el, "")
        for s in scripts:
            tex = (s.text or "").strip()
            if tex:
                display = "mode=display" in (s.get("type") or "").replace(" ", "").lower()
                found.add(tex, "mathjax-script")
                replace_with_text(s, wrap(tex, display))
            else:
                replace_with_text(s, "")
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None or _detached(el, root):
            continue
        tag = local(el.tag)
        cls = set(classes(el).split())
        tex, kind, display = None, "", False
        if tag == "mjx-container":
            math = next((m for m in el.iter() if local(m.tag) == "math"), None)
            tex = None if math is None else (tex_annotation(math) or mathml_to_latex(math))
            kind, display = "mathjax-rendered", el.get("display") == "true" or el.get("display") == "block"
        elif "katex-display" in cls or ("katex" in cls and not _inside_class(el, "katex-display")):
            ann = next(
                (
                    a
                    for a in el.iter()
                    if local(a.tag) == "annotation" and (a.get("encoding") or "") == "application/x-tex"
                ),
                None,
            )
            tex = None if ann is None else (ann.text or "").strip()
            if tex is None:
                math = next((m for m in el.iter() if local(m.tag) == "math"), None)
                tex = None if math is None else mathml_to_latex(math)
            kind, display = "katex", "katex-display" in cls
        elif "mwe-math-element" in cls:
            math = next((m for m in el.iter() if local(m.tag) == "math"), None)
            img = next((i for i in el.iter("img")), None)
            tex = (
                (tex_annotation(math) if math is not None else None)
                or (img.get("alt", "").strip() if img is not None else None)
                or (mathml_to_latex(math) if math is not None else None)
            )
            display = (math is not None and math.get("display") == "block") or (
                img is not None and "mwe-math-fallback-image-display" in classes(img)
            )
            kind = "mediawiki"
        elif _has_class(el, _MATHJAX_RENDERED):  # rendered MathJax v2 without its input script
            math = next((m for m in el.iter() if local(m.tag) == "math"), None)
            if math is None:
                if "MathJax_Preview" in cls:
                    replace_with_text(el, "")
                continue
            tex = tex_annotation(math) or mathml_to_latex(math)
            kind, display = "mathjax-rendered", "MathJax_Display" in cls or math.get("display") == "block"
        elif tag == "math":
            tex = tex_annotation(el) or mathml_to_latex(el)
            kind, display = "mathml", el.get("display") == "block" or el.get("mode") == "display"
        elif tag == "img" or el.get("data-tex") or el.get("data-latex"):
            tex, kind = _img_tex(el)
            display = False
        else:
            continue
        if tex:
            found.add(tex, kind)
            replace_with_text(el, wrap(tex, display))
        elif kind:
            replace_with_text(el, "")
    return found


def _detached(el: etree._Element, root: etree._Element) -> bool:
    for a in el.iterancestors():
        if a is root:
            return False
    return el is not root


def _inside_class(el: etree._Element, name: str) -> bool:
    return any(name in classes(a).split() for a in el.iterancestors())


_TEXT_DELIMS = [
    (re.compile(r"\\\[(.+?)\\\]", re.S), True),
    (re.compile(r"\\\((.+?)\\\)", re.S), False),
    (re.compile(r"\[(?:tex|math)\](.+?)\[/(?:tex|math)\]", re.S | re.I), True),
    (re.compile(r"\[(?:itex|latex)\](.+?)\[/(?:itex|latex)\]", re.S | re.I), False),
]
_DOLLARS = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$([^$\n]+?)(?<![\\\s])\$(?!\d)", re.S)


def normalise_delimiters(text: str) -> tuple[str, list[str]]:
    """``\\(…\\)``, ``\\[…\\]`` and BB-code math in text as ``$…$`` / ``$$…$$``; the formulas found in text."""
    found: list[str] = []
    for pattern, display in _TEXT_DELIMS:

        def sub(m: re.Match, display: bool = display) -> str:
            found.append(m.group(1).strip())
            return wrap(m.group(1), display)

        text = pattern.sub(sub, text)
    return text, found


def dollar_formulas(text: str) -> list[str]:
    """Formulas written between ``$`` signs in text (for counting; TeX's own pairing rules, no digits after)."""
    return [(m.group(1) or m.group(2)).strip() for m in _DOLLARS.finditer(text)]

"""MathML (Presentation Markup) to LaTeX, for formulas that carry no TeX source of their own.

Follows the element rules of MathML 3 / MathML Core (W3C): token elements ``mi``/``mn``/``mo``/``mtext``/``ms``,
layout ``mrow``/``mfrac``/``msqrt``/``mroot``/``mstyle``/``mpadded``/``mphantom``/``menclose``/``mfenced``, scripts
``msub``/``msup``/``msubsup``/``munder``/``mover``/``munderover``/``mmultiscripts``, tables ``mtable``/``mtr``/
``mtd``; ``semantics`` shows its first child (an ``annotation`` with ``encoding="application/x-tex"`` wins when
present, as MathJax, KaTeX and Wikipedia write it). Operators and letters map to the LaTeX command of the same
Unicode character (unicode-math names); a multi-letter ``mi`` is an upright name (``\\sin`` for known functions,
``\\mathrm{}`` otherwise). The result is TeX a reader and a model can read; it is not meant to re-render identically.
"""

from __future__ import annotations

from lxml import etree

_SYMBOLS = {
    "α": r"\alpha",
    "β": r"\beta",
    "γ": r"\gamma",
    "δ": r"\delta",
    "ε": r"\epsilon",
    "ϵ": r"\epsilon",
    "ζ": r"\zeta",
    "η": r"\eta",
    "θ": r"\theta",
    "ϑ": r"\vartheta",
    "ι": r"\iota",
    "κ": r"\kappa",
    "λ": r"\lambda",
    "μ": r"\mu",
    "ν": r"\nu",
    "ξ": r"\xi",
    "π": r"\pi",
    "ρ": r"\rho",
    "σ": r"\sigma",
    "ς": r"\varsigma",
    "τ": r"\tau",
    "υ": r"\upsilon",
    "φ": r"\phi",
    "ϕ": r"\phi",
    "χ": r"\chi",
    "ψ": r"\psi",
    "ω": r"\omega",
    "Γ": r"\Gamma",
    "Δ": r"\Delta",
    "Θ": r"\Theta",
    "Λ": r"\Lambda",
    "Ξ": r"\Xi",
    "Π": r"\Pi",
    "Σ": r"\Sigma",
    "Φ": r"\Phi",
    "Ψ": r"\Psi",
    "Ω": r"\Omega",
    "∑": r"\sum",
    "∏": r"\prod",
    "∫": r"\int",
    "∮": r"\oint",
    "∞": r"\infty",
    "∂": r"\partial",
    "∇": r"\nabla",
    "±": r"\pm",
    "∓": r"\mp",
    "×": r"\times",
    "÷": r"\div",
    "⋅": r"\cdot",
    "·": r"\cdot",
    "∘": r"\circ",
    "≤": r"\leq",
    "≥": r"\geq",
    "≠": r"\neq",
    "≈": r"\approx",
    "≡": r"\equiv",
    "∼": r"\sim",
    "≃": r"\simeq",
    "≅": r"\cong",
    "∝": r"\propto",
    "→": r"\to",
    "←": r"\leftarrow",
    "↔": r"\leftrightarrow",
    "⇒": r"\Rightarrow",
    "⇐": r"\Leftarrow",
    "⇔": r"\Leftrightarrow",
    "↦": r"\mapsto",
    "∈": r"\in",
    "∉": r"\notin",
    "∋": r"\ni",
    "⊂": r"\subset",
    "⊃": r"\supset",
    "⊆": r"\subseteq",
    "⊇": r"\supseteq",
    "∪": r"\cup",
    "∩": r"\cap",
    "∅": r"\emptyset",
    "∀": r"\forall",
    "∃": r"\exists",
    "¬": r"\neg",
    "∧": r"\wedge",
    "∨": r"\vee",
    "⊕": r"\oplus",
    "⊗": r"\otimes",
    "…": r"\ldots",
    "⋯": r"\cdots",
    "⋮": r"\vdots",
    "⋱": r"\ddots",
    "′": "'",
    "″": "''",
    "−": "-",
    "∗": "*",
    "⟨": r"\langle",
    "⟩": r"\rangle",
    "‖": r"\|",
    "∣": "|",
    "ℝ": r"\mathbb{R}",
    "ℕ": r"\mathbb{N}",
    "ℤ": r"\mathbb{Z}",
    "ℚ": r"\mathbb{Q}",
    "ℂ": r"\mathbb{C}",
    "ℓ": r"\ell",
    "ℏ": r"\hbar",
    "\u2061": "",
    "\u2062": "",
    "\u2063": ",",
    "\u2064": "+",
    "\u00a0": " ",
    "{": r"\{",
    "}": r"\}",
    "⌊": r"\lfloor",
    "⌋": r"\rfloor",
    "⌈": r"\lceil",
    "⌉": r"\rceil",
    "√": r"\surd",
    "≪": r"\ll",
    "≫": r"\gg",
    "⊥": r"\perp",
    "∥": r"\parallel",
    "†": r"\dagger",
    "⋆": r"\star",
    "°": r"^\circ",
}
_FUNCTIONS = frozenset(
    {
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "log",
        "ln",
        "exp",
        "lim",
        "max",
        "min",
        "sup",
        "inf",
        "det",
        "dim",
        "ker",
        "deg",
        "gcd",
        "arg",
        "sinh",
        "cosh",
        "tanh",
        "arcsin",
        "arccos",
        "arctan",
        "Pr",
        "lg",
        "hom",
        "limsup",
        "liminf",
    }
)
_ACCENTS = {
    "¯": r"\overline",
    "‾": r"\overline",
    "^": r"\hat",
    "ˆ": r"\hat",
    "~": r"\tilde",
    "˜": r"\tilde",
    "→": r"\vec",
    "⃗": r"\vec",
    "˙": r"\dot",
    "¨": r"\ddot",
    "⏞": r"\overbrace",
    "⏟": r"\underbrace",
    "_": r"\underline",
}
_BIG = frozenset({r"\sum", r"\prod", r"\int", r"\oint", r"\lim", r"\max", r"\min", r"\sup", r"\inf"})


def local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _sym(text: str) -> str:
    return "".join(_SYMBOLS.get(ch, ch) for ch in text)


def _group(s: str) -> str:
    return s if len(s) == 1 or (s.startswith("\\") and s[1:].isalpha()) else "{" + s + "}"


def tex_annotation(math: etree._Element) -> str | None:
    """The TeX source a ``<math>`` carries: an x-tex annotation, else its ``alttext``."""
    for el in math.iter():
        if local(el.tag) == "annotation" and (el.get("encoding") or "").lower() in (
            "application/x-tex",
            "tex",
            "latex",
            "application/x-latex",
        ):
            if el.text and el.text.strip():
                return el.text.strip()
    alt = (math.get("alttext") or "").strip()
    return alt or None


def mathml_to_latex(el: etree._Element) -> str:
    """LaTeX for a ``<math>`` element (or any MathML element)."""
    return " ".join(_convert(el).split())


def _children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def _row(el: etree._Element) -> str:
    out: list[str] = []
    for c in _children(el):
        piece = _convert(c)
        if out and piece and out[-1] and out[-1][-1].isalpha() and (piece[0].isalnum()) and out[-1].startswith("\\"):
            piece = " " + piece
        out.append(piece)
    return "".join(out)


def _convert(el: etree._Element) -> str:  # noqa: C901 - one branch per MathML element
    tag = local(el.tag)
    kids = _children(el)
    text = (el.text or "").strip()
    if tag in ("annotation", "annotation-xml", "none", "mprescripts", "maligngroup", "malignmark"):
        return ""
    if tag == "semantics":
        return _convert(kids[0]) if kids else ""
    if tag == "mi":
        if len(text) > 1:
            return "\\" + text if text in _FUNCTIONS else r"\mathrm{" + text + "}"
        return _sym(text)
    if tag == "mn":
        return text
    if tag == "mo":
        if text in ("(", ")", "[", "]", "|", "/", "+", "=", "<", ">", ",", ";", ":", "!", "."):
            return text
        return _sym(text) + (" " if text and _sym(text).startswith("\\") else "")
    if tag in ("mtext", "ms"):
        return r"\text{" + text + "}" if text else ""
    if tag == "mspace":
        return " "
    if tag == "mfrac":
        a, b = (_convert(k) for k in (kids + [el, el])[:2]) if len(kids) >= 2 else ("", "")
        return r"\frac{" + a + "}{" + b + "}"
    if tag == "msqrt":
        return r"\sqrt{" + _row(el) + "}"
    if tag == "mroot" and len(kids) >= 2:
        return r"\sqrt[" + _convert(kids[1]) + "]{" + _convert(kids[0]) + "}"
    if tag in ("msub", "msup", "munder", "mover") and len(kids) >= 2:
        base, script = _convert(kids[0]), _convert(kids[1])
        script_text = (kids[1].text or "").strip()
        if tag == "mover" and local(kids[1].tag) == "mo" and script_text in _ACCENTS:
            return _ACCENTS[script_text] + "{" + base + "}"
        if tag == "munder" and local(kids[1].tag) == "mo" and script_text in ("_", "⏟"):
            return _ACCENTS[script_text] + "{" + base + "}"
        mark = "_" if tag in ("msub", "munder") else "^"
        return _group(base.strip()) + mark + "{" + script + "}"
    if tag in ("msubsup", "munderover") and len(kids) >= 3:
        base = _convert(kids[0]).strip()
        return _group(base) + "_{" + _convert(kids[1]) + "}^{" + _convert(kids[2]) + "}"
    if tag == "mfenced":
        open_, close = el.get("open", "("), el.get("close", ")")
        sep = el.get("separators", ",").strip() or ","
        return open_ + sep[0].join(_convert(k) for k in kids) + close
    if tag == "mtable":
        rows = [" & ".join(_convert(cell) for cell in _children(row)) for row in kids]
        return r"\begin{matrix}" + r" \\ ".join(rows) + r"\end{matrix}"
    if tag in ("mtr", "mlabeledtr", "mtd"):
        return _row(el)
    if tag == "mmultiscripts" and kids:
        base = _convert(kids[0])
        post = [_convert(k) for k in kids[1:] if local(k.tag) != "mprescripts"]
        out = _group(base)
        if len(post) >= 2:
            out += "_{" + post[0] + "}^{" + post[1] + "}"
        return out
    return _sym(text) + _row(el)

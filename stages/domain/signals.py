"""Cheap signals that a text is program code, and text-only domain signals for documents without HTML signals.

``code_likeness`` scores a block by what programs have and prose, program output and citations lack: lines ending
in ``;``, ``{``/``}``, ``:`` after a statement keyword; assignments and calls; keywords of common languages;
indentation. A language hint from the page (``language-python``) counts as strong evidence; BibTeX entries
(``@article{``) and blocks with a non-program hint (``text``, ``output``, ``console``) do not count as code. The
weights are round numbers chosen from the rules above, not fitted.
"""

from __future__ import annotations

import re

_KEYWORDS = re.compile(
    r"\b(?:def|return|function|class|import|from|include|public|private|static|void|int|var|let|const|if|else|"
    r"elif|for|while|foreach|echo|print|printf|println|SELECT|FROM|WHERE|INSERT|UPDATE|try|catch|except|lambda|new|"
    r"struct|fn|func|package|namespace|using|module|end|begin|require|self|this|null|None|true|false|True|False)\b"
)
_CODE_LINE = re.compile(
    r"(?:[;{}]\s*$|^\s*[}\])]|\w\s*(?:=|\+=|-=|==|=>|->|::)\s*\S|\w\(.*\)|^\s*(?:#|//|/\*|--)\s*\w|"
    r"^\s*<\/?[a-zA-Z][\w-]*[^>]*>|^\s*[$>]\s+\w)"
)
_NOT_PROGRAM_HINTS = frozenset({"text", "txt", "output", "console-output", "bibtex", "bib", "plain", "log"})


def code_likeness(text: str, language: str = "") -> float:
    """0..1: how much ``text`` looks like program code (see the module docstring)."""
    stripped = text.strip()
    if not stripped or re.match(r"@\w+\s*\{", stripped):
        return 0.0
    if language in _NOT_PROGRAM_HINTS:
        return 0.0
    if language:
        return 1.0
    lines = [line for line in stripped.split("\n") if line.strip()]
    code_lines = sum(bool(_CODE_LINE.search(line)) for line in lines) / len(lines)
    keywords = min(1.0, len(_KEYWORDS.findall(stripped)) / max(1, len(lines)))
    indented = sum(line[:1] in (" ", "\t") for line in lines) / len(lines)
    symbols = sum(ch in "{}()[];=<>_/\\|&*+$#@:." for ch in stripped) / max(1, len(stripped))
    score = 0.45 * code_lines + 0.25 * keywords + 0.1 * indented + 0.2 * min(1.0, symbols * 8)
    return round(score, 4)


_FENCE = re.compile(r"(?ms)^(`{3,})([^\n`]*)\n(.*?)^\1$")
_TEX = re.compile(r"\$\$.+?\$\$|(?<![\\$])\$[^$\n]*\\[a-zA-Z]+[^$\n]*\$|\\\(.+?\\\)|\\\[.+?\\\]", re.S)
_QA_HEAD = re.compile(r"^Question: .*\n(?:.*\n)*?Answer\b.*:$", re.M)


def text_signals(text: str) -> dict[str, float]:
    """Domain signals from text alone: fenced or code-like blocks, TeX formulas, the QA thread format."""
    fenced = _FENCE.findall(text)
    program = sum(code_likeness(body, lang.strip()) >= 0.5 for _, lang, body in fenced)
    if not fenced:  # plain text: runs of code-like lines count as one block each
        run = 0
        for line in text.split("\n") + [""]:
            if line.strip() and code_likeness(line) >= 0.6:
                run += 1
            else:
                program += run >= 3
                run = 0
    return {
        "code_blocks": len(fenced),
        "code_program_blocks": program,
        "math_text_formulas": len(_TEX.findall(text)),
        "qa_answers": len(re.findall(r"^Answer\b.*:$", text, re.M)),
        "qa_thread": bool(_QA_HEAD.search(text)),
    }

"""FineWeb2's final touches on the text: ftfy encoding repair and trafilatura table-symbol lines.

FineWeb2's pipeline (``fineweb-2-pipeline.py``, "final touches") runs datatrove's ``FTFYFormatter()`` (ftfy's
``fix_text`` with encoding repair on and every normalising fix off: no ligature, width, quote or line-break changes,
no Unicode normalisation), then ``PIIFormatter()`` (our ``pii`` step), then ``SymbolLinesFormatter(symbols_to_remove=
["|"], replace_char="\\n")``: each run of lines made only of ``|`` and spaces, which trafilatura leaves from tables,
becomes one empty line.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pydantic import Field

from curate.registry import register
from curate.stage import Params, Stage, StepOutput

#: datatrove 0.10.1 FTFYFormatter's defaults (ftfy.TextFixerConfig fields)
FTFY_CONFIG: dict[str, Any] = {
    "unescape_html": "auto",
    "remove_terminal_escapes": True,
    "fix_encoding": True,
    "restore_byte_a0": True,
    "replace_lossy_sequences": True,
    "decode_inconsistent_utf8": True,
    "fix_c1_controls": True,
    "fix_latin_ligatures": False,
    "fix_character_width": False,
    "uncurl_quotes": False,
    "fix_line_breaks": False,
    "fix_surrogates": True,
    "remove_control_chars": True,
    "normalization": None,
}


def symbol_lines(text: str, symbols: frozenset[str], replace: str) -> str:
    """datatrove's SymbolLinesFormatter: a run of lines made only of ``symbols`` (and spaces) becomes ``replace``
    (dropped when empty); whitespace-only lines stay."""
    out: list[str] = []
    in_removed = False
    for line in text.splitlines():
        symbolic = line.strip() != "" and all(c in symbols or c == " " for c in line)
        if symbolic and not in_removed:
            if replace:
                out.append(replace)
            in_removed = True
        elif not symbolic:
            out.append(line)
            in_removed = False
    return "\n".join(out)


@register
class TextRepair(Stage):
    """Repair mojibake and control characters with ftfy (FineWeb2's settings) and turn lines of table symbols into
    paragraph breaks. Removes nothing. Counters: ftfy_changed, symbol_lines_changed. ftfy is optional
    (``pip install ftfy``, in the ``multilingual`` extra): without it ``ftfy: true`` fails at setup, naming it."""

    name = "text_repair"
    kind = "map"
    requires = ("text",)
    version = 1

    class Params(Params):
        ftfy: bool = Field(True, description="ftfy fix_text with datatrove FTFYFormatter's config (FineWeb2)")
        symbols: list[str] = Field(["|"], description="lines made only of these (and spaces) are replaced; [] off")
        replace_with: str = Field("\n", description="what a run of symbol lines becomes (FineWeb2: a newline)")

    def setup(self) -> None:
        self._fix = None
        if self.params.ftfy:
            try:
                import ftfy
            except ImportError as exc:
                raise RuntimeError("text_repair: ftfy is not installed (pip install ftfy, or ftfy: false)") from exc
            config = ftfy.TextFixerConfig(**FTFY_CONFIG)
            self._fix = lambda t: ftfy.fix_text(t, config=config)

    def process(self, table: pa.Table) -> StepOutput:
        if not hasattr(self, "_fix"):
            self.setup()
        symbols = frozenset(self.params.symbols)
        texts = table.column("text").to_pylist()
        fixed = changed_ftfy = changed_lines = 0
        out = []
        for t in texts:
            if t is None:
                out.append(t)
                continue
            new = self._fix(t) if self._fix is not None else t
            changed_ftfy += new != t
            if symbols and any(s in new for s in symbols):
                lines = symbol_lines(new, symbols, self.params.replace_with)
                changed_lines += lines != new
                new = lines
            fixed += new != t
            out.append(new)
        col = table.schema.get_field_index("text")
        table = table.set_column(col, table.schema.field(col), pa.array(out, table.schema.field(col).type))
        result = StepOutput.split(table, [None] * table.num_rows)
        result.counters.update({"ftfy_changed": changed_ftfy, "symbol_lines_changed": changed_lines})
        return result

"""trafilatura's boilerplate XPaths, evaluated by compiled Python instead of libxml2 with EXSLT regex callbacks.

trafilatura spends about half of its time in ~20 XPath expressions of one shape,
``.//*[self::div or self::section][re:test(@id, '…') or contains(@class, '…') or …]``: libxml2 walks the tree in C
but calls back into Python, through lxml's EXSLT extension, for every ``re:test`` on every candidate element, a few
microseconds each. This module parses that XPath subset once and compiles each expression to one Python function:
``iterdescendants`` over the same tag names in C, then the predicate as plain Python with the regexes precompiled.
The elements come back in the same order as lxml's (document order), so trafilatura's output is unchanged: a test
fuzzes every compiled expression against lxml on generated markup and compares extractions on real pages.

Each attribute a predicate reads is read once per element (``el.get`` costs ~0.3 µs: it encodes the name and
decodes the value), and as the predicate is then a function of those values (and the tag) alone — unless it tests
for a descendant — its verdict is remembered per distinct values (:data:`MEMO_LIMIT` of them per expression):
attribute-less elements and repeated class/id values cost one dictionary lookup instead of a chain of substring
tests and regex searches. Measured on the dev WARC's 1,120 parsed pages, all 21 compiled expressions: 18.8-21.0
CPU-s before, 13.8-15.0 after (the same elements). A new value meets a ``re:test`` only when it holds one of the
literals every match of that regex contains (:func:`required_literals`, screened in C by ``_native.AnyLiteral``).

Supported: ``.//NAME``, ``.//*`` with predicates, ``(…)[1]`` and a trailing positional ``[1]``; inside predicates
``or``/``and``/``not()``, ``self::NAME``, ``@a``, ``@a='v'``, ``@a|@b`` (the first in document order, as XPath's
string() takes it), ``contains``, ``starts-with``, ``translate``, ``re:test`` (with flags) and ``.//NAME`` as a
boolean. Anything else raises :class:`Unsupported` and that expression stays with lxml.

:func:`compiled_xpaths` swaps the compiled functions into trafilatura's XPath lists for the duration of a ``with``
block only. Thread safety, honestly: the swap patches module-level lists, so it is process-wide while a block is
open. A re-entrant lock is held for the whole block, so two threads using :func:`compiled_xpaths` extract one at a
time (curate runs one extraction at a time per worker process, so nothing is lost there); a thread calling
trafilatura *without* the block while another holds it sees the compiled expressions, which return the same
elements by construction. The expressions were checked against the trafilatura versions in
``trafilatura_fast.SUPPORTED_VERSIONS``; ``warc_extract`` refuses another version at setup unless its
``compiled_*`` options are off.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from lxml import etree

from curate.stages.warc.native import module as _native

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<string>'[^']*'|"[^"]*")
    | (?P<number>\d+)
    | (?P<desc>\.//)
    | (?P<axis>self::)
    | (?P<attr>@[\w:-]+)
    | (?P<name>[A-Za-z_][\w:-]*|\*)
    | (?P<punct>[()\[\],|=])
    )""",
    re.VERBOSE,
)


class Unsupported(ValueError):
    """The expression uses XPath outside the compiled subset: lxml keeps evaluating it."""


def _tokens(path: str) -> list[tuple[str, str]]:
    out, pos, end = [], 0, len(path.rstrip())
    while pos < end:
        m = _TOKEN.match(path, pos)
        if m is None or m.end() == pos:
            raise Unsupported(f"cannot read {path[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _translate_table(src: str, dst: str) -> dict[int, int | None]:
    table: dict[int, int | None] = {}
    for i, ch in enumerate(src):  # XPath: the first occurrence wins, characters beyond `dst` are deleted
        table.setdefault(ord(ch), ord(dst[i]) if i < len(dst) else None)
    return table


def first_attribute(el: Any, names: tuple[str, ...]) -> str:
    """The string value of ``@a|@b|…`` on ``el``: the first of these attributes in document (source) order."""
    present = [n for n in names if el.get(n) is not None]
    if not present:
        return ""
    if len(present) > 1:
        order = el.keys()
        present.sort(key=order.index)
    return el.get(present[0])


def first_of_two(el: Any, a: str, b: str) -> str:
    """:func:`first_attribute` for two names (``@id|@class``, the common case), without building lists."""
    get = el.get
    va, vb = get(a), get(b)
    if va is None:
        return "" if vb is None else vb
    if vb is None:
        return va
    keys = el.keys()
    return va if keys.index(a) < keys.index(b) else vb


def has_descendant(el: Any, tag: str) -> bool:
    return next(el.iterdescendants(tag), None) is not None


class _Compiler:
    """Recursive descent over the token list, producing one Python boolean expression per predicate."""

    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.i = tokens, 0
        self.constants: dict[str, Any] = {}
        #: attribute name -> the local holding its value (``el.get(name)``, read once per element)
        self.attributes_read: dict[str, str] = {}
        #: attribute union (``@a|@b``) -> the local holding its string value
        self.unions_read: dict[tuple[str, ...], str] = {}
        self.reads_tag = False
        #: per predicate, its top-level ``or`` terms as (code, the locals the term reads: aN, uN, "tag")
        self.predicate_terms: list[list[tuple[str, frozenset[str]]]] = []
        self.term_reads: set[str] = set()
        self.reads_structure = False  # a descendant test: the predicate is not a function of attributes alone

    # -- token helpers ---------------------------------------------------------------------------------------
    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        k, v = self.tokens[self.i]
        return (value is None or v == value) and (kind is None or k == kind)

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        if not self.peek(value, kind):
            got = self.tokens[self.i][1] if self.i < len(self.tokens) else "end"
            raise Unsupported(f"expected {value or kind}, got {got!r}")
        self.i += 1
        return self.tokens[self.i - 1][1]

    def constant(self, value: Any) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def attribute(self, name: str) -> str:
        """The local holding ``@name`` (None when absent)."""
        local = self.attributes_read.setdefault(name, f"a{len(self.attributes_read)}")
        self.term_reads.add(local)
        return local

    def union(self, names: tuple[str, ...]) -> str:
        """The local holding the string value of ``@a|@b|…`` ('' when none is present)."""
        for name in names:  # each is read (the union is computed from them), the term reads the union only
            self.attributes_read.setdefault(name, f"a{len(self.attributes_read)}")
        local = self.unions_read.setdefault(names, f"u{len(self.unions_read)}")
        self.term_reads.add(local)
        return local

    def key_locals(self, tags: tuple[str, ...] | None) -> list[str]:
        """The values a verdict is a function of, in the walks' key order: the attributes, the unions, then the
        tag when the tag filter leaves more than one (one tag name: a constant)."""
        locals_ = [*self.attributes_read.values(), *self.unions_read.values()]
        return [*locals_, "tag"] if self.reads_tag and (tags is None or len(tags) > 1) else locals_

    # -- grammar ---------------------------------------------------------------------------------------------
    def path(self) -> tuple[tuple[str, ...] | None, list[str], str]:
        """``.//TEST[pred]…[1]?`` or ``(.//TEST[pred]…)[1]`` -> (tags, predicates, positional)."""
        if self.peek("("):
            self.take("(")
            tags, preds, positional = self.step()
            self.take(")")
            if positional:
                raise Unsupported("nested positional predicates")
            self.positional_one()
            return tags, preds, "first"
        return self.step()

    def positional_one(self) -> None:
        self.take("[")
        if self.take(kind="number") != "1":
            raise Unsupported("only [1] is supported")
        self.take("]")

    def step(self) -> tuple[tuple[str, ...] | None, list[str], str]:
        self.take(kind="desc")
        test = self.take(kind="name")
        tags = None if test == "*" else (test,)
        preds: list[str] = []
        positional = ""
        if tags is None and self.peek("["):  # a leading [self::a or self::b] becomes the C-level tag filter
            tags = self.self_names()
        while self.peek("["):
            if self.tokens[self.i + 1][0] == "number":
                self.positional_one()
                positional = "first_child"
                break
            self.take("[")
            preds.append(self.predicate())
            self.take("]")
        return tags, preds, positional

    def self_names(self) -> tuple[str, ...] | None:
        """Consume ``[self::a or self::b …]`` and return its names; leave anything else unread."""
        names, j = [], self.i + 1
        while j + 1 < len(self.tokens) and self.tokens[j] == ("axis", "self::") and self.tokens[j + 1][0] == "name":
            names.append(self.tokens[j + 1][1])
            j += 2
            if self.tokens[j] == ("punct", "]"):
                self.i = j + 1
                return tuple(names)
            if self.tokens[j] != ("name", "or"):
                break
            j += 1
        return None

    def predicate(self) -> str:
        """A bracketed predicate: :meth:`or_expr`, with its top-level terms and what each reads recorded."""
        terms = []
        while True:
            self.term_reads = set()
            terms.append((self.and_expr(), frozenset(self.term_reads)))
            if not self.peek("or", "name"):
                break
            self.take()
        self.predicate_terms.append(terms)
        return terms[0][0] if len(terms) == 1 else "(" + " or ".join(code for code, _ in terms) + ")"

    def or_expr(self) -> str:
        return self.joined("or", self.and_expr)

    def and_expr(self) -> str:
        return self.joined("and", self.unary)

    def joined(self, operator: str, operand: Callable[[], str]) -> str:
        """``operand (operator operand)*`` as one parenthesised Python expression."""
        parts = [operand()]
        while self.peek(operator, "name"):
            self.take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else "(" + f" {operator} ".join(parts) + ")"

    def parenthesised(self) -> str:
        self.take("(")
        inner = self.or_expr()
        self.take(")")
        return inner

    def unary(self) -> str:
        if self.peek("not", "name"):
            self.take()
            return f"(not {self.parenthesised()})"
        if self.peek("("):
            return self.parenthesised()
        if self.peek(kind="axis"):
            self.take()
            self.reads_tag = True
            self.term_reads.add("tag")
            return f"(tag == {self.take(kind='name')!r})"
        if self.peek(kind="desc"):
            self.take()
            tag = self.take(kind="name")
            if tag == "*" or self.peek("["):
                raise Unsupported("descendant tests with predicates")
            self.reads_structure = True
            self.term_reads.add("structure")
            return f"_has_descendant(el, {tag!r})"
        if self.peek(kind="attr"):
            names = self.attributes()
            if self.peek("="):
                self.take()
                literal = self.string()
                return " or ".join(f"({self.attribute(n)} == {literal!r})" for n in names)  # any node equal
            return " or ".join(f"({self.attribute(n)} is not None)" for n in names)
        return self.function()

    def attributes(self) -> tuple[str, ...]:
        names = [self.take(kind="attr")[1:]]
        while self.peek("|"):
            self.take()
            names.append(self.take(kind="attr")[1:])
        return tuple(names)

    def string(self) -> str:
        return self.take(kind="string")[1:-1]

    def string_value(self) -> tuple[str, str | None]:
        """A string-valued argument: attributes (first in document order), translate(), or a literal, as
        ``(code, the attribute it is when it is exactly one)``."""
        if self.peek(kind="attr"):
            names = self.attributes()
            if len(names) == 1:
                return f"({self.attribute(names[0])} or '')", names[0]
            return self.union(names), None
        if self.peek(kind="string"):
            return repr(self.string()), None
        if self.peek("translate", "name"):
            self.take()
            self.take("(")
            value, _ = self.string_value()
            self.take(",")
            src = self.string()
            self.take(",")
            dst = self.string()
            self.take(")")
            return f"{value}.translate({self.constant(_translate_table(src, dst))})", None
        got = self.tokens[self.i][1] if self.i < len(self.tokens) else "end"
        raise Unsupported(f"string argument {got!r}")

    def function(self) -> str:
        name = self.take(kind="name")
        self.take("(")
        value, attribute = self.string_value()
        self.take(",")
        arg = self.string()
        flags = ""
        if self.peek(","):
            self.take()
            flags = self.string()
        self.take(")")
        if name == "contains" and not flags:
            return f"({arg!r} in {value})"
        if name == "starts-with" and not flags:
            return f"{value}.startswith({arg!r})"
        if name == "re:test":  # lxml's EXSLT: re.search, 'i' in flags -> IGNORECASE
            pattern = re.compile(arg, re.UNICODE | (re.IGNORECASE if "i" in flags else 0))
            search = self.constant(pattern.search)
            literals = required_literals(pattern) if _native is not None else None
            # a value without any literal every match contains cannot match: one C pass instead of the search
            screen = self.constant(_native.AnyLiteral(literals)) if literals else None
            if attribute is not None and pattern.search("") is None:  # an absent attribute cannot match: no call
                local = self.attribute(attribute)
                if screen:
                    return f"({local} is not None and {screen}({local}) and {search}({local}) is not None)"
                return f"({local} is not None and {search}({local}) is not None)"
            if screen and value.isidentifier():  # a union's local: a str
                return f"({screen}({value}) and {search}({value}) is not None)"
            return f"({search}({value}) is not None)"
        raise Unsupported(f"function {name}()")


def required_literals(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """ASCII literals of which every match of ``pattern`` contains at least one, or None when that cannot be read
    off the pattern simply (case-insensitive parts, a branch that can match without a literal, …).

    Read from the parse tree (``re._parser``) conservatively: in a sequence, a run of consecutive literal characters
    is required, and so is what a group or a repeat of at least one requires; a branch requires the union of what
    its alternatives require (None when one requires nothing). Of the sequence's choices the most selective is
    kept (longest shortest literal, then fewest). So ``post[-_]text|bread-?crumb|(?:^| )ad-`` gives
    ``('post', 'bread', 'ad-')``: a string holding none of them has no match, and the search is skipped."""
    import re._constants as c  # type: ignore[import-not-found]
    import re._parser as parser  # type: ignore[import-not-found]

    if pattern.flags & re.IGNORECASE:
        return None
    try:
        tree = parser.parse(pattern.pattern, pattern.flags)
    except re.error:  # pragma: no cover - the pattern compiled already
        return None

    def required(items: Any) -> frozenset[str] | None:
        choices: list[frozenset[str]] = []
        run: list[str] = []
        for op, av in list(items) + [(None, None)]:
            if op is c.LITERAL and av < 128:
                run.append(chr(av))
                continue
            if run:
                choices.append(frozenset(["".join(run)]))
                run = []
            inner: frozenset[str] | None = None
            if op is c.SUBPATTERN and not (av[1] & re.IGNORECASE):
                inner = required(av[3].data)
            elif op is c.ATOMIC_GROUP:
                inner = required(av.data)
            elif op is c.BRANCH:
                alternatives = [required(branch.data) for branch in av[1]]
                if all(alternatives):
                    inner = frozenset().union(*alternatives)  # type: ignore[arg-type]
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
                inner = required(av[2].data)
            if inner:
                choices.append(inner)
        if not choices:
            return None
        return max(choices, key=lambda lits: (min(map(len, lits)), -len(lits)))

    found = required(tree.data)
    return tuple(sorted(found)) if found else None


class CompiledXPath:
    """One XPath of the supported subset as a Python function of the context element (see the module docstring).

    Called like ``lxml.etree.XPath``: ``expr(tree) -> list`` of elements, in document order. ``source`` is the
    generated Python, ``path`` the original expression."""

    def __init__(self, path: str, namespaces: dict[str, str] | None = None):
        self.path = path
        compiler = _Compiler(_tokens(path))
        tags, preds, positional = compiler.path()
        if compiler.i != len(compiler.tokens):
            raise Unsupported(f"trailing {compiler.tokens[compiler.i][1]!r}")
        self.source = _function_source(tags, preds, positional, compiler)
        #: every element's verdict reads only its own tag and attributes, and every match is returned (no
        #: positional [1], no descendant test): deleting one match cannot change whether another element matches
        self.attributes_only = not compiler.reads_structure and not positional
        namespace: dict[str, Any] = {
            "_first_attribute": first_attribute,
            "_first_of_two": first_of_two,
            "_has_descendant": has_descendant,
            "_Element": etree.Element,
            "_memo": {},
            "_MEMO_LIMIT": MEMO_LIMIT,
            **compiler.constants,
        }
        exec(compile(self.source, f"<xpath {path[:60]!r}>", "exec"), namespace)  # noqa: S102 - generated above
        #: the same walk in Python (always there) and in C (:mod:`._native`, when built and the predicate reads
        #: attribute values and tags only)
        self.python_walk: Callable[[Any], list] = namespace["match"]
        self._python_memo: dict = namespace["_memo"]
        self.native_walk: Callable[[Any], list] | None = _native_walk(tags, preds, positional, compiler)
        self._match = self.native_walk or self.python_walk

    def forget(self) -> None:
        """Drop the verdicts both walks remember (what a fresh worker process starts with)."""
        self._python_memo.clear()
        if self.native_walk is not None:
            self.native_walk.forget()  # type: ignore[attr-defined]

    def use_native(self, native: bool) -> None:
        """Walk in C (when built) or in Python from now on: the same elements either way."""
        self._match = (self.native_walk if native else None) or self.python_walk

    def __call__(self, tree: Any) -> list:
        return self._match(tree)

    def __repr__(self) -> str:
        return f"CompiledXPath({' '.join(self.path.split())[:80]!r})"


#: distinct attribute values one compiled expression remembers its verdict for (cleared when full)
MEMO_LIMIT = 65_536


def _function_source(tags: tuple[str, ...] | None, preds: list[str], positional: str, compiler: _Compiler) -> str:
    """The ``match`` function: each attribute the predicates read is read once per element; when the predicates
    are a function of those values (and the tag) alone, their verdict is remembered per distinct values, so an
    element with the same id/class/style as one seen before (or none of them: most elements) costs a lookup."""
    tag_args = ", ".join(repr(t) for t in tags) if tags else "_Element"
    condition = " and ".join(preds) or "True"
    lines = ["def match(tree):", "    out = []"]
    if positional == "first_child":  # .//x[p][1]: per parent, the first child that satisfies p
        lines.append("    parents = set()")
    lines += [f"    for el in tree.iterdescendants({tag_args}):", "        g = el.get"]
    lines += [f"        {local} = g({name!r})" for name, local in compiler.attributes_read.items()]
    for names, local in compiler.unions_read.items():
        present = [compiler.attributes_read[n] for n in names]
        if len(names) == 2:
            a, b = present
            lines.append(
                f"        {local} = ({b} or '') if {a} is None else {a} if {b} is None else "
                f"_first_of_two(el, {names[0]!r}, {names[1]!r})"
            )
        else:
            lines.append(f"        {local} = _first_attribute(el, {names!r})")
    values = compiler.key_locals(tags)
    if compiler.reads_tag:
        lines.append(f"        tag = {tags[0]!r}" if tags and len(tags) == 1 else "        tag = el.tag")
    if compiler.reads_structure or not values:
        lines.append(f"        if {condition}:")
    else:
        lines += [
            f"        key = ({', '.join(values)},)",
            "        hit = _memo.get(key)",
            "        if hit is None:",
            "            if len(_memo) >= _MEMO_LIMIT:",
            "                _memo.clear()",
            f"            hit = _memo[key] = bool({condition})",
            "        if hit:",
        ]
    if positional == "first_child":
        lines += [
            "            parent = el.getparent()",
            "            if parent in parents:",
            "                continue",
            "            parents.add(parent)",
        ]
    lines.append("            out.append(el)")
    if positional == "first":
        lines.append("            break")
    lines.append("    return out")
    return "\n".join(lines) + "\n"


def _native_walk(
    tags: tuple[str, ...] | None, preds: list[str], positional: str, compiler: _Compiler
) -> Callable[[Any], list] | None:
    """The :class:`._native.TreeWalk` for this expression: the predicates as a ``verdict`` of the values the walk
    reads (attributes, unions, the tag), or None when the module is not built or a predicate tests descendants."""
    if _native is None or compiler.reads_structure:
        return None
    args = compiler.key_locals(tags)
    with_tag = "tag" in args
    groups = _term_groups(compiler)
    verdict = None  # decided group by group when it has groups
    if groups is None:
        if compiler.reads_tag and not with_tag:  # one tag name: the walk only returns elements with that tag
            args.append(f"tag={tags[0]!r}")  # type: ignore[index]
        source = f"def verdict({', '.join(args)}):\n    return bool({' and '.join(preds) or 'True'})\n"
        namespace = dict(compiler.constants)
        exec(compile(source, "<xpath verdict>", "exec"), namespace)  # noqa: S102 - generated above
        verdict = namespace["verdict"]
    mode = {"": _native.ALL, "first": _native.FIRST, "first_child": _native.FIRST_PER_PARENT}[positional]
    names, unions = list(compiler.attributes_read), list(compiler.unions_read)
    return _native.TreeWalk(tags, names, unions, with_tag, verdict, mode, MEMO_LIMIT, groups)


def _term_groups(compiler: _Compiler) -> list[tuple[int, Callable[[Any], bool]]] | None:
    """One predicate whose ``or`` terms each read one value (an attribute, a union, the tag): the terms grouped
    by that value, as ``(slot, f)`` with ``f(value)`` the ``or`` of the group's terms and ``slot`` the value's
    place in TreeWalk's key (attributes, unions, tag). The walk then remembers each group's answer per value of
    its own: a class value seen before answers its group whatever the id beside it (tuples of all values rarely
    repeat). None when the predicate is not of that form."""
    if len(compiler.predicate_terms) != 1:
        return None
    locals_ = [*compiler.attributes_read.values(), *compiler.unions_read.values(), "tag"]
    grouped: dict[str, list[str]] = {}
    for code, reads in compiler.predicate_terms[0]:
        if len(reads) != 1 or not reads <= set(locals_):
            return None
        grouped.setdefault(next(iter(reads)), []).append(code)
    groups = []
    for local, codes in grouped.items():
        namespace = dict(compiler.constants)
        source = f"def group({local}):\n    return bool({' or '.join(codes)})\n"
        exec(compile(source, "<xpath term group>", "exec"), namespace)  # noqa: S102 - generated above
        groups.append((locals_.index(local), namespace["group"]))
    return groups


def compile_xpath(xpath: Any) -> CompiledXPath | None:
    """The compiled form of an ``lxml.etree.XPath`` (or its path string), or None when outside the subset."""
    path = getattr(xpath, "path", xpath)
    try:
        return CompiledXPath(path)
    except Unsupported:
        return None


_swaps: list[tuple[list, int, Any, CompiledXPath]] | None = None
_lock = threading.RLock()


def _trafilatura_swaps() -> list[tuple[list, int, Any, CompiledXPath]]:
    """(list, index, lxml XPath, compiled) for every compilable expression in trafilatura's XPath lists."""
    global _swaps
    with _lock:
        if _swaps is None:
            import trafilatura.xpaths as xpaths

            found = []
            for value in vars(xpaths).values():
                if isinstance(value, list) and value and all(isinstance(x, etree.XPath) for x in value):
                    for i, x in enumerate(value):
                        compiled = compile_xpath(x)
                        if compiled is not None:
                            found.append((value, i, x, compiled))
            _swaps = found
        return _swaps


def forget_verdicts() -> None:
    """Every compiled expression forgets its remembered verdicts: ``warc_extract``'s teardown (a worker kept
    between runs), and benches between passes over the same pages, so a second pass costs what a first one does (a
    real run rarely sees a page twice). Nothing compiled yet: nothing to forget (trafilatura is not imported)."""
    with _lock:
        for *_, compiled in _swaps or ():
            compiled.forget()


@contextmanager
def compiled_xpaths(native: bool = True) -> Iterator[int]:
    """Within the block, trafilatura's XPath lists hold the compiled expressions, walking in C where ``native`` and
    the module is built; yields how many were swapped."""
    swaps = _trafilatura_swaps()
    with _lock:
        for lst, i, _, compiled in swaps:
            compiled.use_native(native)
            lst[i] = compiled
        try:
            yield len(swaps)
        finally:
            for lst, i, original, _ in swaps:
                lst[i] = original

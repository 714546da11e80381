# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled helpers for trafilatura's hot loops, over lxml's libxml2 nodes (optional: built at install when a C
compiler is present; every caller keeps its pure-Python path and gives the same answers without it).

:class:`TreeWalk` is the C walk behind :class:`curate.stages.warc.trafilatura_xpath.CompiledXPath`: the descendants
of an element in document order, filtered by tag name, with the predicate decided once per distinct tuple of the
attribute values it reads (the ``verdict`` the Python compiler generates) and remembered. The Python walk makes an
element proxy and reads each attribute through ``el.get`` for every element it visits; here a proxy is made only
for the elements returned, and an element without any of the attributes the predicate reads costs a pointer walk.
Names are matched as lxml and XPath match an unprefixed name (the element has no namespace); attribute values as
``el.get`` reads them (no namespace; a value that is not one text node is read through lxml itself).
"""

from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.unicode cimport (
    PyUnicode_1BYTE_KIND,
    PyUnicode_2BYTE_KIND,
    PyUnicode_DATA,
    PyUnicode_DecodeUTF8,
    PyUnicode_KIND,
)
from libc.string cimport memcpy, strcmp, strlen
from lxml.includes cimport tree
from lxml.includes.etreepublic cimport _Element, elementFactory, import_lxml__etree
from lxml.includes.tree cimport xmlAttr, xmlNode

import_lxml__etree()

cdef extern from "Python.h":
    ctypedef unsigned char Py_UCS1
    ctypedef unsigned short Py_UCS2

#: most tag names, attribute names and attribute unions one walk takes (trafilatura's largest uses 9 tags)
DEF MAX_NAMES = 24

#: what a walk returns (TreeWalk ``mode``): every match, the first one, or per parent the first matching child
ALL, FIRST, FIRST_PER_PARENT = 0, 1, 2


cdef inline object _utf8(const char* s):
    return PyUnicode_DecodeUTF8(s, strlen(s), "strict")


cdef class TreeWalk:
    """``walk(element) -> list`` of the descendants of ``element`` whose tag is in ``tags`` (None: any element)
    and for which ``verdict(*key)`` is true, in document order; ``key`` is the values of ``names`` (None when
    absent), then each union's value (the first of its names present in source order, ``''`` when none is), then
    the tag when ``with_tag``. Verdicts are remembered per key, ``memo_limit`` keys at most (then cleared)."""

    cdef tuple _tags, _names
    cdef const char* _tag_ptrs[MAX_NAMES]
    cdef const char* _name_ptrs[MAX_NAMES]
    cdef int _n_tags, _n_names, _n_unions
    cdef int _union_members[MAX_NAMES][MAX_NAMES]
    cdef int _union_sizes[MAX_NAMES]
    cdef bint _with_tag
    cdef int _mode
    cdef object _verdict
    cdef object _absent_verdict
    cdef dict _memo
    cdef Py_ssize_t _memo_limit

    def __init__(self, tags, names, unions, bint with_tag, verdict, int mode, Py_ssize_t memo_limit):
        names = list(names)
        if len(tags or ()) > MAX_NAMES or len(names) > MAX_NAMES or len(unions) > MAX_NAMES:
            raise ValueError(f"TreeWalk takes at most {MAX_NAMES} tags, attribute names and unions")
        if mode not in (ALL, FIRST, FIRST_PER_PARENT):
            raise ValueError(f"mode must be ALL, FIRST or FIRST_PER_PARENT, not {mode!r}")
        self._tags = tuple(t.encode() for t in tags) if tags is not None else ()
        self._n_tags = len(self._tags) if tags is not None else -1
        for i, t in enumerate(self._tags):
            self._tag_ptrs[i] = <const char*>(<bytes>t)
        self._names = tuple(n.encode() for n in names)
        self._n_names = len(self._names)
        for i, n in enumerate(self._names):
            self._name_ptrs[i] = <const char*>(<bytes>n)
        self._n_unions = len(unions)
        for u, members in enumerate(unions):
            if len(members) > MAX_NAMES:
                raise ValueError(f"a union takes at most {MAX_NAMES} names")
            self._union_sizes[u] = len(members)
            for k, name in enumerate(members):
                self._union_members[u][k] = names.index(name)
        self._with_tag = with_tag
        self._verdict = verdict
        self._mode = mode
        self._memo = {}
        self._memo_limit = memo_limit
        self._absent_verdict = None

    def __call__(self, _Element root not None):
        cdef list out = []
        cdef set parents = set() if self._mode == FIRST_PER_PARENT else None
        cdef xmlNode* top = root._c_node
        cdef xmlNode* c = top.children
        while c != NULL:
            if c.type == tree.XML_ELEMENT_NODE:
                if self._tag_matches(c) and self._matches(root, c):
                    if self._mode == FIRST_PER_PARENT:
                        parent = <size_t>c.parent
                        if parent not in parents:
                            parents.add(parent)
                            out.append(elementFactory(root._doc, c))
                    else:
                        out.append(elementFactory(root._doc, c))
                        if self._mode == FIRST:
                            return out
                if c.children != NULL:  # only elements are descended into, as lxml's iterdescendants does
                    c = c.children
                    continue
            while c.next == NULL:
                c = c.parent
                if c == top:
                    return out
            c = c.next
        return out

    cdef inline bint _tag_matches(self, xmlNode* c) noexcept:
        cdef int i
        if self._n_tags < 0:
            return True
        if c.ns != NULL:
            return False
        for i in range(self._n_tags):
            if strcmp(<const char*>c.name, self._tag_ptrs[i]) == 0:
                return True
        return False

    cdef bint _matches(self, _Element root, xmlNode* c) except -1:
        cdef xmlAttr* found[MAX_NAMES]
        cdef int rank[MAX_NAMES]
        cdef int i, seen = 0
        cdef xmlAttr* a = c.properties
        for i in range(self._n_names):
            found[i] = NULL
        while a != NULL:
            if a.ns == NULL:
                for i in range(self._n_names):
                    if found[i] == NULL and strcmp(<const char*>a.name, self._name_ptrs[i]) == 0:
                        found[i] = a
                        rank[i] = seen
                        seen += 1
                        break
            a = a.next
        if seen == 0 and not self._with_tag:  # most elements: none of the attributes, one verdict for all
            if self._absent_verdict is None:
                self._absent_verdict = bool(self._verdict(*self._key(root, c, found, rank)))
            return self._absent_verdict
        key = self._key(root, c, found, rank)
        hit = self._memo.get(key)
        if hit is None:
            if len(self._memo) >= self._memo_limit:
                self._memo.clear()
            hit = self._memo[key] = bool(self._verdict(*key))
        return hit

    cdef tuple _key(self, _Element root, xmlNode* c, xmlAttr** found, int* rank):
        cdef int i, k, u, first
        cdef int size = self._n_names + self._n_unions + (1 if self._with_tag else 0)
        cdef tuple key = PyTuple_New(size)
        cdef object value
        for i in range(self._n_names):
            value = None if found[i] == NULL else self._value(root, c, found[i], i)
            Py_INCREF(value)
            PyTuple_SET_ITEM(key, i, value)
        for u in range(self._n_unions):
            first = -1
            for k in range(self._union_sizes[u]):
                i = self._union_members[u][k]
                if found[i] != NULL and (first < 0 or rank[i] < rank[first]):
                    first = i
            value = "" if first < 0 else key[first]
            Py_INCREF(value)
            PyTuple_SET_ITEM(key, self._n_names + u, value)
        if self._with_tag:
            value = _utf8(<const char*>c.name)
            Py_INCREF(value)
            PyTuple_SET_ITEM(key, size - 1, value)
        return key

    cdef object _value(self, _Element root, xmlNode* c, xmlAttr* a, int i):
        cdef xmlNode* child = a.children
        if child == NULL:  # <div class>: lxml reads ''
            return ""
        if child.type == tree.XML_TEXT_NODE and child.next == NULL:
            return _utf8(<const char*>child.content)
        return elementFactory(root._doc, c).get(self._names[i].decode())  # entity references: as lxml reads it


# -- text of a subtree ------------------------------------------------------------------------------------------------
cdef enum:
    XINCLUDE_START = 19  # libxml2's XML_XINCLUDE_START/END: lxml's text runs step over them
    XINCLUDE_END = 20


cdef inline bint _is_text(xmlNode* c) noexcept:
    return c.type == tree.XML_TEXT_NODE or c.type == tree.XML_CDATA_SECTION_NODE


cdef inline bint _named(xmlNode* c, const char* name) noexcept:
    return c.type == tree.XML_ELEMENT_NODE and c.ns == NULL and strcmp(<const char*>c.name, name) == 0


cdef inline Py_ssize_t _code_points(const unsigned char* p, size_t n) noexcept:
    cdef size_t i
    cdef Py_ssize_t points = 0
    for i in range(n):
        points += (p[i] & 0xC0) != 0x80  # every byte but a UTF-8 continuation byte starts a code point
    return points


cdef struct TextWalk:
    char* out            # where to copy the bytes (NULL: only measure)
    Py_ssize_t size      # bytes met
    Py_ssize_t points    # code points met (when counting)
    Py_ssize_t iframes   # iframe elements, the top one included (with bound_rules)
    bint count_points
    bint bound_rules     # readability_bound's rules: the leading text of script/style not taken


cdef int _walk_text(xmlNode* top, TextWalk* w) noexcept:
    """The text and CDATA nodes under ``top`` in document order, descending into elements only: what libxml2's
    ``xmlNodeGetContent`` (XPath ``string()``, ``tostring(method="text")``) joins for an element. Returns -1 at an
    entity reference (its text comes from the entity: the caller asks lxml), else 0."""
    cdef xmlNode* c = top.children
    cdef size_t n
    cdef bint skipping = w.bound_rules and (_named(top, "script") or _named(top, "style"))
    if w.bound_rules and _named(top, "iframe"):
        w.iframes += 1
    while c != NULL:
        if _is_text(c):
            if not skipping and c.content != NULL:
                n = strlen(<const char*>c.content)
                if w.out != NULL:
                    memcpy(w.out + w.size, c.content, n)
                if w.count_points:
                    w.points += _code_points(<const unsigned char*>c.content, n)
                w.size += n
        elif c.type != XINCLUDE_START and c.type != XINCLUDE_END:
            skipping = False  # an element's .text is the run of text nodes before its first other child
            if c.type == tree.XML_ENTITY_REF_NODE:
                return -1
            if c.type == tree.XML_ELEMENT_NODE:
                if w.bound_rules and _named(c, "iframe"):
                    w.iframes += 1
                if c.children != NULL:
                    skipping = w.bound_rules and (_named(c, "script") or _named(c, "style"))
                    c = c.children
                    continue
        while c.next == NULL:
            c = c.parent
            skipping = False  # back in an element whose leading text run is over (its tail is counted)
            if c == top:
                return 0
        c = c.next
    return 0


cdef Py_ssize_t _tail_points(xmlNode* c) noexcept:
    """Code points of an element's tail: the text and CDATA nodes right after it, as lxml collects ``.tail``."""
    cdef Py_ssize_t points = 0
    c = c.next
    while c != NULL and (_is_text(c) or c.type == XINCLUDE_START or c.type == XINCLUDE_END):
        if _is_text(c) and c.content != NULL:
            points += _code_points(<const unsigned char*>c.content, strlen(<const char*>c.content))
        c = c.next
    return points


def text_length(_Element element not None, bint with_tail=True) -> int:
    """``len(etree.tostring(element, method="text", encoding=str, with_tail=with_tail))`` without building the
    string; -1 when the subtree holds an entity reference (ask lxml)."""
    cdef TextWalk w = TextWalk(NULL, 0, 0, 0, True, False)
    if _walk_text(element._c_node, &w) < 0:
        return -1
    return w.points + (_tail_points(element._c_node) if with_tail else 0)


def readability_bound(_Element element not None) -> int:
    """``trafilatura_fast.readability_bound`` in one walk: the text length of ``element`` (tail included, as
    ``tostring(method="text")`` counts it) without the text of each ``script``/``style`` (its ``.text``), plus
    ``len("VIDEO")`` per ``iframe``; -1 when the subtree holds an entity reference (ask lxml)."""
    cdef TextWalk w = TextWalk(NULL, 0, 0, 0, True, True)
    if _walk_text(element._c_node, &w) < 0:
        return -1
    return w.points + _tail_points(element._c_node) + 5 * w.iframes


def text_content(_Element element not None):
    """``element.text_content()`` of lxml.html (XPath ``string()``) as a plain ``str``, joined here instead of by an
    XPath evaluation; None when the subtree holds an entity reference (ask lxml)."""
    cdef TextWalk w = TextWalk(NULL, 0, 0, 0, False, False)
    cdef bytearray buffer
    if _walk_text(element._c_node, &w) < 0:
        return None
    if w.size == 0:
        return ""
    buffer = bytearray(w.size)
    w.out, w.size = buffer, 0
    _walk_text(element._c_node, &w)
    return PyUnicode_DecodeUTF8(w.out, w.size, "strict")


# -- characters XML cannot hold -----------------------------------------------------------------------------------------
def has_invalid_xml_chars(str text not None) -> bool:
    """Whether ``text`` holds a character of trafilatura's ``INVALID_XML_CHARS``
    (``[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]``), read from the string's own code points."""
    cdef Py_ssize_t i, n = len(text)
    cdef int kind = PyUnicode_KIND(text)
    cdef const void* data = PyUnicode_DATA(text)
    cdef const Py_UCS1* one
    cdef const Py_UCS2* two
    cdef const Py_UCS4* four
    cdef Py_UCS4 ch
    if kind == PyUnicode_1BYTE_KIND:
        one = <const Py_UCS1*>data
        for i in range(n):
            if one[i] < 32 and one[i] != 9 and one[i] != 10 and one[i] != 13:
                return True
        return False
    if kind == PyUnicode_2BYTE_KIND:
        two = <const Py_UCS2*>data
        for i in range(n):
            ch = two[i]
            if (ch < 32 and ch != 9 and ch != 10 and ch != 13) or ch == 0xFFFE or ch == 0xFFFF:
                return True
        return False
    four = <const Py_UCS4*>data
    for i in range(n):
        ch = four[i]
        if (ch < 32 and ch != 9 and ch != 10 and ch != 13) or ch == 0xFFFE or ch == 0xFFFF:
            return True
    return False

# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled helpers for trafilatura's hot loops, over lxml's libxml2 nodes (optional: built at install when a C
compiler is present; every caller keeps its pure-Python path and gives the same answers without it).

:class:`TreeWalk` is the C walk behind :class:`curate.stages.warc.trafilatura_xpath.CompiledXPath`: the descendants
of an element in document order, filtered by tag name, with the predicate decided once per distinct tuple of the
attribute values it reads (the ``verdict`` the Python compiler generates) and remembered — or, when it is an ``or``
of terms each reading one value, group by group with each group's answer remembered per value. The Python walk makes an
element proxy and reads each attribute through ``el.get`` for every element it visits; here a proxy is made only
for the elements returned, and an element without any of the attributes the predicate reads costs a pointer walk.
Names are matched as lxml and XPath match an unprefixed name (the element has no namespace); attribute values as
``el.get`` reads them (no namespace; a value that is not one text node is read through lxml itself).
"""

from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.unicode cimport (
    Py_UNICODE_ISALNUM,
    Py_UNICODE_ISSPACE,
    Py_UNICODE_TOLOWER,
    PyUnicode_READ,
    PyUnicode_1BYTE_KIND,
    PyUnicode_2BYTE_KIND,
    PyUnicode_DATA,
    PyUnicode_DecodeUTF8,
    PyUnicode_KIND,
)
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memchr, memcpy, memset, strcmp, strlen
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


DEF CACHE_SLOTS = 64


# Which of the wanted names a name pointer is, remembered for one walk: libxml2 interns element and attribute names
# in the document's dictionary, so a walk meets few distinct pointers and compares each name once (every pointer kept
# here belongs to the tree being walked, which nothing changes during the walk).
cdef struct NameCache:
    const unsigned char* names[CACHE_SLOTS]
    int answers[CACHE_SLOTS]


cdef inline size_t _pointer_slot(const void* pointer) noexcept:
    """A slot of a CACHE_SLOTS-entry table for a pointer (Fibonacci hashing: the high bits of the product)."""
    return ((<size_t>pointer) * <size_t>0x9E3779B97F4A7C15) >> (8 * sizeof(size_t) - 6)


cdef inline int _name_index(NameCache* cache, const unsigned char* name, const char** wanted, int n) noexcept:
    """The index of ``name`` in ``wanted`` (-1: not there), through ``cache``."""
    cdef size_t slot = _pointer_slot(name)
    cdef int i
    if cache.names[slot] == name:
        return cache.answers[slot]
    for i in range(n):
        if strcmp(<const char*>name, wanted[i]) == 0:
            break
    else:
        i = -1
    cache.names[slot] = name
    cache.answers[slot] = i
    return i


cdef inline xmlNode* _after_subtree(xmlNode* c, xmlNode* top) noexcept:
    """The node after ``c`` and its subtree in document order, staying under ``top``; NULL past the end."""
    while c != top and c.next == NULL:
        c = c.parent
    return NULL if c == top else c.next


cdef inline object _utf8(const char* s):
    return PyUnicode_DecodeUTF8(s, strlen(s), "strict")


cdef class TreeWalk:
    """``walk(element) -> list`` of the descendants of ``element`` whose tag is in ``tags`` (None: any element)
    and for which ``verdict(*key)`` is true, in document order; ``key`` is the values of ``names`` (None when
    absent), then each union's value (the first of its names present in source order, ``''`` when none is), then
    the tag when ``with_tag``. Verdicts are remembered per key, ``memo_limit`` keys at most (then cleared). With
    ``groups`` (``(slot, f)`` pairs, slot an index into that key) the predicate is instead the ``or`` of each
    ``f(value)``, remembered per group and value, and ``verdict`` is not used."""

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
    cdef int _n_groups
    cdef int _group_slots[MAX_NAMES]
    cdef list _group_fns, _group_memos, _group_absent

    def __init__(self, tags, names, unions, bint with_tag, verdict, int mode, Py_ssize_t memo_limit, groups=None):
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
        groups = list(groups or ())
        if not groups and verdict is None:
            raise ValueError("TreeWalk needs a verdict or groups")
        if len(groups) > MAX_NAMES:
            raise ValueError(f"TreeWalk takes at most {MAX_NAMES} groups")
        self._n_groups = len(groups)
        for g, (slot, fn) in enumerate(groups):
            if not 0 <= slot <= self._n_names + self._n_unions:
                raise ValueError(f"group slot {slot} is not an attribute, a union or the tag")
            self._group_slots[g] = slot
        self._group_fns = [fn for _, fn in groups]
        self._group_memos = [{} for _ in groups]
        self._group_absent = [None for _ in groups]

    @property
    def remembered(self) -> int:
        """How many verdicts the walk remembers (whole keys and per-group values)."""
        return len(self._memo) + sum(len(memo) for memo in self._group_memos)

    def forget(self) -> None:
        """Drop every remembered verdict (as a new worker process starts)."""
        self._memo.clear()
        self._absent_verdict = None
        for memo in self._group_memos:
            memo.clear()
        self._group_absent = [None for _ in self._group_absent]

    def __call__(self, _Element root not None):
        cdef list out = []
        cdef set parents = set() if self._mode == FIRST_PER_PARENT else None
        cdef xmlNode* top = root._c_node
        cdef xmlNode* c = top.children
        cdef NameCache tags, attributes
        memset(&tags, 0, sizeof(NameCache))
        memset(&attributes, 0, sizeof(NameCache))
        while c != NULL:
            if c.type == tree.XML_ELEMENT_NODE:
                if self._tag_matches(c, &tags) and self._matches(root, c, &attributes):
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
            c = _after_subtree(c, top)
        return out

    cdef inline bint _tag_matches(self, xmlNode* c, NameCache* cache) noexcept:
        if self._n_tags < 0:
            return True
        return c.ns == NULL and _name_index(cache, c.name, self._tag_ptrs, self._n_tags) >= 0

    cdef bint _matches(self, _Element root, xmlNode* c, NameCache* cache) except -1:
        cdef xmlAttr* found[MAX_NAMES]
        cdef int rank[MAX_NAMES]
        cdef int i, seen = 0
        cdef xmlAttr* a = c.properties
        for i in range(self._n_names):
            found[i] = NULL
        while a != NULL:
            if a.ns == NULL:
                i = _name_index(cache, a.name, self._name_ptrs, self._n_names)
                if i >= 0 and found[i] == NULL:
                    found[i] = a
                    rank[i] = seen
                    seen += 1
            a = a.next
        if self._n_groups:
            return self._matches_groups(root, c, found, rank)
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

    cdef bint _matches_groups(self, _Element root, xmlNode* c, xmlAttr** found, int* rank) except -1:
        """The predicate as an ``or`` of groups, each a function of one value (``groups``), each answer
        remembered per value of its own; a group whose attribute (or every attribute of its union) is absent
        answers once for all such elements."""
        cdef int g, slot, first
        cdef dict memo
        for g in range(self._n_groups):
            slot = self._group_slots[g]
            value = None
            if slot < self._n_names:
                if found[slot] != NULL:
                    value = self._value(root, c, found[slot], slot)
            elif slot < self._n_names + self._n_unions:
                first = self._union_first(slot - self._n_names, found, rank)
                if first >= 0:
                    value = self._value(root, c, found[first], first)
            else:
                value = _utf8(<const char*>c.name)
            if value is None:  # absent (an attribute: None; a union: '')
                hit = self._group_absent[g]
                if hit is None:
                    hit = self._group_absent[g] = bool(self._group_fns[g](None if slot < self._n_names else ""))
            else:
                memo = <dict>self._group_memos[g]
                hit = memo.get(value)
                if hit is None:
                    if len(memo) >= self._memo_limit:
                        memo.clear()
                    hit = memo[value] = bool(self._group_fns[g](value))
            if hit:
                return True
        return False

    cdef inline int _union_first(self, int u, xmlAttr** found, int* rank) noexcept:
        """Which name of union ``u`` comes first in the element's attributes (source order), -1: none present."""
        cdef int k, i, first = -1
        for k in range(self._union_sizes[u]):
            i = self._union_members[u][k]
            if found[i] != NULL and (first < 0 or rank[i] < rank[first]):
                first = i
        return first

    cdef tuple _key(self, _Element root, xmlNode* c, xmlAttr** found, int* rank):
        cdef int i, u, first
        cdef int size = self._n_names + self._n_unions + (1 if self._with_tag else 0)
        cdef tuple key = PyTuple_New(size)
        cdef object value
        for i in range(self._n_names):
            value = None if found[i] == NULL else self._value(root, c, found[i], i)
            Py_INCREF(value)
            PyTuple_SET_ITEM(key, i, value)
        for u in range(self._n_unions):
            first = self._union_first(u, found, rank)
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


# -- literals before a regular expression ------------------------------------------------------------------------------
cdef class AnyLiteral:
    """``f(value)``: whether ``value`` contains at least one of some ASCII ``literals``, in one pass over it, comparing
    at each character only the literals that start with it. The compiled XPaths ask it before a ``re:test`` whose
    every match contains one of the literals (``trafilatura_xpath.required_literals``): most class and id values hold
    none, and Python's ``re`` tries every branch of a 70-token alternation at every position."""

    cdef bytes _blob
    cdef Py_ssize_t* _starts
    cdef Py_ssize_t* _lengths
    cdef int* _next
    cdef int _first[128]
    cdef readonly tuple literals

    def __cinit__(self, literals):
        cdef int k, n
        cdef bytes encoded
        self.literals = tuple(literals)
        n = len(self.literals)
        if n == 0 or any(not isinstance(x, str) or not x or not x.isascii() for x in self.literals):
            raise ValueError(f"AnyLiteral needs non-empty ASCII strings, got {self.literals!r}")
        self._starts = <Py_ssize_t*>malloc(n * sizeof(Py_ssize_t))
        self._lengths = <Py_ssize_t*>malloc(n * sizeof(Py_ssize_t))
        self._next = <int*>malloc(n * sizeof(int))
        if self._starts == NULL or self._lengths == NULL or self._next == NULL:
            raise MemoryError()
        for k in range(128):
            self._first[k] = -1
        parts = []
        offset = 0
        for k in range(n - 1, -1, -1):  # chains built back to front keep each first character's literals in order
            encoded = self.literals[k].encode("ascii")
            self._starts[k] = 0
            self._lengths[k] = len(encoded)
            self._next[k] = self._first[encoded[0]]
            self._first[encoded[0]] = k
        for k in range(n):
            self._starts[k] = offset
            parts.append(self.literals[k].encode("ascii"))
            offset += self._lengths[k]
        self._blob = b"".join(parts)

    def __dealloc__(self):
        free(self._starts)
        free(self._lengths)
        free(self._next)

    def __call__(self, str value not None) -> bool:
        cdef int kind = PyUnicode_KIND(value)
        cdef void* data = PyUnicode_DATA(value)
        cdef Py_ssize_t n = len(value), i, j, length, start
        cdef const unsigned char* blob = self._blob
        cdef Py_UCS4 ch
        cdef int k
        for i in range(n):
            ch = PyUnicode_READ(kind, data, i)
            if ch >= 128:
                continue
            k = self._first[ch]
            while k >= 0:
                length = self._lengths[k]
                if i + length <= n:
                    start = self._starts[k]
                    for j in range(1, length):
                        if PyUnicode_READ(kind, data, i + j) != blob[start + j]:
                            break
                    else:
                        return True
                k = self._next[k]
        return False


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
    bint count_words     # words (runs of non-whitespace, str.split's) and their code points, across nodes
    bint spaced          # a space before each text run (where lxml's itertext() starts a new string)
    bint in_word
    Py_ssize_t words
    Py_ssize_t word_points
    const size_t* excluded   # sorted addresses of elements whose subtrees are not taken (their tails are)
    Py_ssize_t n_excluded


cdef inline TextWalk _text_walk(
    bint count_points, bint bound_rules, bint count_words, bint spaced=False
) noexcept:
    """A walk that measures (no copy, nothing excluded), counting what the flags ask for."""
    cdef TextWalk w
    memset(&w, 0, sizeof(TextWalk))
    w.count_points, w.bound_rules, w.count_words, w.spaced = count_points, bound_rules, count_words, spaced
    return w


cdef inline bint _starts_run(xmlNode* c) noexcept:
    """Whether text node ``c`` begins a run of text nodes (an element's ``.text`` or ``.tail`` as lxml collects
    them: XInclude markers inside a run are stepped over)."""
    c = c.prev
    while c != NULL and (c.type == XINCLUDE_START or c.type == XINCLUDE_END):
        c = c.prev
    return c == NULL or not _is_text(c)


cdef void _count_words(TextWalk* w, const unsigned char* p, size_t n) noexcept:
    """Advance the word count over UTF-8 text: whitespace is ``str.split``'s (``Py_UNICODE_ISSPACE``)."""
    cdef size_t i = 0
    cdef Py_UCS4 cp
    cdef unsigned char b
    while i < n:
        b = p[i]
        if b < 0x80:
            cp = b
            i += 1
        elif b < 0xE0:
            cp = ((b & 0x1F) << 6) | (p[i + 1] & 0x3F)
            i += 2
        elif b < 0xF0:
            cp = ((b & 0x0F) << 12) | ((p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F)
            i += 3
        else:
            cp = ((b & 0x07) << 18) | ((p[i + 1] & 0x3F) << 12) | ((p[i + 2] & 0x3F) << 6) | (p[i + 3] & 0x3F)
            i += 4
        if Py_UNICODE_ISSPACE(cp):
            w.in_word = False
        else:
            if not w.in_word:
                w.words += 1
                w.in_word = True
            w.word_points += 1


cdef inline Py_ssize_t _lower_bound(const size_t* sorted_keys, Py_ssize_t n, size_t key) noexcept:
    """The first index whose key is not below ``key`` (``n``: none)."""
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = (lo + hi) // 2
        if sorted_keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef inline bint _is_excluded(TextWalk* w, xmlNode* c) noexcept:
    cdef Py_ssize_t i = _lower_bound(w.excluded, w.n_excluded, <size_t>c)
    return i < w.n_excluded and w.excluded[i] == <size_t>c


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
            if w.spaced and _starts_run(c):
                if w.out != NULL:
                    w.out[w.size] = 32
                w.size += 1
            if not skipping and c.content != NULL:
                n = strlen(<const char*>c.content)
                if w.out != NULL:
                    memcpy(w.out + w.size, c.content, n)
                if w.count_points:
                    w.points += _code_points(<const unsigned char*>c.content, n)
                if w.count_words:
                    _count_words(w, <const unsigned char*>c.content, n)
                w.size += n
        elif c.type != XINCLUDE_START and c.type != XINCLUDE_END:
            skipping = False  # an element's .text is the run of text nodes before its first other child
            if c.type == tree.XML_ENTITY_REF_NODE:
                return -1
            if c.type == tree.XML_ELEMENT_NODE and not (w.n_excluded and _is_excluded(w, c)):
                if w.bound_rules and _named(c, "iframe"):
                    w.iframes += 1
                if c.children != NULL:
                    skipping = w.bound_rules and (_named(c, "script") or _named(c, "style"))
                    c = c.children
                    continue
        if c.next == NULL:
            skipping = False  # back in an element whose leading text run is over (its tail is counted)
        c = _after_subtree(c, top)
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


def readability_bound(_Element element not None, excluded=None) -> int:
    """``trafilatura_fast.readability_bound`` in one walk: the text length of ``element`` (tail included, as
    ``tostring(method="text")`` counts it) without the text of each ``script``/``style`` (its ``.text``), plus
    ``len("VIDEO")`` per ``iframe``; -1 when the subtree holds an entity reference (ask lxml). ``excluded``:
    descendants whose subtrees are left out, their tails kept — the bound of the tree as it would be once
    trafilatura's ``delete_element`` removed them (which moves each tail onto the text before it)."""
    cdef TextWalk w = _text_walk(count_points=True, bound_rules=True, count_words=False)
    cdef _Element el
    cdef size_t* addresses = NULL
    cdef list nodes
    cdef Py_ssize_t i, result
    if excluded:
        nodes = sorted({<size_t>(<_Element?>el)._c_node for el in excluded})
        addresses = <size_t*>malloc(len(nodes) * sizeof(size_t))
        if addresses == NULL:
            raise MemoryError()
        for i in range(len(nodes)):
            addresses[i] = nodes[i]
        w.excluded, w.n_excluded = addresses, len(nodes)
    try:
        if _walk_text(element._c_node, &w) < 0:
            return -1
        result = w.points + _tail_points(element._c_node) + 5 * w.iframes
    finally:
        free(addresses)
    return result


def twins(_Element source not None, _Element copied not None, list elements not None) -> list:
    """The elements of ``copied`` (a copy of ``source``, the same shape) standing where ``elements`` (descendants
    of ``source``) stand, in the order given: both trees walked in step in document order, a proxy made only for the
    twins. ValueError when the shapes differ or an element is not found under ``source``."""
    cdef Py_ssize_t n = len(elements), i, k, found = 0
    cdef size_t* addresses = NULL
    cdef Py_ssize_t* places = NULL
    cdef xmlNode* s = source._c_node
    cdef xmlNode* c = copied._c_node
    cdef xmlNode* top = s
    cdef list result = [None] * n
    if n == 0:
        return result
    pairs = sorted((<size_t>(<_Element?>el)._c_node, i) for i, el in enumerate(elements))
    addresses = <size_t*>malloc(n * sizeof(size_t))
    places = <Py_ssize_t*>malloc(n * sizeof(Py_ssize_t))
    try:
        if addresses == NULL or places == NULL:
            raise MemoryError()
        for i in range(n):
            addresses[i], places[i] = pairs[i]
        s, c = s.children, c.children
        while s != NULL:
            if c == NULL or c.type != s.type:
                raise ValueError("twins: the copy's shape differs from the source's")
            if s.type == tree.XML_ELEMENT_NODE:
                k = _lower_bound(addresses, n, <size_t>s)
                while k < n and addresses[k] == <size_t>s:  # an element given twice gets its twin twice
                    result[places[k]] = elementFactory(copied._doc, c)
                    found += 1
                    k += 1
                if s.children != NULL:  # only elements are descended into
                    s, c = s.children, c.children
                    continue
            while s != top and s.next == NULL:
                if c.next != NULL:
                    raise ValueError("twins: the copy's shape differs from the source's")
                s, c = s.parent, c.parent
            if s == top:
                break
            s, c = s.next, c.next
    finally:
        free(addresses)
        free(places)
    if found != n:
        raise ValueError(f"twins: {n - found} of the {n} elements are not under the source element")
    return result


def trimmed_length(_Element element not None) -> int:
    """``len(trafilatura.utils.trim(element.text_content()))`` (``" ".join(text.split()).strip()``) without
    building either string: the words' code points plus one space between each two; -1 when the subtree holds an
    entity reference (ask lxml)."""
    cdef TextWalk w = _text_walk(count_points=False, bound_rules=False, count_words=True)
    if _walk_text(element._c_node, &w) < 0:
        return -1
    return w.word_points + (w.words - 1 if w.words else 0)


def links_and_graphic(_Element element not None) -> tuple:
    """``(element.findall(".//ref"), element.find(".//graphic") is not None)`` in one walk over the descendants
    (what trafilatura's link-density test reads first; once a ``graphic`` is found the test's answer no longer
    depends on the links, so the walk stops there and the list may be short)."""
    cdef list refs = []
    cdef xmlNode* top = element._c_node
    cdef xmlNode* c = top.children
    while c != NULL:
        if c.type == tree.XML_ELEMENT_NODE:
            if _named(c, "ref"):
                refs.append(elementFactory(element._doc, c))
            elif _named(c, "graphic"):
                return refs, True
            if c.children != NULL:
                c = c.children
                continue
        c = _after_subtree(c, top)
    return refs, False


def links_in_containers(_Element element not None, tuple containers not None) -> list:
    """The ``a`` elements of ``element.iter("a")`` (itself included) whose nearest ancestor named in ``containers`` is
    there and is not ``element``: what trafilatura's ``convert_tags`` renames ``ref`` (``next(a.iterancestors(
    containers), tree) is not tree``), found by following parent pointers instead of ancestor proxies."""
    cdef list found = []
    cdef list encoded = [name.encode("utf-8") for name in containers]
    cdef const char* wanted[MAX_NAMES]
    cdef int n = len(encoded), i
    cdef NameCache cache
    cdef xmlNode* top = element._c_node
    cdef xmlNode* c = top
    cdef xmlNode* up
    if n > MAX_NAMES:
        raise ValueError(f"at most {MAX_NAMES} container names")
    for i in range(n):
        wanted[i] = <const char*>encoded[i]
    memset(&cache, 0, sizeof(NameCache))
    while c != NULL:
        if c.type == tree.XML_ELEMENT_NODE:
            if _named(c, "a"):
                up = c.parent
                while up != NULL and up.type == tree.XML_ELEMENT_NODE:
                    if up.ns == NULL and _name_index(&cache, up.name, wanted, n) >= 0:
                        if up != top:
                            found.append(elementFactory(element._doc, c))
                        break
                    up = up.parent
            if c.children != NULL:
                c = c.children
                continue
        c = _after_subtree(c, top)
    return found


def text_content(_Element element not None):
    """``element.text_content()`` of lxml.html (XPath ``string()``) as a plain ``str``, joined here instead of by an
    XPath evaluation; None when the subtree holds an entity reference (ask lxml)."""
    return _joined_text(element, spaced=False)


def spaced_text(_Element element not None):
    """``" ".join(element.itertext())`` up to whitespace: the same text runs, each after a space, so both split into
    the same words (what trafilatura's ``trim`` keeps); None when the subtree holds an entity reference (ask
    lxml)."""
    return _joined_text(element, spaced=True)


cdef object _joined_text(_Element element, bint spaced):
    """The text under ``element`` (not its tail) as ``str``, measured, then copied; None at an entity reference."""
    cdef TextWalk w = _text_walk(count_points=False, bound_rules=False, count_words=False, spaced=spaced)
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
    if kind == PyUnicode_1BYTE_KIND:  # one loop per storage width, each reading its own type
        one = <const Py_UCS1*>data
        return any(_xml_invalid(one[i]) for i in range(n))
    if kind == PyUnicode_2BYTE_KIND:
        two = <const Py_UCS2*>data
        return any(_xml_invalid(two[i]) for i in range(n))
    four = <const Py_UCS4*>data
    return any(_xml_invalid(four[i]) for i in range(n))


cdef inline bint _xml_invalid(Py_UCS4 ch) noexcept:
    return (ch < 32 and ch != 9 and ch != 10 and ch != 13) or ch == 0xFFFE or ch == 0xFFFF


# -- the size-bounds pass (stages/warc/bounds.py) ---------------------------------------------------------------------
#: the WHATWG void elements of ``bounds.VOID`` (ASCII, lowercase), NUL-separated for the C comparison below
cdef const char* _VOID = b"area\0base\0br\0col\0embed\0hr\0img\0input\0link\0meta\0source\0track\0wbr\0param\0keygen\0frame\0basefont\0bgsound\0isindex\0\0"
#: the raw-text elements of ``bounds._TOKEN`` (script, style, textarea, title)
cdef const char* _RAW = b"script\0style\0textarea\0title\0\0"

cdef enum:
    DOTTED_I = 0x130     # İ: lowercases to "i" (simple mapping, what the regex compares with)
    DOTLESS_I = 0x131    # ı: uppercases to "I"
    LONG_S = 0x17F       # ſ: uppercases to "S"
    KELVIN = 0x212A      # K: lowercases to "k"


cdef inline bint _name_start(unsigned int ch) noexcept:
    """``[a-zA-Z]`` under ``re.IGNORECASE``: the ASCII letters and the four letters whose case mapping is one."""
    return (c'a' <= (ch | 0x20) <= c'z') if ch < 128 else (
        ch == DOTTED_I or ch == DOTLESS_I or ch == LONG_S or ch == KELVIN
    )


cdef inline bint _name_char(unsigned int ch) noexcept:
    """``[a-zA-Z0-9-]`` under ``re.IGNORECASE``."""
    return _name_start(ch) or (c'0' <= ch <= c'9') or ch == c'-'


cdef inline bint _literal_matches(unsigned int ch, char expected) noexcept:
    """A lowercase ASCII letter of a raw-text name, as ``re.IGNORECASE`` matches it (``s``: also ſ; ``i``: İ, ı)."""
    if ch < 128:
        return (ch | 0x20) == <unsigned int>expected if c'a' <= (ch | 0x20) <= c'z' else ch == <unsigned int>expected
    if expected == c's':
        return ch == LONG_S
    if expected == c'i':
        return ch == DOTTED_I or ch == DOTLESS_I
    return False


cdef inline bint _is_word(unsigned int ch) noexcept:
    return Py_UNICODE_ISALNUM(ch) or ch == c'_'


cdef class _Text:
    """A str read by index, whatever its storage kind."""
    cdef int kind
    cdef const void* data
    cdef Py_ssize_t n

    def __init__(self, str text):
        self.kind = PyUnicode_KIND(text)
        self.data = PyUnicode_DATA(text)
        self.n = len(text)

    cdef inline unsigned int at(self, Py_ssize_t i) noexcept:
        return PyUnicode_READ(self.kind, self.data, i)

    cdef Py_ssize_t find(self, unsigned int ch, Py_ssize_t start) noexcept:
        cdef Py_ssize_t i
        cdef const char* hit
        if self.kind == PyUnicode_1BYTE_KIND:
            if start >= self.n:
                return -1
            hit = <const char*>memchr(<const char*>self.data + start, <int>ch, self.n - start)
            return -1 if hit == NULL else hit - <const char*>self.data
        for i in range(start, self.n):
            if self.at(i) == ch:
                return i
        return -1


cdef Py_ssize_t _raw_name(_Text t, Py_ssize_t i) noexcept:
    """The length of a raw-text element name at ``i`` followed by a word boundary, else 0."""
    cdef const char* name = _RAW
    cdef Py_ssize_t k
    while name[0] != 0:
        k = 0
        while name[k] != 0 and i + k < t.n and _literal_matches(t.at(i + k), name[k]):
            k += 1
        if name[k] == 0 and (i + k >= t.n or not _is_word(t.at(i + k))):
            return k
        name += strlen(name) + 1
    return 0


cdef bint _is_void(_Text t, Py_ssize_t start, Py_ssize_t end) noexcept:
    """Whether ``name.lower()`` (Python's full mapping) is in ``VOID``: ASCII letters lowercase, K becomes k, any
    other non-ASCII letter keeps the name out of the (ASCII) list."""
    cdef const char* void = _VOID
    cdef Py_ssize_t k, length = end - start
    cdef unsigned int ch
    while void[0] != 0:
        if <Py_ssize_t>strlen(void) == length:
            for k in range(length):
                ch = t.at(start + k)
                if ch == KELVIN:
                    ch = c'k'
                elif ch >= 128:
                    break
                elif c'A' <= ch <= c'Z':
                    ch |= 0x20
                if ch != <unsigned int>void[k]:
                    break
            else:
                return True
        void += strlen(void) + 1
    return False


cdef Py_ssize_t _raw_end(_Text t, Py_ssize_t content, Py_ssize_t name, Py_ssize_t length) noexcept:
    """Where a raw-text element's match ends: after the first ``</`` + its name (each character equal once
    lowercased, as the regex's case-insensitive backreference compares) + whitespace + ``>``, else the end."""
    cdef Py_ssize_t q = content, r, k
    while True:
        q = t.find(c'<', q)
        if q < 0:
            return t.n
        if q + 1 < t.n and t.at(q + 1) == c'/' and q + 2 + length <= t.n:
            for k in range(length):
                if Py_UNICODE_TOLOWER(t.at(q + 2 + k)) != Py_UNICODE_TOLOWER(t.at(name + k)):
                    break
            else:
                r = q + 2 + length
                while r < t.n and Py_UNICODE_ISSPACE(t.at(r)):
                    r += 1
                if r < t.n and t.at(r) == c'>':
                    return r + 1
        q += 1


ctypedef fused CodeUnit:
    uint8_t
    uint16_t
    uint32_t


cdef void _count_tag_marks(const CodeUnit* units, Py_ssize_t n, Py_ssize_t* counts) noexcept:
    """``counts[0]`` += the ``<`` in ``units``, ``counts[1]`` += the ``</``: one typed loop per string kind."""
    cdef Py_ssize_t i
    for i in range(n):
        if units[i] == 60:  # "<"
            counts[0] += 1
            if i + 1 < n and units[i + 1] == 47:  # "/"
                counts[1] += 1


def tag_marks(str html not None) -> tuple:
    """``(html.count("<"), html.count("</"))`` in one pass over the string's code units (``bounds.over_bounds``'
    cheap test: most pages hold too few tags to need the shape pass). ``str.count`` walks a two- or four-byte string
    without memchr's help, and most pages are two-byte strings (one character past U+00FF is enough)."""
    cdef int kind = PyUnicode_KIND(html)
    cdef const void* data = PyUnicode_DATA(html)
    cdef Py_ssize_t counts[2]
    counts[0] = counts[1] = 0
    if kind == PyUnicode_1BYTE_KIND:
        _count_tag_marks(<const uint8_t*>data, len(html), counts)
    elif kind == PyUnicode_2BYTE_KIND:
        _count_tag_marks(<const uint16_t*>data, len(html), counts)
    else:
        _count_tag_marks(<const uint32_t*>data, len(html), counts)
    return counts[0], counts[1]


def html_shape(str html not None) -> tuple:
    """``bounds.shape(html)``: ``(start tags, depth upper bound, total depth)``, the same tokens as its regex
    (comments skipped, raw-text elements as one element, ``<``/``</`` + name + attributes + ``>`` as a tag,
    ``/>`` self-closing, void elements never open) read in one pass over the string's code points."""
    cdef _Text t = _Text(html)
    cdef Py_ssize_t pos = 0, q, name, name_end, gt, length, end
    cdef long long elements = 0, depth = 0, deepest = 0, total = 0
    cdef bint closing
    while True:
        pos = t.find(c'<', pos)
        if pos < 0:
            break
        if pos + 3 < t.n and t.at(pos + 1) == c'!' and t.at(pos + 2) == c'-' and t.at(pos + 3) == c'-':
            end = pos + 4  # a comment: to the first "-->", else to the end
            while True:
                end = t.find(c'-', end)
                if end < 0:
                    pos = t.n
                    break
                if end + 2 < t.n and t.at(end + 1) == c'-' and t.at(end + 2) == c'>':
                    pos = end + 3
                    break
                end += 1
            continue
        length = _raw_name(t, pos + 1)
        if length:
            gt = t.find(c'>', pos + 1 + length)
            if gt >= 0:  # a raw-text element: one element, its content no markup
                elements += 1
                total += depth
                pos = _raw_end(t, gt + 1, pos + 1, length)
                continue
        q = pos + 1
        closing = q < t.n and t.at(q) == c'/'
        if closing:
            q += 1
        if q < t.n and _name_start(t.at(q)):
            name = q
            name_end = q + 1
            while name_end < t.n and _name_char(t.at(name_end)):
                name_end += 1
            gt = t.find(c'>', name_end)
            # the regex's (?:[^>]*[^/>])?(/?)> fails only when what precedes the ">" ends in "//"
            if gt >= 0 and not (gt - name_end >= 2 and t.at(gt - 1) == c'/' and t.at(gt - 2) == c'/'):
                if closing:
                    if depth and not _is_void(t, name, name_end):
                        depth -= 1
                else:
                    elements += 1
                    total += depth
                    if not (gt > name_end and t.at(gt - 1) == c'/') and not _is_void(t, name, name_end):
                        depth += 1
                        if depth > deepest:
                            deepest = depth
                pos = gt + 1
                continue
        pos += 1
    return elements, deepest, total


# -- which tags a tree holds ------------------------------------------------------------------------------------------
def tag_names(_Element element not None):
    """The names of ``element`` and of every element under it, as a set of ``str`` (what ``element.iter(name)``
    could meet), or None when one of them has a namespace (a plain name would not match it: the caller then walks
    for every name)."""
    cdef set names = set()
    cdef const unsigned char* seen[CACHE_SLOTS]
    cdef size_t slot
    cdef xmlNode* top = element._c_node
    cdef xmlNode* c = top
    memset(seen, 0, sizeof(seen))
    while c != NULL:
        if c.type == tree.XML_ELEMENT_NODE:
            if c.ns != NULL:
                return None
            slot = _pointer_slot(c.name)
            if seen[slot] != c.name:  # names are interned per document: decode each pointer about once
                names.add(_utf8(<const char*>c.name))
                seen[slot] = c.name
            if c.children != NULL:
                c = c.children
                continue
        c = _after_subtree(c, top)
    return names

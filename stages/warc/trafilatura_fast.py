"""Exact shortcuts through ``trafilatura.extract``: the same text for less CPU, each one switchable.

Measured first (cProfile of ``extract`` as ``warc_extract`` calls it, FineWeb settings, on the 1,120 pages of
``dev_pages.warc.gz``): with the boilerplate XPaths already compiled (:mod:`.trafilatura_xpath`), about a third of
the time went to ``compare_extraction`` (a copy of the raw tree, the discard XPaths over it, readability, reparsing
its output), ~10-15 % to lxml.html's element-class lookup (a Python ``lookup()`` call for every element proxy lxml
creates, 3.8 M of them), ~8 % to copying trees. Three shortcuts, each a ``warc_extract`` parameter:

* ``compiled_lookup`` — :func:`element_lookup`: trafilatura's parser makes its element proxies through lxml's
  C-level :class:`lxml.etree.ElementDefaultClassLookup` (``HtmlElement`` for every element, ``HtmlComment``…)
  instead of ``HtmlElementClassLookup``, whose Python ``lookup`` picks ``FormElement``/``InputElement``/… for form
  tags. trafilatura only uses what every ``HtmlElement`` has (``text_content``, ``drop_tree``, attributes), so
  the text is the same; the parser is shared, so it is swapped only inside the ``with`` block.
* ``compiled_fallbacks`` — :func:`fallback_shortcuts`: readability runs only when its text could be chosen.
  trafilatura keeps its own extraction unless readability's text is empty, or more than twice as long, or longer
  than ``2 * MIN_EXTRACTED_SIZE`` while its own lacks paragraphs (``external._prefer_readability``). Readability's
  text is a part of the page's text (it drops ``script``/``style``, moves and removes elements, and writes
  ``VIDEO`` into video iframes), so :func:`readability_bound` — the page's text length without ``script``/
  ``style`` content, plus 5 per ``iframe`` — bounds it; when that bound rules out every condition above, the
  readability pass (tree copy, discard XPaths, scoring, reparse) is skipped and only the jusText check runs,
  exactly as trafilatura continues. With ``favor_precision`` readability reads the raw tree after the discard
  XPaths, so the bound is taken a second time on that pruned copy before readability runs: the dev WARC's 1,120
  pages run readability ~440 times instead of ~800. The pre-conversion copy of the cleaned tree that only jusText
  reads is made when jusText runs (it is ``tree_cleaning`` of the raw tree, deterministic), not for every page.
  Comment extraction (``include_comments``) and recall mode keep trafilatura's own code.
* ``compiled_xpaths`` — :mod:`.trafilatura_xpath` (since warc_extract v3).
* ``compiled_native`` — :func:`native_helpers`: where the optional compiled module :mod:`._native` is built, the
  XPath walks run in C, element text is joined and measured on the nodes (``NativeTextElement``,
  :func:`readability_bound`, :func:`pruned_bound`), and trafilatura's link-density tests and readability's
  ``text_length`` count trimmed text without building it (:func:`link_density_test`, restated from 2.3.1).

Equality with plain trafilatura is checked by ``tests/test_trafilatura_fast.py`` on every page of the dev WARC and
the other shared WARCs, and only for the trafilatura versions in :data:`SUPPORTED_VERSIONS`: another version makes
:func:`check_version` fail loudly (the shortcuts replace private functions whose logic they restate).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from copy import copy
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from curate.stages.warc.native import module as native_module

#: trafilatura versions whose ``extract`` the shortcuts were checked against (tests/test_trafilatura_fast.py)
SUPPORTED_VERSIONS = ("2.3.1",)


class UnsupportedTrafilatura(RuntimeError):
    """The installed trafilatura is not one the shortcuts were checked against."""


def check_version() -> str:
    """The installed trafilatura version; raises :class:`UnsupportedTrafilatura` for an unchecked one."""
    import trafilatura

    version = trafilatura.__version__
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedTrafilatura(
            f"warc_extract: the compiled_* shortcuts were checked against trafilatura {', '.join(SUPPORTED_VERSIONS)}"
            f", not {version}: install one of those, or set compiled_xpaths, compiled_lookup and compiled_fallbacks "
            "to false (and run tests/test_trafilatura_fast.py to check a new version)"
        )
    return version


# -- compiled_native -------------------------------------------------------------------------------------------------
#: the compiled helpers while a :func:`shortcuts` block with ``native`` runs (and the module is built), else None
_native: Any = None


@contextmanager
def swapped(module: Any, functions: dict[str, Callable]) -> Iterator[None]:
    """Within the block ``module``'s attributes named in ``functions`` are those functions (restored after)."""
    originals = {name: getattr(module, name) for name in functions}
    for name, fn in functions.items():
        setattr(module, name, fn)
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(module, name, fn)


@contextmanager
def native_helpers(native: bool = True) -> Iterator[None]:
    """Within the block the shortcuts below use :mod:`._native` where it is built: text joined, measured and
    scanned in C instead of through an XPath evaluation, a serialisation or an encode, and trafilatura's
    link-density tests and readability's ``text_length`` measure trimmed text without building it, and its
    ``duplicate_test`` joins an element's text runs without iterating them in Python (the same answers)."""
    import trafilatura.core as core
    import trafilatura.htmlprocessing as hp
    import trafilatura.main_extractor as main_extractor
    import trafilatura.readability_lxml as readability

    global _native
    before = _native
    _native = native_module if native else None
    with ExitStack() as stack:
        if _native is not None:
            stack.enter_context(
                swapped(
                    hp, {"link_density_test": link_density_test, "link_density_test_tables": link_density_test_tables}
                )
            )
            stack.enter_context(swapped(main_extractor, {"link_density_test_tables": link_density_test_tables}))
            stack.enter_context(swapped(readability, {"text_length": trimmed_length}))
            for module in (core, hp):
                stack.enter_context(swapped(module, {"duplicate_test": duplicate_test}))
        try:
            yield
        finally:
            _native = before


def duplicate_test(element: Any, options: Any) -> bool:
    """``trafilatura.deduplication.duplicate_test`` (2.3.1): the element's text, trimmed, counted in the LRU
    (``options.dedup`` when it is one, else the library's ``LRU_TEST``); True once it is longer than
    ``min_duplcheck_size`` and was seen more than ``max_repetitions`` times. The text is ``_native.spaced_text``
    rather than ``" ".join(element.itertext())``: the same runs with whitespace between them, so ``trim`` (split on
    whitespace, joined with one space) makes the same string of both."""
    import trafilatura.deduplication as deduplication
    from trafilatura.utils import trim

    text = native_module.spaced_text(element) if native_module is not None else None
    teststring = trim(" ".join(element.itertext()) if text is None else text)
    lru = options.dedup if isinstance(options.dedup, deduplication.LRUCache) else deduplication.LRU_TEST
    previous = lru.increment(teststring)
    return len(teststring) > options.min_duplcheck_size and previous > options.max_repetitions


def trimmed_length(element: Any) -> int:
    """``len(trim(element.text_content()))``, counted on the nodes by :mod:`._native` (readability's
    ``text_length``; lxml's own text when the subtree holds an entity reference)."""
    length = native_module.trimmed_length(element) if native_module is not None else -1
    if length >= 0:
        return int(length)
    from trafilatura.utils import trim  # only on the way around: this runs for every element measured

    return len(trim(element.text_content()))


def _link_info(links: list[Any]) -> tuple[int, int, int]:
    """``htmlprocessing.collect_link_info``'s numbers (total length, how many, how many under 10 characters) of
    the links' trimmed texts that are not empty, from their lengths alone (its list of texts is never read)."""
    lengths = [n for n in map(trimmed_length, links) if n]
    return sum(lengths), len(lengths), sum(1 for n in lengths if n < 10)


def link_density_test(element: Any, favor_precision: bool = False) -> tuple[bool, bool]:
    """``trafilatura.htmlprocessing.link_density_test`` (2.3.1) with every ``trim(….text_content())`` it only
    measures counted by :func:`trimmed_length` (its debug log line left out)."""
    if native_module is not None:  # one walk instead of two
        links, graphic = native_module.links_and_graphic(element)
    else:
        links, graphic = element.findall(".//ref"), element.find(".//graphic") is not None
    if not links or graphic:  # no links, or an image container (kept)
        return False, False
    text_length = trimmed_length(element)
    if len(links) == 1:
        len_threshold = 10 if favor_precision else 100
        link_length = trimmed_length(links[0])
        if link_length > len_threshold and link_length > text_length * 0.9:
            return True, False
    if element.tag == "p":
        limitlen = 60 if element.getnext() is None else 30
    elif element.getnext() is None:
        limitlen = 300
    else:
        limitlen = 100
    if text_length < limitlen:
        linklen, elemnum, shortelems = _link_info(links)
        if elemnum == 0:
            return True, False
        return linklen > text_length * 0.8 or (elemnum > 1 and shortelems / elemnum > 0.8), True
    if len(links) > 4:  # large link farms at or above limitlen
        from trafilatura.htmlprocessing import is_paragraph_listing  # here, not on the common early returns
        from trafilatura.utils import LINK_FARM_RATIO

        linklen, elemnum, _ = _link_info(links)
        if linklen > text_length * LINK_FARM_RATIO and linklen < 100 * elemnum and not is_paragraph_listing(links):
            return True, False
    return False, False


def link_density_test_tables(element: Any) -> bool:
    """``trafilatura.htmlprocessing.link_density_test_tables`` (2.3.1) measuring with :func:`trimmed_length`."""
    links = element.findall(".//ref")
    if not links:
        return False
    elemlen = trimmed_length(element)
    if elemlen < 200:
        return False
    linklen, _, _ = _link_info(links)
    return linklen > 0.8 * elemlen if elemlen < 1000 else linklen > 0.5 * elemlen


class NativeTextElement(HtmlElement):
    """lxml.html's ``HtmlElement`` whose ``text_content()`` is joined in C (``_native.text_content``: the same
    string, as a plain ``str``; trafilatura only measures, trims and searches it). What :func:`element_lookup`
    makes while native helpers are on."""

    def text_content(self) -> str:
        text = native_module.text_content(self) if native_module is not None else None
        return super().text_content() if text is None else text


# -- compiled_lookup -------------------------------------------------------------------------------------------------
def _c_lookup() -> etree.ElementDefaultClassLookup:
    from lxml.html import HtmlComment, HtmlEntity, HtmlProcessingInstruction

    return etree.ElementDefaultClassLookup(
        element=NativeTextElement if _native is not None else HtmlElement,
        comment=HtmlComment,
        pi=HtmlProcessingInstruction,
        entity=HtmlEntity,
    )


@contextmanager
def element_lookup() -> Iterator[None]:
    """Within the block, trafilatura's ``HTML_PARSER`` makes element proxies through the C-level lookup."""
    from lxml.html import HtmlElementClassLookup
    from trafilatura.utils import HTML_PARSER

    HTML_PARSER.set_element_class_lookup(_c_lookup())
    try:
        yield
    finally:
        HTML_PARSER.set_element_class_lookup(HtmlElementClassLookup())  # what lxml.html.HTMLParser sets


#: the characters trafilatura's ``INVALID_XML_CHARS`` removes that are one UTF-8 byte each (C0 controls but tab, LF,
#: CR); the other two, U+FFFE and U+FFFF, are the 3-byte sequences below
_C0_INVALID = bytes([*range(0, 9), 11, 12, *range(14, 32)])
_NONCHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")


def has_invalid_xml_chars(html: str) -> bool:
    """Whether ``trafilatura.utils.INVALID_XML_CHARS`` finds anything in ``html``, answered from its UTF-8 bytes
    (``bytes.translate`` and ``in`` run at memory speed; the regex steps through the string ~2x slower). A string
    UTF-8 cannot encode (a lone surrogate) is answered True: the caller then runs the regex itself."""
    try:
        data = html.encode("utf-8")
    except UnicodeEncodeError:
        return True
    if len(data.translate(None, _C0_INVALID)) != len(data):
        return True
    return b"\xef\xbf" in data and any(n in data for n in _NONCHARACTERS)  # one scan where neither occurs


def repair_faulty_html(htmlstring: str, beginning: str) -> str:
    """``trafilatura.utils.repair_faulty_html`` with its first step (removing XML-invalid characters) skipped when
    :func:`has_invalid_xml_chars` says there is nothing to remove (else the library's own function runs); the two
    other repairs (a doctype with a slash, a self-closing ``<html/>``) restate the library's."""
    import trafilatura.utils as utils

    invalid = _native.has_invalid_xml_chars(htmlstring) if _native is not None else has_invalid_xml_chars(htmlstring)
    if invalid:
        assert _library_repair is not None  # set by html_loading before any call
        return _library_repair(htmlstring, beginning)
    if "doctype" in beginning:
        firstline, _, rest = htmlstring.partition("\n")
        htmlstring = utils.DOCTYPE_TAG.sub("", firstline, count=1) + "\n" + rest
    for line in htmlstring[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            htmlstring = utils.FAULTY_HTML.sub(r"\1>", htmlstring, count=1)
            break
    return htmlstring


#: trafilatura's own ``repair_faulty_html``, taken before the first swap (never this module's)
_library_repair: Callable[[str, str], str] | None = None


@contextmanager
def html_loading() -> Iterator[None]:
    """Within the block, trafilatura loads HTML through :func:`element_lookup` and :func:`repair_faulty_html`."""
    global _library_repair
    import trafilatura.utils as utils

    swapped = utils.repair_faulty_html
    if _library_repair is None and swapped is not repair_faulty_html:
        _library_repair = swapped
    utils.repair_faulty_html = repair_faulty_html
    try:
        with element_lookup():
            yield
    finally:
        utils.repair_faulty_html = swapped


# -- compiled_fallbacks ----------------------------------------------------------------------------------------------
#: text readability writes into an iframe it keeps (a video embed)
_VIDEO_TEXT = len("VIDEO")


def readability_bound(tree: Any) -> int:
    """Most characters readability's trimmed text can have for ``tree`` (see the module docstring)."""
    bound = _native.readability_bound(tree) if _native is not None else -1
    if bound >= 0:  # the same count in one walk over the nodes (-1: an entity reference in the tree)
        return int(bound)
    total = len(etree.tostring(tree, method="text", encoding=str))
    for el in tree.iter("script", "style"):  # dropped by readability first, tails kept
        if el.text:
            total -= len(el.text)
    return total + _VIDEO_TEXT * sum(1 for _ in tree.iter("iframe"))


def discard_matches(tree: Any) -> list[list[Any]] | None:
    """Each ``OVERALL_DISCARD_XPATH`` expression's matches on ``tree``, in document order; None without the native
    helpers or with an expression that reads more than an element's own tag and attributes (a compiled walk without
    descendant tests): the two functions below rely on that form."""
    import trafilatura.external as external

    from curate.stages.warc.trafilatura_xpath import CompiledXPath

    if _native is None:
        return None
    expressions = external.OVERALL_DISCARD_XPATH
    if not all(isinstance(x, CompiledXPath) and x.attributes_only for x in expressions):
        return None
    return [expression(tree) for expression in expressions]


def pruned_bound(tree: Any, matches: list[list[Any]] | None = None) -> int | None:
    """:func:`readability_bound` of ``tree`` as ``prune_unwanted_nodes(copy(tree), OVERALL_DISCARD_XPATH)`` would
    leave it, without the copy: the expressions' matches on ``tree`` itself (:func:`discard_matches`, or the
    ``matches`` given) left out, their tails kept (as ``delete_element`` keeps them). Exact because every one of
    those expressions reads only an element's own tag and attributes: deleting one match cannot change whether
    another element matches, so the sequential deletions remove exactly the subtrees of the union of matches. None
    without the native helpers, with an expression outside that form, or with an entity reference in the tree."""
    matches = discard_matches(tree) if matches is None else matches
    if matches is None:
        return None
    flat = [el for found in matches for el in found]
    if any(el.getparent().tag in ("script", "style") for el in flat):  # a tail would join that .text
        return None
    bound = _native.readability_bound(tree, flat)
    return int(bound) if bound >= 0 else None


def pruned_copy(tree: Any, matches: list[list[Any]]) -> Any:
    """``prune_unwanted_nodes(copy(tree), OVERALL_DISCARD_XPATH)`` from the expressions' ``matches`` on ``tree``
    (:func:`discard_matches`) instead of evaluating them again on the copy: each match's twin in the copy
    (``_native.twins``) deleted in the library's order — expression by expression, each in document order —
    except those an earlier deletion took with it (the library's later expressions no longer find those, and its
    deletions inside an already detached subtree change nothing attached). Exact for the reason
    :func:`pruned_bound` is: the expressions read only an element's own tag and attributes, and a deletion moves
    text, never a tag or an attribute, so each expression would find on the pruned copy exactly the twins still
    attached."""
    import trafilatura.htmlprocessing as hp  # its delete_element, as prune_unwanted_nodes reads it

    raw = copy(tree)
    twins = iter(_native.twins(tree, raw, [el for found in matches for el in found]))
    for found in matches:
        for twin in [next(twins) for _ in found]:
            if _attached(twin, raw):
                hp.delete_element(twin)
    return raw


def _attached(element: Any, root: Any) -> bool:
    """Whether ``element`` (a descendant of ``root`` once) still hangs under ``root``."""
    parent = element.getparent()
    while parent is not None:
        if parent is root:
            return True
        parent = parent.getparent()
    return False


def readability_cannot_win(tree: Any, body: Any, text: str, options: Any) -> bool:
    """True when no readability text of at most :func:`readability_bound` characters could replace ``text``."""
    if options.focus == "recall" or not text:
        return False
    return _bound_cannot_win(readability_bound(tree), body, text, options)


def _bound_cannot_win(bound: int, body: Any, text: str, options: Any) -> bool:
    """True when no readability text of at most ``bound`` characters could replace ``text``."""
    if bound > 2 * len(text):  # "readability much longer" is possible
        return False
    if bound > 2 * options.min_extracted_size:  # "own extraction structurally deficient" is possible
        deficient = not body.xpath(".//p//text()") or len(body.findall(".//table")) > len(body.findall(".//p"))
        return not deficient
    return True


class _Backup:
    """The cleaned, unconverted tree jusText reads: a copy taken up front, or ``tree_cleaning`` of the raw tree
    redone when (rarely) jusText runs."""

    def __init__(self, tree: Any = None, raw: Any = None, options: Any = None):
        self._tree, self._raw, self._options = tree, raw, options

    def tree(self) -> Any:
        if self._tree is None:
            return tree_cleaning(copy(self._raw), self._options)
        return self._tree


def _justext_check(backup: _Backup, body: Any, text: str, options: Any) -> tuple[Any, str, bool]:
    """trafilatura's jusText override after the readability decision: ``(body, text, jusText taken)``."""
    import trafilatura.external as external

    unclean = bool(body.xpath(external.SANITIZED_XPATH))
    if not unclean and len(text) >= options.min_extracted_size:
        return body, text, False
    jbody, jtext = external.justext_rescue(backup.tree(), options)
    if not jtext:
        return body, text, False
    if unclean:  # boilerplate-dropping may shorten, within a ratio; image-heavy pages guarded
        accept = len(text) <= external.JUSTEXT_OVERRIDE_RATIO * len(jtext) and (
            len(jtext) > len(text) or not options.images or body.find(".//graphic") is None
        )
    else:  # merely short: jusText must add text
        accept = len(jtext) > len(text)
    return (jbody, jtext, True) if accept else (body, text, False)


def _compare(backup: _Backup, tree: Any, body: Any, text: str, options: Any) -> tuple[Any, str]:
    """``external.compare_extraction`` with the readability pass skipped when it cannot change the result and the
    backup tree built only when jusText needs it."""
    import trafilatura.external as external
    from trafilatura.utils import trim

    if options.focus == "recall" and len(text) > options.min_extracted_size * 10:
        return body, text
    use_readability = False
    if not readability_cannot_win(tree, body, text, options):
        if options.focus == "precision":
            # the bound again on the tree readability reads: the discarded sections' text is out of its reach
            matches = discard_matches(tree)
            pruned = pruned_bound(tree, matches) if matches is not None else None
            if pruned is not None and _bound_cannot_win(pruned, body, text, options):
                return _finish(backup, body, text, options, use_readability)
            if matches is not None:
                raw = pruned_copy(tree, matches)
            else:
                raw = external.prune_unwanted_nodes(copy(tree), external.OVERALL_DISCARD_XPATH)
            if pruned is None and _bound_cannot_win(readability_bound(raw), body, text, options):
                return _finish(backup, body, text, options, use_readability)
        else:
            raw = copy(tree)
        algo_body = external.try_readability(raw)
        algo_text = trim(etree.tostring(algo_body, method="text", encoding="utf-8").decode("utf-8"))
        use_readability = external._prefer_readability(body, algo_body, algo_text, len(text), len(algo_text), options)
        if use_readability:
            body, text = algo_body, algo_text
    return _finish(backup, body, text, options, use_readability)


def _finish(backup: _Backup, body: Any, text: str, options: Any, use_readability: bool) -> tuple[Any, str]:
    """The rest of ``compare_extraction`` after the readability decision: jusText's check, then readability's
    output sanitised when it was taken and jusText did not replace it."""
    import trafilatura.external as external

    body, text, took_justext = _justext_check(backup, body, text, options)
    if use_readability and not took_justext:
        body, text = external.sanitize_tree(body, options)
    return body, text


def tree_cleaning(tree: Any, options: Any) -> Any:
    """``trafilatura.htmlprocessing.tree_cleaning`` (2.3.1); with the native helpers its ~50 walks for the tags to
    delete run only for the tags the tree holds (``_native.tag_names``, taken after the stripping: deleting elements
    and moving tails never adds a tag, so a walk for an absent one finds nothing). Without them, the library's."""
    import trafilatura.htmlprocessing as hp  # its names, as the library reads them (users may edit the lists)

    if _native is None or options.focus == "recall":  # recall mode may restore a copy: the library's own code
        return hp.tree_cleaning(tree, options)
    hp.recover_math(tree)
    cleaning_list, stripping_list = hp.MANUALLY_CLEANED.copy(), hp.MANUALLY_STRIPPED.copy()
    clean_forms = "form" in cleaning_list
    if clean_forms:
        cleaning_list.remove("form")
    if not options.tables:
        cleaning_list.extend(["table", "td", "th", "tr"])
    else:  # figures holding a table and ARIA layout tables become divs
        for elem in tree.iter("figure", "table"):
            if (
                elem.find(".//table") is not None
                if elem.tag == "figure"
                else elem.get("role") in ("presentation", "none")
            ):
                elem.tag = "div"
    if options.images:
        cleaning_list = [e for e in cleaning_list if e not in hp.PRESERVE_IMG_CLEANING]
        stripping_list.remove("img")
    hp.strip_tags(tree, stripping_list)
    present = _native.tag_names(tree)
    for expression in cleaning_list:
        if present is not None and expression not in present:
            continue
        for element in tree.iter(expression):
            hp.delete_element(element)
    if clean_forms:
        hp._handle_forms(tree)
    return hp.prune_html(tree, options.focus)


def _prepare_tree(tree: Any, options: Any, url: str | None) -> tuple[Any, Any]:
    cleaned = tree_cleaning(copy(tree), options)
    if options.comments:  # trafilatura_sequence reads the backup itself (thread-forum pages)
        backup: Any = copy(cleaned)
    else:
        backup = _Backup(raw=tree, options=options)
    return convert_tags(cleaned, options, url), backup


def convert_tags(tree: Any, options: Any, url: str | None) -> Any:
    """``trafilatura.htmlprocessing.convert_tags`` (2.3.1); with the native helpers its first loop — every ``a``
    under a container below the root renamed ``ref``, the other ``a`` stripped — runs first over parent pointers
    (``_native.links_in_containers``), so the library's own loop then meets no ``a`` and does the rest. The renames
    do not depend on each other (a container is never an ``a``), so their order cannot change the tree."""
    import trafilatura.htmlprocessing as hp

    if _native is not None and not options.links:
        containers = ("div", "li", "p", "table") if options.tables else ("div", "li", "p")
        for elem in _native.links_in_containers(tree, containers):
            elem.tag = "ref"
        etree.strip_tags(tree, "a")
    return hp.convert_tags(tree, options, url)


def _extract_and_compare(cleaned: Any, backup: Any, tree: Any, options: Any) -> tuple[Any, str]:
    from trafilatura.main_extractor import extract_content

    body, text = extract_content(cleaned, options)
    if not options.fast:
        if not isinstance(backup, _Backup):
            backup = _Backup(tree=backup)
        body, text = _compare(backup, tree, body, text, options)
    return body, text


@contextmanager
def fallback_shortcuts() -> Iterator[None]:
    """Within the block, trafilatura's cascade runs :func:`_prepare_tree` and :func:`_extract_and_compare` above,
    and jusText's classifier reuses the stop-word set it built for the same stop list (:class:`_StoplistOnce`)."""
    import justext.core
    import trafilatura.core as core

    global _stoplist_once
    if _stoplist_once is None:  # one per process: warc_extract enters this block for every page
        _stoplist_once = _StoplistOnce(justext.core.define_stoplist)
    with swapped(core, {"_prepare_tree": _prepare_tree, "_extract_and_compare": _extract_and_compare}):
        with swapped(justext.core, {"define_stoplist": _stoplist_once}):
            yield


class _StoplistOnce:
    """jusText's ``define_stoplist`` (a frozenset of the lower-cased words) remembered for the last stop list
    passed, by identity: trafilatura hands ``classify_paragraphs`` the same tuple of every language's stop words
    (154,484) on each jusText rescue, and jusText rebuilt the set each time. The set is immutable, so sharing it
    changes nothing. One instance per process (:data:`_stoplist_once`), made outside any block, so it holds the
    library's own function."""

    def __init__(self, define: Callable[[Any], frozenset[str]]):
        self._define, self._words, self._set = define, None, frozenset()

    def __call__(self, stoplist: Any) -> frozenset[str]:
        if stoplist is not self._words:
            self._words, self._set = stoplist, self._define(stoplist)
        return self._set


_stoplist_once: _StoplistOnce | None = None


#: ``trafilatura.extract`` keyword -> ``Extractor`` field, for the keywords warc_extract passes
_EXTRACTOR_FIELDS = {
    "fast": "fast",
    "favor_precision": "precision",
    "favor_recall": "recall",
    "include_comments": "comments",
    "include_tables": "tables",
    "deduplicate": "dedup",
}


def shared_extractor(options: dict[str, Any]) -> Any:
    """The ``trafilatura.settings.Extractor`` that ``trafilatura.extract(html, **options)`` builds on every call,
    built once: ``extract(html, options=it)`` then gives the same text without re-reading the settings file's
    values for each page (~0.3 ms). trafilatura supports sharing one (it copies it before changing the focus). None
    for a keyword outside :data:`_EXTRACTOR_FIELDS` (such calls keep building their own)."""
    from trafilatura.settings import DEFAULT_CONFIG, Extractor

    if not set(options) <= set(_EXTRACTOR_FIELDS):
        return None
    fields = {_EXTRACTOR_FIELDS[k]: v for k, v in options.items()}
    return Extractor(config=DEFAULT_CONFIG, output_format="txt", **fields)


@contextmanager
def shortcuts(xpaths: bool = True, lookup: bool = True, fallbacks: bool = True, native: bool = True) -> Iterator[None]:
    """The chosen shortcuts for the duration of the block (checks the trafilatura version when any is on);
    ``native``: they use the compiled helpers where the module is built (:func:`native_helpers`; the compiled
    XPaths walk in C)."""
    from curate.stages.warc.trafilatura_xpath import compiled_xpaths

    with ExitStack() as stack:
        if xpaths or lookup or fallbacks or (native and native_module is not None):  # all restate 2.3.1's code
            check_version()
        stack.enter_context(native_helpers(native))
        if xpaths:
            stack.enter_context(compiled_xpaths(native))
        if lookup:
            stack.enter_context(html_loading())
        if fallbacks:
            stack.enter_context(fallback_shortcuts())
        yield

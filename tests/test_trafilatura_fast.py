"""trafilatura_fast: the shortcuts give plain trafilatura's text on every real page, and the bound they rely on holds.

Plain trafilatura (no shortcut at all, lxml XPaths, lxml.html's lookup, readability on every page) and the
shortcuts (each alone and all together) extract the same pages in the same order with FineWeb's settings
(``deduplicate`` state reset before each pass; the two largest comparisons run each half of their pages in its own
process, both sides alike); every text must be equal. Both branches of ``compiled_fallbacks``
must occur (readability skipped, and run), so the comparison is not vacuous. The version pin fails loudly."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from copy import copy

import pyarrow as pa
import pytest
import trafilatura
import trafilatura.core
import trafilatura.deduplication
import trafilatura.external
import trafilatura.htmlprocessing
import trafilatura.main_extractor
import trafilatura.settings
import trafilatura.utils
from conftest import SHARED_DATA, shared_data
from lxml import etree
from lxml.html import FormElement, HtmlElement
from trafilatura.utils import HTML_PARSER, load_html, trim

from curate.stage import SourceFile
from curate.stages import WarcExtract
from curate.stages.warc import trafilatura_fast
from curate.stages.warc.native import module as native_module
from curate.stages.warc.trafilatura_fast import (
    SUPPORTED_VERSIONS,
    UnsupportedTrafilatura,
    check_version,
    readability_bound,
    shortcuts,
)

DEV = ("warc", "pages_with_gold", "dev_pages.warc.gz")
FINEWEB = {"favor_precision": True, "include_comments": False, "deduplicate": True}
NONE = {"xpaths": False, "lookup": False, "fallbacks": False, "native": False}


def html_pages(path) -> list[str]:
    step = WarcExtract(extract=False)
    tables = [out.kept for out in step.read(SourceFile(str(path), lambda: open(path, "rb")))]
    return pa.concat_tables(tables).column("text").to_pylist() if tables else []


def extract_all(pages: list[str], options: dict | None = None, **chosen: bool) -> list[str | None]:
    trafilatura.deduplication.LRU_TEST.clear()
    out = []
    for html in pages:
        with shortcuts(**chosen):
            out.append(trafilatura.extract(html, **(options or FINEWEB)))
    return out


def _plain_and_fast(pages: list[str], options: dict | None) -> tuple[list, list, dict[bool, int], int]:
    """Plain trafilatura's texts and the shortcuts' for ``pages`` (dedup cache cleared before each pass), with how
    often the raw-tree bound decided (True: readability skipped) and how often readability ran in the fast pass."""
    decisions = {True: 0, False: 0}
    runs = 0
    cannot_win, readability = trafilatura_fast.readability_cannot_win, trafilatura.external.try_readability

    def counted(*args):
        decided = cannot_win(*args)
        decisions[decided] += 1
        return decided

    def counted_readability(tree):
        nonlocal runs
        runs += 1
        return readability(tree)

    plain = extract_all(pages, options, **NONE)
    trafilatura_fast.readability_cannot_win, trafilatura.external.try_readability = counted, counted_readability
    try:
        fast = extract_all(pages, options)
    finally:
        trafilatura_fast.readability_cannot_win, trafilatura.external.try_readability = cannot_win, readability
    return plain, fast, decisions, runs


def compare_in_halves(pages: list[str], options: dict | None = None) -> tuple[list, list, dict[bool, int], int]:
    """:func:`_plain_and_fast` on each half of ``pages`` in its own forked process (both cores: the suite's two
    slowest tests take half the wall time), results joined in page order; each half's dedup cache starts empty for
    both passes, so the two sides still see the same sequence."""
    half = len(pages) // 2
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = list(pool.map(_plain_and_fast, [pages[:half], pages[half:]], [options, options]))
    decisions = {flag: sum(part[2][flag] for part in parts) for flag in (True, False)}
    return parts[0][0] + parts[1][0], parts[0][1] + parts[1][1], decisions, parts[0][3] + parts[1][3]


@pytest.fixture(scope="module")
def dev_pages() -> list[str]:
    return html_pages(shared_data(*DEV))


def first_difference(expected: list, got: list) -> str:
    differ = [i for i, (a, b) in enumerate(zip(expected, got, strict=True)) if a != b]
    if not differ:
        return ""
    i = differ[0]
    return f"{len(differ)} of {len(expected)} pages differ, e.g. page {i}: {expected[i]!r:.300} vs {got[i]!r:.300}"


def test_the_installed_trafilatura_is_the_checked_one():
    assert trafilatura.__version__ in SUPPORTED_VERSIONS
    assert check_version() == trafilatura.__version__


def test_an_unchecked_version_fails_loudly(monkeypatch):
    monkeypatch.setattr(trafilatura, "__version__", "9.9.9")
    with pytest.raises(UnsupportedTrafilatura, match="9.9.9"):
        check_version()
    with pytest.raises(UnsupportedTrafilatura):
        WarcExtract(extractor="trafilatura").ensure_setup()
    step = WarcExtract(extractor="trafilatura", compiled_xpaths=False, compiled_lookup=False, compiled_fallbacks=False)
    step.ensure_setup()  # plain trafilatura needs no check


def test_every_dev_page_extracts_as_plain_trafilatura(dev_pages):
    """Every HTML page of the dev WARC (1,120): all shortcuts together vs none."""
    plain, fast, decisions, readability_runs = compare_in_halves(dev_pages)
    assert len(dev_pages) >= 1000 and sum(t is not None and len(t) > 200 for t in plain) > len(dev_pages) // 2
    assert not first_difference(plain, fast)
    # every branch, on real pages: skipped on the raw tree's bound, skipped on the pruned tree's bound, run
    skipped_after_pruning = decisions[False] - readability_runs
    assert decisions[True] > 100 and skipped_after_pruning > 100 and readability_runs > 100, (
        decisions,
        readability_runs,
    )


@pytest.fixture(scope="module")
def plain_tenth(dev_pages) -> list[str | None]:
    """Plain trafilatura on every 10th dev page, once for the three single-shortcut tests (same pages, same
    order, dedup cache cleared first: the same texts each would get)."""
    return extract_all(dev_pages[::10], **NONE)


@pytest.mark.parametrize(
    "chosen",
    [
        {"xpaths": True},
        {"lookup": True},
        {"fallbacks": True},
        {"xpaths": True, "lookup": True, "fallbacks": True},  # all but the compiled helpers
    ],
    ids=["xpaths", "lookup", "fallbacks", "all-but-native"],
)
def test_each_shortcut_alone_extracts_as_plain_trafilatura(dev_pages, plain_tenth, chosen):
    pages, plain = dev_pages[::10], plain_tenth
    assert not first_difference(plain, extract_all(pages, **{**NONE, **chosen}))


def test_the_other_shared_warcs_extract_as_plain_trafilatura():
    """The real crawls and Common Crawl excerpts (other sites, other years), also with comments and recall on."""
    folders = [SHARED_DATA / "warc" / "real_crawls", SHARED_DATA / "warc" / "common_crawl_format"]
    if not folders[0].exists():
        shared_data("warc", "real_crawls")
    pages = [page for folder in folders for path in sorted(folder.glob("*.warc*")) for page in html_pages(path)]
    assert len(pages) > 250
    plain, fast, _, _ = compare_in_halves(pages)
    assert not first_difference(plain, fast)
    for options in ({"include_comments": True, "deduplicate": True}, {"favor_recall": True}):
        plain, fast, _, _ = compare_in_halves(pages[::5], options)
        assert not first_difference(plain, fast)


def readability_text(tree: HtmlElement) -> str:
    body = trafilatura.external.try_readability(tree)
    return trim(etree.tostring(body, method="text", encoding="utf-8").decode("utf-8"))


def test_readability_text_never_exceeds_the_bound(dev_pages):
    """The bound compiled_fallbacks decides on, on real pages and on pages built to add text (video iframes)."""
    built = [
        "<html><body><div><p>Some words here. More words.</p>"
        + '<iframe src="https://www.youtube.com/embed/x"></iframe>' * n
        + "</div><script>var x = 1;</script><style>p {}</style></body></html>"
        for n in (1, 5)
    ]
    checked = 0
    for html in [*dev_pages[::4], *built]:
        tree = load_html(html)
        if tree is None:
            continue
        # the raw tree (the first bound) and the tree pruned as in precision mode (the second)
        pruned = trafilatura.external.prune_unwanted_nodes(copy(tree), trafilatura.external.OVERALL_DISCARD_XPATH)
        for candidate in (tree, pruned):
            bound = readability_bound(candidate)
            assert len(readability_text(copy(candidate))) <= bound, html[:200]
        checked += 1
    assert checked > 250


@pytest.mark.skipif(native_module is None, reason="the compiled module _native is not built")
def test_native_text_is_lxml_text_on_every_element(dev_pages):
    """``_native.text_content`` (what ``NativeTextElement.text_content`` returns), ``_native.readability_bound`` and
    ``_native.spaced_text`` (trimmed) against lxml and the Python bound on every element of every 4th dev page
    and of markup holding CDATA, comments, processing instructions, entity references (None / -1: lxml answers)
    and tails."""
    assert native_module is not None
    trees = [tree for html in dev_pages[::4] if (tree := load_html(html)) is not None]
    built = etree.fromstring(
        '<!DOCTYPE r [<!ENTITY e "ent">]><r>a<b>é<![CDATA[c<d]]><!--x--><?pi y?>€</b>t<c>&e;</c>u</r>',
        etree.XMLParser(resolve_entities=False),
    )
    checked, entity_holders = 0, []
    for tree in [*trees, built]:
        for el in tree.iter(etree.Element):
            expected = el.xpath("string()")
            got = native_module.text_content(el)
            bound = native_module.readability_bound(el)
            spaced = native_module.spaced_text(el)
            if got is None:  # an entity reference inside: the callers ask lxml
                assert bound == -1 and spaced is None
                entity_holders.append(el.tag)
                continue
            assert got == expected and type(got) is str
            assert trim(spaced) == trim(" ".join(el.itertext()))  # what duplicate_test keeps of it
            assert bound == readability_bound(el), etree.tostring(el)[:300]  # Python: no block
            checked += 1
    assert checked > 50_000 and entity_holders == ["r", "c"]
    # readability_bound in one walk: the Python count (lxml's text, minus each script/style .text, plus iframes)
    odd = load_html(
        "<html><body><script>var a;</script>x<style>p{}</style><iframe src=v></iframe><div><iframe></iframe>"
        "<script>s<b>in</b>t</script>é€<![CDATA[c]]></div></body></html>"
    )
    script = etree.fromstring("<script>lead<i>kept</i>tail-in<iframe/></script>")
    for tree in [*trees[::3], odd, script, odd.find(".//div")]:
        pruned = trafilatura.external.prune_unwanted_nodes(copy(tree), trafilatura.external.OVERALL_DISCARD_XPATH)
        for candidate in (tree, pruned):
            assert native_module.readability_bound(candidate) == readability_bound(candidate)  # Python: no block
    assert native_module.readability_bound(built) == -1
    # the pruned tree's bound without the copy: OVERALL_DISCARD_XPATH's matches left out, their tails kept
    discard = trafilatura.external.OVERALL_DISCARD_XPATH
    nested = load_html(
        "<html><body><div class='cookie'>a<div class='cookie'>b</div>c<iframe></iframe></div>tail1"
        "<p>p<span class='nav'>n</span>t2<span style='display:none'>h</span>t3</p><script>s</script></body></html>"
    )
    # ... and the pruned copy itself from those matches, without evaluating the expressions again on it: nested
    # matches, one element matched by both expressions, adjacent matches whose tails join
    twice = load_html(
        "<html><body><p>x<span class='nav cookie' aria-hidden='true'>n</span>t1<span class='banner'>b</span>t2"
        "<div class='social'>s<div class='footer'>f<i style='display:none'>h</i></div>t3</div>t4"
        "<b aria-hidden='true'>a<span class='nav'>v</span></b>t5</p></body></html>"
    )
    compared = 0
    with shortcuts():
        for tree in [*trees, nested, twice]:
            pruned_tree = trafilatura.external.prune_unwanted_nodes(copy(tree), discard)
            expected = readability_bound(pruned_tree)
            matches = trafilatura_fast.discard_matches(tree)
            assert trafilatura_fast.pruned_bound(tree) == trafilatura_fast.pruned_bound(tree, matches) == expected
            before = etree.tostring(tree)
            assert etree.tostring(trafilatura_fast.pruned_copy(tree, matches)) == etree.tostring(pruned_tree)
            assert etree.tostring(tree) == before  # the source tree is left as it was
            compared += any(x(tree) for x in discard)
        first, second = trafilatura_fast.discard_matches(twice)  # both expressions, overlapping and nested
        assert len(first) == 5 and len(second) == 3 and first[0] is second[0]
    assert compared > 50  # trees with something to discard
    with shortcuts():
        element = load_html("<html><body><div>a<p>b</p>c</div></body></html>").find(".//div")
        assert type(element) is trafilatura_fast.NativeTextElement and element.text_content() == "abc"


@pytest.mark.skipif(native_module is None, reason="the compiled module _native is not built")
def test_native_link_density_tests_decide_as_the_library(dev_pages):
    """The restated link-density tests (lengths of trimmed text counted on the nodes) against trafilatura's own on
    every element they are asked about, in trees as trafilatura has them then (cleaned, tags converted), for every
    4th dev page and both precision settings; readability's ``text_length`` against the library's on every
    element."""
    import trafilatura.htmlprocessing as hp
    import trafilatura.readability_lxml as readability

    options = trafilatura_fast.shared_extractor(FINEWEB)
    decided = {True: 0, False: 0}
    for html in dev_pages[::4]:
        tree = load_html(html)
        if tree is None:
            continue
        for el in tree.iter(etree.Element):
            assert trafilatura_fast.trimmed_length(el) == readability.text_length(el)
        converted = hp.convert_tags(hp.tree_cleaning(copy(tree), options), options)
        for el in converted.iter(etree.Element):
            links, graphic = native_module.links_and_graphic(el)
            assert graphic == (el.find(".//graphic") is not None)
            assert graphic or links == el.findall(".//ref")
        for el in converted.iter("div", "list", "p", "head", "quote"):
            for precision in (False, True):
                result = trafilatura_fast.link_density_test(el, precision)
                assert result == hp.link_density_test(el, precision), etree.tostring(el)[:300]
                decided[result[0]] += 1
        for table in converted.iter("table"):
            assert trafilatura_fast.link_density_test_tables(table) == hp.link_density_test_tables(table)
    assert decided[True] > 300 and decided[False] > 3000, decided


@pytest.mark.skipif(native_module is None, reason="the compiled module _native is not built")
def test_native_tree_cleaning_leaves_the_library_tree(dev_pages):
    """The restated ``tree_cleaning`` (walks only for the tags the tree holds) gives the library's tree, byte for
    byte, on every 4th dev page under FineWeb's settings and with tables off / images on; ``tag_names`` is the set
    of tags ``iter()`` meets."""
    import trafilatura.htmlprocessing as hp

    fineweb = {"precision": True, "comments": False, "dedup": True}
    variants = [fineweb, {**fineweb, "tables": False}, {**fineweb, "images": True}]
    options = [trafilatura.settings.Extractor(output_format="txt", **v) for v in variants]
    compared = 0
    for html in dev_pages[::4]:
        tree = load_html(html)
        if tree is None:
            continue
        assert native_module.tag_names(tree) == {el.tag for el in tree.iter(etree.Element)}
        for option in options:
            expected = etree.tostring(hp.tree_cleaning(copy(tree), option))
            with trafilatura_fast.native_helpers():
                got = etree.tostring(trafilatura_fast.tree_cleaning(copy(tree), option))
            assert got == expected
            compared += 1
    assert compared > 800
    namespaced = etree.fromstring('<r xmlns:h="urn:h"><h:div/></r>')
    assert native_module.tag_names(namespaced) is None


@pytest.mark.skipif(native_module is None, reason="the compiled module _native is not built")
def test_native_link_conversion_leaves_the_library_tree(dev_pages):
    """``convert_tags`` with its link loop over parent pointers gives the library's tree, byte for byte, on every
    4th dev page (cleaned as the cascade cleans it) with tables on and off and links kept; and on small trees where
    the root itself is a container or an ``a``, ``a`` inside ``a``, and an ``a`` whose only container is above the
    subtree converted."""
    import trafilatura.htmlprocessing as hp

    fineweb = {"precision": True, "comments": False, "dedup": True}
    variants = [fineweb, {**fineweb, "tables": False}, {**fineweb, "links": True}]
    options = [trafilatura.settings.Extractor(output_format="txt", **v) for v in variants]
    compared = renamed = 0
    for html in dev_pages[::4]:
        tree = load_html(html)
        if tree is None:
            continue
        for option in options:
            cleaned = hp.tree_cleaning(copy(tree), option)
            expected = etree.tostring(hp.convert_tags(copy(cleaned), option))
            renamed += len(native_module.links_in_containers(cleaned, ("div", "li", "p", "table")))
            with trafilatura_fast.native_helpers():
                got = etree.tostring(trafilatura_fast.convert_tags(copy(cleaned), option, None))
            assert got == expected
            compared += 1
    assert compared > 800 and renamed > 10_000
    small = [
        "<div><a>x</a><p>t <a>y</a> u</p></div>",
        "<a>root <a>inner</a><li><a>in item</a></li></a>",
        "<body><table><tr><td><a>cell</a></td></tr></table><span><a>bare</a></span></body>",
    ]
    for markup in small:
        for option in options:
            expected = etree.tostring(hp.convert_tags(etree.fromstring(markup), option))
            with trafilatura_fast.native_helpers():
                got = etree.tostring(trafilatura_fast.convert_tags(etree.fromstring(markup), option, None))
            assert got == expected, markup
    outer = etree.fromstring("<div><section><a>in a div above the subtree</a></section></div>")
    section = outer[0]
    assert [a.text for a in native_module.links_in_containers(section, ("div",))] == ["in a div above the subtree"]
    assert native_module.links_in_containers(outer, ("div",)) == []  # the root does not count


def test_the_swaps_live_only_inside_the_block_and_are_restored_on_error():
    form = "<html><body><form><input name='a'></form><p>x</p></body></html>"
    import justext.core

    originals = (trafilatura.core._prepare_tree, trafilatura.core._extract_and_compare)
    repair, define_stoplist = trafilatura.utils.repair_faulty_html, justext.core.define_stoplist
    words = ("The", "und", "y")
    assert isinstance(load_html(form).find(".//form"), FormElement)
    with pytest.raises(RuntimeError, match="boom"), shortcuts():
        tree = load_html(form)
        one_class = trafilatura_fast.NativeTextElement if native_module is not None else HtmlElement
        assert type(tree.find(".//form")) is one_class  # the C lookup: one class for every element
        assert trafilatura_fast._native is native_module
        if native_module is not None:
            assert trafilatura.htmlprocessing.link_density_test is trafilatura_fast.link_density_test
            assert trafilatura.core.duplicate_test is trafilatura_fast.duplicate_test
            assert trafilatura.htmlprocessing.duplicate_test is trafilatura_fast.duplicate_test
        assert trafilatura.core._prepare_tree is trafilatura_fast._prepare_tree
        assert trafilatura.utils.repair_faulty_html is trafilatura_fast.repair_faulty_html
        # jusText's stop-word set: built once per stop list, equal to the library's
        stop_set = justext.core.define_stoplist(words)
        assert stop_set == define_stoplist(words) == {"the", "und", "y"}
        assert justext.core.define_stoplist(words) is stop_set
        assert justext.core.define_stoplist(("Der",)) == {"der"}  # another list: built anew
        stop_set = justext.core.define_stoplist(words)
        with shortcuts():  # warc_extract enters a block per page: the set outlives the block
            assert justext.core.define_stoplist(words) is stop_set
        with shortcuts():  # nested: the inner block restores what the outer one set
            pass
        assert trafilatura.utils.repair_faulty_html is trafilatura_fast.repair_faulty_html
        raise RuntimeError("boom")
    assert isinstance(load_html(form).find(".//form"), FormElement)
    assert (trafilatura.core._prepare_tree, trafilatura.core._extract_and_compare) == originals
    assert trafilatura.utils.repair_faulty_html is repair and justext.core.define_stoplist is define_stoplist
    assert isinstance(etree.fromstring("<p/>", HTML_PARSER), HtmlElement)
    assert trafilatura_fast._native is None
    assert trafilatura.htmlprocessing.link_density_test is not trafilatura_fast.link_density_test
    assert trafilatura.main_extractor.link_density_test_tables is trafilatura.htmlprocessing.link_density_test_tables
    assert trafilatura.core.duplicate_test is trafilatura.deduplication.duplicate_test
    assert trafilatura.htmlprocessing.duplicate_test is trafilatura.deduplication.duplicate_test


def test_warc_extract_gives_the_same_texts_with_every_shortcut_off():
    sample = shared_data("warc", "real_crawls", "dolma__sample-0000.warc.gz")

    def texts(**params) -> list[str]:
        step = WarcExtract(timeout_mode="signal", **params)
        kept = pa.concat_tables([out.kept for out in step.read(SourceFile(str(sample), lambda: sample.open("rb")))])
        return kept.column("text").to_pylist()

    default = texts()
    assert len(default) > 10
    assert default == texts(compiled_xpaths=False, compiled_lookup=False, compiled_fallbacks=False)


@pytest.mark.parametrize(
    "options",
    [
        FINEWEB,
        {
            "favor_precision": True,
            "include_comments": False,
            "deduplicate": True,
            "fast": False,
            "include_tables": True,
        },
        {"favor_recall": True, "include_comments": True, "deduplicate": False, "fast": True, "include_tables": False},
        {},
    ],
)
def test_the_shared_extractor_is_the_one_extract_builds(monkeypatch, options):
    """``warc_extract`` builds trafilatura's ``Extractor`` once and passes it as ``options=``: every field equals
    the one ``extract(html, **options)`` builds for each page."""
    built = []

    class Recording(trafilatura.core.Extractor):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            built.append(self)

    monkeypatch.setattr(trafilatura.core, "Extractor", Recording)
    trafilatura.extract("<html><body><p>Some text here for the page.</p></body></html>", **options)
    assert len(built) == 1
    fields = trafilatura.settings.Extractor.__slots__
    assert len(fields) > 15
    shared = trafilatura_fast.shared_extractor(options)
    assert {f: getattr(shared, f) for f in fields} == {f: getattr(built[0], f) for f in fields}
    assert trafilatura_fast.shared_extractor({**options, "include_links": True}) is None


def test_the_invalid_character_check_is_the_library_regex(dev_pages):
    """``has_invalid_xml_chars`` (UTF-8 bytes) answers as ``INVALID_XML_CHARS.search`` on every dev page and on
    every character the regex removes or keeps at its edges, alone and inside ASCII and non-ASCII text; repairing
    through the shortcut gives the library's string."""
    pattern = trafilatura.utils.INVALID_XML_CHARS
    edges = [chr(c) for c in (*range(0, 0x21), 0x7F, 0x80, 0x9F, 0xFF, 0x100, 0xFFFD, 0xFFFE, 0xFFFF, 0x10000)]
    built = [f"{pre}{c}{post}" for c in [*edges, "\ud800"] for pre, post in (("", ""), ("a", "b"), ("é", "€"))]
    pages = [*dev_pages, *built, "<!DOCTYPE html/>\n<html/>\n<p>x\x0bé</p>"]
    assert sum(pattern.search(p) is not None for p in dev_pages) >= 1  # real pages with something to remove
    with shortcuts(xpaths=False, fallbacks=False):
        for page in pages:
            assert (
                trafilatura_fast.has_invalid_xml_chars(page) == (pattern.search(page) is not None) or "\ud800" in page
            )
            if native_module is not None:  # the code points themselves: exact for lone surrogates too
                assert native_module.has_invalid_xml_chars(page) == (pattern.search(page) is not None)
            beginning = page[:50].lower()
            assert trafilatura_fast.repair_faulty_html(page, beginning) == trafilatura_fast._library_repair(
                page, beginning
            )

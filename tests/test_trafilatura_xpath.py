"""trafilatura_xpath: every compiled boilerplate XPath returns exactly lxml's elements, in lxml's order.

The fuzz corpus is random HTML built from the tag names and the attribute tokens that trafilatura's expressions test
(ids and classes in random source order, empty and valueless attributes, several matching siblings for the
per-parent ``[1]``, ``h1`` inside pruned containers); each compiled expression is compared with lxml's on the root
and on an inner element of every document, and must match something somewhere so the comparison is not vacuous.
Real pages then go through ``trafilatura.extract`` with and without the swap and must give identical text."""

from __future__ import annotations

import random
import re
from pathlib import Path

import lxml.html
import pyarrow as pa
import pytest
import trafilatura
import trafilatura.deduplication
import trafilatura.xpaths
from lxml import etree
from trafilatura.utils import HTML_PARSER, load_html

from curate.stage import SourceFile
from curate.stages import WarcExtract
from curate.stages.warc.native import available as native_available
from curate.stages.warc.trafilatura_xpath import (
    CompiledXPath,
    _trafilatura_swaps,
    compile_xpath,
    compiled_xpaths,
    required_literals,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "curate" / "data" / "sample.warc.gz"

# every tag named in the expressions, plus ordinary markup around them
TAGS = [
    "div",
    "section",
    "list",
    "item",
    "p",
    "span",
    "article",
    "main",
    "aside",
    "details",
    "ol",
    "ul",
    "header",
    "a",
    "h1",
    "table",
    "li",
    "em",
    "footer",
    "nav",
    "figure",
    "blockquote",
    "b",
    "tr",
    "td",
]
CONTAINERS = ["div", "section", "article", "main", "aside", "details", "list", "header", "div", "div", "section"]

# tokens from the regexes, contains()/starts-with() arguments and @x='v' literals, with case and boundary variants
TOKENS = [
    "comment",
    "Comment",
    "comments",
    "Comments",
    "commentary",
    "Commentary",
    "comment-list",
    "commentlist",
    "comments-list",
    "comment-page",
    "comments-content",
    "post-comments",
    "article-comments",
    "comol",
    "dsq-comments",
    "disqus_thread",
    "share",
    "Share",
    "share-",
    "share-buttons",
    "elementor-share-buttons",
    "sharing",
    "shar",
    "social",
    "sociable",
    "nav",
    "Nav",
    "navbar",
    "navbox",
    "navigation",
    "Navigation",
    "subnav",
    "post-nav",
    "reply-",
    "-reply-",
    "reply",
    "hidden",
    "Hidden",
    "is-hidden",
    "hide-",
    "-hide-",
    "hide-print",
    "noprint",
    "bottom",
    "bottom-bar",
    "Padding-bottom-lg",
    "link",
    "links",
    "main-content",
    "Main-Content",
    "Main-content",
    "page-content",
    "Page-Content",
    "cookie",
    "Cookie",
    "teaser",
    "Teaser",
    "caption",
    "Caption",
    "mvp-post-add-box",
    "mvp-post-add-wrap",
    "infinite-scroll",
    "infinitescroll",
    "post-content",
    "post_content",
    "postContent",
    "post-text",
    "post-body",
    "post-entry",
    "postentry",
    "post_inner_wrapper",
    "article-text",
    "articleText",
    "entry-content",
    "art-content",
    "text-content",
    "article__content",
    "article-body",
    "article__body",
    "articlebody",
    "articleBody",
    "ArticleContent",
    "body-text",
    "article__container",
    "fulltext",
    "FullText",
    "FULLTEXT",
    "ad-",
    "-ad-",
    "ad",
    " ad ",
    "dfpAd",
    "respond",
    "respond-form",
    "meta",
    "meta-date",
    "widget",
    "footer",
    "Footer",
    "byline",
    "Byline",
    "menu",
    "related",
    "elated",
    "sidebar",
    "banner",
    "breadcrumb",
    "bread-crumb",
    "button",
    "author",
    "jp-",
    "dpsp-content",
    "newsletter",
    "tags",
    "tag-list",
    "premium",
    "message",
    "message-container",
    "akismet",
    "reader-comments",
    "suggest-links",
    "nocomments",
    "notloaded",
    "signin",
    "comments-title",
    "ProductReviews",
    "quote",
    "print",
    "category",
    "embedly-instagram",
    "article-share",
    "article-support",
    "meta-reviewer",
    "content",
    "content-main",
    "content_main",
    "content-body",
    "content__body",
    "contentBody",
    "primary",
    "story",
    "story-body",
    "storycontent",
    "story-content",
    "post-bodycopy",
    "theme-content",
    "blog-content",
    "single-content",
    "single-post",
    "main-column",
    "wpb_text_column",
    "field-body",
    "article",
    "post",
    "entry",
    "text",
    "cell",
    "postarea",
    "art-postcontent",
    "title",
    "date",
    "overlay",
    "slide",
    "yin",
    "zlylin",
    "nfoline",
    "-icon",
    "-stories",
    "next-",
    "outbrain",
    "ZendeskForm",
    "modal-content",
    "border",
    "x",
    "main",
    "Intro",
    "ü",
]
SEPARATORS = [" ", " ", "-", "_", "", "  ", "\t"]
EXACT = [
    "post",
    "entry",
    "content",
    "text",
    "cell",
    "story",
    "postarea",
    "art-postcontent",
    "comments",
    "title",
    "date",
    "comments-title",
    "article",
    "articleContent",
    "article ",
    "content ",
    "Post",
]
ATTRIBUTES = {
    "id": None,
    "class": None,  # built from TOKENS / EXACT
    "style": [
        "display:none",
        "display: none",
        "display:none;color:red",
        "border: 1px solid",
        "visibility: hidden",
        "hidden",
        "color:red",
        "DISPLAY:NONE",
        "display:  none",
    ],
    "role": ["navigation", "Navigation", "NAVIGATION", "nav", "article", "main", "banner", "menubar"],
    "aria-hidden": ["true", "false", "True", "TRUE"],
    "data-component": ["MostPopularStories", "Figure", "FigureCaption", "Story", "mostpopularstories"],
    "itemprop": ["articleBody", "articlebody", "text", "name"],
    "data-lp-replacement-content": ["", "1", "yes"],
    "href": ["#", "/x", "http://example.com/"],
}
WORDS = "the quick brown fox jumps over a lazy dog while comment and share appear in plain text".split()


def attr_value(rng: random.Random, name: str) -> str:
    choices = ATTRIBUTES[name]
    if choices is not None:
        return rng.choice(choices)
    roll = rng.random()
    if roll < 0.08:
        return ""
    if roll < 0.25:
        return rng.choice(EXACT)
    parts = [rng.choice(TOKENS) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))]
    value = parts[0]
    for part in parts[1:]:
        value += rng.choice(SEPARATORS) + part
    if rng.random() < 0.1:
        value = rng.choice([" ", "x", "x-", "my", "\n"]) + value
    if rng.random() < 0.1:
        value += rng.choice([" ", "s", "-x", "1", " y"])
    return value


def attrs(rng: random.Random, tag: str) -> str:
    names = [n for n in ATTRIBUTES if rng.random() < (0.55 if n in ("id", "class") else 0.12)]
    if tag in CONTAINERS and rng.random() < 0.3 and "class" not in names:
        names.append("class")
    rng.shuffle(names)  # @id|@class and @id|@style take the first in source order: both orders occur
    out = []
    for name in names:
        written = name.upper() if rng.random() < 0.03 else name  # the HTML parser lowercases attribute names
        if rng.random() < 0.05:
            out.append(f" {written}")  # valueless attribute: present, empty
            continue
        value = attr_value(rng, name).replace("&", "&amp;").replace('"', "&quot;")
        quote = rng.choice(['"', '"', "'"]) if "'" not in value else '"'
        out.append(f" {written}={quote}{value}{quote}")
    return "".join(out)


def element(rng: random.Random, depth: int) -> str:
    tag = rng.choice(CONTAINERS if depth < 2 and rng.random() < 0.6 else TAGS)
    if tag == "h1" or depth >= 5 or rng.random() < 0.15:
        body = " ".join(rng.choices(WORDS, k=rng.randint(0, 4)))
    else:
        children = [element(rng, depth + 1) for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4]))]
        if rng.random() < 0.25:  # several siblings that BODY_XPATH[0]'s per-parent [1] must choose between
            sibling = rng.choice(["div", "section", "article", "main", "p"])
            children += [
                f'<{sibling} class="{rng.choice(["post", "entry", "post-content"])}">{w}</{sibling}>'
                for w in rng.sample(WORDS, rng.randint(2, 3))
            ]
            rng.shuffle(children)
        if rng.random() < 0.15:
            children.insert(rng.randrange(len(children) + 1), f"<h1>{rng.choice(WORDS)}</h1>")
        if rng.random() < 0.1:
            children.insert(rng.randrange(len(children) + 1), "<!-- a comment -->")
        body = rng.choice(WORDS) + "".join(children)
    if rng.random() < 0.03:
        tag = tag.upper()  # and tag names
    return f"<{tag}{attrs(rng, tag)}>{body}</{tag}>"


def document(rng: random.Random) -> str:
    body = "".join(element(rng, 0) for _ in range(rng.randint(1, 5)))
    return f"<!DOCTYPE html><html><head><title>t</title></head><body{attrs(rng, 'body')}>{body}</body></html>"


def corpus(n: int = 300, seed: int = 20240611) -> list:
    rng = random.Random(seed)
    trees = []
    for i in range(n):
        html = document(rng)
        # trafilatura's own parser, both ways it is reached (load_html; fromstring with HTML_PARSER), and every
        # tenth one with lxml's default parser, which keeps comments: .//* must still skip them
        if i % 10 == 0:
            trees.append(lxml.html.fromstring(html))
        elif i % 2:
            trees.append(load_html(html))
        else:
            trees.append(lxml.html.fromstring(html, parser=HTML_PARSER))
    return trees


def label(original: etree.XPath) -> str:
    return " ".join(original.path.split())[:100]


def walks(compiled: CompiledXPath) -> dict:
    """The compiled expression's walks: in Python always, in C (``_native``) where it has one."""
    return {"python": compiled.python_walk} | ({"native": compiled.native_walk} if compiled.native_walk else {})


def first_mismatch(trees: list, original: etree.XPath, compiled: CompiledXPath) -> str | None:
    for tree in trees:
        for context in (tree, *tree.iterdescendants("div", "section", "article")):
            expected = original(context)
            for name, walk in walks(compiled).items():
                got = walk(context)
                if expected != got:
                    return (
                        f"{label(original)} ({name} walk)\non {etree.tostring(context, encoding='unicode')[:2000]}\n"
                        f"lxml: {[(e.tag, dict(e.attrib)) for e in expected]}\n"
                        f"compiled: {[(e.tag, dict(e.attrib)) for e in got]}"
                    )
    return None


# -- 1. fuzz equivalence ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_trees() -> list:
    return corpus()


def test_the_expected_expressions_compile():
    swaps = _trafilatura_swaps()
    assert len(swaps) >= 20
    assert all(
        isinstance(compiled, CompiledXPath) and compiled.path == original.path for _, _, original, compiled in swaps
    )
    names = {id(v): k for k, v in vars(trafilatura.xpaths).items() if isinstance(v, list)}
    covered = {names[id(lst)] for lst, *_ in swaps}
    assert {
        "BODY_XPATH",
        "COMMENTS_XPATH",
        "OVERALL_DISCARD_XPATH",
        "PRECISION_DISCARD_XPATH",
        "RAW_TREE_PRUNE_XPATH",
        "TEASER_DISCARD_XPATH",
        "AUTHOR_DISCARD_XPATHS",
    } <= covered


def test_the_native_walks_are_built_and_used():
    """dev/setup builds ``_native`` (a C compiler is all it needs); without it every walk is the Python one, ~10 %
    slower extraction with the same text, so a checkout missing it should say so rather than pass quietly."""
    assert native_available(), "curate.stages.warc._native is not built: install a C compiler and rerun dev/setup"
    swaps = _trafilatura_swaps()
    native = [c for *_, c in swaps if c.native_walk is not None]
    assert len(native) >= len(swaps) - 1  # only the expression testing for a descendant (.//h1) walks in Python
    assert all("_has_descendant" in c.source for *_, c in swaps if c.native_walk is None)
    with compiled_xpaths(native=False):
        assert all(c._match is c.python_walk for *_, c in swaps)
    with compiled_xpaths():
        assert all(c._match is (c.native_walk or c.python_walk) for *_, c in swaps)


@pytest.mark.skipif(not native_available(), reason="the compiled module _native is not built")
@pytest.mark.parametrize(
    "path",
    [
        ".//*[self::div or self::p][contains(@class, 'x') or @id='y']",
        ".//div[re:test(@id|@class, '^x')]",
        "(.//*[self::div or self::p][starts-with(@title, 'x')])[1]",
        ".//*[contains(@class, 'x')][1]",
    ],
)
def test_native_walk_reads_names_and_values_as_lxml_does(path):
    """What the HTML parser never makes but a tree may hold: namespaced elements and attributes (an unprefixed
    name test matches neither), attribute values holding entity references (read through lxml), valueless and
    empty attributes, comments and processing instructions among the elements."""
    xml = (
        '<!DOCTYPE r [<!ENTITY e "x-ent">]><r xmlns:h="urn:h">'
        '<div class="x">1<!-- c --><?pi x?><p id="y" class="">2</p></div><h:div class="x">3</h:div>'
        '<div h:class="x" id="q">4</div><p class="&e;">5</p><div title="&e;">6<div class="x"/></div>'
        '<d xmlns="urn:d"><div class="x">7</div></d><p class="zx"/><p class="x">8</p></r>'
    )
    tree = etree.fromstring(xml, etree.XMLParser(resolve_entities=False))
    original = etree.XPath(path, namespaces={"re": "http://exslt.org/regular-expressions"})
    compiled = compile_xpath(original)
    assert compiled is not None and compiled.native_walk is not None
    for context in (tree, *tree.iter("div")):
        assert compiled.native_walk(context) == compiled.python_walk(context) == original(context)
    assert original(tree)


def test_forget_verdicts_empties_both_walks_memos(fuzz_trees):
    """What the benches call between passes over the same pages, so a pass never reuses the last one's verdicts."""
    from curate.stages.warc.trafilatura_xpath import forget_verdicts

    compiled = [c for *_, c in _trafilatura_swaps()]
    for tree in fuzz_trees[:50]:
        for c in compiled:
            c.python_walk(tree)
            if c.native_walk is not None:
                c.native_walk(tree)
    assert sum(len(c._python_memo) for c in compiled) > 100
    assert not native_available() or sum(c.native_walk.remembered for c in compiled if c.native_walk) > 100
    forget_verdicts()
    assert sum(len(c._python_memo) for c in compiled) == 0
    assert sum(c.native_walk.remembered for c in compiled if c.native_walk) == 0


def test_warc_extract_teardown_forgets_the_verdicts(fuzz_trees):
    """A worker kept for the next run (the Ray executor keeps a pool's processes) holds none of this run's verdicts
    once ``warc_extract`` is torn down: the next run starts as a fresh process would."""
    from curate.stages import WarcExtract

    stage = WarcExtract()
    stage.ensure_setup()
    compiled = [c for *_, c in _trafilatura_swaps()]
    for tree in fuzz_trees[:20]:
        for c in compiled:
            c(tree)
    assert sum(len(c._python_memo) + (c.native_walk.remembered if c.native_walk else 0) for c in compiled) > 50
    stage.teardown()
    assert sum(len(c._python_memo) + (c.native_walk.remembered if c.native_walk else 0) for c in compiled) == 0


def test_compiled_expressions_equal_lxml_on_fuzzed_html(fuzz_trees):
    mismatches = [
        m
        for _, _, original, compiled in _trafilatura_swaps()
        if (m := first_mismatch(fuzz_trees, original, compiled)) is not None
    ]
    assert not mismatches, "\n\n".join(mismatches)


def test_every_compiled_expression_matches_somewhere_in_the_fuzz_corpus(fuzz_trees):
    never = [
        label(original)
        for _, _, original, compiled in _trafilatura_swaps()
        if not any(compiled(tree) for tree in fuzz_trees)
    ]
    assert not never, f"the generator never exercises a match of: {never}"


def test_fuzz_corpus_hits_the_semantic_corners(fuzz_trees):
    """The corners the compiler must get right do occur: id before class and after, per-parent [1] dropping a
    later matching sibling, h1 inside an infinite-scroll container, comments in the tree."""
    elements = [el for tree in fuzz_trees for el in tree.iter(etree.Element)]
    both = [el.keys() for el in elements if el.get("id") is not None and el.get("class") is not None]
    assert any(k.index("id") < k.index("class") for k in both) and any(k.index("id") > k.index("class") for k in both)
    body0, _ = swap("BODY_XPATH", 0)
    relaxed = etree.XPath(body0.path.rstrip()[: -len("[1]")], namespaces={"re": "http://exslt.org/regular-expressions"})
    assert any(len(relaxed(tree)) > len(body0(tree)) for tree in fuzz_trees)
    prune = etree.XPath(
        ".//*[self::div or self::section or self::aside][re:test(@class|@id, 'infinite-?scroll')][.//h1]",
        namespaces={"re": "http://exslt.org/regular-expressions"},
    )
    assert any(prune(tree) for tree in fuzz_trees)
    assert any(tree.xpath(".//comment()") for tree in fuzz_trees)


def swap(list_name: str, index: int) -> tuple[etree.XPath, CompiledXPath]:
    lst = getattr(trafilatura.xpaths, list_name)
    return next((x, c) for found, i, x, c in _trafilatura_swaps() if found is lst and i == index)


@pytest.mark.parametrize(
    "list_name, index, html, expected",
    [
        # @id|@class: the first attribute in source order decides, not the first name in the expression
        ("OVERALL_DISCARD_XPATH", 0, '<div class="cookie" id="x">a</div>', 1),
        ("OVERALL_DISCARD_XPATH", 0, '<div id="x" class="cookie">a</div>', 0),
        ("PRECISION_DISCARD_XPATH", 1, '<p id="link" class="other">a</p>', 1),
        ("PRECISION_DISCARD_XPATH", 1, '<p class="other" id="link">a</p>', 0),
        ("OVERALL_DISCARD_XPATH", 1, '<span style="x" id="hidden">a</span>', 0),
        ("OVERALL_DISCARD_XPATH", 1, '<span id="hidden" style="x">a</span>', 1),
    ],
)
def test_union_of_attributes_takes_the_first_in_source_order(list_name, index, html, expected):
    tree = load_html(f"<html><body>{html}</body></html>")
    original, compiled = swap(list_name, index)
    assert len(original(tree)) == expected
    assert compiled(tree) == original(tree)


def test_per_parent_first_and_overall_first():
    tree = load_html(
        "<html><body><div><p class='post'>x</p><div class='other'>y</div><div class='post'>a</div>"
        "<section class='entry'>b</section></div><div><main class='post'>c</main></div>"
        "<article>1</article><article>2</article></body></html>"
    )
    original, compiled = swap("BODY_XPATH", 0)
    assert [e.text for e in compiled(tree)] == [e.text for e in original(tree)] == ["a", "c"]
    original, compiled = swap("BODY_XPATH", 1)
    assert [e.text for e in compiled(tree)] == [e.text for e in original(tree)] == ["1"]


# -- 2. real pages: tests/test_trafilatura_fast.py compares every dev page with plain trafilatura -------------------
def originals() -> list:
    return [lst[i] for lst, i, _, _ in _trafilatura_swaps()]


def test_swap_is_in_place_only_inside_the_block_and_restored_on_error():
    before = originals()
    assert not any(isinstance(x, CompiledXPath) for x in before)
    with compiled_xpaths():
        assert isinstance(trafilatura.xpaths.OVERALL_DISCARD_XPATH[0], CompiledXPath)
        assert all(lst[i] is c for lst, i, _, c in _trafilatura_swaps())
    assert all(a is b for a, b in zip(originals(), before, strict=True))
    with pytest.raises(RuntimeError, match="boom"), compiled_xpaths():
        assert isinstance(trafilatura.xpaths.BODY_XPATH[0], CompiledXPath)
        raise RuntimeError("boom")
    assert all(a is b for a, b in zip(originals(), before, strict=True))
    assert isinstance(trafilatura.xpaths.OVERALL_DISCARD_XPATH[0], etree.XPath)


# -- 3. compile_xpath ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "//div[@class='tags']//a[@href]",
        ".//cite|.//quote",
        ".//div[2]",
        ".//*[self::div][last()]",
        ".//div[count(.//p) > 1]",
        ".//div/p",
        ".//*[re:replace(@id, 'a', 'g', 'b')]",
        ".//div[@class!='x']",
    ],
)
def test_expressions_outside_the_subset_stay_with_lxml(path):
    assert compile_xpath(path) is None


def test_compiled_source_is_readable_and_behaves():
    compiled = compile_xpath(etree.XPath(".//*[self::div or self::section][contains(@class, 'caption')]"))
    assert compiled is not None
    assert "iterdescendants" in compiled.source and "'caption' in" in compiled.source
    assert "caption" in repr(compiled)
    tree = load_html(
        "<html><body><div class='img-caption'>a</div><section>b<div class='caption'>c</div>"
        "</section><p class='caption'>d</p></body></html>"
    )
    assert [e.text for e in compiled(tree)] == ["a", "c"]


# -- 3b. the literal screen before re:test ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "pattern, flags, expected",
    [
        ("post[-_]text|bread-?crumb|(?:^| )ad-", 0, ("ad-", "bread", "post")),
        ("content-main|content-body|contentBody", 0, ("content",)),  # re's parser factors the common prefix out
        ("(^|\\s)bottom|bottom(\\s|$)", 0, ("bottom",)),
        ("^[Cc]omment(?!ary)|(?:article|post)-comments", 0, ("-comments", "omment")),
        ("(?:ab)+c", 0, ("ab",)),  # a repeat of at least one requires its body (ties: the first choice)
        ("a?|b", 0, None),  # a branch that needs no literal: no screen
        ("x*y*", 0, None),
        ("fulltext", re.IGNORECASE, None),  # case-insensitive: the screen would be wrong, so none
        ("(?i:ab)cd", 0, ("cd",)),
        ("é+|ü", 0, None),  # non-ASCII literals are not screened
    ],
)
def test_required_literals_read_off_the_pattern(pattern, flags, expected):
    assert required_literals(re.compile(pattern, flags)) == expected


@pytest.mark.skipif(not native_available(), reason="the compiled module _native is not built")
def test_any_literal_reads_every_string_kind():
    from curate.stages.warc import _native

    screen = _native.AnyLiteral(("nav", "ad-", "x"))
    assert screen("main-nav") and screen("nav") and screen("ad-") and screen("é x")
    assert not screen("") and not screen("na") and not screen("ad") and not screen("NAV")
    assert screen("日本-nav") and screen("😀ad-") and not screen("日本na") and not screen("😀a")  # UCS2, UCS4
    assert screen("aaad-") and screen("nanav")  # a failed start does not hide an overlapping match
    assert not _native.AnyLiteral(("abc",))("ab")  # a literal running past the end
    for bad in ((), ("",), ("é",), (1,)):
        with pytest.raises(ValueError, match="non-empty ASCII"):
            _native.AnyLiteral(bad)


@pytest.mark.skipif(not native_available(), reason="the compiled module _native is not built")
def test_the_literal_screen_never_hides_a_match(fuzz_trees):
    """For every re:test pattern in trafilatura's swapped expressions: any string the pattern finds something in
    passes its screen. Checked on every attribute value of the fuzz corpus and of the shipped sample's pages, and on
    strings built around each literal (cut short, wrapped in non-ASCII text, at either end)."""
    from curate.stages.warc import _native

    patterns = set()
    for _, _, original, _ in _trafilatura_swaps():
        for found in re.finditer(r"re:test\([^,]+,\s*'([^']*)'(?:,\s*'([^']*)')?\)", original.path):
            patterns.add((found.group(1), found.group(2) or ""))
    from warcio.archiveiterator import ArchiveIterator

    values = {v for tree in fuzz_trees for el in tree.iter() for v in el.attrib.values()}
    with SAMPLE.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                body = record.content_stream().read()
                if b"<" in body:
                    values |= {v for el in load_html(body).iter() for v in el.attrib.values()}
    assert len(values) > 1000
    screened = 0
    for source, flags in sorted(patterns):
        pattern = re.compile(source, re.UNICODE | (re.IGNORECASE if "i" in flags else 0))
        literals = required_literals(pattern)
        if literals is None:
            continue
        screened += 1
        screen = _native.AnyLiteral(literals)
        around = set()
        for literal in literals:
            around |= {literal, literal[:-1], f"x {literal}", f"{literal}-y", f"日本{literal}😀", f"é{literal[1:]}"}
        for value in values | around:
            assert screen(value) or pattern.search(value) is None, (source, value)
    assert screened == len(patterns) - 1 >= 25  # trafilatura 2.3.1: all but the case-insensitive "fulltext"


# -- 4. warc_extract with and without compiled XPaths ----------------------------------------------------------------
def test_warc_extract_gives_the_same_texts_with_and_without_compiled_xpaths():
    def texts(**params) -> list[str]:
        step = WarcExtract(timeout_mode="signal", **params)
        kept = pa.concat_tables([out.kept for out in step.read(SourceFile(str(SAMPLE), lambda: SAMPLE.open("rb")))])
        return kept.column("text").to_pylist()

    default, lxml_only = texts(), texts(compiled_xpaths=False)
    assert len(default) > 10
    assert default == lxml_only

"""Forum threads out of HTML: the first post and its replies, from schema.org markup or the forum software's own.

A forum thread is one opening post and replies; :mod:`~curate.stages.domain.qa` writes it in the thread format
(first post as the question, replies as answers). Three readings, in this order; of those that find an opening post,
the one with the most posts wins (the earlier on a tie):

1. schema.org ``DiscussionForumPosting`` in JSON-LD (``headline``, ``text`` or ``articleBody``, ``comment`` — a
   ``Comment`` or a list of them, each with ``text`` and its own ``comment`` replies — and ``upvoteCount``), the
   form Google's discussion-forum structured-data guidelines ask for;
2. schema.org ``DiscussionForumPosting`` microdata: one posting whose replies are ``Comment`` scopes inside it
   (Discourse's crawler view today), or one posting per post (older Discourse crawler views); the body is the
   scope's own ``text`` / ``articleBody`` property, the title its ``headline`` (often a ``<meta content>``);
3. the forum software's markup, as its default templates write it:

   * XenForo 2: ``article.message--post`` posts, body ``.message-body .bbWrapper`` (the signature is another
     ``.bbWrapper``, outside ``.message-body``), title ``h1.p-title-value``, votes ``.contentVote-score``
     (question threads); XenForo 1: ``li.message`` posts, body ``blockquote.messageText``;
   * vBulletin 3 / 4: bodies ``div#post_message_<id>``, title ``span.threadtitle`` (4) or the page's ``<h1>`` /
     ``<title>``; vBulletin 5: ``li.b-post`` posts, body ``.js-post__content-text``, title ``h1.main-title``;
   * phpBB 3 (prosilver): ``div.post`` posts with id ``p<number>`` (WordPress's ``div.post#post-<id>`` is not
     one), body ``div.content`` (the signature is ``div.signature``, outside it), title ``h2.topic-title``;
   * Discourse's browser view: ``.topic-post`` posts, body ``.cooked``.

Inside a body, what the software adds around the author's words is left out: quotes of earlier posts (they repeat a
post the thread already holds: XenForo ``.bbCodeBlock--quote`` and 1's ``.bbCodeQuote``, vBulletin
``.bbcode_quote``, phpBB ``<blockquote>``, Discourse ``aside.quote``) and the captions of code and quote boxes
(phpBB's "Code: Select all", XenForo ``.bbCodeBlock-title`` and 1's ``.bbCodeBlock .type``, vBulletin
``.bbcode_description``). Code blocks inside bodies stay (the caller takes them byte-exact).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from lxml import etree

from curate.stages.domain.code import classes
from curate.stages.domain.formulas import replace_with_text
from curate.stages.domain.qa import (
    Answer,
    Thread,
    first_with_class,
    fragment,
    int_or_none,
    is_type,
    json_ld_items,
    page_title,
    prop_value,
    props,
)

# Inside a post body: quotes of other posts and the captions the software writes above code / quote boxes.
_QUOTE_CLASSES = frozenset({"bbCodeBlock--quote", "bbCodeQuote", "bbcode_quote", "quote"})
_CAPTION_CLASSES = frozenset({"bbCodeBlock-title", "bbCodeBlock-expandLink", "bbcode_description"})


def _has_class(el: etree._Element, *names: str) -> bool:
    return bool(set(names) & set(classes(el).split()))


def _text(el: etree._Element | None) -> str:
    return " ".join(el.text_content().split()) if el is not None else ""


def clean_body(body: etree._Element, software: str) -> etree._Element:
    """The post body without quotes of earlier posts and box captions (see the module docstring); in place."""
    drop = []
    for el in body.iterdescendants():
        if not isinstance(el.tag, str):
            continue
        names = set(classes(el).split())
        parent = el.getparent()
        caption = names & _CAPTION_CLASSES or ("type" in names and _has_class(parent, "bbCodeBlock"))
        if caption or (names & _QUOTE_CLASSES and el.tag in ("blockquote", "div", "aside")):
            drop.append(el)
        elif software == "phpbb" and (
            el.tag == "blockquote"
            or (el.tag in ("p", "dt") and _has_class(parent, "codebox") and el.find(".//pre") is None)
        ):
            drop.append(el)
    for el in drop:
        if not any(a in drop for a in el.iterancestors()):
            replace_with_text(el, " ")
    return body


# -- schema.org -----------------------------------------------------------------------------------------------------


def _json_comments(item: dict) -> Iterator[dict]:
    """Replies depth first: a comment, then the comments on it (schema.org nests replies in ``comment``)."""
    comments = item.get("comment") or []
    for c in comments if isinstance(comments, list) else [comments]:
        if isinstance(c, dict):
            yield c
            yield from _json_comments(c)


def _from_json_ld(root: etree._Element) -> Thread | None:
    for item in json_ld_items(root):
        posting = item if "DiscussionForumPosting" in str(item.get("@type")) else item.get("mainEntity")
        if not isinstance(posting, dict) or "DiscussionForumPosting" not in str(posting.get("@type")):
            continue
        body = posting.get("text") or posting.get("articleBody")
        if not body:
            continue
        title = str(posting.get("headline") or posting.get("name") or "").strip() or page_title(root)
        thread = Thread("forum:schema-json-ld", title, fragment(str(body)))
        for c in _json_comments(posting):
            if c.get("text"):
                thread.answers.append(Answer(fragment(str(c["text"])), int_or_none(c.get("upvoteCount"))))
        return thread
    return None


def _scope_body(scope: etree._Element) -> etree._Element | None:
    for name in ("text", "articleBody"):
        found = props(scope, name)
        if found:
            return found[0]
    return None


def _scope_votes(scope: etree._Element) -> int | None:
    found = props(scope, "upvoteCount")
    return int_or_none(prop_value(found[0])) if found else None


def _from_microdata(root: etree._Element) -> Thread | None:
    postings = [
        el
        for el in root.iter()
        if isinstance(el.tag, str)
        and is_type(el, "DiscussionForumPosting")
        and not any(is_type(a, "DiscussionForumPosting") for a in el.iterancestors())
    ]
    postings = [p for p in postings if _scope_body(p) is not None]
    if not postings:
        return None
    first = postings[0]
    headline = props(first, "headline") or props(first, "name")
    title = prop_value(headline[0]) if headline else _text(root.find(".//h1")) or page_title(root)
    thread = Thread("forum:schema-microdata", title, clean_body(_scope_body(first), "schema"))
    replies = postings[1:] or [
        el for el in first.iterdescendants() if isinstance(el.tag, str) and is_type(el, "Comment")
    ]
    for scope in replies:
        body = _scope_body(scope)
        if body is not None:
            thread.answers.append(Answer(clean_body(body, "schema"), _scope_votes(scope)))
    return thread


# -- forum software ---------------------------------------------------------------------------------------------------


def _by_class(root: etree._Element, tag: str, name: str) -> list[etree._Element]:
    return [el for el in root.iter(tag) if _has_class(el, name)]


def _title(root: etree._Element, *selectors: tuple[str, str]) -> str:
    for tag, name in selectors:
        found = next(iter(_by_class(root, tag, name)), None)
        if found is not None and _text(found):
            return _text(found)
    return _text(root.find(".//h1")) or page_title(root)


def _xenforo(root: etree._Element) -> tuple[list[tuple[etree._Element, int | None]], str] | None:
    posts = [el for el in root.iter("article") if _has_class(el, "message--post")]
    if posts:
        bodies = []
        for post in posts:
            container = first_with_class(post, "message-body")
            body = first_with_class(container, "bbWrapper") if container is not None else None
            score = first_with_class(post, "contentVote-score")
            if body is not None:
                bodies.append((body, int_or_none(_text(score)) if score is not None else None))
        return bodies, _title(root, ("h1", "p-title-value"))
    posts = [el for el in root.iter("li") if _has_class(el, "message") and (el.get("id") or "").startswith("post-")]
    bodies = [(b, None) for b in (first_with_class(p, "messageText") for p in posts) if b is not None]
    return (bodies, _title(root, ("div", "titleBar"))) if bodies else None


def _vbulletin(root: etree._Element) -> tuple[list[tuple[etree._Element, int | None]], str] | None:
    bodies = [el for el in root.iter("div") if (el.get("id") or "").startswith("post_message_")]
    if bodies:
        return [(b, None) for b in bodies], _title(root, ("span", "threadtitle"))
    posts = [el for el in root.iter("li") if _has_class(el, "b-post")]
    found = [b for b in (first_with_class(p, "js-post__content-text") for p in posts) if b is not None]
    return ([(b, None) for b in found], _title(root, ("h1", "main-title"))) if found else None


def _phpbb(root: etree._Element) -> tuple[list[tuple[etree._Element, int | None]], str] | None:
    posts = [el for el in root.iter("div") if _has_class(el, "post") and re.fullmatch(r"p\d+", el.get("id") or "")]
    found = []
    for post in posts:
        body = next((d for d in post.iter("div") if _has_class(d, "content")), None)
        if body is not None:
            found.append((body, None))
    return (found, _title(root, ("h2", "topic-title"))) if found else None


def _discourse(root: etree._Element) -> tuple[list[tuple[etree._Element, int | None]], str] | None:
    posts = [el for el in root.iter() if isinstance(el.tag, str) and _has_class(el, "topic-post")]
    found = [(b, None) for b in (first_with_class(p, "cooked") for p in posts) if b is not None]
    return (found, _title(root, ("a", "fancy-title"))) if found else None


_SOFTWARE: tuple[tuple[str, Callable], ...] = (
    ("xenforo", _xenforo),
    ("vbulletin", _vbulletin),
    ("phpbb", _phpbb),
    ("discourse", _discourse),
)


def _software_thread(root: etree._Element) -> Thread | None:
    for software, reader in _SOFTWARE:
        found = reader(root)
        if not found or not found[0]:
            continue
        posts, title = found
        bodies = [(clean_body(b, software), votes) for b, votes in posts]
        if not _text(bodies[0][0]):
            continue
        return Thread(f"forum:{software}", title, bodies[0][0], [Answer(b, v) for b, v in bodies[1:]])
    return None


def find_forum_thread(root: etree._Element) -> Thread | None:
    """The page's forum thread (first post and replies), or None (see the module docstring for the order).

    schema.org data and the software's markup can both be on a page and disagree on how many posts there are
    (XenForo 2.2 puts only the opening post in its JSON-LD): the reading with more posts wins, the earlier on a tie.
    """
    best: Thread | None = None
    for reader in (_from_json_ld, _from_microdata, _software_thread):
        thread = reader(root)
        if thread is not None and _text(thread.question) and (best is None or len(thread.answers) > len(best.answers)):
            best = thread
    return best

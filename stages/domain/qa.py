"""Question–answer threads out of HTML: title, question body, answers with votes and the accepted mark.

Read in this order, the first that yields a question wins:

1. schema.org ``QAPage`` in JSON-LD (``mainEntity`` a ``Question`` with ``name``, ``text``, ``acceptedAnswer`` and
   ``suggestedAnswer``, each ``Answer`` with ``text`` and ``upvoteCount``), the form Google's QAPage guidelines ask
   for;
2. schema.org ``Question``/``Answer`` microdata (``itemscope itemtype=".../Question"``; properties ``name``,
   ``text``, ``upvoteCount``, ``acceptedAnswer``/``suggestedAnswer``, read in the scope they belong to, as the
   HTML microdata rules say), as StackExchange, Zhihu and CodeProject write it;
3. StackExchange's own markup (``#question``/``.answer`` posts with ``.s-prose``/``.post-text`` bodies,
   ``.js-vote-count``, ``.accepted-answer``) for pages without microdata;
4. forum threads (:mod:`~curate.stages.domain.forums`: schema.org ``DiscussionForumPosting``, XenForo, vBulletin,
   phpBB, Discourse): first post as the question, replies as answers — only when asked for (``forums=True``), as a
   forum thread is a discussion more often than a question and its answers.

Bodies are elements of the page (or of the HTML inside JSON-LD ``text``); the caller turns them into text with
code blocks and formulas kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from curate.stages.domain.code import classes


@dataclass
class Answer:
    body: etree._Element
    votes: int | None = None
    accepted: bool = False


@dataclass
class Thread:
    """A question and its answers; ``source`` says which markup they came from."""

    source: str
    title: str
    question: etree._Element | None
    answers: list[Answer] = field(default_factory=list)


def is_type(el: etree._Element, name: str) -> bool:
    return any(t.rstrip("/").endswith("schema.org/" + name) for t in (el.get("itemtype") or "").split())


def _owner(el: etree._Element) -> etree._Element | None:
    for a in el.iterancestors():
        if a.get("itemscope") is not None:
            return a
    return None


def props(scope: etree._Element, name: str) -> list[etree._Element]:
    out = []
    for el in scope.iterdescendants():
        if isinstance(el.tag, str) and name in (el.get("itemprop") or "").split() and _owner(el) is scope:
            out.append(el)
    return out


def prop_value(el: etree._Element) -> str:
    for attr in ("content", "datetime", "value"):
        if el.get(attr) is not None:
            return el.get(attr).strip()
    return " ".join(el.text_content().split())


def int_or_none(value: object) -> int | None:
    m = re.search(r"-?\d+", str(value)) if value is not None else None
    return int(m.group()) if m else None


def is_qa_page(root: etree._Element) -> bool:
    """The page declares itself a QAPage (schema.org, microdata or JSON-LD)."""
    if any(
        is_type(el, "QAPage") or is_type(el, "Question")
        for el in root.iter()
        if isinstance(el.tag, str) and el.get("itemtype")
    ):
        return True
    return any(
        '"QAPage"' in (s.text or "")
        for s in root.iter("script")
        if (s.get("type") or "").lower() == "application/ld+json"
    )


def fragment(html: str) -> etree._Element:
    try:
        return lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        el = etree.Element("div")
        el.text = html
        return el


def json_ld_items(root: etree._Element) -> Iterator[dict]:
    """The objects of the page's JSON-LD scripts (a top-level list, an ``@graph``, or one object each)."""
    for script in root.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        items = data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []
        yield from (item for item in items if isinstance(item, dict))


def _from_json_ld(root: etree._Element) -> Thread | None:
    for item in json_ld_items(root):
        if "QAPage" not in str(item.get("@type")):
            continue
        q = item.get("mainEntity")
        q = q[0] if isinstance(q, list) and q else q
        if not isinstance(q, dict) or not (q.get("text") or q.get("name")):
            continue
        thread = Thread("json-ld", str(q.get("name") or "").strip(), fragment(str(q.get("text") or "")))
        accepted = q.get("acceptedAnswer") or []
        suggested = q.get("suggestedAnswer") or []
        for group, is_accepted in ((accepted, True), (suggested, False)):
            for a in group if isinstance(group, list) else [group]:
                if isinstance(a, dict) and a.get("text"):
                    thread.answers.append(
                        Answer(fragment(str(a["text"])), int_or_none(a.get("upvoteCount")), is_accepted)
                    )
        return thread
    return None


def _from_microdata(root: etree._Element) -> Thread | None:
    question = next((el for el in root.iter() if isinstance(el.tag, str) and is_type(el, "Question")), None)
    if question is None:
        return None
    names = props(question, "name")
    title = prop_value(names[0]) if names else page_title(root)
    texts = props(question, "text")
    body = texts[0] if texts else None
    answers = []
    for el in root.iter():
        if (
            isinstance(el.tag, str)
            and is_type(el, "Answer")
            and not any(is_type(a, "Answer") for a in el.iterancestors())
        ):
            a_texts = props(el, "text")
            if not a_texts:
                continue
            votes = props(el, "upvoteCount")
            accepted = "acceptedAnswer" in (el.get("itemprop") or "") or "accepted-answer" in classes(el)
            answers.append(Answer(a_texts[0], int_or_none(prop_value(votes[0])) if votes else None, accepted))
    if body is None and not answers:
        return None
    return Thread("microdata", title, body, answers)


def first_with_class(el: etree._Element, *names: str) -> etree._Element | None:
    for d in el.iter():
        if isinstance(d.tag, str) and set(names) & set(classes(d).split()):
            return d
    return None


def _from_stackexchange(root: etree._Element) -> Thread | None:
    question = next((el for el in root.iter("div") if el.get("id") == "question"), None)
    if question is None:
        return None
    body = first_with_class(question, "js-post-body", "s-prose", "post-text")
    if body is None:
        return None
    header = next((el for el in root.iter() if el.get("id") == "question-header"), None)
    h1 = header.find(".//h1") if header is not None else root.find(".//h1")
    title = " ".join(h1.text_content().split()) if h1 is not None else page_title(root)
    thread = Thread("stackexchange", title, body)
    for el in root.iter("div"):
        if "answer" in classes(el).split():
            a_body = first_with_class(el, "js-post-body", "s-prose", "post-text")
            if a_body is not None:
                vote = first_with_class(el, "js-vote-count", "vote-count-post")
                thread.answers.append(
                    Answer(
                        a_body,
                        int_or_none(prop_value(vote)) if vote is not None else None,
                        "accepted-answer" in classes(el).split(),
                    )
                )
    return thread


def page_title(root: etree._Element) -> str:
    t = root.find(".//title")
    return " ".join(t.text_content().split()) if t is not None else ""


def find_thread(root: etree._Element, forums: bool = False) -> Thread | None:
    """The page's question and answers, or None (see the module docstring for the order)."""
    for reader in (_from_json_ld, _from_microdata, _from_stackexchange):
        thread = reader(root)
        if thread is not None and thread.question is not None and thread.question.text_content().strip():
            return thread
    if not forums:
        return None
    from curate.stages.domain.forums import find_forum_thread  # forums builds on this module's readers

    return find_forum_thread(root)

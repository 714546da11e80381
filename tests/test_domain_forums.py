"""Forum threads (``warc_extract(domain: true, forums: true)``): one page per forum software, written for this project
in the markup each software's default templates produce (XenForo 2 and 1, vBulletin 4 and 5, phpBB 3 prosilver,
Discourse's crawler and browser views) and schema.org ``DiscussionForumPosting`` (JSON-LD and microdata).

Every page has the same thread: a first post with a code block, two replies (the second quotes the first), and a
signature; the thread must come out as the first post and two replies, code byte-exact, quotes and signatures out.
"""

from __future__ import annotations

import json

import pytest

from curate.stages.domain.detect import detect
from curate.stages.domain.extract import make_domain_extractor

TITLE = "Cron job runs twice every night"
FIRST = "My backup script runs twice every night at 02:00 and I cannot see why. The crontab looks like this:"
CODE = "0 2 * * * /usr/local/bin/backup.sh\n0 2 * * * /usr/local/bin/backup.sh --quiet\n"
REPLY1 = "You have two entries for the same script: the second line runs it again with the quiet flag."
REPLY2 = "Also check the system crontab in /etc/cron.d, which is read in addition to the user crontab."
QUOTED = "My backup script runs twice"
SIGNATURE = "Running Debian stable since 2009"


def _page(head: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{TITLE} | Admin Corner</title>'
        f"{head}</head><body>\n<nav><a href='/'>Forums</a> &gt; <a href='/f/linux'>Linux</a></nav>\n{body}\n"
        "<footer><a href='/help'>Help</a> <a href='/terms'>Terms and rules</a></footer></body></html>"
    )


XENFORO2 = _page(
    "",
    f"""
<div class="p-body-header"><div class="p-title "><h1 class="p-title-value">{TITLE}</h1></div></div>
<div class="block-body js-replyNewMessageContainer">
<article class="message message--post js-post js-inlineModContainer" data-author="nightowl" data-content="post-101"
 id="js-post-101">
 <div class="message-inner"><div class="message-cell message-cell--user"><h4 class="message-name">nightowl</h4></div>
 <div class="message-cell message-cell--main"><div class="message-main js-quickEditTarget">
 <header class="message-attribution message-attribution--split"><time class="u-dt">Yesterday at 9:14 PM</time></header>
 <div class="message-content js-messageContent"><div class="message-userContent lbContainer js-lbContainer"
  data-lb-id="post-101"><article class="message-body js-selectToQuote"><div class="bbWrapper">{FIRST}<br>
 <div class="bbCodeBlock bbCodeBlock--screenLimited bbCodeBlock--code"><div class="bbCodeBlock-title">Code:</div>
 <div class="bbCodeBlock-content" dir="ltr"><pre class="bbCodeCode" dir="ltr" data-xf-init="code-block"
  data-lang=""><code>{CODE}</code></pre></div></div></div><div class="js-selectToQuoteEnd">&nbsp;</div></article>
 </div><aside class="message-signature"><div class="bbWrapper">{SIGNATURE}</div></aside></div>
 <footer class="message-footer"><div class="reactionsBar">Like Reply</div></footer></div></div></div>
</article>
<article class="message message--post js-post js-inlineModContainer" data-author="cronmaster" data-content="post-102"
 id="js-post-102"><div class="message-inner"><div class="message-cell message-cell--main">
 <div class="message-content js-messageContent"><div class="message-userContent lbContainer js-lbContainer">
 <article class="message-body js-selectToQuote"><div class="bbWrapper">{REPLY1}</div></article></div></div>
 </div></div></article>
<article class="message message--post js-post js-inlineModContainer" data-author="sysop" data-content="post-103"
 id="js-post-103"><div class="message-inner"><div class="message-cell message-cell--main">
 <div class="message-content js-messageContent"><div class="message-userContent lbContainer js-lbContainer">
 <article class="message-body js-selectToQuote"><div class="bbWrapper">
 <blockquote data-attributes="member: 7" data-quote="nightowl" data-source="post: 101"
  class="bbCodeBlock bbCodeBlock--expandable bbCodeBlock--quote js-expandWatch">
 <div class="bbCodeBlock-title"><a href="/goto/post?id=101" class="bbCodeBlock-sourceJump">nightowl said:</a></div>
 <div class="bbCodeBlock-content"><div class="bbCodeBlock-expandContent js-expandContent ">{QUOTED}</div>
 <div class="bbCodeBlock-expandLink js-expandLink"><a role="button" tabindex="0">Click to expand...</a></div></div>
 </blockquote>{REPLY2}</div></article></div></div></div></div></article>
</div>""",
)

XENFORO1 = _page(
    "",
    f"""
<div class="titleBar"><h1>{TITLE}</h1></div>
<ol class="messageList" id="messageList">
<li id="post-101" class="message" data-author="nightowl"><div class="messageInfo primaryContent">
 <div class="messageContent"><article><blockquote class="messageText SelectQuoteContainer ugc baseHtml">{FIRST}<br>
 <div class="bbCodeBlock bbCodeCode"><div class="type">Code:</div><pre>{CODE}</pre></div>
 <div class="messageTextEndMarker">&nbsp;</div></blockquote></article></div>
 <div class="baseHtml signature messageText ugc"><aside>{SIGNATURE}</aside></div></div></li>
<li id="post-102" class="message" data-author="cronmaster"><div class="messageInfo primaryContent">
 <div class="messageContent"><article><blockquote class="messageText SelectQuoteContainer ugc baseHtml">{REPLY1}
 </blockquote></article></div></div></li>
<li id="post-103" class="message" data-author="sysop"><div class="messageInfo primaryContent">
 <div class="messageContent"><article><blockquote class="messageText SelectQuoteContainer ugc baseHtml">
 <div class="bbCodeBlock bbCodeQuote" data-author="nightowl"><aside><div class="attribution type">nightowl said:
 </div><blockquote class="quoteContainer"><div class="quote">{QUOTED}</div></blockquote></aside></div>{REPLY2}
 </blockquote></article></div></div></li>
</ol>""",
)

VBULLETIN4 = _page(
    "",
    f"""
<div id="pagetitle" class="pagetitle"><h1>Thread: <span class="threadtitle"><a href="showthread.php?t=5521"
 title="Reload this Page">{TITLE}</a></span></h1></div>
<div id="postlist" class="postlist restrain"><ol id="posts" class="posts" start="1">
<li class="postbitlegacy postbitim postcontainer old" id="post_9001"><div class="postdetails"><div class="postbody">
 <div class="postrow has_after_content"><h2 class="title icon">{TITLE}</h2><div class="content">
 <div id="post_message_9001"><blockquote class="postcontent restore ">{FIRST}<br />
 <div class="bbcode_container"><div class="bbcode_description">Code:</div>
 <pre class="bbcode_code" style="height:48px;">{CODE}</pre></div></blockquote></div></div>
 <div class="after_content"><blockquote class="signature restore"><div class="signaturecontainer">{SIGNATURE}</div>
 </blockquote></div></div></div></div></li>
<li class="postbitlegacy postbitim postcontainer old" id="post_9002"><div class="postdetails"><div class="postbody">
 <div class="postrow"><div class="content"><div id="post_message_9002"><blockquote class="postcontent restore ">
 {REPLY1}</blockquote></div></div></div></div></div></li>
<li class="postbitlegacy postbitim postcontainer old" id="post_9003"><div class="postdetails"><div class="postbody">
 <div class="postrow"><div class="content"><div id="post_message_9003"><blockquote class="postcontent restore ">
 <div class="bbcode_container"><div class="bbcode_quote"><div class="quote_container">
 <div class="bbcode_quote_container"></div>
 <div class="bbcode_postedby">Originally Posted by <strong>nightowl</strong></div><div class="message">{QUOTED}
 </div></div></div></div>{REPLY2}</blockquote></div></div></div></div></div></li>
</ol></div>""",
)

VBULLETIN5 = _page(
    "",
    f"""
<h1 class="main-title js-main-title hide-on-editmode">{TITLE}</h1>
<ul class="conversation-list list-container h-clearfix thread-view">
<li class="b-post js-post js-comment-entry__parent h-restore--on-preview b-post--first" data-node-id="9001">
 <div class="b-post__body"><div class="b-post__content js-post__content"><div class="b-post__content-text">
 <div class="js-post__content-text restore h-wordwrap">{FIRST}<br />
 <div class="bbcode_container"><div class="bbcode_description">Code:</div><pre class="bbcode_code">{CODE}</pre>
 </div></div></div><div class="b-post__signature restore">{SIGNATURE}</div></div></div></li>
<li class="b-post js-post js-comment-entry__parent h-restore--on-preview" data-node-id="9002">
 <div class="b-post__body"><div class="b-post__content js-post__content">
 <div class="js-post__content-text restore h-wordwrap">{REPLY1}</div></div></div></li>
<li class="b-post js-post js-comment-entry__parent h-restore--on-preview" data-node-id="9003">
 <div class="b-post__body"><div class="b-post__content js-post__content">
 <div class="js-post__content-text restore h-wordwrap"><div class="bbcode_container"><div class="bbcode_quote">
 <div class="quote_container">{QUOTED}</div></div></div>{REPLY2}</div></div></div></li>
</ul>""",
)

PHPBB3 = _page(
    "",
    f"""
<div id="page-body" class="page-body" role="main">
<h2 class="topic-title"><a href="./viewtopic.php?t=812">{TITLE}</a></h2>
<div id="p4411" class="post has-profile bg2"><div class="inner">
 <dl class="postprofile" id="profile4411"><dt class="has-profile-rank">
 <a href="./memberlist.php?mode=viewprofile&amp;u=2" class="username">nightowl</a></dt>
 <dd class="profile-posts"><strong>Posts:</strong> 12</dd></dl>
 <div class="postbody"><div id="post_content4411"><h3 class="first"><a href="#p4411">{TITLE}</a></h3>
 <p class="author"><span class="responsive-hide">by <strong>nightowl</strong> &raquo; </span>
 Mon Jun 02, 2025 9:14 pm</p>
 <div class="content">{FIRST}<br>
 <div class="codebox"><p>Code: <a href="#" onclick="selectCode(this); return false;">Select all</a></p>
 <pre><code>{CODE}</code></pre></div></div>
 </div><div id="sig4411" class="signature">{SIGNATURE}</div></div></div></div>
<div id="p4412" class="post has-profile bg1"><div class="inner"><div class="postbody"><div id="post_content4412">
 <h3><a href="#p4412">Re: {TITLE}</a></h3><div class="content">{REPLY1}</div></div></div></div></div>
<div id="p4413" class="post has-profile bg2"><div class="inner"><div class="postbody"><div id="post_content4413">
 <h3><a href="#p4413">Re: {TITLE}</a></h3><div class="content"><blockquote cite="./viewtopic.php?p=4411#p4411">
 <div><cite><a href="./memberlist.php?mode=viewprofile&amp;u=2">nightowl</a> wrote: </cite>{QUOTED}</div>
 </blockquote>{REPLY2}</div></div></div></div></div>
</div>""",
)

DISCOURSE_CRAWLER = _page(
    "",
    f"""
<div id="main-outlet" class="wrap" role="main">
<div id="topic-title"><h1><a href="/t/cron-job-runs-twice-every-night/3310">{TITLE}</a></h1></div>
<div itemscope itemtype="http://schema.org/DiscussionForumPosting">
 <meta itemprop="headline" content="{TITLE}">
 <link itemprop="url" href="https://forum.admin-corner.example/t/cron-job-runs-twice-every-night/3310">
 <div id="post_1" class="topic-body crawler-post">
 <div class="crawler-post-meta"><span class="creator" itemprop="author" itemscope itemtype="http://schema.org/Person">
 <a itemprop="url" href="/u/nightowl"><span itemprop="name">nightowl</span></a></span>
 <span class="crawler-post-infos"><time itemprop="datePublished" datetime="2025-06-02T21:14:00Z" class="post-time">
 June 2, 2025, 9:14pm</time><span itemprop="position">1</span></span></div>
 <div class="post" itemprop="text"><p>{FIRST}</p>
<pre><code class="lang-plaintext">{CODE}</code></pre></div>
 <div itemprop="interactionStatistic" itemscope itemtype="http://schema.org/InteractionCounter">
 <meta itemprop="interactionType" content="http://schema.org/LikeAction"/><meta itemprop="userInteractionCount"
  content="2"/><span class="post-likes">2 Likes</span></div></div>
 <div id="post_2" itemprop="comment" itemscope itemtype="http://schema.org/Comment" class="topic-body crawler-post">
 <div class="crawler-post-meta"><span class="creator" itemprop="author" itemscope itemtype="http://schema.org/Person">
 <a itemprop="url" href="/u/cronmaster"><span itemprop="name">cronmaster</span></a></span></div>
 <div class="post" itemprop="text"><p>{REPLY1}</p></div></div>
 <div id="post_3" itemprop="comment" itemscope itemtype="http://schema.org/Comment" class="topic-body crawler-post">
 <div class="post" itemprop="text"><aside class="quote no-group" data-username="nightowl" data-post="1"
  data-topic="3310"><div class="title">nightowl:</div><blockquote><p>{QUOTED}</p></blockquote></aside>
 <p>{REPLY2}</p></div></div>
</div></div>""",
)

DISCOURSE_BROWSER = _page(
    "",
    f"""
<div id="topic-title"><div class="title-wrapper"><h1 data-topic-id="3310">
 <a href="/t/cron-job-runs-twice-every-night/3310" class="fancy-title">{TITLE}</a></h1></div></div>
<div class="posts-wrapper">
<div class="topic-post clearfix topic-owner regular">
 <article id="post_1" class="boxed onscreen-post" data-post-id="7701">
 <div class="row"><div class="topic-avatar"><a class="trigger-user-card main-avatar" data-user-card="nightowl">
 </a></div>
 <div class="topic-body clearfix"><div class="topic-meta-data"><span class="first username">nightowl</span></div>
 <div class="regular contents"><div class="cooked"><p>{FIRST}</p>
<pre><code class="lang-plaintext">{CODE}</code></pre></div></div></div></div></article></div>
<div class="topic-post clearfix regular"><article id="post_2" class="boxed onscreen-post" data-post-id="7702">
 <div class="row"><div class="topic-body clearfix"><div class="regular contents"><div class="cooked"><p>{REPLY1}</p>
 </div></div></div></div></article></div>
<div class="topic-post clearfix regular"><article id="post_3" class="boxed onscreen-post" data-post-id="7703">
 <div class="row"><div class="topic-body clearfix"><div class="regular contents"><div class="cooked">
 <aside class="quote no-group" data-username="nightowl" data-post="1" data-topic="3310"><div class="title">nightowl:
 </div><blockquote><p>{QUOTED}</p></blockquote></aside><p>{REPLY2}</p></div></div></div></div></article></div>
</div>""",
)


def _json_ld_page() -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "DiscussionForumPosting",
        "headline": TITLE,
        "text": f"<p>{FIRST}</p><pre><code>{CODE}</code></pre>",
        "author": {"@type": "Person", "name": "nightowl"},
        "datePublished": "2025-06-02T21:14:00+00:00",
        "comment": [
            {
                "@type": "Comment",
                "text": REPLY1,
                "author": {"@type": "Person", "name": "cronmaster"},
                "upvoteCount": 4,
                "comment": [{"@type": "Comment", "text": REPLY2, "author": {"@type": "Person", "name": "sysop"}}],
            }
        ],
    }
    script = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    return _page(script, f"<h1>{TITLE}</h1><div class='thread'>rendered by a script from the data above</div>")


PAGES = {
    "xenforo": XENFORO2,
    "xenforo1": XENFORO1,
    "vbulletin": VBULLETIN4,
    "vbulletin5": VBULLETIN5,
    "phpbb": PHPBB3,
    "schema-microdata": DISCOURSE_CRAWLER,
    "schema-json-ld": _json_ld_page(),
    "discourse": DISCOURSE_BROWSER,
}


@pytest.fixture(scope="module")
def extract():
    return make_domain_extractor({"forums": True})


@pytest.mark.parametrize("software", sorted(PAGES))
def test_forum_thread_as_first_post_and_replies(extract, software):
    result = extract(PAGES[software])
    text = result["texts"][0]
    assert result["signals"]["qa_source"] == "forum:" + software.rstrip("15")
    assert result["signals"]["qa_answers"] == 2
    assert text.startswith(f"Question: {TITLE}\n\n{FIRST}")
    assert "```\n" + CODE + "```" in text  # the code block byte-exact, its caption left out
    assert "Code:" not in text and "Select all" not in text
    assert text.count("\nAnswer") == 2 and REPLY1 in text and REPLY2 in text
    assert text.count(QUOTED) == 1  # the quote of the first post is not repeated in the reply
    assert SIGNATURE not in text and "Terms and rules" not in text
    tags = detect(result["signals"])
    assert tags["forum"] and not tags["qa"] and tags["code"]


def test_json_ld_votes_and_nested_replies(extract):
    text = extract(PAGES["schema-json-ld"])["texts"][0]
    assert f"Answer (4 votes):\n{REPLY1}\n\nAnswer:\n{REPLY2}" in text


def test_pairs_format_for_forums():
    pairs = make_domain_extractor({"forums": True, "qa_format": "pairs"})(PHPBB3)["texts"]
    assert len(pairs) == 2 and all(p.startswith(f"Question: {TITLE}\n\n{FIRST}") for p in pairs)


def test_forums_off_by_default():
    """Without ``forums: true`` a forum page is an ordinary page: trafilatura decides, no thread, no forum tag."""
    result = make_domain_extractor({})(PHPBB3)
    assert result["signals"]["qa_source"] == "" and not detect(result["signals"])["forum"]
    assert not result["texts"][0].startswith("Question:")


def test_markup_with_more_posts_wins_over_json_ld(extract):
    """XenForo 2.2 puts only the opening post in its JSON-LD: the page's posts, which hold the replies, win."""
    opening = {"@context": "https://schema.org", "@type": "WebPage", "mainEntity": {}}
    opening["mainEntity"] = {"@type": "DiscussionForumPosting", "headline": TITLE, "articleBody": FIRST}
    page = XENFORO2.replace("</head>", f'<script type="application/ld+json">{json.dumps(opening)}</script></head>')
    result = extract(page)
    assert result["signals"]["qa_source"] == "forum:xenforo" and result["signals"]["qa_answers"] == 2


def test_wordpress_post_is_not_a_phpbb_post(extract):
    """WordPress themes write ``div.post#post-<id>``; phpBB's posts are ``div.post#p<number>``."""
    page = _page(
        "", f'<div class="post" id="post-1684713"><h1>{TITLE}</h1><div class="content"><p>{FIRST}</p></div></div>'
    )
    assert extract(page)["signals"]["qa_source"] == ""

"""Write the quickstart sample `curate/data/sample.warc.gz` from the page content in `sample_pages.py`.

The sample is a small WARC/1.1 file shaped like a Common Crawl WARC: one warcinfo record, then for each fetched URL
a `request` and a `response` record (one gzip member per record), plus one `revisit` record. The pages are written
for this project (see sample_pages.py) and wrapped in realistic site chrome (navigation, cookie banners, sidebars,
footers) so that main-text extraction has boilerplate to remove. `sample_manifest.json` records what each response
is (category, language, charset, duplicate groups) so tests and docs can rely on it; see README.md here.

The output is deterministic: fixed dates, record ids derived from the URL (uuid5), and gzip members written with a
zero mtime. Regenerating gives byte-identical files with the same zlib. Pure standard library.

    python curate/data/make_sample.py [--out DIR]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import html
import importlib.util
import json
import re
import struct
import uuid
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
WARC_NAME = "sample.warc.gz"
MANIFEST_NAME = "sample_manifest.json"
START = dt.datetime(2025, 7, 14, 9, 30, 0, tzinfo=dt.UTC)  # crawl start; record i is fetched 7 s * i later
USER_AGENT = "curate-sample/1.0 (synthetic pages written for the curate project; not a real crawl)"


def _load_pages():
    spec = importlib.util.spec_from_file_location("curate_sample_pages", HERE / "sample_pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------------------------------------------
# Sites and their chrome
# ----------------------------------------------------------------------------------------------------------------

SITES: dict[str, dict] = {  # key: domain, brand, layout (magazine | blog | portal), language, server
    "curious": dict(domain="www.curious-minds.example", brand="Curious Minds", layout="magazine", lang="en"),
    "tidewater": dict(domain="www.tidewater-review.example", brand="The Tidewater Review", layout="portal", lang="en"),
    "kitchen": dict(domain="kitchen-notes.example", brand="Kitchen Notes", layout="blog", lang="en"),
    "crumb": dict(domain="www.crumb-and-crust.example", brand="Crumb & Crust", layout="magazine", lang="en"),
    "digest": dict(domain="recipes.daily-digest.example", brand="Daily Digest Recipes", layout="portal", lang="en"),
    "slowtravel": dict(domain="www.slow-travel-journal.example", brand="Slow Travel Journal", layout="blog", lang="en"),
    "techweekly": dict(domain="techweekly.example", brand="Tech Weekly", layout="magazine", lang="en"),
    "techdigest": dict(domain="news.bytes-digest.example", brand="Bytes Digest", layout="portal", lang="en"),
    "sciencemirror": dict(
        domain="scienceforall.mirror-site.example", brand="Science For All", layout="blog", lang="en"
    ),
    "allotment": dict(
        domain="www.riverside-allotments.example", brand="Riverside Allotment Society", layout="blog", lang="en"
    ),
    "adult": dict(domain="www.xxx-hot-sex-cams.example", brand="HotCams XXX", layout="blog", lang="en"),
    "dailyplanet": dict(domain="www.daily-planet-news.example", brand="Daily Planet", layout="portal", lang="en"),
    "cheapflights": dict(
        domain="www.cheap-flights-cheap-tickets.example", brand="Cheap Flights Online", layout="blog", lang="en"
    ),
    "prizes": dict(domain="win-big-prizes.example", brand="Win Big", layout="blog", lang="en"),
    "shop": dict(domain="shop.homewares-outlet.example", brand="Homewares Outlet", layout="portal", lang="en"),
    "template": dict(domain="new-site-2025.example", brand="My WordPress Site", layout="blog", lang="en"),
    "widgets": dict(domain="app.widgetly.example", brand="Widgetly", layout="blog", lang="en"),
    "wissen": dict(domain="www.wissen-kompakt.example", brand="Wissen kompakt", layout="magazine", lang="de"),
    "brotzeit": dict(domain="brotzeit-magazin.example", brand="Brotzeit Magazin", layout="blog", lang="de"),
    "radreise": dict(domain="www.radreise-tipps.example", brand="Radreise-Tipps", layout="portal", lang="de"),
    "savoirs": dict(domain="www.savoirs-ouverts.example", brand="Savoirs ouverts", layout="magazine", lang="fr"),
    "cuisinefr": dict(domain="carnet-de-cuisine.example", brand="Carnet de cuisine", layout="blog", lang="fr"),
    "saberes": dict(domain="www.saberes-y-ciencia.example", brand="Saberes y Ciencia", layout="magazine", lang="es"),
    "cocina": dict(domain="cocina-de-casa.example", brand="Cocina de Casa", layout="blog", lang="es"),
    "cucinait": dict(domain="www.cucina-di-nonna.example", brand="La cucina di nonna", layout="blog", lang="it"),
    "kennisnl": dict(
        domain="www.kennis-en-wetenschap.example", brand="Kennis & Wetenschap", layout="magazine", lang="nl"
    ),
    "saberpt": dict(domain="www.saber-mais.example", brand="Saber Mais", layout="magazine", lang="pt"),
    "nihon": dict(domain="www.nihon-kurashi.example", brand="日本のくらし", layout="blog", lang="ja"),
    "priroda": dict(domain="priroda-zhurnal.example", brand="Природа и мир", layout="magazine", lang="ru"),
    # RedStone pages (sample_pages.py): formulas from KaTeX / MathJax, code in a line-number table, a forum thread
    "numberline": dict(domain="numberline-blog.example", brand="The Number Line", layout="blog", lang="en"),
    "calcclub": dict(domain="www.calculus-club.example", brand="Calculus Club", layout="magazine", lang="en"),
    "statsnotes": dict(domain="stats-notes.example", brand="Stats Notes", layout="portal", lang="en"),
    "devdocs": dict(domain="docs.ringkit.example", brand="ringkit docs", layout="magazine", lang="en"),
    "fieldradio": dict(domain="forum.field-radio.example", brand="Field Radio Forum", layout="blog", lang="en"),
}

UI: dict[str, dict] = {
    "en": dict(
        sections=["News", "Science", "History", "Food", "Travel", "Technology", "Opinion"],
        home="Home",
        about="About us",
        contact="Contact",
        privacy="Privacy policy",
        terms="Terms of use",
        search="Search",
        subscribe="Subscribe",
        newsletter="Get the best stories in your inbox every Friday.",
        related="Related articles",
        popular="Most read",
        by="By",
        share="Share this article",
        cookie="We use cookies to improve your experience, analyse traffic and show personalised content. "
        "By continuing to browse this site you agree to our use of cookies.",
        accept="Accept all",
        settings="Cookie settings",
        rights="All rights reserved.",
        login="Sign in",
        comments="Comments",
        comment_lines=["Great read, thanks for sharing!", "Bookmarked for later."],
        advert="Advertisement",
        skip="Skip to content",
    ),
    "de": dict(
        sections=["Nachrichten", "Wissen", "Geschichte", "Essen", "Reisen", "Technik", "Meinung"],
        home="Startseite",
        about="Über uns",
        contact="Kontakt",
        privacy="Datenschutz",
        terms="Impressum",
        search="Suche",
        subscribe="Abonnieren",
        newsletter="Die besten Artikel jeden Freitag in Ihrem Postfach.",
        related="Das könnte Sie auch interessieren",
        popular="Meistgelesen",
        by="Von",
        share="Artikel teilen",
        cookie="Wir verwenden Cookies, um Ihnen ein optimales Nutzungserlebnis zu bieten und Inhalte zu "
        "personalisieren. Mit der weiteren Nutzung stimmen Sie der Verwendung von Cookies zu.",
        accept="Alle akzeptieren",
        settings="Einstellungen",
        rights="Alle Rechte vorbehalten.",
        login="Anmelden",
        comments="Kommentare",
        comment_lines=["Toller Artikel, danke!", "Sehr interessant geschrieben."],
        advert="Anzeige",
        skip="Zum Inhalt springen",
    ),
    "fr": dict(
        sections=["Actualités", "Sciences", "Histoire", "Cuisine", "Voyages", "Technologie", "Opinions"],
        home="Accueil",
        about="À propos",
        contact="Contact",
        privacy="Confidentialité",
        terms="Mentions légales",
        search="Rechercher",
        subscribe="S'abonner",
        newsletter="Recevez nos meilleurs articles chaque vendredi.",
        related="À lire aussi",
        popular="Les plus lus",
        by="Par",
        share="Partager cet article",
        cookie="Nous utilisons des cookies pour améliorer votre expérience et mesurer l'audience. En "
        "poursuivant votre navigation, vous acceptez leur utilisation.",
        accept="Tout accepter",
        settings="Paramétrer",
        rights="Tous droits réservés.",
        login="Se connecter",
        comments="Commentaires",
        comment_lines=["Merci pour cet article très clair !", "Super, je partage."],
        advert="Publicité",
        skip="Aller au contenu",
    ),
    "es": dict(
        sections=["Noticias", "Ciencia", "Historia", "Cocina", "Viajes", "Tecnología", "Opinión"],
        home="Inicio",
        about="Quiénes somos",
        contact="Contacto",
        privacy="Política de privacidad",
        terms="Aviso legal",
        search="Buscar",
        subscribe="Suscribirse",
        newsletter="Recibe nuestros mejores artículos cada viernes.",
        related="Artículos relacionados",
        popular="Lo más leído",
        by="Por",
        share="Compartir",
        cookie="Utilizamos cookies propias y de terceros para mejorar nuestros servicios. Si continúa "
        "navegando, consideramos que acepta su uso.",
        accept="Aceptar todo",
        settings="Configurar",
        rights="Todos los derechos reservados.",
        login="Iniciar sesión",
        comments="Comentarios",
        comment_lines=["¡Muy buen artículo!", "Gracias por compartir."],
        advert="Publicidad",
        skip="Ir al contenido",
    ),
    "it": dict(
        sections=["Notizie", "Scienza", "Storia", "Cucina", "Viaggi", "Tecnologia", "Opinioni"],
        home="Home",
        about="Chi siamo",
        contact="Contatti",
        privacy="Privacy",
        terms="Note legali",
        search="Cerca",
        subscribe="Iscriviti",
        newsletter="Le ricette migliori ogni venerdì nella tua casella.",
        related="Articoli correlati",
        popular="I più letti",
        by="Di",
        share="Condividi",
        cookie="Questo sito utilizza cookie tecnici e di profilazione. Continuando la navigazione "
        "acconsenti all'uso dei cookie.",
        accept="Accetta tutto",
        settings="Impostazioni",
        rights="Tutti i diritti riservati.",
        login="Accedi",
        comments="Commenti",
        comment_lines=["Ricetta fantastica!", "Grazie mille."],
        advert="Pubblicità",
        skip="Vai al contenuto",
    ),
    "nl": dict(
        sections=["Nieuws", "Wetenschap", "Geschiedenis", "Eten", "Reizen", "Techniek", "Opinie"],
        home="Home",
        about="Over ons",
        contact="Contact",
        privacy="Privacybeleid",
        terms="Voorwaarden",
        search="Zoeken",
        subscribe="Abonneren",
        newsletter="Elke vrijdag de beste verhalen in je inbox.",
        related="Gerelateerde artikelen",
        popular="Meest gelezen",
        by="Door",
        share="Deel dit artikel",
        cookie="Wij gebruiken cookies om onze website te verbeteren en advertenties te personaliseren. "
        "Door verder te surfen ga je hiermee akkoord.",
        accept="Alles accepteren",
        settings="Instellingen",
        rights="Alle rechten voorbehouden.",
        login="Inloggen",
        comments="Reacties",
        comment_lines=["Mooi artikel!", "Heel leerzaam, dank je."],
        advert="Advertentie",
        skip="Naar inhoud",
    ),
    "pt": dict(
        sections=["Notícias", "Ciência", "História", "Culinária", "Viagens", "Tecnologia", "Opinião"],
        home="Início",
        about="Sobre nós",
        contact="Contato",
        privacy="Política de privacidade",
        terms="Termos de uso",
        search="Buscar",
        subscribe="Assinar",
        newsletter="Receba nossas melhores matérias toda sexta-feira.",
        related="Leia também",
        popular="Mais lidas",
        by="Por",
        share="Compartilhe",
        cookie="Utilizamos cookies para melhorar sua experiência. Ao continuar navegando, você concorda "
        "com a nossa política de cookies.",
        accept="Aceitar todos",
        settings="Configurações",
        rights="Todos os direitos reservados.",
        login="Entrar",
        comments="Comentários",
        comment_lines=["Excelente texto!", "Muito interessante."],
        advert="Publicidade",
        skip="Ir para o conteúdo",
    ),
    "ja": dict(
        sections=["ニュース", "暮らし", "料理", "旅行", "文化", "健康", "コラム"],
        home="ホーム",
        about="運営者情報",
        contact="お問い合わせ",
        privacy="プライバシーポリシー",
        terms="利用規約",
        search="検索",
        subscribe="登録",
        newsletter="毎週金曜日に人気記事をお届けします。",
        related="関連記事",
        popular="人気の記事",
        by="文：",
        share="この記事をシェアする",
        cookie="当サイトでは、利便性向上のためにクッキーを使用しています。サイトの閲覧を続けることで、"
        "クッキーの使用に同意したものとみなします。",
        accept="同意する",
        settings="設定",
        rights="無断転載を禁じます。",
        login="ログイン",
        comments="コメント",
        comment_lines=["とても参考になりました。", "さっそく試してみます！"],
        advert="広告",
        skip="本文へ移動",
    ),
    "ru": dict(
        sections=["Новости", "Наука", "История", "Кулинария", "Путешествия", "Технологии", "Мнения"],
        home="Главная",
        about="О нас",
        contact="Контакты",
        privacy="Политика конфиденциальности",
        terms="Правила",
        search="Поиск",
        subscribe="Подписаться",
        newsletter="Лучшие статьи недели каждую пятницу.",
        related="Читайте также",
        popular="Самое читаемое",
        by="Автор:",
        share="Поделиться",
        cookie="Мы используем файлы cookie, чтобы сайт работал лучше. Продолжая пользоваться сайтом, вы "
        "соглашаетесь с их использованием.",
        accept="Принять",
        settings="Настроить",
        rights="Все права защищены.",
        login="Войти",
        comments="Комментарии",
        comment_lines=["Спасибо, очень интересно!", "Хочу туда поехать."],
        advert="Реклама",
        skip="Перейти к содержанию",
    ),
}
UI["la"] = UI["en"]  # the lorem-ipsum page sits on an English template site


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def split_blocks(body: str) -> list[str]:
    """Blocks separated by blank lines; a fenced code block (```) stays one block with its blank lines."""
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", body.strip("\n")):
        if blocks and blocks[-1].startswith("```") and (blocks[-1].count("```") % 2):
            blocks[-1] += "\n\n" + block
        else:
            blocks.append(block)
    return blocks


def render_blocks(body: str) -> str:
    """Body blocks (see sample_pages.py) to HTML."""
    out = []
    for block in split_blocks(body):
        if block.startswith("## "):
            out.append(f"<h2>{_e(block[3:].strip())}</h2>")
        elif block.startswith("```"):
            code = block.strip("`\n")
            out.append(f'<pre><code class="language-python">{_e(code)}</code></pre>')
        elif all(line.startswith("- ") for line in block.splitlines()):
            items = "".join(f"<li>{_raw_or_escaped(line[2:])}</li>\n" for line in block.splitlines())
            out.append(f"<ul>\n{items}</ul>")
        elif block.startswith("<"):
            out.append(block)
        else:
            out.append(f"<p>{_raw_or_escaped(block)}</p>")
    return "\n".join(out)


def _raw_or_escaped(text: str) -> str:
    """Text with inline markup (<a>, <span>, <br>) is written as is; plain text is escaped."""
    return text if re.search(r"</?(a|span|br|button|div)\b", text) else _e(text)


def block_text(body: str) -> str:
    """The plain text of the article body: one paragraph per block, markup stripped (what an extractor should get)."""
    paras = []
    for block in split_blocks(body):
        if block.startswith("## "):
            block = block[3:]
        block = html.unescape(re.sub(r"<[^>]+>", " ", block.strip("`\n")))
        paras.append(re.sub(r"[ \t]+", " ", block).strip())
    return "\n\n".join(p for p in paras if p)


def render_page(
    site: dict,
    lang: str,
    title: str,
    main_html: str,
    *,
    meta_charset: str | None,
    related: list[tuple[str, str]],
    chrome: bool = True,
    canonical: str = "",
    head_extra: str = "",
) -> str:
    """A full HTML document: head (``head_extra`` at its end: a page's own scripts and styles), then the site's chrome
    around `main_html` in one of three layouts."""
    ui = UI[lang]
    meta = ""
    if meta_charset == "utf-8":
        meta = '<meta charset="utf-8">\n'
    elif meta_charset:
        meta = f'<meta http-equiv="Content-Type" content="text/html; charset={meta_charset}">\n'
    head = (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n{meta}'
        f"<title>{_e(title)} | {_e(site['brand'])}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<link rel="canonical" href="{canonical}">\n<link rel="stylesheet" href="/static/css/main.css">\n'
        '<script src="/static/js/analytics.js" async></script>\n'
        "<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}</script>\n"
        f"{head_extra}</head>\n"
    )
    if not chrome:
        return f"{head}<body>\n{main_html}\n</body>\n</html>\n"
    nav = "".join(f'<li><a href="/{_slug(s)}/">{_e(s)}</a></li>' for s in ui["sections"])
    nav = f'<nav class="main-nav"><ul><li><a href="/">{_e(ui["home"])}</a></li>{nav}</ul></nav>'
    links = [ui["about"], ui["contact"], ui["privacy"], ui["terms"]]
    footer_links = " | ".join(f'<a href="/{_slug(x)}">{_e(x)}</a>' for x in links)
    footer = (
        f'<footer class="site-footer"><p>{footer_links}</p>\n'
        f"<p>&copy; 2025 {_e(site['brand'])}. {_e(ui['rights'])}</p></footer>"
    )
    cookie = (
        f'<div id="cookie-banner" class="cookie-notice"><p>{_e(ui["cookie"])}</p>'
        f'<button class="accept">{_e(ui["accept"])}</button> '
        f'<a href="/cookies">{_e(ui["settings"])}</a></div>'
    )
    rel = "".join(f'<li><a href="{href}">{_e(t)}</a></li>' for t, href in related)
    sidebar = (
        f'<aside class="sidebar"><h3>{_e(ui["related"])}</h3><ul>{rel}</ul>\n'
        f'<div class="newsletter"><h3>{_e(ui["subscribe"])}</h3><p>{_e(ui["newsletter"])}</p>'
        f'<form action="/subscribe"><input type="email" name="email"><button>{_e(ui["subscribe"])}</button>'
        f'</form></div>\n<div class="ad-slot">{_e(ui["advert"])}</div></aside>'
    )
    brand = _e(site["brand"])
    if site["layout"] == "magazine":
        body = (
            f'<body class="magazine">\n<a class="skip" href="#main">{_e(ui["skip"])}</a>\n'
            f'<header class="masthead"><a class="logo" href="/">{brand}</a>\n{nav}\n'
            f'<form class="search" action="/search"><input name="q" placeholder="{_e(ui["search"])}"></form>'
            f'</header>\n{cookie}\n<div class="layout">\n<main id="main">\n{main_html}\n'
            f'<div class="share"><span>{_e(ui["share"])}</span> <a href="#">Facebook</a> <a href="#">X</a> '
            f'<a href="#">LinkedIn</a> <a href="#">Email</a></div>\n</main>\n{sidebar}\n</div>\n{footer}\n'
        )
    elif site["layout"] == "blog":
        comments = "".join(
            f'<li class="comment"><span class="who">{n}</span> <p>{_e(c)}</p></li>'
            for n, c in zip(["anna_k", "rob77"], ui["comment_lines"])
        )
        body = (
            f'<body class="blog">\n<div class="topbar"><h1 class="site-title"><a href="/">{brand}</a></h1>\n'
            f'{nav}</div>\n<div class="content">\n{main_html}\n</div>\n'
            f'<section class="comments"><h3>{_e(ui["comments"])} (2)</h3><ol>{comments}</ol></section>\n'
            f"{sidebar}\n{footer}\n{cookie}\n"
        )
    else:  # portal
        popular = "".join(f'<li><a href="{href}">{_e(t)}</a></li>' for t, href in reversed(related))
        columns = "".join(
            f'<div class="col"><h4>{_e(s)}</h4><ul><li><a href="/{_slug(s)}/latest">{_e(s)} '
            f'2025</a></li><li><a href="/{_slug(s)}/archive">{_e(s)} 2024</a></li></ul></div>'
            for s in ui["sections"]
        )
        body = (
            f'<body class="portal">\n{cookie}\n<div class="utility"><a href="/login">{_e(ui["login"])}</a> | '
            f'<a href="/subscribe">{_e(ui["subscribe"])}</a></div>\n<header><a class="logo" href="/">{brand}</a>'
            f"</header>\n{nav}\n"
            f'<ol class="breadcrumb"><li><a href="/">{_e(ui["home"])}</a></li><li>{_e(ui["sections"][1])}</li>'
            f'</ol>\n<div class="article-wrap">\n{main_html}\n</div>\n'
            f'<section class="popular"><h3>{_e(ui["popular"])}</h3><ol>{popular}</ol></section>\n'
            f'<div class="footer-columns">{columns}</div>\n{footer}\n'
        )
    return f"{head}{body}</body>\n</html>\n"


def article_html(title: str, author: str | None, date: str | None, body: str, lang: str) -> str:
    byline = ""
    if author:
        byline = f'<p class="byline">{_e(UI[lang]["by"])} <span class="author">{_e(author)}</span>'
        byline += f" <time>{_e(date)}</time></p>\n" if date else "</p>\n"
    return f"<article>\n<h1>{_e(title)}</h1>\n{byline}{render_blocks(body)}\n</article>"


def _slug(text: str) -> str:
    slug = re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-")
    return slug if slug.isascii() else hashlib.sha1(text.encode()).hexdigest()[:10]


# ----------------------------------------------------------------------------------------------------------------
# The list of fetches: every URL with its HTTP status, headers and body bytes, and its manifest entry
# ----------------------------------------------------------------------------------------------------------------


def apply_variant(body: str, variant: dict) -> str:
    for old, new in variant.get("replace", []):
        assert body.count(old) == 1, f"variant edit not found exactly once: {old[:60]!r}"
        body = body.replace(old, new)
    blocks = re.split(r"\n\s*\n", body.strip("\n"))
    blocks = [b for i, b in enumerate(blocks) if i not in set(variant.get("drop", []))]
    blocks += variant.get("append", [])
    return "\n\n".join(blocks)


def build_fetches() -> list[dict]:
    """Everything the crawler fetched, in crawl order (sorted by a hash of the URL, which interleaves sites).

    Each fetch has url, status, content_type, payload (the HTTP body bytes), manifest (its sample_manifest.json
    entry) and, for HTML pages, text: the title and body text a perfect main-text extractor would return.
    """
    content = _load_pages()
    docs: list[dict] = []  # html documents before rendering

    def add(key: str, art: dict, site_key: str, *, category: str, author, body: str, **extra) -> None:
        site = SITES[site_key]
        scheme = "http" if site_key in ("allotment", "adult", "prizes", "template") else "https"
        path = extra.pop("path", None) or f"/{art.get('section', 'articles')}/{_slug(art['title'])}.html"
        if not path.isascii():
            path = f"/articles/{key}.html"
        docs.append(
            dict(
                key=key,
                site_key=site_key,
                site=site,
                url=f"{scheme}://{site['domain']}{path}",
                lang=art["lang"],
                title=art["title"],
                author=author,
                date=art.get("date"),
                body=body,
                category=category,
                charset=art.get("charset", "utf-8"),
                http_charset=art.get("http_charset", "utf-8"),
                meta_charset=art.get("meta_charset", "utf-8"),
                **extra,
            )
        )

    for key, art in content.ARTICLES.items():
        category = art.get("category", "article")
        extra = {k: art[k] for k in ("subcategory", "head") if k in art}
        add(key, art, art["site"], category=category, author=art["author"], body=art["body"], **extra)
        for copy_site in art.get("copies", []):
            add(
                key,
                art,
                copy_site,
                category="exact_duplicate",
                author=art["author"],
                body=art["body"],
                exact_dup_of=key,
            )
        for n, variant in enumerate(content.VARIANTS.get(key, []), start=1):
            add(
                f"{key}~v{n}",
                art,
                variant["site"],
                category="near_duplicate",
                author=variant.get("author", art["author"]),
                body=apply_variant(art["body"], variant),
                near_dup_of=key,
                path=f"/articles/{_slug(art['title'])}-{n}.html",
            )
    for page in content.PAGES:
        add(
            page["key"],
            page,
            page["site"],
            category=page["category"],
            author=None,
            body=page["body"],
            subcategory=page.get("subcategory"),
            chrome=page.get("chrome", True),
            path=page["path"],
        )

    by_site: dict[str, list[dict]] = {}
    for d in docs:
        by_site.setdefault(d["site_key"], []).append(d)
    fetches = []
    for d in docs:
        related = [(o["title"], o["url"]) for o in by_site[d["site_key"]] if o is not d][:4]
        if d["category"] in ("article", "exact_duplicate", "near_duplicate", "code", "math", "pii"):
            main = article_html(d["title"], d["author"], d["date"], d["body"], d["lang"])
        else:
            main = f'<div class="page">\n{render_blocks(d["body"])}\n</div>'
        page = render_page(
            d["site"],
            d["lang"],
            d["title"],
            main,
            meta_charset=d["meta_charset"],
            related=related,
            chrome=d.get("chrome", True),
            canonical=d["url"],
            head_extra=d.get("head", ""),
        )
        ctype = f"text/html; charset={d['http_charset']}" if d["http_charset"] else "text/html"
        text = f"{d['title']}\n\n{block_text(d['body'])}"
        fetches.append(
            dict(
                url=d["url"],
                status=200,
                content_type=ctype,
                payload=page.encode(d["charset"]),
                text=text,
                manifest=dict(
                    url=d["url"],
                    key=d["key"],
                    category=d["category"],
                    subcategory=d.get("subcategory"),
                    language=d["lang"],
                    charset=d["charset"],
                    http_charset=d["http_charset"],
                    meta_charset=d["meta_charset"],
                    status=200,
                    content_type="text/html",
                    exact_dup_of=d.get("exact_dup_of"),
                    near_dup_of=d.get("near_dup_of"),
                    words=len(text.split()),
                ),
            )
        )

    fetches.append(
        dict(
            url="https://www.curious-minds.example/static/img/logo.png",
            status=200,
            content_type="image/png",
            payload=tiny_png(),
            manifest=dict(_EMPTY, category="non_html", content_type="image/png"),
        )
    )
    fetches.append(
        dict(
            url="https://techweekly.example/2018/03/retired-page.html",
            status=404,
            content_type="text/html; charset=utf-8",
            payload=b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n<body><h1>Not "
            b"Found</h1><p>The requested URL was not found on this server.</p></body></html>\n",
            manifest=dict(_EMPTY, category="http_error", content_type="text/html"),
        )
    )
    fetches.sort(key=lambda f: hashlib.sha1(f["url"].encode()).hexdigest())
    return fetches


_EMPTY = dict(
    key=None,
    subcategory=None,
    language=None,
    charset=None,
    http_charset=None,
    meta_charset=None,
    exact_dup_of=None,
    near_dup_of=None,
    words=0,
)


def tiny_png(width: int = 16, height: int = 16) -> bytes:
    """A 16x16 RGB gradient PNG; the image data uses stored (level 0) deflate blocks, the same with any zlib."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 16, y * 16, 128)) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b"")


# ----------------------------------------------------------------------------------------------------------------
# WARC writing
# ----------------------------------------------------------------------------------------------------------------


def sha1_digest(data: bytes) -> str:
    """Digest in the form Common Crawl writes it: 'sha1:' + base32 of the SHA-1."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def record_id(kind: str, url: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'curate-sample/{kind}/{url}')}>"


def gzip_member(data: bytes) -> bytes:
    """One gzip member with a fixed header (mtime 0, no file name, OS unknown) so the bytes never vary."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    body = deflate.compress(data) + deflate.flush()
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + body + struct.pack("<II", zlib.crc32(data), len(data))


def warc_record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    lines = ["WARC/1.1", *(f"{k}: {v}" for k, v in headers), f"Content-Length: {len(block)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + block + b"\r\n\r\n"


def _warc_date(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _http_date(t: dt.datetime) -> str:
    return t.strftime("%a, %d %b %Y %H:%M:%S GMT")


REASONS = {200: "OK", 404: "Not Found"}


def http_response_head(status: int, content_type: str, length: int, t: dt.datetime, server: str) -> bytes:
    return (
        f"HTTP/1.1 {status} {REASONS[status]}\r\nDate: {_http_date(t)}\r\nServer: {server}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n"
        f"Last-Modified: {_http_date(START - dt.timedelta(days=30))}\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


def build_warc() -> tuple[bytes, list[dict]]:
    """The gzipped WARC bytes and the manifest (one entry per response record, in file order)."""
    fetches = build_fetches()
    warcinfo_id = record_id("warcinfo", WARC_NAME)
    info = (
        f"software: curate make_sample.py\r\nformat: WARC File Format 1.1\r\n"
        f"conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
        f"isPartOf: curate-quickstart-sample\r\nuser-agent: {USER_AGENT}\r\n"
        f"description: Synthetic pages written for the curate project (no copied web content); "
        f"see curate/data/README.md\r\n"
    ).encode()
    members = [
        gzip_member(
            warc_record(
                [
                    ("WARC-Type", "warcinfo"),
                    ("WARC-Date", _warc_date(START)),
                    ("WARC-Filename", WARC_NAME),
                    ("WARC-Record-ID", warcinfo_id),
                    ("Content-Type", "application/warc-fields"),
                    ("WARC-Block-Digest", sha1_digest(info)),
                ],
                info,
            )
        )
    ]
    manifest = []
    for i, f in enumerate(fetches):
        t = START + dt.timedelta(seconds=7 * (i + 1))
        host = f["url"].split("/")[2]
        path = "/" + f["url"].split("/", 3)[3] if f["url"].count("/") >= 3 else "/"
        req_id, resp_id = record_id("request", f["url"]), record_id("response", f["url"])
        ip = "203.0.113." + str(int(hashlib.sha1(host.encode()).hexdigest(), 16) % 250 + 2)
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n"
            f"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            f"Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        common = [
            ("WARC-Date", _warc_date(t)),
            ("WARC-Warcinfo-ID", warcinfo_id),
            ("WARC-IP-Address", ip),
            ("WARC-Target-URI", f["url"]),
        ]
        members.append(
            gzip_member(
                warc_record(
                    [
                        ("WARC-Type", "request"),
                        ("WARC-Record-ID", req_id),
                        *common,
                        ("Content-Type", "application/http; msgtype=request"),
                        ("WARC-Block-Digest", sha1_digest(request)),
                    ],
                    request,
                )
            )
        )
        server = "nginx" if int(hashlib.sha1(host.encode()).hexdigest(), 16) % 2 else "Apache/2.4"
        block = http_response_head(f["status"], f["content_type"], len(f["payload"]), t, server) + f["payload"]
        members.append(
            gzip_member(
                warc_record(
                    [
                        ("WARC-Type", "response"),
                        ("WARC-Record-ID", resp_id),
                        *common,
                        ("WARC-Concurrent-To", req_id),
                        ("Content-Type", "application/http; msgtype=response"),
                        ("WARC-Payload-Digest", sha1_digest(f["payload"])),
                        ("WARC-Block-Digest", sha1_digest(block)),
                        ("WARC-Identified-Payload-Type", f["content_type"].split(";")[0]),
                    ],
                    block,
                )
            )
        )
        manifest.append(dict(f["manifest"], url=f["url"], record_id=resp_id, date=_warc_date(t), status=f["status"]))

    # A later recrawl of the first sourdough page found the same payload: a revisit record, headers only.
    original = next(m for m in manifest if m.get("key") == "sourdough" and m["category"] == "article")
    payload = next(f["payload"] for f in fetches if f["url"] == original["url"])
    t = START + dt.timedelta(seconds=7 * (len(fetches) + 1))
    head = http_response_head(200, "text/html; charset=utf-8", len(payload), t, "Apache/2.4")
    members.append(
        gzip_member(
            warc_record(
                [
                    ("WARC-Type", "revisit"),
                    ("WARC-Record-ID", record_id("revisit", original["url"])),
                    ("WARC-Date", _warc_date(t)),
                    ("WARC-Warcinfo-ID", warcinfo_id),
                    ("WARC-Target-URI", original["url"]),
                    ("WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"),
                    ("WARC-Refers-To-Target-URI", original["url"]),
                    ("WARC-Refers-To-Date", original["date"]),
                    ("WARC-Refers-To", original["record_id"]),
                    ("Content-Type", "application/http; msgtype=response"),
                    ("WARC-Payload-Digest", sha1_digest(payload)),
                    ("WARC-Block-Digest", sha1_digest(head)),
                ],
                head,
            )
        )
    )
    return b"".join(members), manifest


def write_sample(out_dir: Path = HERE) -> tuple[Path, Path]:
    """Write sample.warc.gz and sample_manifest.json into out_dir; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data, manifest = build_warc()
    warc_path, manifest_path = out_dir / WARC_NAME, out_dir / MANIFEST_NAME
    warc_path.write_bytes(data)
    manifest_path.write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    return warc_path, manifest_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: next to this script)")
    args = parser.parse_args()
    warc_path, manifest_path = write_sample(args.out)
    print(f"wrote {warc_path} ({warc_path.stat().st_size} bytes) and {manifest_path}")


if __name__ == "__main__":
    main()

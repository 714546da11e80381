"""Language codes: ISO 639-1, 639-2/B, 639-3 (+ script) to one canonical form, and macrolanguage-aware matching.

Canonical form: the ISO 639-3 code (``eng``, ``nob``, ``zho``), optionally with an ISO 15924 script as FineWeb2 /
GlotLID write it (``srp_Cyrl``). Accepted inputs: ``en``, ``eng``, ``ENG``, ``en-US``, ``eng_Latn``, ``zh-Hant``,
bibliographic codes (``ger``), deprecated ones (``iw``, ``in``, ``jw``, ``sh``), and fastText lid.176's
Wikipedia-style labels (``als`` is Alemannic there, ``gsw`` — not Tosk Albanian as in ISO 639-3; its ``no`` is
Bokmål, ``nob``).

Matching (:func:`same_language`) is macrolanguage-aware, as ISO 639-3 defines macrolanguages: ``no`` (``nor``)
matches ``nb`` (``nob``) and ``nn`` (``nno``), but ``nob`` and ``nno`` do not match each other; ``zh`` matches
``cmn``/``yue``/``wuu``; ``sh`` (``hbs``) matches ``sr``/``hr``/``bs``. Indonesian is left out of Malay (``ms``)
on purpose: it has its own 639-1 code and nobody who asks for ``ms`` means it. Scripts only count when both
sides name one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

#: ISO 639-1 → ISO 639-3 (every 639-1 code, plus deprecated ones still in use)
ISO639_1_TO_3: dict[str, str] = dict(
    pair.split(":")
    for pair in """
aa:aar ab:abk ae:ave af:afr ak:aka am:amh an:arg ar:ara as:asm av:ava ay:aym az:aze ba:bak be:bel bg:bul bh:bih
bi:bis bm:bam bn:ben bo:bod br:bre bs:bos ca:cat ce:che ch:cha co:cos cr:cre cs:ces cu:chu cv:chv cy:cym da:dan
de:deu dv:div dz:dzo ee:ewe el:ell en:eng eo:epo es:spa et:est eu:eus fa:fas ff:ful fi:fin fj:fij fo:fao fr:fra
fy:fry ga:gle gd:gla gl:glg gn:grn gu:guj gv:glv ha:hau he:heb hi:hin ho:hmo hr:hrv ht:hat hu:hun hy:hye hz:her
ia:ina id:ind ie:ile ig:ibo ii:iii ik:ipk io:ido is:isl it:ita iu:iku ja:jpn jv:jav ka:kat kg:kon ki:kik kj:kua
kk:kaz kl:kal km:khm kn:kan ko:kor kr:kau ks:kas ku:kur kv:kom kw:cor ky:kir la:lat lb:ltz lg:lug li:lim ln:lin
lo:lao lt:lit lu:lub lv:lav mg:mlg mh:mah mi:mri mk:mkd ml:mal mn:mon mr:mar ms:msa mt:mlt my:mya na:nau nb:nob
nd:nde ne:nep ng:ndo nl:nld nn:nno no:nor nr:nbl nv:nav ny:nya oc:oci oj:oji om:orm or:ori os:oss pa:pan pi:pli
pl:pol ps:pus pt:por qu:que rm:roh rn:run ro:ron ru:rus rw:kin sa:san sc:srd sd:snd se:sme sg:sag si:sin sk:slk
sl:slv sm:smo sn:sna so:som sq:sqi sr:srp ss:ssw st:sot su:sun sv:swe sw:swa ta:tam te:tel tg:tgk th:tha ti:tir
tk:tuk tl:tgl tn:tsn to:ton tr:tur ts:tso tt:tat tw:twi ty:tah ug:uig uk:ukr ur:urd uz:uzb ve:ven vi:vie vo:vol
wa:wln wo:wol xh:xho yi:yid yo:yor za:zha zh:zho zu:zul
iw:heb in:ind ji:yid jw:jav mo:ron sh:hbs
""".split()
)

_DEPRECATED_1 = ("iw", "in", "ji", "jw", "mo", "sh")
ISO639_3_TO_1: dict[str, str] = {v: k for k, v in ISO639_1_TO_3.items() if k not in _DEPRECATED_1}
ISO639_3_TO_1["hbs"] = "sh"

#: ISO 639-2/B (bibliographic) codes that differ from 639-3
_BIBLIOGRAPHIC = {
    "alb": "sqi",
    "arm": "hye",
    "baq": "eus",
    "bur": "mya",
    "chi": "zho",
    "cze": "ces",
    "dut": "nld",
    "fre": "fra",
    "geo": "kat",
    "ger": "deu",
    "gre": "ell",
    "ice": "isl",
    "mac": "mkd",
    "mao": "mri",
    "may": "msa",
    "per": "fas",
    "rum": "ron",
    "slo": "slk",
    "tib": "bod",
    "wel": "cym",
}

#: fastText lid.176 labels (Wikipedia language codes) whose meaning differs from ISO 639. lid.176 was trained on
#: Wikipedia/Tatoeba/SETimes, where ``no`` is the Bokmål Wikipedia (Nynorsk is ``nn``): its ``no`` is Bokmål, so a
#: recipe asking for ``nn`` must not get it while ``nb`` and ``no`` do.
LID176_LABELS = {"als": "gsw", "sh": "hbs", "bh": "bih", "no": "nob"}

#: ISO 639-3 macrolanguages (and the collective ``bih``) → member individual languages (those that occur in
#: language-ID label sets; ``ind`` deliberately not under ``msa``)
MACROLANGUAGES: dict[str, frozenset[str]] = {
    k: frozenset(v.split())
    for k, v in {
        "nor": "nob nno",
        "hbs": "srp hrv bos cnr",
        "zho": "cmn yue wuu nan hak gan hsn cjy cdo cpx czh czo lzh mnp",
        "msa": "zsm min bjn meo zlm kxd jax mui",
        "ara": "arb arz ary arq apc ajp acm apd aeb afb ayl ars acq abv shu ssh aec ayp acw ayh acx abh adf aao auz "
        "avl ayn acy pga",
        "fas": "pes prs",
        "sqi": "als aln aae aat",
        "aze": "azj azb",
        "kur": "kmr ckb sdh lki",
        "est": "ekk vro",
        "lav": "lvs ltg",
        "swa": "swh swc",
        "uzb": "uzn uzs",
        "mon": "khk mvf",
        "nep": "npi dty",
        "ori": "ory spv",
        "pus": "pbu pst pbt",
        "grn": "gug gui gun nhd",
        "que": "quz quy qug qup qus qxa qvi qwh quh qul",
        "srd": "sro src sdc sdn",
        "kom": "kpv koi",
        "chm": "mhr mrj",
        "lah": "pnb skr hnd jat phr xhe hno",
        "kok": "gom knn",
        "zza": "diq kiu",
        "yid": "ydd yih",
        "bua": "bxr bxm bxu",
        "mlg": "plt msh bhr bmm skg tkg txy xmv xmw bzc tdx",
        "aka": "twi fat",
        "orm": "gaz hae orc gax",
        "iku": "ike ikt",
        "bih": "mai bho mag",
    }.items()
}
_MACRO_OF: dict[str, str] = {member: macro for macro, members in MACROLANGUAGES.items() for member in members}

_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_].*)?$")


class Language(NamedTuple):
    """A normalised language: ISO 639-3 code and optional ISO 15924 script (``Language("srp", "Cyrl")``)."""

    code: str
    script: str | None = None

    def __str__(self) -> str:
        return f"{self.code}_{self.script}" if self.script else self.code

    @property
    def iso639_1(self) -> str | None:
        return ISO639_3_TO_1.get(self.code)


@lru_cache(maxsize=4096)
def parse(code: str, model_label: bool = False) -> Language:
    """Normalise a language code (639-1/-2B/-3, optional script/region subtags) to :class:`Language`.

    ``model_label=True`` reads fastText lid.176 labels (``__label__als`` → Alemannic ``gsw``).
    Raises ``ValueError`` for something that is not a language tag.
    """
    raw = code.strip()
    if raw.startswith("__label__"):
        raw, model_label = raw[len("__label__") :], True
    match = _TAG.match(raw)
    if match is None:
        raise ValueError(
            f"{code!r} is not a language code: use ISO 639-1 ('en'), 639-3 ('eng') or 639-3 with a script ('srp_Cyrl')"
        )
    lang, script = match.group(1).lower(), match.group(2)
    if model_label and lang in LID176_LABELS:
        lang = LID176_LABELS[lang]
    lang = ISO639_1_TO_3.get(lang, _BIBLIOGRAPHIC.get(lang, lang))
    return Language(lang, script.title() if script else None)


def normalise(code: str) -> str:
    """``"en"``, ``"eng"``, ``"en-US"`` → ``"eng"``; ``"sr-Latn"`` → ``"srp_Latn"`` (the canonical string form)."""
    return str(parse(code))


def to_iso639_1(code: str) -> str:
    """The two-letter code where one exists (``"eng"`` → ``"en"``), else the 639-3 code; script kept."""
    lang = parse(code)
    short = lang.iso639_1 or lang.code
    return f"{short}_{lang.script}" if lang.script else short


def macrolanguage(code: str) -> str | None:
    """The macrolanguage an individual language belongs to (``"nob"`` → ``"nor"``), or None."""
    return _MACRO_OF.get(parse(code).code)


def same_language(a: str | Language, b: str | Language) -> bool:
    """True when ``a`` and ``b`` name the same language, or one is the other's macrolanguage (see module doc)."""
    la = a if isinstance(a, Language) else parse(a)
    lb = b if isinstance(b, Language) else parse(b)
    if la.script and lb.script and la.script != lb.script:
        return False
    return la.code == lb.code or _MACRO_OF.get(la.code) == lb.code or _MACRO_OF.get(lb.code) == la.code


def language_key(code: str) -> str:
    """The canonical string of a language code (:func:`normalise`), or the code itself lower-cased when it is not
    one (a group value such as ``und`` or ``null``), so keys that are not languages still compare."""
    try:
        return normalise(code)
    except ValueError:
        return code.strip().lower()


def match_rank(a: str | Language, b: str | Language) -> int | None:
    """How closely two codes name the same language: 0 the same language and script (``en`` / ``eng``), 1 the same
    language with a script on one side only (``eng`` / ``eng_Latn``), 2 a macrolanguage and its member (``no`` /
    ``nob``); None when they differ (or name different scripts)."""
    la = a if isinstance(a, Language) else parse(a)
    lb = b if isinstance(b, Language) else parse(b)
    if la.script and lb.script and la.script != lb.script:
        return None
    if la.code == lb.code:
        return 0 if la.script == lb.script else 1
    return 2 if same_language(la, lb) else None


def best_match(code: str, keys: Iterable[str]) -> str | None:
    """The key among ``keys`` (a recipe's per-language settings, mix weights …) that names the language ``code``
    (a document's ``language`` value), the closest first (:func:`match_rank`); the exact string always wins. Keys
    and codes that are not language codes match only themselves. This is the one place languages are compared:
    ``en``, ``eng`` and ``eng_Latn`` in a recipe all match a document language_id labelled ``eng``."""
    keys = list(keys)
    if code in keys:
        return code
    try:
        lang = parse(code)
    except ValueError:
        return None
    best: tuple[int, str] | None = None
    for key in keys:
        try:
            rank = match_rank(lang, key)
        except ValueError:
            continue
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, key)
    return best[1] if best else None


def duplicate_languages(keys: Iterable[str]) -> list[list[str]]:
    """Groups of keys naming the same language and script (``[en, eng]``): a recipe keyed by both is ambiguous."""
    seen: dict[str, list[str]] = {}
    for key in keys:
        try:
            seen.setdefault(normalise(key), []).append(key)
        except ValueError:
            continue
    return [group for group in seen.values() if len(group) > 1]


#: first word of a Unicode character name -> ISO 15924 script (the scripts FineWeb2's language keys use most)
_SCRIPTS = {
    "LATIN": "Latn",
    "CYRILLIC": "Cyrl",
    "ARABIC": "Arab",
    "GREEK": "Grek",
    "HEBREW": "Hebr",
    "DEVANAGARI": "Deva",
    "BENGALI": "Beng",
    "GURMUKHI": "Guru",
    "GUJARATI": "Gujr",
    "ORIYA": "Orya",
    "TAMIL": "Taml",
    "TELUGU": "Telu",
    "KANNADA": "Knda",
    "MALAYALAM": "Mlym",
    "SINHALA": "Sinh",
    "THAI": "Thai",
    "LAO": "Laoo",
    "TIBETAN": "Tibt",
    "MYANMAR": "Mymr",
    "GEORGIAN": "Geor",
    "HANGUL": "Hang",
    "ETHIOPIC": "Ethi",
    "KHMER": "Khmr",
    "ARMENIAN": "Armn",
    "THAANA": "Thaa",
    "SYRIAC": "Syrc",
    "MONGOLIAN": "Mong",
    "CHEROKEE": "Cher",
    "CJK": "Hani",
    "HIRAGANA": "Jpan",
    "KATAKANA": "Jpan",
    "TIFINAGH": "Tfng",
    "NKO": "Nkoo",
    "CANADIAN": "Cans",
    "OL": "Olck",
}


@lru_cache(maxsize=65536)
def _script_of(c: str) -> str | None:
    """The ISO 15924 script of one letter (None for scripts outside ``_SCRIPTS``), cached per character."""
    import unicodedata

    return _SCRIPTS.get(unicodedata.name(c, "?").split(" ", 1)[0])


_ASCII_LETTER = re.compile(r"[A-Za-z]")


def dominant_script(text: str, sample: int = 2000) -> str | None:
    """The ISO 15924 script of most letters in the first ``sample`` characters (``Jpan`` as soon as kana occur among
    Han characters); None when there are no letters. For models whose labels carry no script (lid.176).

    ASCII text (its letters are all Latin) is answered without a per-character pass; otherwise letters are counted
    per distinct character (``Counter`` keeps first-occurrence order, so ties between scripts break as a
    per-character pass would: the script seen first wins)."""
    head = text[:sample]
    if head.isascii():
        return "Latn" if _ASCII_LETTER.search(head) else None
    counts: dict[str, int] = {}
    for c, n in Counter(head).items():
        if c.isalpha():
            script = _script_of(c)
            if script:
                counts[script] = counts.get(script, 0) + n
    if not counts:
        return None
    if counts.get("Jpan") and counts.get("Hani", 0) + counts["Jpan"] >= max(counts.values()):
        return "Jpan"
    return max(counts, key=lambda k: counts[k])

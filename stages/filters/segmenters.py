"""Word splitting for languages whose words are not (only) whitespace-delimited: Chinese, Japanese, Thai, Indic …

datatrove 0.10.1 (what FineWeb2 ran) assigns each language a word tokenizer in ``tokenizer_assignment.csv``: spaCy's
rule-based ``spacy.blank`` for most (ported in :mod:`.words`), and for the rest an external segmenter. Here, per
assignment:

* ``IndicNLPTokenizer`` (Hindi, Bengali, Marathi, Urdu, … 129 languages): indic-nlp-library's ``trivial_tokenize``
  ported below (MIT, Anoop Kunchukuttan): punctuation-split then space-split, number sequences rejoined. Exact, no
  dependency.
* spaCy ``zh`` (Chinese): spaCy's jieba segmenter, i.e. ``jieba.cut(text)`` minus blanks, when ``jieba`` is installed
  (exact; jieba cuts at whitespace, so each whitespace chunk is segmented once and memoised). Fallback: spaCy's own
  default for Chinese, one word per character (Han), other text by the ``xx`` rules.
* spaCy ``ja`` (Japanese): SudachiPy split mode A (datatrove's tokenizer) when ``sudachipy`` and
  ``sudachidict_core`` are installed. Fallback: one word per Han or hiragana character, katakana runs as words,
  other text by the ``xx`` rules.
* ``ThaiTokenizer``: pythainlp ``newmm-safe`` when installed (exact). ``KiwiTokenizer`` (Korean): kiwipiepy;
  ``KhmerTokenizer``: khmer-nltk; ``LaoTokenizer``: laonlp; ``BurmeseTokenizer``: pyidaungsu; ``TibetanTokenizer``:
  botok. Each is used when installed; the fallback is the ``xx`` rules (whitespace and punctuation; a warning is
  logged once naming the package, since word-length and stop-word rules then see phrases, not words).
* ``StanzaTokenizer`` (255 languages, neural models downloaded at run time) and spaCy ``vi`` (pyvi): the ``xx``
  rules, which split whitespace-delimited scripts as the models mostly do.

``pip install 'curate[multilingual]'`` installs jieba and pythainlp (pure Python).
"""

from __future__ import annotations

import logging
import re
import string
import unicodedata
from collections.abc import Callable
from functools import cache

log = logging.getLogger(__name__)

MAX_CACHE_ENTRIES = 2_000_000

# -- indic-nlp-library 0.92, indicnlp/tokenize/indic_tokenize.py (MIT): the same patterns ----------------------------
_INDIC = re.compile(
    r"([" + string.punctuation + r"\u0964\u0965\uAAF1\uAAF0\uABEB\uABEC\uABED\uABEE\uABEF\u1C7E\u1C7F" + r"])"
)
_URDU = re.compile(r"([" + string.punctuation + r"\u0609\u060A\u060C\u061E\u066A\u066B\u066C\u066D\u06D4" + r"])")
_NUM_SEQ = re.compile(r"([0-9]+ [,.:/] )+[0-9]+")
_SPACES = re.compile(r"[ ]+")
#: languages whose IndicNLP assignment uses the Urdu punctuation (every Arabic-script one in datatrove's table)
URDU_RULE_CODES = frozenset("bcc ckb glk hac kas kur lki lrc mzn pbt pnb pus sdh skr snd urd".split())


def indic_tokens(text: str, urdu: bool = False) -> list[str]:
    """indic-nlp-library's ``trivial_tokenize_indic`` / ``trivial_tokenize_urdu``, then datatrove's blank strip."""
    s = _SPACES.sub(" ", (_URDU if urdu else _INDIC).sub(r" \1 ", text.replace("\t", " "))).strip(" ")
    if not urdu:
        new_s = ""
        prev = 0
        for m in _NUM_SEQ.finditer(s):
            start, end = m.start(), m.end()
            if start > prev:  # (sic: a sequence right at the previous end is left as it is, as upstream does)
                new_s = new_s + s[prev:start] + s[start:end].replace(" ", "")
                prev = end
        s = new_s + s[prev:]
    return [t.strip() for t in s.split(" ") if t.strip()]


# -- fallbacks for unspaced scripts ------------------------------------------------------------------------------
def _script_of(c: str) -> str:
    if "\u3040" <= c <= "\u309f":
        return "hira"
    if "\u30a0" <= c <= "\u30ff" or "\u31f0" <= c <= "\u31ff" or c == "\u30fc":
        return "kana"
    if unicodedata.name(c, "").startswith("CJK UNIFIED IDEOGRAPH") or "\u3400" <= c <= "\u9fff":
        return "han"
    return "other"


def cjk_fallback(chunk: str, rules: Callable[[str], tuple[str, ...]], kana_runs: bool) -> tuple[str, ...]:
    """One word per Han or hiragana character (spaCy's default ``char`` segmenter for Chinese; Japanese particles and
    FineWeb2's Japanese stop words are single hiragana), katakana runs as words (``kana_runs``: loanwords), everything
    else split by ``rules`` (the ``xx`` rules)."""
    out: list[str] = []
    run = ""
    run_script = ""
    for c in chunk:
        s = _script_of(c)
        if s in ("han", "hira") or (s == "kana" and not kana_runs):
            s = "han"
        if s != run_script or s == "han":
            if run:
                out.extend((run,) if run_script in ("hira", "kana", "han") else rules(run))
            run, run_script = c, s
        else:
            run += c
    if run:
        out.extend((run,) if run_script in ("hira", "kana", "han") else rules(run))
    return tuple(t for t in out if t.strip())


class SegmentedTokenizer:
    """The interface of :class:`~curate.stages.filters.words.RuleTokenizer` (``words``, ``chunk_tokens``,
    ``chunks_tokens``, ``language``) over a segmenter. ``per_chunk`` segmenters give the same words for a text as
    for its whitespace chunks one by one (memoised); the others always see the whole text."""

    specials: dict[str, tuple[str, ...]] = {}

    def __init__(self, name: str, segment: Callable[[str], list[str] | tuple[str, ...]], per_chunk: bool, exact: bool):
        self.language = name
        self.exact = exact
        self._segment = segment
        self._per_chunk = per_chunk
        self._cache: dict[str, tuple[str, ...]] = {}

    def has_multiword_specials(self, text: str) -> bool:
        return not self._per_chunk  # whole-text segmenters take the features' per-document path

    def chunk_tokens(self, chunk: str) -> tuple[str, ...]:
        tokens = self._cache.get(chunk)
        if tokens is None:
            if len(self._cache) >= MAX_CACHE_ENTRIES:
                self._cache.clear()
            tokens = self._cache[chunk] = tuple(t.strip() for t in self._segment(chunk) if t.strip())
        return tokens

    def chunks_tokens(self, chunks: list[str]) -> list[tuple[str, ...]]:
        return [self.chunk_tokens(c) for c in chunks]

    def words(self, text: str) -> list[str]:
        if not self._per_chunk:
            return [t.strip() for t in self._segment(text) if t.strip()]
        out: list[str] = []
        for chunk in text.split():
            out.extend(self.chunk_tokens(chunk))
        return out


@cache
def _warn_missing(package: str, language: str) -> None:
    log.warning(
        "word splitting for %s: %s is not installed, falling back to whitespace/punctuation rules "
        "(pip install %s; see docs/multilingual.md)",
        language,
        package,
        package,
    )


def _xx_rules() -> Callable[[str], tuple[str, ...]]:
    from curate.stages.filters.words import _tokenizer

    return _tokenizer("xx").chunk_tokens


def _xx(name: str, package: str | None = None) -> SegmentedTokenizer:
    if package:
        _warn_missing(package, name)
    rules = _xx_rules()
    return SegmentedTokenizer(f"{name}:xx", rules, per_chunk=True, exact=False)


def _chinese() -> SegmentedTokenizer:
    try:
        import jieba
    except ImportError:
        rules = _xx_rules()
        return SegmentedTokenizer("zh:char", lambda c: cjk_fallback(c, rules, kana_runs=False), True, exact=False)
    jieba.setLogLevel(logging.WARNING)
    seg = jieba.Tokenizer()
    return SegmentedTokenizer("zh:jieba", lambda c: list(seg.cut(c, cut_all=False)), per_chunk=True, exact=True)


def _japanese() -> SegmentedTokenizer:
    try:
        from sudachipy import dictionary, tokenizer

        tok = dictionary.Dictionary().create(mode=tokenizer.Tokenizer.SplitMode.A)
    except Exception:  # noqa: BLE001 - ImportError, or sudachidict_core missing
        rules = _xx_rules()
        return SegmentedTokenizer("ja:runs", lambda c: cjk_fallback(c, rules, kana_runs=True), True, exact=False)
    return SegmentedTokenizer(
        "ja:sudachi", lambda t: [m.surface() for m in tok.tokenize(t)], per_chunk=False, exact=True
    )


def _thai() -> SegmentedTokenizer:
    try:
        from pythainlp.tokenize import word_tokenize
    except ImportError:
        return _xx("th", "pythainlp")
    return SegmentedTokenizer(
        "th:newmm-safe",
        lambda t: word_tokenize(t, keep_whitespace=False, engine="newmm-safe"),
        per_chunk=False,
        exact=True,
    )


def _optional(
    name: str, package: str, module: str, make: Callable[[object], Callable[[str], list[str]]]
) -> SegmentedTokenizer:
    try:
        mod = __import__(module, fromlist=["_"])
    except ImportError:
        return _xx(name, package)
    return SegmentedTokenizer(f"{name}:{module}", make(mod), per_chunk=False, exact=True)


def _korean() -> SegmentedTokenizer:
    def make(mod):
        kiwi = mod.Kiwi(model_type="sbg")
        digits = re.compile("[0-9,]{20,}")

        def split(text: str) -> list[str]:
            text = digits.sub("", text)
            return [text[t.start : t.end] for t in kiwi.tokenize(text)]

        return split

    return _optional("ko", "kiwipiepy", "kiwipiepy", make)


_SEGMENTERS: dict[str, Callable[[], SegmentedTokenizer]] = {
    "zh": _chinese,
    "ja": _japanese,
    "unsupported:ThaiTokenizer": _thai,
    "unsupported:KiwiTokenizer": _korean,
    "unsupported:KhmerTokenizer": lambda: _optional(
        "km", "khmer-nltk", "khmernltk", lambda m: lambda t: m.word_tokenize(t, return_tokens=True)
    ),
    "unsupported:LaoTokenizer": lambda: _optional("lo", "laonlp", "laonlp.tokenize", lambda m: m.word_tokenize),
    "unsupported:BurmeseTokenizer": lambda: _optional(
        "my", "pyidaungsu-numpy2", "pyidaungsu", lambda m: lambda t: m.tokenize(t, form="word")
    ),
    "unsupported:TibetanTokenizer": lambda: _optional(
        "bo",
        "botok",
        "botok",
        lambda m: (lambda wt: lambda t: [w.text for w in wt.tokenize(t, split_affixes=False)])(m.WordTokenizer()),
    ),
}


@cache
def segmenter(assignment: str, urdu: bool = False) -> SegmentedTokenizer | None:
    """The tokenizer for a datatrove assignment that is not a ``spacy.blank`` rule set (None: use the rules)."""
    if assignment == "unsupported:IndicNLPTokenizer":
        return SegmentedTokenizer(
            "indic:ur" if urdu else "indic", lambda t: indic_tokens(t, urdu), per_chunk=False, exact=True
        )
    make = _SEGMENTERS.get(assignment)
    return make() if make is not None else None

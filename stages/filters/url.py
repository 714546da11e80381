"""URL filter: domain and URL blocklists in UT1 format plus banned-word lists, as datatrove 0.10.1's ``URLFilter``
(the filter FineWeb runs first)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
from pydantic import Field

from curate.cache import missing_path
from curate.errors import Problem
from curate.registry import register
from curate.stage import Params, Stage, StepOutput

_NON_ALNUM = re.compile(r"[^a-zA-Z0-9]+")


def normalize(text: str) -> str:
    """datatrove's URL-word normalisation: drop every non-alphanumeric character, lowercase."""
    return _NON_ALNUM.sub("", text).lower()


def read_list(path: Path, normalized: bool) -> set[str]:
    """Entries of a list file: one per line, ``#`` comments and blank lines skipped."""
    out = set()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            out.add(normalize(entry) if normalized else entry)
    return out


def read_ut1(folder: Path, categories: list[str] | None) -> tuple[set[str], set[str]]:
    """(domains, urls) of a UT1-style blocklist: ``folder/<category>/{domains,urls}``, or one category folder."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"url_filter: blocklist folder {str(folder)!r} does not exist; give a UT1-format "
            "folder (one sub-folder per category, each with `domains` and/or `urls` files)"
        )
    category_dirs = (
        [folder]
        if (folder / "domains").exists() or (folder / "urls").exists()
        else sorted(p for p in folder.iterdir() if p.is_dir())
    )
    if categories is not None:
        wanted = set(categories)
        category_dirs = [p for p in category_dirs if p.name in wanted]
        missing = wanted - {p.name for p in category_dirs}
        if missing:
            raise FileNotFoundError(f"url_filter: categories {sorted(missing)} not found in {str(folder)!r}")
    domains: set[str] = set()
    urls: set[str] = set()
    for d in category_dirs:
        if (d / "domains").is_file():
            domains |= read_list(d / "domains", normalized=False)
        if (d / "urls").is_file():
            urls |= read_list(d / "urls", normalized=False)
    return domains, urls


@register
class UrlFilter(Stage):
    """Drops documents whose URL's registered domain or full host is block-listed, whose URL is block-listed, whose
    URL words include a banned word or at least ``soft_word_threshold`` soft-banned words, or whose normalised URL
    contains a banned sub-word.

    Lists come from the user: UT1-format folders (https://dsi.ut-capitole.fr/blacklists/, one folder per category
    with ``domains``/``urls`` files), plain list files (one entry per line, ``#`` comments) and inline lists. The
    rules, their order, the soft threshold (2) and the reasons (domain, subdomain, url, hard_blacklisted,
    soft_blacklisted, blacklisted_subword) are datatrove's URLFilter, FineWeb's first step. Domains are split with
    tldextract's bundled public-suffix snapshot (no network).
    """

    name = "url_filter"
    kind = "map"
    requires = ("url",)
    version = 1

    class Params(Params):
        blocklist_dirs: list[str] = Field(default_factory=list, description="UT1-format blocklist folders")
        categories: list[str] | None = Field(None, description="UT1 categories to use (default: all), e.g. [adult]")
        domain_files: list[str] = Field(default_factory=list, description="files of blocked domains")
        url_files: list[str] = Field(default_factory=list, description="files of blocked full URLs")
        banned_words_files: list[str] = Field(default_factory=list, description="files of banned URL words")
        banned_subwords_files: list[str] = Field(default_factory=list, description="files of banned sub-words")
        soft_banned_words_files: list[str] = Field(default_factory=list, description="files of soft-banned words")
        extra_domains: list[str] = Field(default_factory=list, description="more blocked domains")
        extra_urls: list[str] = Field(default_factory=list, description="more blocked URLs")
        banned_words: list[str] = Field(default_factory=list, description="more banned URL words")
        banned_subwords: list[str] = Field(default_factory=list, description="more banned sub-words")
        soft_banned_words: list[str] = Field(default_factory=list, description="more soft-banned words")
        soft_word_threshold: int = Field(2, ge=1, description="drop when at least this many soft-banned words occur")

    def check_files(self) -> list[Problem]:
        p = self.params
        fields = ("blocklist_dirs", "domain_files", "url_files", "banned_words_files", "banned_subwords_files")
        return [
            problem
            for field in (*fields, "soft_banned_words_files")
            for i, path in enumerate(getattr(p, field))
            for problem in missing_path(f"{field}[{i}]", path, "blocklist")
        ]

    def setup(self) -> None:
        try:
            from tldextract import TLDExtract
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("url_filter needs tldextract: pip install tldextract") from exc
        p = self.params
        self._extract = TLDExtract(suffix_list_urls=(), cache_dir=None)  # the bundled public-suffix snapshot
        self.domains = {d.strip() for d in p.extra_domains}
        self.urls = {u.strip() for u in p.extra_urls}
        for folder in p.blocklist_dirs:
            domains, urls = read_ut1(Path(folder), p.categories)
            self.domains |= domains
            self.urls |= urls

        def files(paths: list[str], normalized: bool) -> set[str]:
            out: set[str] = set()
            for path in paths:
                if not Path(path).expanduser().is_file():
                    raise FileNotFoundError(f"url_filter: list file {path!r} does not exist")
                out |= read_list(Path(path).expanduser(), normalized)
            return out

        self.domains |= files(p.domain_files, False)
        self.urls |= files(p.url_files, False)
        self.banned_words = files(p.banned_words_files, True) | {normalize(w) for w in p.banned_words}
        self.soft_banned_words = files(p.soft_banned_words_files, True) | {normalize(w) for w in p.soft_banned_words}
        subwords = sorted(
            w for w in files(p.banned_subwords_files, True) | {normalize(w) for w in p.banned_subwords} if w
        )
        self._subwords = re.compile("|".join(re.escape(w) for w in subwords)) if subwords else None
        self.banned_words.discard("")
        self.soft_banned_words.discard("")

    def reason(self, url: str | None) -> str | None:
        if not url:
            return None
        info = self._extract(url)
        registered = getattr(info, "top_domain_under_public_suffix", None)
        if registered is None:  # tldextract < 5.3
            registered = info.registered_domain
        if registered in self.domains:
            return "domain"
        if info.fqdn in self.domains:
            return "subdomain"
        if url in self.urls:
            return "url"
        words = set(_NON_ALNUM.split(url))
        if self.banned_words and not words.isdisjoint(self.banned_words):
            return "hard_blacklisted"
        if self.soft_banned_words and len(words & self.soft_banned_words) >= self.params.soft_word_threshold:
            return "soft_blacklisted"
        if self._subwords is not None and self._subwords.search(normalize(url)):
            return "blacklisted_subword"
        return None

    def process(self, table: pa.Table) -> StepOutput:
        urls = table.column("url").to_pylist()
        return StepOutput.split(table, [self.reason(u) for u in urls])

"""``safety``: tag (and on request drop) unsafe documents from a model score, URL blocklists and word lists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.errors import Problem
from curate.registry import register
from curate.stage import Params, Ratio, Resources, Stage, StepOutput

from .models import read_model_card, reference_problems, resolve_file

_WORD_SPLIT = r"[^\pL\pN]+"
_BOUNDARY = r"[^\pL\pN]"


def read_list(path: str) -> list[str]:
    """Entries of a list file: one per line, ``#`` comments and blank lines skipped; hosts-file lines
    (``0.0.0.0 example.com``) give their last field."""
    entries = []
    for line in resolve_file(path, "list file").read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            entries.append(line.split()[-1] if " " in line and "." in line.split()[-1] else line)
    return entries


def url_hosts(urls: list[str | None]) -> list[str]:
    hosts = []
    for url in urls:
        try:
            host = urlsplit(url or "").hostname or ""
        except ValueError:
            host = ""
        hosts.append(host.removeprefix("www."))
    return hosts


def host_blocked(host: str, domains: frozenset[str]) -> bool:
    """True when the host or any parent domain is in the list (``a.b.example.com`` matches ``example.com``)."""
    parts = host.split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts) - 1 if len(parts) > 1 else 1))


class WordCounter:
    """Counts word-list hits per document: single words by exact match on Unicode word tokens (vectorised with
    Arrow), phrases by a boundary-anchored RE2 pattern (adjacent repeats of a phrase count once)."""

    def __init__(self, entries: list[str]):
        lowered = sorted({e.lower() for e in entries})
        self.words = pa.array([e for e in lowered if re.fullmatch(r"\w+", e)], pa.string())
        phrases = [e for e in lowered if not re.fullmatch(r"\w+", e)]
        self.phrase_pattern = (
            f"(?:^|{_BOUNDARY})(?:{'|'.join(re.escape(p) for p in phrases)})(?:{_BOUNDARY}|$)" if phrases else None
        )

    def count(self, texts: pa.ChunkedArray | pa.Array) -> np.ndarray:
        lowered = pc.utf8_lower(pc.fill_null(texts, ""))
        tokens = pc.split_pattern_regex(lowered, _WORD_SPLIT)
        flat = pc.list_flatten(tokens)
        hits = np.zeros(len(texts), dtype=np.int64)
        if len(flat) and len(self.words):
            matched = pc.is_in(flat, value_set=self.words).to_numpy(zero_copy_only=False)
            parents = pc.list_parent_indices(tokens).to_numpy()
            hits += np.bincount(parents[matched], minlength=len(texts))
        if self.phrase_pattern:
            hits += pc.count_substring_regex(lowered, self.phrase_pattern).to_numpy(zero_copy_only=False)
        return hits.astype(np.int32)


@register
class Safety(Stage):
    """Safety / toxicity tagging: a model score (fastText or Hugging Face), an adult-domain URL blocklist and word
    lists; tags every document and removes only the signals listed in ``drop``.

    Model: any fastText model or Hugging Face classifier (e.g. one trained with ``curate train-classifier`` on the
    HPLT "porn" labels, or a hub toxicity model); ``<prefix>score`` is the probability of ``score_label``
    (default: the trained model's positive label, or label 1 of a binary HF model) and fires at ``threshold``.
    URL lists are domain files (one domain per line, UT1 blacklist or hosts-file format, as C4/FineWeb/RefinedWeb
    use); a document fires when its host or a parent domain is listed. Word lists (one word or phrase per line,
    e.g. LDNOOBW as C4 uses) fire at ``min_word_hits`` hits. Adds ``<prefix>score``, ``<prefix>url``,
    ``<prefix>word_hits`` (for the signals configured) and ``<prefix>flag`` (any signal fired).
    """

    name = "safety"
    kind = "map"
    requires = ("text",)
    adds = ("<prefix>score", "<prefix>url", "<prefix>word_hits", "<prefix>flag")
    resources = Resources(cpus=1, gpus=0, stateful=True)
    version = 1

    class Params(Params):
        model: str | None = Field(None, description="safety model: fastText file/URL/folder or HF hub id/folder")
        backend: Literal["auto", "fasttext", "hf"] = Field(
            "auto", description="auto: fastText for .bin/.ftz files and fastText folders, else HF"
        )
        score_label: str | None = Field(None, description="label whose probability is the unsafe score")
        threshold: Ratio = Field(0.5, description="model score at or above which the model signal fires")
        url_blocklists: list[str] = Field(default_factory=list, description="domain list files (adult domains)")
        word_lists: list[str] = Field(default_factory=list, description="word/phrase list files")
        min_word_hits: int = Field(3, ge=1, description="word-list hits at which the word signal fires")
        drop: list[Literal["model", "url", "words", "any"]] = Field(
            default_factory=list, description="signals that remove a document (default: tag only)"
        )
        prefix: str = Field("safety_", description="prefix of the added columns")
        device: Literal["auto", "cpu", "cuda"] = Field("auto", description="HF backend device")
        model_batch_size: int = Field(64, ge=1, description="HF backend: texts per forward pass")
        max_length: int | None = Field(None, description="HF backend: truncate at N tokens (default: model max)")
        text_column: str = Field("text", description="column to score")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        p = self.params
        signals = {"score": bool(p.model), "url": bool(p.url_blocklists), "word_hits": bool(p.word_lists), "flag": True}
        self.adds = tuple(f"{p.prefix}{name}" for name, on in signals.items() if on)

    def check_files(self) -> list[Problem]:
        p = self.params
        problems = reference_problems("model", p.model, "safety model", hub_file="config.json") if p.model else []
        for field in ("url_blocklists", "word_lists"):
            for i, path in enumerate(getattr(p, field)):
                problems += reference_problems(f"{field}[{i}]", path, "list file")
        return problems

    def setup(self) -> None:
        p = self.params
        self.fasttext = self.hf = None
        if p.model:
            if self._backend() == "fasttext":
                from .fasttext_classifier import FastTextScorer

                self.fasttext = FastTextScorer(p.model)
                self.score_label = p.score_label or self.fasttext.default_score_label()
                if self.score_label not in self.fasttext.labels:
                    raise ValueError(f"safety: set score_label to one of {self.fasttext.labels} (the unsafe label)")
            else:
                from .hf_classifier import HfScorer

                self.hf = HfScorer(p.model, p.device, "auto", p.max_length, p.model_batch_size)
                if p.score_label is not None and p.score_label not in self.hf.labels:
                    raise ValueError(f"safety: score_label {p.score_label!r} is not one of {self.hf.labels}")
        self.domains = frozenset(d.lower().removeprefix("www.") for f in p.url_blocklists for d in read_list(f))
        self.words = WordCounter([w for f in p.word_lists for w in read_list(f)]) if p.word_lists else None

    def _backend(self) -> str:
        p = self.params
        if p.backend != "auto":
            return p.backend
        path = Path(p.model or "")
        card = read_model_card(path) if path.is_dir() else None
        if card is not None:
            return "fasttext" if card.get("kind") == "fasttext" else "hf"
        return "fasttext" if p.model.split("?")[0].endswith((".bin", ".ftz")) else "hf"

    def model_score(self, texts: list[str | None]) -> np.ndarray:
        if self.fasttext is not None:
            return self.fasttext.probabilities(texts)[self.score_label]
        s = self.hf
        logits = s.logits(texts)
        if s.regression:
            return logits[:, 0]
        probs = s.probabilities(logits)
        index = s.labels.index(self.params.score_label) if self.params.score_label else min(1, len(s.labels) - 1)
        return probs[:, index]

    def process(self, table: pa.Table) -> pa.Table | StepOutput:
        p = self.params
        n = table.num_rows
        fired: dict[str, np.ndarray] = {}
        if self.fasttext is not None or self.hf is not None:
            score = self.model_score(table.column(p.text_column).to_pylist()) if n else np.zeros(0, np.float32)
            table = table.append_column(f"{p.prefix}score", pa.array(score.astype(np.float32), pa.float32()))
            fired["model"] = score >= p.threshold
        if p.url_blocklists:
            urls = table.column("url").to_pylist() if "url" in table.column_names else [None] * n
            blocked = np.fromiter((host_blocked(h, self.domains) for h in url_hosts(urls)), dtype=bool, count=n)
            table = table.append_column(f"{p.prefix}url", pa.array(blocked, pa.bool_()))
            fired["url"] = blocked
        if self.words is not None:
            hits = self.words.count(table.column(p.text_column))
            table = table.append_column(f"{p.prefix}word_hits", pa.array(hits, pa.int32()))
            fired["words"] = hits >= p.min_word_hits
        any_fired = np.logical_or.reduce(list(fired.values())) if fired else np.zeros(n, dtype=bool)
        table = table.append_column(f"{p.prefix}flag", pa.array(any_fired, pa.bool_()))
        if not p.drop:
            return table
        reasons = np.full(n, None, dtype=object)
        for signal in ("words", "url", "model"):
            if (signal in p.drop or "any" in p.drop) and signal in fired:
                reasons[fired[signal]] = f"{self.name}_{signal}"
        return StepOutput.split(table, pa.array(reasons.tolist(), pa.string()))

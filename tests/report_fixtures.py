"""Fabricated runs for the report and inspect tests and for bench/report_speed.py (a generator, not a blob).

``fabricate_run(out)`` plays a small pipeline over generated documents the way the engine does: each step splits
its input into kept and rejected rows by reason, collects :class:`curate.stats.StepStats` per shard with the real
``observe_kept``/``observe_rejected``, writes ``OUT/<step>/<shard>.parquet``, ``rejected/`` and ``_done/`` markers,
and merges the step's stats into ``OUT/_stats.json``. ``fabricate_stats(n_docs)`` builds the same ``_stats.json``
shape at any scale (1M documents, many shards) without documents, for the speed benchmark.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.fingerprint import fingerprint
from curate.stats import CATEGORIES_KEPT, EXCERPT_CHARS, VALUES_PER_STEP, StepStats, merge_all

WORDS = (
    "the of and to in is was for on that with as by at from his an were are which this be or had it not "
    "their first one new all also has been after who other two they its time can more such most when would "
    "data model river city music school history energy garden recipe market season travel health water"
).split()
LANGS = ["en"] * 40 + ["de"] * 4 + ["fr"] * 3 + ["es"] * 3 + ["ru", "ja", "zh", "it", "pt", "nl", "pl"]
# text a report must escape, never render (and an attribute-breaking URL)
HOSTILE = '<script>alert("x")</script> <b>bold</b> & "quoted" \'single\' </div></td>'
HOSTILE_URL = 'https://evil.example/"><img src=x onerror=alert(1)>'


def _documents(n: int, rng: np.random.Generator) -> pa.Table:
    lengths = np.clip(rng.lognormal(5.3, 1.0, n).astype(int), 3, 6000)  # words per document
    texts = []
    for i, n_words in enumerate(lengths):
        words = rng.choice(len(WORDS), size=int(n_words))
        text = " ".join(WORDS[w] for w in words)
        text = ".\n".join(text[j : j + 300] for j in range(0, len(text), 300)) + "."
        if i % 97 == 0:
            text = HOSTILE + "\n" + text
        texts.append(text)
    ids = [f"<urn:uuid:{i:08x}-0000-4000-8000-{i:012x}>" for i in range(n)]
    urls = [HOSTILE_URL if i % 211 == 0 else f"https://site{i % 50}.example.org/page/{i}" for i in range(n)]
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "text": pa.array(texts, pa.string()),
            "url": pa.array(urls, pa.string()),
            "date": pa.array(["2024-10-05T12:00:00Z"] * n, pa.string()),
            "source": pa.array(["CC-MAIN-2024-42/fixture.warc.gz"] * n, pa.string()),
        }
    )


Rule = Callable[[pa.Table, np.random.Generator], tuple[pa.Table, list[str | None], dict[str, int]]]


def _langid(t: pa.Table, rng: np.random.Generator):
    lang = rng.choice(LANGS, size=t.num_rows)
    score = np.where(lang == "en", rng.beta(9, 1.2, t.num_rows), rng.beta(5, 2, t.num_rows)).astype(np.float32)
    t = t.append_column("language", pa.array(lang, pa.string())).append_column("language_score", pa.array(score))
    reasons = [
        "language_not_kept" if la != "en" else "language_low_score" if s < 0.65 else None for la, s in zip(lang, score)
    ]
    return t, reasons, {}


def _gopher_rep(t: pa.Table, rng: np.random.Generator):
    r = rng.random(t.num_rows)
    return t, ["gopher_dup_line_frac" if x < 0.04 else "gopher_top_2_gram" if x < 0.07 else None for x in r], {}


def _gopher_quality(t: pa.Table, rng: np.random.Generator):
    words = pc.utf8_length(t.column("text")).to_numpy() / 5.2
    r = rng.random(t.num_rows)
    reasons = [
        "gopher_short_doc"
        if w < 50
        else "gopher_below_alpha_threshold"
        if x < 0.05
        else "gopher_enough_stop_words"
        if x < 0.08
        else None
        for w, x in zip(words, r)
    ]
    return t, reasons, {}


def _c4(t: pa.Table, rng: np.random.Generator):
    r = rng.random(t.num_rows)
    reasons = ["c4_curly_bracket" if x < 0.01 else "c4_lorem_ipsum" if x < 0.012 else None for x in r]
    return t, reasons, {"c4_lines_removed": int(t.num_rows * 3.4)}


def _minhash(t: pa.Table, rng: np.random.Generator):
    size = np.minimum(rng.zipf(2.2, t.num_rows), 5000).astype(np.int64)
    t = t.append_column("cluster_size", pa.array(size))
    dup = rng.random(t.num_rows) < 0.12
    return t, ["minhash_duplicate" if d else None for d in dup], {"minhash_clusters": int((size > 1).sum())}


def _quality(t: pa.Table, rng: np.random.Generator):
    score = rng.beta(2, 3, t.num_rows).astype(np.float32)
    t = t.append_column("quality_score", pa.array(score))
    return t, ["quality_below_threshold" if s < 0.15 else None for s in score], {}


def _tokenize(t: pa.Table, rng: np.random.Generator):
    tokens = (pc.utf8_length(t.column("text")).to_numpy() / 4.3).astype(np.int32) + 1
    t = t.append_column("token_count", pa.array(tokens, pa.int32()))
    return t, [None] * t.num_rows, {"tokens": int(tokens.sum())}


PIPELINE: list[tuple[str, dict[str, Any], Rule | None]] = [
    ("warc_extract", {"extractor": "trafilatura", "favour_precision": True}, None),
    ("language_id", {"keep": ["en"], "min_score": 0.65}, _langid),
    ("gopher_repetition", {}, _gopher_rep),
    ("gopher_quality", {"min_doc_words": 50}, _gopher_quality),
    ("c4_quality", {"filter_no_terminal_punct": False}, _c4),
    ("minhash_dedup", {"bands": 14, "rows": 8, "ngram": 5}, _minhash),
    ("fasttext_quality", {"model": "dclm-fasttext", "column": "quality_score", "min_score": 0.15}, _quality),
    ("tokenize", {"tokenizer": "gpt2", "api_key": "sk-should-never-show"}, _tokenize),
]


def _write(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def fabricate_run(
    out: str | Path, n_docs: int = 2000, shards: int = 4, seed: int = 0, resumed_shards: int = 1
) -> dict[str, Any]:
    """Write a fabricated run to ``out`` (shard folders, markers, ``_stats.json``) and return the stats dict."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    docs = _documents(n_docs, rng)
    per_shard = math.ceil(n_docs / shards)
    current = {f"shard-{s:05d}": docs.slice(s * per_shard, per_shard) for s in range(shards)}
    steps = []
    for index, (name, params, rule) in enumerate(PIPELINE):
        key = f"{index + 1:02d}_{name}"
        fp = fingerprint(name, params)
        shard_stats, nxt = [], {}
        for s_index, (shard, table) in enumerate(current.items()):
            st = StepStats(
                docs_in=table.num_rows,
                bytes_in=_bytes(table),
                shards=1,
                cpu_seconds=0.02 * table.num_rows / 100,
                wall_seconds=0.03 * table.num_rows / 100,
            )
            if rule is None:  # source step: records read, a few skipped and counted
                kept, reasons, counters = (
                    table,
                    [None] * table.num_rows,
                    {
                        "records_skipped_not_html": int(table.num_rows * 0.08),
                        "records_skipped_empty_text": int(table.num_rows * 0.05),
                        "records_read": table.num_rows,
                    },
                )
                st.docs_in = (
                    table.num_rows + counters["records_skipped_not_html"] + counters["records_skipped_empty_text"]
                )
            else:
                kept, reasons, counters = rule(table, rng)
            mask = pa.array([r is not None for r in reasons], pa.bool_())
            rejected = None
            if any(r is not None for r in reasons):
                rejected = kept.filter(mask).append_column(
                    "reason", pa.array([r for r in reasons if r is not None], pa.string())
                )
            kept = kept.filter(pc.invert(mask))
            st.docs_out, st.bytes_out = kept.num_rows, _bytes(kept)
            st.add_counts(st.counters, counters)
            if rejected is not None:
                st.add_counts(
                    st.removed,
                    {c["values"]: c["counts"] for c in pc.value_counts(rejected.column("reason")).to_pylist()},
                )
            st.observe_kept(kept, tuple(c for c in kept.column_names if c not in docs.column_names))
            st.observe_rejected(rejected)
            if s_index < resumed_shards and index == 0:
                st.shards_skipped = 1
            _write(out / key / f"{shard}.parquet", kept)
            if rejected is not None:
                _write(out / key / "rejected" / f"{shard}.parquet", rejected)
            (out / key / "_done").mkdir(parents=True, exist_ok=True)
            (out / key / "_done" / f"{shard}.json").write_text(json.dumps({"fingerprint": fp, "stats": st.to_dict()}))
            shard_stats.append(st)
            nxt[shard] = kept
        current = nxt
        merged = merge_all(shard_stats)
        steps.append({"key": key, "step": name, "fingerprint": fp, "stats": merged.to_dict()})
    started = dt.datetime(2024, 10, 5, 12, 0, 0, tzinfo=dt.UTC)
    wall = sum(s["stats"]["wall_seconds"] for s in steps) / 1.7
    data = {
        "recipe": {
            "name": "quickstart-fixture",
            "input": {"paths": ["../shared/data/warc/*.warc.gz"]},
            "output": str(out),
            "steps": [{name: params} for name, params, _ in PIPELINE],
        },
        "run": {
            "started": started.isoformat(),
            "finished": (started + dt.timedelta(seconds=wall)).isoformat(),
            "wall_seconds": wall,
            "executor": "local",
            "resumed_shards": resumed_shards,
        },
        "steps": steps,
    }
    (out / "_stats.json").write_text(json.dumps(data, indent=1))
    return data


def _bytes(table: pa.Table) -> int:
    return int(pc.sum(pc.binary_length(table.column("text"))).as_py() or 0) if table.num_rows else 0


def fabricate_stats(
    n_docs: int = 1_000_000, shards: int = 2000, repeat_filters: int = 2, seed: int = 0
) -> dict[str, Any]:
    """A ``_stats.json`` dict for a run of ``n_docs`` documents over ``shards`` shards, without documents: each
    step keeps a fraction, names its removal reasons, carries full-size value distributions (``VALUES_PER_STEP``
    values, ``CATEGORIES_KEPT`` categories) and ``SAMPLES_PER_KIND``-style samples with long excerpts.
    ``repeat_filters`` repeats the filter block (more steps, as long recipes have)."""
    rng = np.random.default_rng(seed)
    names = ["warc_extract", "language_id"]
    for r in range(repeat_filters):
        suffix = "" if r == 0 else f"_{r + 1}"
        names += [
            f"gopher_repetition{suffix}",
            f"gopher_quality{suffix}",
            f"c4_quality{suffix}",
            f"fineweb_quality{suffix}",
            f"url_filter{suffix}",
        ]
    names += ["exact_dedup", "minhash_dedup", "fasttext_quality", "edu_classifier", "tokenize", "pack"]
    docs = n_docs
    steps = []
    for index, name in enumerate(names):
        keep = 1.0 if name in ("warc_extract", "tokenize", "pack") else float(rng.uniform(0.6, 0.97))
        docs_out = int(docs * keep)
        n_reasons = 0 if keep == 1.0 else int(rng.integers(1, 6))
        split = rng.dirichlet(np.ones(n_reasons)) if n_reasons else []
        removed = {f"{name}_reason_{i}": int((docs - docs_out) * p) for i, p in enumerate(split)}
        docs_out = docs - sum(removed.values())
        length = np.clip(rng.lognormal(7.5, 1.1, VALUES_PER_STEP), 20, 200_000).round().tolist()
        dists: dict[str, Any] = {"length_chars": {"kind": "numeric", "values": length}}
        if name == "language_id":
            codes = [f"l{i:02d}" for i in range(CATEGORIES_KEPT)]
            counts = (rng.dirichlet(np.ones(len(codes)) * 0.3) * docs_out).astype(int)
            dists["language"] = {"kind": "categorical", "counts": dict(zip(["en", *codes[1:]], counts.tolist()))}
            dists["language"]["counts"]["(other)"] = 1234
            dists["language_score"] = {"kind": "numeric", "values": rng.beta(9, 1.2, VALUES_PER_STEP).tolist()}
        elif name.endswith("dedup"):
            dists["cluster_size"] = {
                "kind": "numeric",
                "values": np.minimum(rng.zipf(2.2, VALUES_PER_STEP), 9000).astype(float).tolist(),
            }
        elif name in ("fasttext_quality", "edu_classifier"):
            dists[f"{name}_score"] = {"kind": "numeric", "values": rng.beta(2, 3, VALUES_PER_STEP).tolist()}
        elif name == "tokenize":
            dists["token_count"] = {"kind": "numeric", "values": (np.array(length) / 4.2).round().tolist()}
        bytes_in = docs * 2900
        excerpt = (HOSTILE + " " + " ".join(rng.choice(WORDS, 120).tolist()))[:EXCERPT_CHARS]

        def sample(i: int, reason: str | None = None, index: int = index, excerpt: str = excerpt) -> dict[str, Any]:
            return {
                "id": f"<urn:uuid:{index:04d}-{i:08d}>",
                "url": f"https://s{i}.example/{i}",
                "excerpt": excerpt,
                **({"reason": reason} if reason else {}),
            }

        counters = {"tokens": int(docs_out * 690)} if name == "tokenize" else {}
        if name == "warc_extract":
            counters = {"records_skipped_not_html": int(n_docs * 0.1), "records_skipped_truncated": 321}
        steps.append(
            {
                "key": f"{index + 1:02d}_{name}",
                "step": name,
                "fingerprint": f"{rng.integers(2**63):016x}",
                "stats": StepStats(
                    docs_in=docs,
                    docs_out=docs_out,
                    bytes_in=bytes_in,
                    bytes_out=docs_out * 2900,
                    removed=removed,
                    counters=counters,
                    cpu_seconds=docs / 2000,
                    wall_seconds=docs / 9000,
                    shards=shards,
                    shards_skipped=3 if index == 0 else 0,
                    samples={
                        "kept": [sample(i) for i in range(3)],
                        "removed": {r: [sample(i, r) for i in range(3)] for r in removed},
                    },
                    distributions=dists,
                ).to_dict(),
            }
        )
        docs = docs_out
    return {
        "recipe": {"name": "bench-1m", "output": "/tmp/bench", "steps": [{n: {}} for n in names]},
        "run": {
            "started": "2024-10-05T12:00:00+00:00",
            "finished": "2024-10-05T14:03:00+00:00",
            "wall_seconds": 7380.0,
            "executor": "ray",
            "resumed_shards": 3,
        },
        "steps": steps,
    }

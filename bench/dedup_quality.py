"""Near-duplicate quality of ``minhash_dedup`` on real text: planted pairs of known Jaccard, agreement with a
datasketch reference, and the Clough–Stevenson plagiarism corpus.

1. Planted pairs: real web documents (../shared/data HPLT v2 inspection set, 22 languages) each get one variant
   made by insertions, deletions, substitutions, reordered paragraphs or added boilerplate at a random strength,
   so true Jaccard (of the word-5-gram shingle sets) spreads over ~0.3-1.0. recall = share of pairs with true
   Jaccard >= 0.85 that end in one cluster; precision = share of document pairs merged into one cluster whose true
   Jaccard is >= 0.7; jaccard_mae = mean |MinHash estimate - exact Jaccard| over the planted pairs.
2. Agreement: N documents (real sentences recombined, 10% planted near-copies); reference = datasketch ``MinHash``
   (112 permutations) over the same shingles + ``MinHashLSH(params=(14, 8))``, duplicates = connected components of
   its candidate pairs, keep the smallest id. agreement = share of documents with the same keep/remove decision.
3. Clough–Stevenson: which graded answers (cut / light / heavy revision / non-plagiarised) cluster with their source.
4. Unicode variants: real documents each get one variant that renders the same and is the same text under NFKC
   with format characters removed (Unicode Standard Annex #15; category Cf), so its true Jaccard is 1.0: fullwidth
   forms, ligatures (ﬁ ﬂ ﬀ ﬃ ﬄ ﬆ), soft hyphens / zero-width spaces and joiners / word joiner / BOM inside words,
   NBSP and other Unicode spaces, compatibility digits (superscript, fullwidth, mathematical bold), decomposed
   accents, or a mix. unicode_recall = share of pairs put in one cluster with ``normalize_unicode: true``;
   fineweb_unicode_recall = the same with FineWeb's normalisation alone (ours, as datatrove's and datasketch's
   setups use it).

Usage: .venv/bin/python bench/dedup_quality.py [--agreement-docs 50000] [--jaccard-threshold 0.7]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.stages.dedup import ExactDedup, MinhashDedup
from curate.stages.dedup.components import connected_components
from curate.stages.dedup.minhash import signatures, text_shingles
from curate.stages.dedup.text import normalized_text, unicode_normalize

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dedup_scale import write_corpus  # noqa: E402

BOILERPLATE = (
    "Cookie policy: we use cookies to improve your experience. Accept all. Privacy settings. "
    "Subscribe to our newsletter for the latest updates. Copyright all rights reserved. Home About "
    "Contact Terms of use Sitemap Follow us on social media Share this page"
)


def hplt_docs(min_words: int = 60) -> list[str]:
    out, seen = [], set()
    with open(SHARED / "quality_labels" / "hplt_v2_inspection" / "hplt_v2_annotated.jsonl", encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["text"][:6000]
            if len(text.split()) >= min_words and text not in seen:
                seen.add(text)
                out.append(text)
    return out


def variant(text: str, rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["insert", "delete", "substitute", "reorder", "boilerplate", "mixed"])
    strength = rng.uniform(0.0, 0.12)
    words = text.split()
    if kind == "reorder":
        lines = [ln for ln in text.split("\n") if ln.strip()]
        if len(lines) < 3:  # no paragraphs: reorder sentence-sized chunks
            size = max(5, len(words) // 8)
            lines = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
        k = max(1, int(len(lines) * strength * 4))
        idx = rng.sample(range(len(lines)), min(k, len(lines)))
        moved = [lines[i] for i in idx]
        rng.shuffle(moved)
        for i, m in zip(sorted(idx), moved, strict=True):
            lines[i] = m
        return "\n".join(lines), kind
    if kind == "boilerplate":
        reps = 1 + int(strength * 30)
        bp = " ".join([BOILERPLATE] * 1)
        return " ".join([bp] * (reps // 2) + [text] + [bp] * (reps - reps // 2)), kind
    out = []
    for w in words:
        r = rng.random()
        k = kind if kind != "mixed" else rng.choice(["insert", "delete", "substitute"])
        if r < strength:
            if k == "insert":
                out += [w, f"ins{rng.randrange(10**6)}"]
            elif k == "substitute":
                out.append(f"sub{rng.randrange(10**6)}")
            # delete: drop the word
        else:
            out.append(w)
    return " ".join(out), kind


def shingle_sets(texts: list[str]) -> list[set[int]]:
    sh, off = text_shingles(pa.array(texts), 5)
    return [set(sh[off[i] : off[i + 1]].tolist()) for i in range(len(texts))]


def jaccard(a: set, b: set) -> float:
    return len(a & b) / max(1, len(a | b))


def clusters_of(out, id_col: str = "id") -> dict[str, str]:
    """doc id -> cluster id (kept documents are their own cluster id)."""
    tables = [out.kept] + ([out.rejected] if out.rejected is not None else [])
    mapping = {}
    for t in tables:
        mapping.update(zip(t.column(id_col).to_pylist(), t.column("cluster_id").to_pylist(), strict=True))
    return mapping


def planted(args, jaccard_threshold: float | None) -> dict:
    docs = hplt_docs()
    rng = random.Random(0)
    sources = docs[: args.pairs]
    variants, kinds = zip(*(variant(d, rng) for d in sources), strict=True)
    distractors = docs[args.pairs :]
    texts = list(sources) + list(variants) + distractors
    ids = (
        [f"s{i:05d}" for i in range(len(sources))]
        + [f"v{i:05d}" for i in range(len(sources))]
        + [f"x{i:05d}" for i in range(len(distractors))]
    )
    sets = shingle_sets(texts)
    n = len(sources)
    true_j = np.array([jaccard(sets[i], sets[n + i]) for i in range(n)])
    sig = signatures(pa.array(texts))
    est_j = np.array([(sig[i] == sig[n + i]).mean() for i in range(n)])
    step = MinhashDedup(jaccard_threshold=jaccard_threshold)
    out = step.run_table(pa.table({"id": ids, "text": texts}))
    cl = clusters_of(out)
    same = np.array([cl[ids[i]] == cl[ids[n + i]] for i in range(n)])
    high = true_j >= 0.85
    recall = same[high].mean()
    members: dict[str, list[int]] = {}
    index = {d: i for i, d in enumerate(ids)}
    for d, c in cl.items():
        members.setdefault(c, []).append(index[d])
    merged = [(a, b) for m in members.values() if len(m) > 1 for x, a in enumerate(m) for b in m[x + 1 :]]
    merged_j = np.array([jaccard(sets[a], sets[b]) for a, b in merged])
    precision = float((merged_j >= 0.7).mean()) if len(merged_j) else 1.0
    mae = float(np.abs(est_j - true_j).mean())
    print(
        f"planted pairs: {n} (true Jaccard >= 0.85: {high.sum()}, 0.7-0.85: {((true_j >= 0.7) & ~high).sum()}, "
        f"< 0.7: {(true_j < 0.7).sum()}), distractors {len(distractors)}"
    )
    for lo, hi in [(0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.85), (0.85, 0.9), (0.9, 0.95), (0.95, 1.01)]:
        sel = (true_j >= lo) & (true_j < hi)
        if sel.any():
            print(
                f"  true J in [{lo:.2f}, {min(hi, 1):.2f}): {sel.sum():4d} pairs, merged {same[sel].mean():.3f}, "
                f"MAE {np.abs(est_j - true_j)[sel].mean():.3f}"
            )
    by_kind = Counter(kinds)
    print("  by edit kind: " + ", ".join(f"{k} {by_kind[k]}" for k in sorted(by_kind)))
    print(
        f"[jaccard_threshold={jaccard_threshold}] recall(J>=0.85)={recall:.4f} "
        f"precision(merged pairs J>=0.7)={precision:.4f} over {len(merged)} merged pairs, jaccard MAE={mae:.4f}"
    )
    return {"recall": recall, "precision": precision, "mae": mae}


def agreement(args) -> float:
    from datasketch import MinHash, MinHashLSH

    folder = Path(args.workdir) / f"agreement-{args.agreement_docs}"
    write_corpus(folder, args.agreement_docs, 10000, seed=7)
    import pyarrow.parquet as pq

    table = pa.concat_tables([pq.read_table(p) for p in sorted(folder.glob("*.parquet"))])
    ids = table.column("id").to_pylist()
    t = time.perf_counter()
    out = MinhashDedup().run_table(table)
    ours_removed = set(out.rejected.column("id").to_pylist()) if out.rejected is not None else set()
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    lsh = MinHashLSH(num_perm=112, params=(14, 8))
    normed = normalized_text(table.column("text")).to_pylist()
    for doc_id, text in zip(ids, normed, strict=True):
        w = text.split()
        grams = [" ".join(w[i : i + 5]).encode() for i in range(max(1, len(w) - 4))] if w else []
        m = MinHash(num_perm=112)
        m.update_batch(grams)
        if grams:
            lsh.insert(doc_id, m)
    a, b = [], []
    pos = {d: i for i, d in enumerate(sorted(ids))}
    for table_ in lsh.hashtables:
        for bucket in table_._dict.values():
            bucket = sorted(bucket)
            if len(bucket) > 1:
                a += [pos[bucket[0]]] * (len(bucket) - 1)
                b += [pos[x] for x in bucket[1:]]
    nodes, roots = connected_components(np.array(a, np.uint64), np.array(b, np.uint64))
    ref_removed = {sorted(ids)[int(n)] for n, r in zip(nodes, roots, strict=True) if n != r}  # keep smallest id
    t_ref = time.perf_counter() - t
    differ = ours_removed ^ ref_removed
    agree = 1 - len(differ) / len(ids)
    print(
        f"agreement on {len(ids)} docs: curate removed {len(ours_removed)} ({t_ours:.1f} s), datasketch reference "
        f"removed {len(ref_removed)} ({t_ref:.1f} s), decisions differ on {len(differ)} -> agreement {agree:.4f}"
    )
    return agree


def clough_stevenson() -> None:
    folder = SHARED / "dedup" / "clough_stevenson_plagiarism_corpus"
    rows = list(csv.DictReader(open(folder / "file_information.csv", encoding="utf-8")))
    texts, ids = [], []
    for task in "abcde":
        ids.append(f"orig_task{task}")
        texts.append((folder / f"orig_task{task}.txt").read_text(encoding="latin-1"))
    for r in rows:
        ids.append(r["File"].removesuffix(".txt"))
        texts.append((folder / r["File"]).read_text(encoding="latin-1"))
    out = MinhashDedup().run_table(pa.table({"id": ids, "text": texts}))
    cl = clusters_of(out)
    sets = shingle_sets(texts)
    by_cat: dict[str, list] = {}
    for i, r in enumerate(rows, start=5):
        src = f"orig_task{r['Task']}"
        j = jaccard(sets[i], sets[ids.index(src)])
        by_cat.setdefault(r["Category"], []).append((cl[ids[i]] == cl[src], j, ids[i]))
    print("Clough–Stevenson (95 answers vs their Wikipedia source, 14x8 bands, word 5-grams):")
    for cat in ["cut", "light", "heavy", "non"]:
        v = by_cat.get(cat, [])
        hits = [x for x in v if x[0]]
        print(
            f"  {cat:>5}: {len(hits):2d}/{len(v)} clustered with source; mean true Jaccard "
            f"{np.mean([x[1] for x in v]):.2f}; clustered: {', '.join(x[2] for x in hits) or '-'}"
        )


#: characters of category Cf put inside words: soft hyphen, zero-width space / non-joiner / joiner, word joiner, BOM
FORMAT_CHARS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
#: Unicode spaces that NFKC maps to U+0020: NBSP, en space, thin space, narrow NBSP, medium math space, ideographic
UNICODE_SPACES = "\u00a0\u2002\u2009\u202f\u205f\u3000"
LIGATURES = [
    ("ffi", "\ufb03"),
    ("ffl", "\ufb04"),
    ("ff", "\ufb00"),
    ("fi", "\ufb01"),
    ("fl", "\ufb02"),
    ("st", "\ufb06"),
]
SUPERSCRIPT = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
UNICODE_KINDS = ["fullwidth", "ligature", "format", "spaces", "digits", "decomposed"]


def _unicode_word(word: str, kind: str, rng: random.Random) -> str:
    """``word`` rewritten with characters whose NFKC (after dropping Cf) is ``word``'s own."""
    if kind == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)
    if kind == "ligature":
        return re.sub("|".join(a for a, _ in LIGATURES), lambda m: dict(LIGATURES)[m.group()], word)
    if kind == "format" and len(word) > 1:
        at = rng.randrange(1, len(word))
        return word[:at] + rng.choice(FORMAT_CHARS) + word[at:]
    if kind == "digits":
        style = rng.choice([SUPERSCRIPT, "０１２３４５６７８９", "".join(chr(0x1D7CE + d) for d in range(10))])
        return "".join(style[ord(c) - 48] if "0" <= c <= "9" else c for c in word)
    if kind == "decomposed":
        return unicodedata.normalize("NFD", word)
    return word


def unicode_variant(text: str, rng: random.Random) -> tuple[str, str]:
    """A variant of ``text`` with a random share of its words (or, for ``spaces``, the spaces after them) rewritten
    by one kind of Unicode variation, or by a random kind per word for ``mixed``."""
    kind = rng.choice(UNICODE_KINDS + ["mixed"])
    strength = rng.uniform(0.02, 0.2)
    parts = re.split(r"(\s+)", text)  # words at even positions, whitespace runs at odd ones
    for i in range(0, len(parts), 2):
        if rng.random() >= strength:
            continue
        k = kind if kind != "mixed" else rng.choice(UNICODE_KINDS)
        if k == "spaces":
            if i + 1 < len(parts) and parts[i + 1] == " ":
                parts[i + 1] = rng.choice(UNICODE_SPACES)
        else:
            parts[i] = _unicode_word(parts[i], k, rng)
    return "".join(parts), kind


def unicode_pairs(args) -> dict:
    """Share of Unicode-variant pairs (true Jaccard 1.0) clustered with and without ``normalize_unicode``."""
    docs = hplt_docs()[: args.pairs]
    rng = random.Random(1)
    variants, kinds = zip(*(unicode_variant(d, rng) for d in docs), strict=True)
    same_text = unicode_normalize(pa.array(docs)).equals(unicode_normalize(pa.array(variants)))
    assert same_text, "a variant differs from its source under NFKC + Cf removal"
    changed = np.array([v != d for v, d in zip(variants, docs, strict=True)])
    n = len(docs)
    ids = [f"s{i:05d}" for i in range(n)] + [f"v{i:05d}" for i in range(n)]
    table = pa.table({"id": ids, "text": list(docs) + list(variants)})
    recall, kinds_arr = {}, np.array(kinds)
    for label, step in [
        ("fineweb", MinhashDedup()),
        ("unicode", MinhashDedup(normalize_unicode=True)),
        ("exact_unicode", ExactDedup(normalize="unicode")),
    ]:
        out = step.run_table(table)
        if label == "exact_unicode":  # exact dedup has no cluster ids: a pair is together when one was removed
            removed = set(out.rejected.column("id").to_pylist()) if out.rejected is not None else set()
            same = np.array([ids[n + i] in removed or ids[i] in removed for i in range(n)])
        else:
            cl = clusters_of(out)
            same = np.array([cl[ids[i]] == cl[ids[n + i]] for i in range(n)])
        recall[label] = float(same[changed].mean())
        per_kind = ", ".join(
            f"{k} {same[changed & (kinds_arr == k)].mean():.3f}"
            for k in UNICODE_KINDS + ["mixed"]
            if (changed & (kinds_arr == k)).any()
        )
        print(f"  {label:>13}: recall {recall[label]:.4f} ({per_kind})")
    print(
        f"Unicode variants: {changed.sum()} changed pairs of {n} real documents, each the same text under NFKC + "
        f"Cf removal; recall with normalize_unicode {recall['unicode']:.4f}, FineWeb's normalisation "
        f"{recall['fineweb']:.4f}, exact_dedup normalize: unicode {recall['exact_unicode']:.4f}"
    )
    return recall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=1500, help="planted pairs (from real HPLT documents)")
    ap.add_argument("--agreement-docs", type=int, default=50000)
    ap.add_argument(
        "--jaccard-threshold",
        type=float,
        default=0.75,
        help="minhash_dedup's jaccard_threshold for the planted-pair RESULT (the run without a check, "
        "FineWeb's setting, is printed too)",
    )
    ap.add_argument("--workdir", default="/tmp/curate-dedup-quality")
    args = ap.parse_args()
    q0 = planted(args, None)
    q = planted(args, args.jaccard_threshold)
    clough_stevenson()
    uni = unicode_pairs(args)
    agree = agreement(args)
    print(
        f"RESULT dedup_quality recall={q['recall']:.4f} precision={q['precision']:.4f} "
        f"jaccard_mae={q['mae']:.4f} agreement_datasketch={agree:.4f} jaccard_threshold={args.jaccard_threshold} "
        f"recall_nocheck={q0['recall']:.4f} precision_nocheck={q0['precision']:.4f} "
        f"unicode_recall={uni['unicode']:.4f} unicode_recall_fineweb={uni['fineweb']:.4f}"
    )


if __name__ == "__main__":
    main()

"""Deduplication: exact (normalised text hash), URL, and MinHash + LSH near-duplicates, as resumable global
steps with a persistent cross-run index. See docs/dedup.md."""

from curate.stages.dedup.steps import ExactDedup, MinhashDedup, UrlDedup

__all__ = ["ExactDedup", "MinhashDedup", "UrlDedup"]

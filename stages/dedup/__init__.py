"""Deduplication: exact (normalised text hash), URL, MinHash + LSH near-duplicates, repeated lines/paragraphs and
semantic duplicates, as resumable global steps (the first three with a persistent cross-run index).
See docs/dedup.md."""

from curate.stages.dedup.paragraph import ParagraphDedup
from curate.stages.dedup.semantic import SemanticDedup
from curate.stages.dedup.steps import ExactDedup, MinhashDedup, UrlDedup

__all__ = ["ExactDedup", "MinhashDedup", "ParagraphDedup", "SemanticDedup", "UrlDedup"]

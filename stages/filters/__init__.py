"""Heuristic filters (Gopher, C4, FineWeb), URL filter, PII masking and text repair over shared text features."""

from curate.stages.filters.c4 import C4Quality
from curate.stages.filters.fineweb import FineWebQuality
from curate.stages.filters.gopher import GopherQuality, GopherRepetition
from curate.stages.filters.pii import PiiMasker
from curate.stages.filters.text_repair import TextRepair
from curate.stages.filters.url import UrlFilter

__all__ = ["C4Quality", "FineWebQuality", "GopherQuality", "GopherRepetition", "PiiMasker", "TextRepair", "UrlFilter"]

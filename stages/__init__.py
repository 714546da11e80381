"""Built-in steps, one module or subpackage per capability (warc, domain, rephrase, decontam, packing, dedup,
filters, langid, mix). Importing this package registers them all.

Import paths read ``from curate.stages import GopherQuality`` (the ``stages/`` folder is installed as the
``curate.stages`` subpackage).
"""

from curate.stages.decontam.stage import Decontaminate
from curate.stages.dedup import ExactDedup, MinhashDedup, ParagraphDedup, SemanticDedup, UrlDedup
from curate.stages.domain.detect import DomainDetect
from curate.stages.domain.filters import CodeQuality, MathQuality
from curate.stages.domain.seeds import DomainSeeds
from curate.stages.filters import C4Quality, FineWebQuality, GopherQuality, GopherRepetition, PiiMasker, UrlFilter
from curate.stages.langid import LanguageId
from curate.stages.mix import Mix
from curate.stages.packing.pack import Pack
from curate.stages.packing.tokenize import Tokenize
from curate.stages.rephrase.stage import Rephrase
from curate.stages.warc.extract import WarcExtract, read_warc

__all__ = [
    "C4Quality",
    "CodeQuality",
    "Decontaminate",
    "DomainDetect",
    "DomainSeeds",
    "ExactDedup",
    "FineWebQuality",
    "GopherQuality",
    "GopherRepetition",
    "MathQuality",
    "LanguageId",
    "MinhashDedup",
    "Mix",
    "Pack",
    "ParagraphDedup",
    "PiiMasker",
    "Rephrase",
    "SemanticDedup",
    "Tokenize",
    "UrlDedup",
    "UrlFilter",
    "WarcExtract",
    "read_warc",
]

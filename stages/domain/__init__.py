"""RedStone-style domain corpora: structure-keeping extraction of code (``code``), formulas (``formulas``,
``mathml``) and QA threads (``qa``) behind one extractor (``extract``), cheap page signals (``signals``), the
``domain_detect`` step (``detect``) and the code/math quality filters (``filters``)."""

from curate.stages.domain.detect import DomainDetect
from curate.stages.domain.filters import CodeQuality, MathQuality

__all__ = ["CodeQuality", "DomainDetect", "MathQuality"]

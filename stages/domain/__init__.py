"""RedStone-style domain corpora: structure-keeping extraction of code (``code``), formulas (``formulas``,
``mathml``) and QA threads (``qa``) behind one extractor (``extract``), forum threads (``forums``), cheap page
signals (``signals``), the ``domain_detect`` step (``detect``), seed labels for domain classifiers
(``domain_seeds``: ``seeds``) and the code/math quality filters (``filters``)."""

from curate.stages.domain.detect import DomainDetect
from curate.stages.domain.filters import CodeQuality, MathQuality
from curate.stages.domain.seeds import DomainSeeds

__all__ = ["CodeQuality", "DomainDetect", "DomainSeeds", "MathQuality"]

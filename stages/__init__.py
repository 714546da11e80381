"""Built-in steps, one module per capability. Importing this package registers them all.

Import paths read ``from curate.stages import GopherQuality`` (the ``stages/`` folder is installed as the
``curate.stages`` subpackage).
"""
from curate.stages.dedup import ExactDedup, MinhashDedup, UrlDedup  # noqa: E402,F401
from curate.stages.langid import LanguageId  # noqa: E402,F401
from curate.stages.pack import Pack  # noqa: E402,F401
from curate.stages.tokenize import Tokenize  # noqa: E402,F401
from curate.stages.warc import WarcExtract, read_warc  # noqa: E402,F401
from curate.stages.filters import (  # noqa: E402,F401
    C4Quality,
    FineWebQuality,
    GopherQuality,
    GopherRepetition,
    PiiMasker,
    UrlFilter,
)

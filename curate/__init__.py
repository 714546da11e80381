"""curate: Common Crawl WARC files to pretraining corpora, as resumable Parquet shards on Ray.

Notebook use::

    import curate
    from curate.stages import LanguageId, GopherQuality
    docs = curate.read_warc("sample.warc.gz")            # pyarrow.Table: id, url, date, text, ...
    docs = LanguageId(keep=["en"], min_score=0.65)(docs)  # adds language, language_score; drops the rest
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

__version__ = "0.1.0"


def read_parquet(path: str, columns: list[str] | None = None) -> pa.Table:
    """Read a Parquet file, a folder of shards (``OUT/<step>``) or a glob, local or ``s3://``, as one Table."""
    from curate.io import read_documents

    return read_documents(path, columns=columns)


def read_warc(path: str, **params: Any) -> pa.Table:
    """Read a WARC/WET/ARC file (local or ``s3://``) and extract its documents, as ``warc_extract`` does in a
    recipe; ``params`` are that step's parameters."""
    from curate.stages.warc.extract import read_warc as _read_warc

    return _read_warc(path, **params)


def load_recipe(path: str, overrides: list[str] | None = None):  # noqa: ANN201 - avoids importing pydantic models
    """Load and validate a recipe file (with ``--set``-style overrides); raises ``RecipeError`` on problems."""
    from curate.recipe import load_recipe as _load

    return _load(path, overrides or [])


__all__ = ["read_parquet", "read_warc", "load_recipe", "__version__"]

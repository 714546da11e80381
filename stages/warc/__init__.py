"""WARC/WET extraction: reading records (``stream``, ``records``, ``http``), decoding (``decode``), guarding against
hostile pages (``bounds``, ``health``), the extractors (``extractors``, ``trafilatura_xpath``, ``domain``) and the
``warc_extract`` step itself (``extract``)."""

from curate.stages.warc.extract import WarcExtract, read_warc

__all__ = ["WarcExtract", "read_warc"]

"""Training data out: the ``tokenize`` and ``pack`` steps and the Megatron indexed-dataset writer/reader
(``megatron``) that the trainer reads."""

from curate.stages.packing.pack import Pack
from curate.stages.packing.tokenize import Tokenize

__all__ = ["Pack", "Tokenize"]

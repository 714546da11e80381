"""Benchmark decontamination: benchmark loading (``benchmarks``), text normalisation and n-grams (``text``), the
n-gram index (``index``), the ``decontaminate`` step (``stage``) and the read-only audit (``audit``)."""

from curate.stages.decontam.stage import Decontaminate

__all__ = ["Decontaminate"]

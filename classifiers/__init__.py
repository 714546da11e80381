"""Model-backed scorers (fastText, Hugging Face transformers, safety) and their training.

Installed as the ``curate.classifiers`` subpackage; importing it registers its steps.
"""

from curate.classifiers.buckets import KeepTopFraction, QualityBuckets
from curate.classifiers.fasttext_classifier import FastTextClassifier
from curate.classifiers.hf_classifier import HfClassifier
from curate.classifiers.safety import Safety

__all__ = ["FastTextClassifier", "HfClassifier", "KeepTopFraction", "QualityBuckets", "Safety"]

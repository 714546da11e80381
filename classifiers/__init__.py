"""Model-backed scorers (fastText, Hugging Face transformers, safety) and their training.

Installed as the ``curate.classifiers`` subpackage; importing it registers its steps.
"""

from curate.classifiers.buckets import KeepTopFraction, QualityBuckets  # noqa: F401
from curate.classifiers.fasttext_classifier import FastTextClassifier  # noqa: F401
from curate.classifiers.hf_classifier import HfClassifier  # noqa: F401
from curate.classifiers.safety import Safety  # noqa: F401

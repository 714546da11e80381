"""Model-backed scorers (fastText, Hugging Face transformers, safety) and their training.

Installed as the ``curate.classifiers`` subpackage; importing it registers its steps.
"""

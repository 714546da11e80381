"""LLM rephrasing: the ``rephrase`` step (``stage``), its generation backends (``backends``: vLLM, OpenAI-compatible
servers), the reply cache that makes reruns free (``cache``) and the prompt templates (``prompts``)."""

from curate.stages.rephrase.stage import Rephrase

__all__ = ["Rephrase"]

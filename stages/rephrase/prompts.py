"""Prompt templates for LLM rephrasing, worded as the papers published them.

* ``wikipedia`` and ``qa`` — WRAP (Maini et al. 2024, "Rephrasing the Web: A Recipe for Compute and Data-Efficient
  Language Modeling", arXiv:2401.16380, Appendix: the "Medium" and "Q/A" style prompts, used with
  Mistral-7B-Instruct). ``wikipedia`` uses the Nemotron-CC refinement of the Medium prompt, which adds the answer
  prefix ("Begin your answer on a separate line with ...") so the reply can be cleaned reliably.
* ``diverse_qa``, ``distill``, ``extract_knowledge``, ``knowledge_list`` — Nemotron-CC (Su et al. 2024,
  "Nemotron-CC: Transforming Common Crawl into a Refined Long-Horizon Pretraining Dataset", arXiv:2412.02595,
  Appendix: prompt templates). The wording matches the copy in NeMo Curator
  (``nemo_curator/stages/synthetic/nemotron_cc/prompts.py``), including which prompts carry a system prompt
  (wikipedia and distill do, the other three are user-only).

Every template has one ``{text}`` slot for the document segment. ``response_prefix`` is the lead-in the prompt asks
the model to begin with ("Here is a paraphrased version:"); it is stripped from the reply when present.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Vicuna-style system prompt used by WRAP and by Nemotron-CC's wikipedia prompt
CHAT_SYSTEM = (
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
    "detailed, and polite answers to the questions."
)
DISTILL_SYSTEM = (
    "You are an artificial intelligence assistant. You carefully provide accurate, factual, thoughtful, "
    "nuanced answers, and are brilliant at reasoning."
)


@dataclass(frozen=True)
class PromptTemplate:
    """One rephrasing instruction: optional system prompt, a user prompt with a ``{text}`` slot, the answer
    prefix to strip, and where the wording comes from."""

    name: str
    user: str
    system: str | None = None
    response_prefix: str | None = None
    source: str = ""

    def messages(self, text: str) -> list[dict[str, str]]:
        """The prompt as chat messages (system first when there is one)."""
        user = {"role": "user", "content": self.user.replace("{text}", text)}
        return [{"role": "system", "content": self.system}, user] if self.system else [user]

    def plain(self, text: str) -> str:
        """The prompt as plain text for base (non-chat) models: WRAP's ``USER: ... ASSISTANT:`` layout."""
        user = self.user.replace("{text}", text)
        if self.system:
            return f"{self.system} USER: {user} ASSISTANT:"
        return f"{user}\n\n"

    def clean(self, reply: str) -> str:
        """The reply without surrounding whitespace and without the answer prefix the prompt asked for."""
        reply = reply.strip()
        if self.response_prefix and reply.lower().startswith(self.response_prefix.lower()):
            reply = reply[len(self.response_prefix) :].strip()
        return reply


WRAP = "WRAP (Maini et al. 2024, arXiv:2401.16380), Appendix"
NEMOTRON = "Nemotron-CC (Su et al. 2024, arXiv:2412.02595), Appendix"

PROMPTS: dict[str, PromptTemplate] = {
    t.name: t
    for t in [
        PromptTemplate(
            "wikipedia",
            "For the following paragraph give me a diverse paraphrase of the same in high quality English language as "
            'in sentences on Wikipedia. Begin your answer on a separate line with "Here is a paraphrased version:".\n\n'
            "Text: {text}",
            system=CHAT_SYSTEM,
            response_prefix="Here is a paraphrased version:",
            source=f"{WRAP} (Medium style); answer prefix as in {NEMOTRON}",
        ),
        PromptTemplate(
            "qa",
            'Convert the following paragraph into a conversational format with multiple tags of "Question:" followed '
            'by "Answer:":\n\n{text}',
            system=CHAT_SYSTEM,
            source=f"{WRAP} (Q/A style)",
        ),
        PromptTemplate(
            "diverse_qa",
            "Task:\nRead the text, ask questions and answer them.\n\n"
            "Follow these instructions:\n"
            "1. Ask diverse questions that require different cognitive skills or cover different aspects of the text.\n"
            "2. Ask questions in various forms such as:\n"
            "  - Yes/No questions that require determining whether a statement is true or false.\n"
            "  - Open-ended questions that begin with words like what, how, when, where, why and who.\n"
            "  - Multi-choice questions that offers two or more options to choose from. Include the options in the "
            "question.\n"
            "  - Comparison questions that compare two quantities or objects and determine the relationship between "
            "them.\n"
            "  - Reading comprehension questions that test the ability to understand and analyze the text.\n"
            "  - Problem-solving questions that test the ability to solve mathematical, physical, or logical "
            "problems.\n"
            "3. Focus on asking questions about factual information, important knowledge, or concrete details in the "
            "text.\n"
            "4. Write questions and answers using clear and concise language.\n"
            "5. Use plain text. Do not use Markdown.\n"
            '6. Each question and answer pair should be on a separate line. Tag the question with "Question:" and the '
            'answer with "Answer:".\n\n'
            "Text:\n{text}\n\n"
            "Task:\nAfter reading the above text, ask up to 8 questions and provide the correct answers following the "
            "instructions. Give your response in this format:\n\n"
            "Here are the questions and answers based on the provided text:\n"
            "- Question: [first question] Answer: [first answer]\n"
            "- Question: [second question] Answer: [second answer]\n....",
            response_prefix="Here are the questions and answers based on the provided text:",
            source=NEMOTRON,
        ),
        PromptTemplate(
            "distill",
            "Your task is to read and paraphrase the provided text following these instructions:\n"
            "- Aim to create a condensed but accurate and informative version of the original text, not a simplistic "
            "summary.\n"
            "- Capture and preserve the crucial information, key concepts, important values, factual details in the "
            "original text, while making it more readable and accessible.\n"
            "- Retain technical terms, specialized vocabulary, and complex concepts.\n"
            "- Retain examples, explanations of reasoning processes, and supporting evidence to maintain the text's "
            "depth and context.\n"
            "- Only include information that is present in the original text. Do not adding new or unsubstantiated "
            "claims.\n"
            "- Write the text in plain text without formatting.\n\n"
            "Here is the text:\n{text}\n\n"
            "Task:\nAfter thoroughly reading the above text, paraphrase it in high-quality and clear English following "
            'the instructions. Begin your response with "Paraphrased Text:".',
            system=DISTILL_SYSTEM,
            response_prefix="Paraphrased Text:",
            source=NEMOTRON,
        ),
        PromptTemplate(
            "extract_knowledge",
            "Your task is to rewrite knowledge from the provided text following these instructions.\n"
            "- Rewrite the text as a passage or passages using easy-to-understand and high-quality English like "
            "sentences in textbooks and Wikipedia.\n"
            "- Focus on content in disciplines such as humanities, social sciences, natural sciences, technology, "
            "engineering, math, law and legal, business, management, art, education, agricultural sciences, politics, "
            "and history.\n"
            "- Disregard content that does not contain useful facts or knowledge.\n"
            "- Retain examples, explanations of reasoning processes, and supporting evidence to maintain the text's "
            "depth and context.\n"
            "- Do not add or alter details. Only restate what is already in the text.\n"
            "- Write in plain text.\n"
            "- Do not add titles, subtitles, note, or comment.\n\n"
            "Text:\n{text}\n\n"
            "Task:\nRewrite facts and knowledge from the above text as a passage or passages following the "
            "instructions.",
            source=NEMOTRON,
        ),
        PromptTemplate(
            "knowledge_list",
            "Review the text and extract the key information. Follow these instructions:\n"
            "- Carefully read the above text and provide a concise and organized list of factual information, concrete "
            "details, key concepts, and important numbers and statistics extracted from the text.\n"
            "- Ensure each point is clear, specific, and supported by the original text.\n"
            "- Ensure the extract text is information-dense and easier to learn from.\n"
            "- Do not add titles or headings.\n\n"
            "Text:\n{text}\n\n"
            "Task:\nExtract the factual information, concrete details, and key concepts from the above text following "
            "the instructions.",
            source=NEMOTRON,
        ),
    ]
}


def prompt_template(name: str, template: str | None = None, system: str | None = None) -> PromptTemplate:
    """The named built-in template, or a ``custom`` one built from ``template`` (must contain ``{text}``)."""
    if name == "custom":
        if not template or "{text}" not in template:
            raise ValueError(
                "rephrase: prompt: custom needs `template`, a prompt containing the slot {text} where "
                f"the document goes (got template={template!r})"
            )
        return PromptTemplate("custom", template, system=system, source="user supplied")
    if name not in PROMPTS:
        raise ValueError(f"rephrase: unknown prompt {name!r}; choose one of {sorted(PROMPTS)} or custom")
    return PROMPTS[name]

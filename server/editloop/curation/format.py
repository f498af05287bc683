"""The chat format every training row and every generation uses: one definition for the embedded
base model's pretraining, curation's rows, fine-tuning and generation.

TRL conversational prompt-completion: ``prompt = messages(artifact_type, user_prompt)`` and
``completion = assistant(text)``. The built-in artifact types have short system prompts (a tiny
model reads them in every example; the embedded base model was pretrained on these exact strings,
so they never change); the other Mermaid kinds have one each; any other artifact type a user
tracks gets a generic system prompt naming the type and language. Generation builds its
conversations here too (``generation.prompting``), so a model is served the prompt it was trained on.
"""

from __future__ import annotations

from functools import lru_cache

SYSTEM_PROMPTS = {
    "mermaid-erd": "Write a Mermaid erDiagram for this data model. Reply with the diagram only.",
    "sql": "Write SQL CREATE TABLE statements for this data model. Reply with SQL only.",
    "python-dataclass": "Write Python dataclasses for this data model. Reply with code only.",
}
# The other Mermaid kinds (signals.artifacts' canonical names): the diagram keyword, not the language.
MERMAID_PROMPTS = {
    "mermaid": "Write a Mermaid diagram for this request. Reply with the diagram only.",
    "mermaid-flowchart": "Write a Mermaid flowchart for this request. Reply with the diagram only.",
    "mermaid-sequence": "Write a Mermaid sequenceDiagram for this request. Reply with the diagram only.",
    "mermaid-class": "Write a Mermaid classDiagram for this request. Reply with the diagram only.",
}


def build_messages(artifact_type: str, user_prompt: str) -> list[dict]:
    """The conversation for a built-in artifact type; ValueError for any other type."""
    try:
        system = SYSTEM_PROMPTS[artifact_type]
    except KeyError:
        raise ValueError(f"no system prompt for artifact type {artifact_type!r}") from None
    return [{"role": "system", "content": system}, {"role": "user", "content": user_prompt}]


def with_conventions(user_prompt: str, conventions: str) -> str:
    """A prompt that states conventions explicitly (used for a share of the pretraining corpus)."""
    return f"{user_prompt}\nConventions: {conventions}." if conventions else user_prompt


@lru_cache(maxsize=256)
def system_prompt(artifact_type: str, language: str | None = None) -> str:
    """The built-in type's system prompt, a Mermaid kind's, or a generic one naming the type (and its
    language: the document's languageId the event was recorded with)."""
    if artifact_type in SYSTEM_PROMPTS:
        return SYSTEM_PROMPTS[artifact_type]
    if artifact_type in MERMAID_PROMPTS:
        return MERMAID_PROMPTS[artifact_type]
    what = artifact_type if not language or language == artifact_type else f"{artifact_type} ({language})"
    return f"Write the requested {what}. Reply with the {what} only."


def messages(artifact_type: str, prompt: str, language: str | None = None) -> list[dict[str, str]]:
    """``[{"role": "system", ...}, {"role": "user", ...}]``: TRL's conversational prompt."""
    return [{"role": "system", "content": system_prompt(artifact_type, language)}, {"role": "user", "content": prompt}]


def assistant(text: str) -> list[dict[str, str]]:
    """TRL's conversational completion for ``text``."""
    return [{"role": "assistant", "content": text}]

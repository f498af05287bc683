"""The chat format every training row and every generation uses.

TRL conversational prompt-completion: ``prompt = build_messages(artifact, user_prompt)`` and
``completion = [{"role": "assistant", "content": text}]``. System prompts are short on purpose:
a tiny model reads them in every example.
"""

from __future__ import annotations

SYSTEM_PROMPTS = {
    "mermaid-erd": "Write a Mermaid erDiagram for this data model. Reply with the diagram only.",
    "sql": "Write SQL CREATE TABLE statements for this data model. Reply with SQL only.",
    "python-dataclass": "Write Python dataclasses for this data model. Reply with code only.",
}


def build_messages(artifact_type: str, user_prompt: str) -> list[dict]:
    try:
        system = SYSTEM_PROMPTS[artifact_type]
    except KeyError:
        raise ValueError(f"no system prompt for artifact type {artifact_type!r}") from None
    return [{"role": "system", "content": system}, {"role": "user", "content": user_prompt}]


def with_conventions(user_prompt: str, conventions: str) -> str:
    """A prompt that states conventions explicitly (used for a share of the pretraining corpus)."""
    return f"{user_prompt}\nConventions: {conventions}." if conventions else user_prompt

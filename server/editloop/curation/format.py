"""Chat messages for a prompt: the same conversation the model sees when it generates.

Artifact types known to :mod:`editloop.synth.prompts` use its system prompts (one definition for
generation, pretraining and fine-tuning); any other artifact type a user tracks gets a generic
system prompt naming the type and language.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=256)
def system_prompt(artifact_type: str, language: str | None = None) -> str:
    from ..synth.prompts import SYSTEM_PROMPTS

    if artifact_type in SYSTEM_PROMPTS:
        return SYSTEM_PROMPTS[artifact_type]
    what = artifact_type if not language or language == artifact_type else f"{artifact_type} ({language})"
    return f"Write the requested {what}. Reply with the {what} only."


def messages(artifact_type: str, prompt: str, language: str | None = None) -> list[dict[str, str]]:
    """``[{"role": "system", ...}, {"role": "user", ...}]``: TRL's conversational prompt."""
    return [{"role": "system", "content": system_prompt(artifact_type, language)}, {"role": "user", "content": prompt}]


def assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]

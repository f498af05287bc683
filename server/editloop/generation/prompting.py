"""The chat messages for a generation: the conversation training rows are built from
(``curation.format.messages``: the artifact type's system prompt, the user's prompt), with optional
past corrections as few-shot examples (PRELUDE's ICL-edit baseline) between the two."""

from __future__ import annotations

from typing import Any

from ..curation.format import messages


def messages_for(artifact_type: str, prompt: str, examples: list[tuple[str, str]] = (),
                 language: str | None = None) -> list[dict[str, str]]:
    """The conversation for ``prompt``; ``language``: the document's languageId, as the event
    recording the generated text stores it (curation builds that event's training row with it)."""
    msgs = messages(artifact_type, prompt, language)
    if not examples:
        return msgs
    shots: list[dict[str, str]] = []
    for p, final in examples:
        shots.append({"role": "user", "content": p})
        shots.append({"role": "assistant", "content": final})
    return msgs[:-1] + shots + msgs[-1:]


def past_corrections(store: Any, artifact_type: str, prompt: str, k: int) -> list[tuple[str, str]]:
    """The k edited or accepted events whose prompts are most like this one (their final text
    is what the user wanted). Character-level similarity; cheap and offline."""
    if k <= 0:
        return []
    from rapidfuzz import fuzz, process

    from ..store import events

    rows = events.kept_examples(store, artifact_type, limit=2000)
    if not rows:
        return []
    best = process.extract(prompt, [r.prompt for r in rows], scorer=fuzz.token_set_ratio, limit=k)
    return [(rows[i].prompt, rows[i].final) for _, _, i in best]

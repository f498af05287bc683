"""The chat messages for a generation: the artifact type's system prompt, optional past
corrections as few-shot examples (PRELUDE's ICL-edit baseline), and the user's prompt."""

from __future__ import annotations

from typing import Any

from ..curation.format import SYSTEM_PROMPTS, build_messages

GENERIC_PROMPTS = {
    "mermaid": "Write a Mermaid diagram for this request. Reply with the diagram only.",
    "mermaid-flowchart": "Write a Mermaid flowchart for this request. Reply with the diagram only.",
    "mermaid-sequence": "Write a Mermaid sequenceDiagram for this request. Reply with the diagram only.",
    "mermaid-class": "Write a Mermaid classDiagram for this request. Reply with the diagram only.",
}


def messages_for(artifact_type: str, prompt: str, examples: list[tuple[str, str]] = ()) -> list[dict[str, str]]:
    if artifact_type in SYSTEM_PROMPTS:
        msgs = build_messages(artifact_type, prompt)
    else:
        system = GENERIC_PROMPTS.get(artifact_type) or f"Write {artifact_type} code for this request. Reply with the code only."
        msgs = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
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

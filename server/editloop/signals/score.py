"""All signals of one event, computed from plain values (no database, no server)."""

from __future__ import annotations

from typing import Any, Sequence

from .reward import reward
from .similarity import indel_similarity, similarity


def score_event(
    original: str,
    final: str,
    *,
    action: str,
    artifact_type: str = "",
    language: str | None = None,
    seconds_to_resolve: float | None = None,
    retention: Sequence[float] = (),
) -> dict[str, Any]:
    """Return the ``events`` columns that describe the outcome's quality."""
    sim = similarity(original, final)
    return {
        "similarity": round(sim, 6),
        "indel_similarity": round(indel_similarity(original, final), 6),
        "reward": reward(action, sim),
    }

"""Edit-distance similarity between what the model wrote and what the user kept."""

from __future__ import annotations

from rapidfuzz.distance import Indel, Levenshtein


def similarity(original: str, final: str) -> float:
    """Normalized Levenshtein similarity in 0..1 (1 = unchanged); the ``events.similarity`` column."""
    if original == final:
        return 1.0
    return float(Levenshtein.normalized_similarity(original, final))


def indel_similarity(original: str, final: str) -> float:
    """Normalized Indel similarity (insertions and deletions only), 0..1."""
    if original == final:
        return 1.0
    return float(Indel.normalized_similarity(original, final))


def edit_distance(original: str, final: str) -> int:
    """Levenshtein distance in characters: the benchmark's edit cost."""
    return int(Levenshtein.distance(original, final))

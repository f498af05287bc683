"""A continuous reward for one event."""

from __future__ import annotations

import math


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def reward(action: str, similarity: float) -> float:
    """First reward: accept high, edits by how much survived, reject lowest (all in 0..1)."""
    if action == "reject":
        score = -4.0
    elif action == "accept":
        score = 3.0
    else:
        score = -3.0 + 6.0 * similarity
    return round(sigmoid(score), 6)

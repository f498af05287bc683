"""A continuous reward for one event, and the pure weighting functions curation applies later.

See ``docs/reward.md`` for the formula with a worked example. In short::

    reward = sigmoid(z)          # 0..1
    z(reject)       = -4                                    (always the lowest)
    z(accept|edit)  = max(-3.5, base + sim + valid + effort + retention)
      base      = +2 for accept, -0.5 for edit
      sim       = 5 * (similarity - 0.5)                     (-2.5 .. +2.5)
      valid     = 2 * validity/100 - 1.5 when known          (-1.5 .. +0.5), else 0
      effort    = -0.5 * min(1, ln(1 + t/60) / ln(11))       edits only: minutes spent fixing
      retention = mean(survival similarities) - 0.5          (-0.5 .. +0.5) when checks ran

``reward - 0.25`` gives Cursor Tab's asymmetric reward (+0.75 accept, -0.25 reject, break-even at
a 0.25 acceptance probability) within 0.02 at both ends.

:func:`decay` and :func:`difficulty` are pure; curation multiplies sample weights by them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class RewardWeights:
    accept: float = 2.0
    edit: float = -0.5
    reject: float = -4.0
    similarity: float = 5.0
    validity: float = 2.0
    validity_offset: float = 1.5
    effort: float = 0.5
    effort_minutes_cap: float = 10.0
    retention: float = 1.0
    floor: float = -3.5  # accept/edit never fall to a reject's level


DEFAULT_WEIGHTS = RewardWeights()


def sigmoid(x: float) -> float:
    if x < -60:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


def reward_score(
    action: str,
    similarity: float,
    *,
    validity: float | None = None,
    seconds_to_resolve: float | None = None,
    retention: Sequence[float] = (),
    weights: RewardWeights = DEFAULT_WEIGHTS,
) -> float:
    """The weighted score ``z`` before the sigmoid (see the module docstring)."""
    if action == "reject":
        return weights.reject
    if action not in ("accept", "edit"):
        raise ValueError(f"unknown action {action!r}")
    s = min(1.0, max(0.0, float(similarity)))
    z = weights.accept if action == "accept" else weights.edit
    z += weights.similarity * (s - 0.5)
    if validity is not None:
        z += weights.validity * min(1.0, max(0.0, validity / 100.0)) - weights.validity_offset
    if action == "edit" and seconds_to_resolve is not None and seconds_to_resolve > 0:
        cap = weights.effort_minutes_cap
        z -= weights.effort * min(1.0, math.log1p(seconds_to_resolve / 60.0) / math.log1p(cap))
    kept = [min(1.0, max(0.0, float(r))) for r in retention if r is not None]
    if kept:
        z += weights.retention * (sum(kept) / len(kept) - 0.5)
    return max(weights.floor, z)


def reward(
    action: str,
    similarity: float,
    *,
    validity: float | None = None,
    seconds_to_resolve: float | None = None,
    retention: Sequence[float] = (),
    weights: RewardWeights = DEFAULT_WEIGHTS,
) -> float:
    """Reward in 0..1: accept high, edits by how much of the output survived, reject lowest."""
    z = reward_score(
        action,
        similarity,
        validity=validity,
        seconds_to_resolve=seconds_to_resolve,
        retention=retention,
        weights=weights,
    )
    return round(sigmoid(z), 6)


def decay(value: float, age_days: float, half_life_days: float) -> float:
    """``value * 0.5 ** (age_days / half_life_days)``: a reward or weight halves every half-life.

    A negative age (clock skew) counts as 0. ``half_life_days <= 0`` or infinite means no decay.
    """
    if not half_life_days or half_life_days <= 0 or math.isinf(half_life_days):
        return float(value)
    return float(value) * 0.5 ** (max(0.0, float(age_days)) / float(half_life_days))


def difficulty(
    original_chars: int,
    *,
    similarity: float | None = None,
    accept_rate: float | None = None,
    max_chars: int = 4000,
) -> float:
    """Sample weight for how hard an example is, 0.5 (easy) .. 2.0 (hard).

    ``0.5 + 1.5 * (0.25 * length + 0.35 * edit + 0.4 * hardness)`` where, each in 0..1:

    - ``length = ln(1 + chars/100) / ln(1 + max_chars/100)`` (capped at 1): longer outputs are harder;
    - ``edit = 1 - similarity`` (0 when unknown): how much the user had to change;
    - ``hardness = 1 - accept_rate`` of the artifact type so far (0.5 when unknown): types the
      model gets wrong often are harder.
    """
    n = max(0, int(original_chars))
    length = min(1.0, math.log1p(n / 100.0) / math.log1p(max_chars / 100.0))
    edit = 0.0 if similarity is None else 1.0 - min(1.0, max(0.0, similarity))
    hardness = 0.5 if accept_rate is None else 1.0 - min(1.0, max(0.0, accept_rate))
    return round(0.5 + 1.5 * (0.25 * length + 0.35 * edit + 0.4 * hardness), 6)

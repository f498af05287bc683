"""Sample weights from rewards with temporal decay, and KTO's class-balance weights.

A row's weight is ``decay(age) * confidence * source``, floored at ``min_weight``:

- ``decay(age) = 0.5 ** (age_days / half_life_days)``, age measured from the reference time
  (``config.now``, default the newest event: the same database gives the same weights);
- ``confidence``: how sure we are of the row's label. Text the user wrote or kept after editing
  counts 1; the model's own output labelled good counts its reward (an accept is ~0.95, a lazy
  accept of a heavily reviewed region less); labelled bad it counts ``1 - reward``;
- ``source``: ``implicit_weight`` for outcomes nobody clicked, 1 for explicit ones.

The decay is ``editloop.signals.reward.decay`` (one definition across the product). Train now's
SFT and DPO stages draw each epoch's rows in proportion to these weights
(``editloop.training.sampling``); KTO uses :func:`kto_class_weights` instead.
"""

from __future__ import annotations

from .config import CurationConfig
from .events import Ev

DAY = 86_400.0

from ..signals.reward import decay as _decay


def decay(age_seconds: float, half_life_days: float) -> float:
    """1.0 now, 0.5 one half-life ago (negative ages count as 0)."""
    return _decay(1.0, age_seconds / DAY, half_life_days)


def row_weight(ev: Ev, *, user_text: bool, good: bool, now: float, config: CurationConfig) -> float:
    """Weight of one row built from ``ev`` (see the module docstring)."""
    if not config.weights:
        return 1.0
    if user_text:
        confidence = 1.0
    else:
        confidence = ev.reward if good else 1.0 - ev.reward
    w = decay(now - ev.ts, config.half_life_days) * confidence
    if ev.source == "implicit":
        w *= config.implicit_weight
    return round(max(config.min_weight, w), 6)


def kto_class_weights(n_desirable: int, n_undesirable: int) -> dict[str, float]:
    """``desirable_weight`` / ``undesirable_weight`` for TRL's KTOConfig.

    TRL recommends ``desirable_weight * n_desirable / (undesirable_weight * n_undesirable)`` in
    [1, 4/3]; we upweight the minority class so the ratio is 1 (minority weight capped at 10).
    """
    if n_desirable <= 0 or n_undesirable <= 0:
        return {"desirable_weight": 1.0, "undesirable_weight": 1.0}
    if n_desirable >= n_undesirable:
        return {"desirable_weight": 1.0, "undesirable_weight": round(min(10.0, n_desirable / n_undesirable), 4)}
    return {"desirable_weight": round(min(10.0, n_undesirable / n_desirable), 4), "undesirable_weight": 1.0}

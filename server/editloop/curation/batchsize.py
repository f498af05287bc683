"""Adaptive batch size: how many train events one "Train now" uses, between 20 and 100.

    s    = 0.40 * a + 0.20 * q + 0.20 * (1 - r) + 0.20 * t          (each part in 0..1)
    size = min(available, round(B_min + (B_max - B_min) * s))          (B_min=20, B_max=100)

- ``a`` availability: ``min(1, available / (2 * B_max))``. More new data, bigger batches.
- ``q`` quality: mean reward of the available events. Clean signal can be used in bulk; noisy
  signal is better consumed in smaller steps that the validation metric can veto.
- ``r`` rarity of the artifact type: ``1 - its share of all events`` (0 when no type is given).
  A rare type trains on smaller batches, so it is learned from as soon as a few events exist
  instead of waiting to fill a batch that mostly one common type could fill.
- ``t`` trend of the validation metric over the recent runs: ``0.5 - clamp(5 * improvement, -0.5,
  0.5)`` with ``improvement`` the relative gain of the latest value over the mean of the previous
  ones (sign-corrected so that positive is better). Improving: smaller, faster iterations;
  stalled or worse: larger batches for a steadier signal. No history: 0.5.

With fewer than ``B_min`` available events the batch is all of them (no rows are invented).
"""

from __future__ import annotations

import json
from typing import Sequence

from ..store import Store, runs
from ..store.metrics import metric_name, normalize_metrics
from .config import CurationConfig


def trend_score(values: Sequence[float], higher_is_better: bool = False) -> float:
    vals = [float(v) for v in values if v is not None]
    if len(vals) < 2:
        return 0.5
    prev = sum(vals[:-1]) / (len(vals) - 1)
    if prev == 0:
        return 0.5
    gain = (vals[-1] - prev) / abs(prev)
    if not higher_is_better:
        gain = -gain
    return 0.5 - max(-0.5, min(0.5, 5.0 * gain))


def batch_size(
    available: int,
    *,
    quality: float,
    rarity: float,
    trend: float = 0.5,
    config: CurationConfig = CurationConfig(),
) -> tuple[int, dict[str, float]]:
    """The batch size and the parts that produced it."""
    lo, hi = config.min_batch_size, config.max_batch_size
    if not config.adaptive_batch:
        return min(available, config.fixed_batch_size), {"fixed": float(config.fixed_batch_size)}
    a = min(1.0, available / (2.0 * hi))
    q = max(0.0, min(1.0, quality))
    r = max(0.0, min(1.0, rarity))
    t = max(0.0, min(1.0, trend))
    s = 0.4 * a + 0.2 * q + 0.2 * (1.0 - r) + 0.2 * t
    size = max(lo, min(hi, round(lo + (hi - lo) * s)))
    return min(available, size), {"availability": round(a, 4), "quality": round(q, 4), "rarity": round(r, 4),
                                  "trend": round(t, 4), "score": round(s, 4)}


def recent_metric(store: Store, metric: str, artifact_type: str | None = None, limit: int = 5) -> list[float]:
    """``metric`` from the metrics JSON of the most recent succeeded runs, oldest first."""
    out = []
    metric = metric_name(metric)  # runs of every version: valLoss was eval_loss (store.metrics)
    for raw in reversed(runs.succeeded_metrics(store, artifact_type, limit)):
        try:
            value = normalize_metrics(json.loads(raw)).get(metric)
        except ValueError:
            continue
        if isinstance(value, (int, float)):
            out.append(float(value))
    return out

"""Active learning: choose the ``k`` most useful train events of the pool.

Each candidate gets three scores in 0..1, combined with configurable weights
(``active_uncertainty_weight``, ``active_diversity_weight``, ``active_quality_weight``):

- **uncertainty**: from ``uncertainty_fn(rows) -> list[float]`` when the training side passes one
  (the current model's loss or token entropy on each row; rank-normalized), else from rewards:
  ``0.5 * 4 r (1 - r) + 0.5 * min(1, 4 * var(rewards of the prompt group))`` - outcomes near the
  middle, or mixed outcomes for the same prompt, are what the model is unsure about;
- **quality**: validity (``validation / 100``, 0.75 when unknown) averaged with how much the text
  teaches (a user's edit or rewrite 1, an accept 0.7, a bare reject 0.4);
- **diversity**: k-center greedy: the cosine distance to the nearest already chosen event, over
  sentence embeddings (``embeddings=True``) or hashed character trigrams of prompt + output.

:func:`prefilter` first cuts the pool to ``active_pool_max`` candidates by uncertainty + quality (so
the greedy pass and any model call stay cheap); :func:`select` then picks events one at a time by
the combined score.
With ``active`` off the newest ``k`` events are taken instead.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Sequence

from .config import CurationConfig
from .events import Ev

UncertaintyFn = Callable[[list[dict]], Sequence[float]]


def reward_uncertainty(events: Sequence[Ev]) -> list[float]:
    by_group: dict[str, list[float]] = defaultdict(list)
    for ev in events:
        by_group[ev.group].append(ev.reward)
    var = {}
    for g, rs in by_group.items():
        m = sum(rs) / len(rs)
        var[g] = sum((r - m) ** 2 for r in rs) / len(rs)
    return [0.5 * 4 * ev.reward * (1 - ev.reward) + 0.5 * min(1.0, 4 * var[ev.group]) for ev in events]


def quality(ev: Ev) -> float:
    valid = 0.75 if ev.validation is None else max(0.0, min(100.0, ev.validation)) / 100.0
    if ev.action == "edit" or (ev.action == "reject" and ev.final.strip() and ev.final != ev.original):
        teach = 1.0
    elif ev.action == "accept":
        teach = 0.7
    else:
        teach = 0.4
    return 0.5 * valid + 0.5 * teach


def _rank_normalize(values: Sequence[float]) -> list[float]:
    n = len(values)
    if n <= 1:
        return [0.5] * n
    order = sorted(range(n), key=lambda i: values[i])
    out = [0.0] * n
    for rank, i in enumerate(order):
        out[i] = rank / (n - 1)
    return out


def prefilter(events: Sequence[Ev], config: CurationConfig) -> list[Ev]:
    """The ``active_pool_max`` best candidates by uncertainty + quality (newest ones with ``active`` off)."""
    events = list(events)
    if not config.active:
        return sorted(events, key=lambda e: (-e.ts, -e.id))[: config.active_pool_max]
    u0 = reward_uncertainty(events)
    for u, ev in zip(u0, events):
        ev.extra["uncertainty"] = u
    pre = [config.active_uncertainty_weight * u + config.active_quality_weight * quality(ev) for u, ev in zip(u0, events)]
    order = sorted(range(len(events)), key=lambda i: (-pre[i], -events[i].ts, events[i].id))
    return [events[i] for i in order[: config.active_pool_max]]


def select(
    cands: Sequence[Ev],
    k: int,
    config: CurationConfig,
    *,
    uncertainty_fn: UncertaintyFn | None = None,
    row_of: Callable[[Ev], dict] | None = None,
    store=None,
) -> tuple[list[Ev], dict[int, dict[str, float]]]:
    """``k`` of the (prefiltered) candidates, in choice order, and each chosen event's scores."""
    cands = list(cands)
    if not config.active:
        return sorted(cands, key=lambda e: (-e.ts, -e.id))[:k], {}
    if all("uncertainty" in ev.extra for ev in cands):
        unc = [ev.extra["uncertainty"] for ev in cands]
    else:
        unc = reward_uncertainty(cands)
    qual = [quality(ev) for ev in cands]
    if uncertainty_fn is not None and row_of is not None and cands:
        values = list(uncertainty_fn([row_of(ev) for ev in cands]))
        if len(values) != len(cands):
            raise ValueError(f"uncertainty_fn returned {len(values)} values for {len(cands)} rows")
        unc = _rank_normalize(values)
    texts = [ev.prompt + "\n" + (ev.final if ev.action != "reject" else ev.original) for ev in cands]
    if config.embeddings and store is not None:
        from .vectors import embedding_vectors

        vecs = embedding_vectors(store, texts)
    else:
        from .vectors import ngram_vectors

        vecs = ngram_vectors(texts)
    import numpy as np

    base = np.asarray([config.active_uncertainty_weight * u + config.active_quality_weight * q for u, q in zip(unc, qual)])
    dist = np.ones(len(cands), dtype=np.float32)
    taken = np.zeros(len(cands), dtype=bool)
    chosen, scores = [], {}
    for _ in range(min(k, len(cands))):
        total = base + config.active_diversity_weight * dist
        total[taken] = -np.inf
        i = int(np.argmax(total))
        taken[i] = True
        chosen.append(cands[i])
        scores[cands[i].id] = {"uncertainty": round(float(unc[i]), 4), "quality": round(float(qual[i]), 4),
                               "diversity": round(float(dist[i]), 4)}
        dist = np.minimum(dist, np.clip(1.0 - vecs @ vecs[i], 0.0, 1.0))
    return chosen, scores

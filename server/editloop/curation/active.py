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
    import numpy as np

    if not events:
        return []
    ids: dict[str, int] = {}
    g = np.fromiter((ids.setdefault(ev.group, len(ids)) for ev in events), dtype=np.int64, count=len(events))
    r = np.fromiter((ev.reward for ev in events), dtype=np.float64, count=len(events))
    n = np.bincount(g)
    mean = np.bincount(g, weights=r) / n
    var = np.bincount(g, weights=(r - mean[g]) ** 2) / n
    return (0.5 * 4 * r * (1 - r) + 0.5 * np.minimum(1.0, 4 * var[g])).tolist()


def quality(ev: Ev) -> float:
    valid = 0.75 if ev.validation is None else max(0.0, min(100.0, ev.validation)) / 100.0
    if ev.action == "edit" or (ev.action == "reject" and ev.rewritten):
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
    import numpy as np

    u0 = reward_uncertainty(events)
    for u, ev in zip(u0, events):
        ev.extra["uncertainty"] = u
    pre = config.active_uncertainty_weight * np.asarray(u0) + config.active_quality_weight * np.fromiter(
        map(quality, events), dtype=np.float64, count=len(events))
    # best first; ties: newest first, then lower id (lexsort: last key is primary)
    ts = np.fromiter((ev.ts for ev in events), dtype=np.float64, count=len(events))
    eid = np.fromiter((ev.id for ev in events), dtype=np.int64, count=len(events))
    order = np.lexsort((eid, -ts, -np.round(pre, 9)))[: config.active_pool_max]
    return [events[i] for i in order.tolist()]


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
        # einsum: no BLAS thread pool (which stalls under load on small machines)
        dist = np.minimum(dist, np.clip(1.0 - np.einsum("ij,j->i", vecs, vecs[i]), 0.0, 1.0))
    return chosen, scores

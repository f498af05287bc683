"""Curriculum: a difficulty score per event, and easy -> hard stages opened by validation progress.

Difficulty in 0..1, a weighted sum of four parts:

    0.35 * edit size        (1 - similarity: an accept is 0, a rewrite near 1)
  + 0.25 * length           (output length / the pool's 95th percentile, capped at 1)
  + 0.20 * invalidity       (1 - validation/100; 0.5 when unknown)
  + 0.20 * type difficulty  (1 - the artifact type's accept rate in the pool)

:class:`Curriculum` cuts the ordered rows into ``stages`` equal parts. The trainer asks
:meth:`Curriculum.rows` for what to train on now (all stages opened so far, easiest first) and
tells :meth:`Curriculum.report` each validation metric. A stage opens when the metric stops
improving by more than ``min_delta`` (relative) for ``patience`` reports, never on a fixed
schedule; after the last stage plateaus, :attr:`Curriculum.done` is True.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from .events import Ev


def difficulties(events: Sequence[Ev]) -> dict[int, float]:
    """Event id -> difficulty in 0..1 (relative to this pool)."""
    if not events:
        return {}
    lengths = sorted(len(ev.final or ev.original) for ev in events)
    scale = max(1, lengths[min(len(lengths) - 1, int(0.95 * len(lengths)))])
    totals = Counter(ev.artifact_type for ev in events)
    accepts = Counter(ev.artifact_type for ev in events if ev.action == "accept")
    out = {}
    for ev in events:
        edit = 1.0 - max(0.0, min(1.0, ev.similarity)) if ev.action != "reject" else 1.0
        length = min(1.0, len(ev.final or ev.original) / scale)
        invalid = 0.5 if ev.validation is None else 1.0 - max(0.0, min(100.0, ev.validation)) / 100.0
        type_diff = 1.0 - accepts[ev.artifact_type] / totals[ev.artifact_type]
        out[ev.id] = round(0.35 * edit + 0.25 * length + 0.2 * invalid + 0.2 * type_diff, 6)
    return out


class Curriculum:
    """Stages of rows, easiest first, advanced by validation metrics."""

    def __init__(
        self,
        items: Sequence[Any],
        difficulty: Sequence[float],
        *,
        stages: int = 3,
        patience: int = 1,
        min_delta: float = 0.01,
        higher_is_better: bool = False,
    ) -> None:
        if len(items) != len(difficulty):
            raise ValueError("items and difficulty must have the same length")
        order = sorted(range(len(items)), key=lambda i: (difficulty[i], i))
        n_stages = max(1, min(stages, len(items))) if items else 1
        self.stages: list[list[Any]] = [[] for _ in range(n_stages)]
        for rank, i in enumerate(order):
            self.stages[rank * n_stages // len(order)].append(items[i])
        self.stage_of = {i: rank * n_stages // len(order) for rank, i in enumerate(order)}
        self.stage = 0
        self.patience = max(1, patience)
        self.min_delta = min_delta
        self.higher_is_better = higher_is_better
        self.best: float | None = None
        self.bad = 0
        self.done = False
        self.history: list[tuple[int, float]] = []

    @property
    def n_stages(self) -> int:
        return len(self.stages)

    def rows(self) -> list[Any]:
        """Rows of every stage opened so far, easiest first."""
        return [x for s in self.stages[: self.stage + 1] for x in s]

    def _improved(self, metric: float) -> bool:
        if self.best is None:
            return True
        margin = self.min_delta * abs(self.best)
        return metric > self.best + margin if self.higher_is_better else metric < self.best - margin

    def report(self, metric: float) -> bool:
        """Tell the validation metric; returns True when this opened the next stage."""
        self.history.append((self.stage, float(metric)))
        if self._improved(metric):
            self.best, self.bad = float(metric), 0
            return False
        self.bad += 1
        if self.bad < self.patience:
            return False
        if self.stage + 1 < self.n_stages:
            self.stage += 1
            self.best, self.bad = None, 0
            return True
        self.done = True
        return False

    def state(self) -> dict[str, Any]:
        return {"stage": self.stage, "stages": self.n_stages, "sizes": [len(s) for s in self.stages], "done": self.done,
                "history": list(self.history)}

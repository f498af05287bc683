"""Curriculum: a difficulty score per event, and easy -> hard stages opened by validation progress.

Difficulty in 0..1:

    0.8 * (signals.reward.difficulty(length, similarity, accept rate) - 0.5) / 1.5
  + 0.2 * invalidity (1 - validation/100; 0.5 when unknown)

where ``editloop.signals.reward.difficulty`` (0.5 .. 2.0, the product's one definition) weighs the
output's length (log scale), the edit size (1 - similarity; a reject counts as a full rewrite) and
the artifact type's accept rate in the pool.

A batch's train rows are sorted by it (easiest first), and Train now keeps that order: every
epoch its sampler yields the rows easiest first (``editloop.training.sampling``).

:class:`Curriculum` cuts the ordered rows into ``stages`` equal parts, for a trainer that opens
them one by one: it asks :meth:`Curriculum.rows` for what to train on now (all stages opened so
far, easiest first) and tells :meth:`Curriculum.report` each validation metric. A stage opens when
the metric stops improving by more than ``min_delta`` (relative) for ``patience`` reports, never
on a fixed schedule; after the last stage plateaus, :attr:`Curriculum.done` is True. Train now
does not use the stages.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from ..signals.reward import difficulty
from .events import Ev


def difficulties(events: Sequence[Ev]) -> dict[int, float]:
    """Event id -> difficulty in 0..1."""
    if not events:
        return {}
    totals = Counter(ev.artifact_type for ev in events)
    accepts = Counter(ev.artifact_type for ev in events if ev.action == "accept")
    out = {}
    for ev in events:
        sim = 0.0 if ev.action == "reject" else ev.similarity
        base = (difficulty(ev.original_len or len(ev.original), similarity=sim, accept_rate=accepts[ev.artifact_type] / totals[ev.artifact_type]) - 0.5) / 1.5
        invalid = 0.5 if ev.validation is None else 1.0 - max(0.0, min(100.0, ev.validation)) / 100.0
        out[ev.id] = round(0.8 * base + 0.2 * invalid, 6)
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

"""Injectable clocks: the real one, and a manual one that tests advance (no sleeping for minutes)."""

from __future__ import annotations

import time


class SystemClock:
    def __call__(self) -> float:
        return time.time()


class ManualClock:
    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

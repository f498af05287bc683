"""Background work the server starts by itself: embedding backfill and automatic training.

Both run as subprocesses (torch never loads into the language server). Each check is cheap and
runs from the server's timer loop.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from .server import EditloopServer

log = logging.getLogger(__name__)

BACKFILL_DELAY = 20.0  # seconds after the last new event
AUTO_IDLE_SECONDS = 120.0  # the editor must have been idle this long
AUTO_CHECK_EVERY = 60.0


class Background:
    def __init__(self, ls: "EditloopServer") -> None:
        self.ls = ls
        self.last_event = 0.0
        self.last_edit = time.monotonic()
        self.backfill: asyncio.subprocess.Process | None = None
        self.auto_checked = 0.0

    def note_event(self) -> None:
        self.last_event = time.monotonic()

    def note_edit(self) -> None:
        self.last_edit = time.monotonic()

    async def tick(self) -> None:
        try:
            await self._maybe_backfill()
            await self._maybe_autotrain()
        except Exception:  # noqa: BLE001 - background work never takes the server down
            log.exception("background work failed")

    async def _maybe_backfill(self) -> None:
        ls = self.ls
        if not ls.settings.embeddings or not self.last_event or time.monotonic() - self.last_event < BACKFILL_DELAY:
            return
        if self.backfill is not None and self.backfill.returncode is None:
            return
        from ..signals.embeddings import embeddings_status

        if embeddings_status() != "on":
            return
        self.last_event = 0.0
        home = str(ls.capture.store.home)
        self.backfill = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "editloop.store.backfill", "--home", home,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        log.info("embedding backfill started (pid %s)", self.backfill.pid)

    async def _maybe_autotrain(self) -> None:
        ls = self.ls
        now = time.monotonic()
        if not ls.settings.training_auto or now - self.auto_checked < AUTO_CHECK_EVERY or now - self.last_edit < AUTO_IDLE_SECONDS:
            return
        self.auto_checked = now
        loop = asyncio.get_running_loop()
        decision = await loop.run_in_executor(ls.thread_pool, self._should_train)
        if decision is None:
            return
        from ..training.jobs import start_run
        from ..training.settings_map import run_options
        from .training import relay

        home = str(ls.capture.store.home)
        options = run_options(ls.settings)  # the same run Train now starts
        run_id = await loop.run_in_executor(ls.thread_pool, lambda: start_run(home, method="auto", **options))
        ls.window_show_message(types.ShowMessageParams(types.MessageType.Info, f"Editloop: training on {decision} new events (editloop.training.auto); run {run_id}"))
        loop.create_task(relay(ls, run_id, home))

    def _should_train(self) -> int | None:
        """New events since the last run >= the adaptive batch size, and no run in progress."""
        from ..curation.batchsize import batch_size
        from ..curation.config import CurationConfig
        from ..store import events, runs
        from ..training.jobs import read_lock, recover

        store = self.ls.capture.store
        recover(store)
        if read_lock(store.home):
            return None
        activity = events.since(store, runs.last_created_at(store))
        new = activity.count
        if not new:
            return None
        # The adaptive batch size (curation.batchsize), not capped by what is available.
        config = CurationConfig()
        _, parts = batch_size(new, quality=activity.mean_reward or 0.0, rarity=0.5, config=config)
        needed = config.min_batch_size + (config.max_batch_size - config.min_batch_size) * parts.get("score", 1.0)
        return new if new >= needed else None


def announce_promotion(ls: "EditloopServer", finished: dict[str, Any]) -> None:
    """Tell the user when a run was promoted, and by how much it beat the old model."""
    metrics = finished.get("metrics") or {}
    if finished.get("status") != "succeeded" or not finished.get("promoted"):
        return
    reason = metrics.get("promotion") or ""
    ls.window_show_message(types.ShowMessageParams(types.MessageType.Info, f"Editloop: a new model was promoted (run {finished.get('runId')}). {reason}".strip()))

"""The Editloop language server: state lives here, handlers live in one module per concern."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..capture.clock import ManualClock, SystemClock
from ..capture.service import CaptureService, ChangeResult
from ..errors import EditloopError
from ..settings import Settings, parse_settings
from .background import Background
from .diagnostics import Diagnostics
from .protocol import EditloopProtocol

log = logging.getLogger(__name__)

# How often pending region positions are saved for re-anchoring after a crash (seconds).
FLUSH_INTERVAL = 5.0


class EditloopServer(LanguageServer):
    def __init__(self, *, manual_clock: bool = False) -> None:
        super().__init__(
            "editloop",
            __version__,
            protocol_cls=EditloopProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.settings = Settings()
        self.clock = ManualClock() if manual_clock else SystemClock()
        self._capture: CaptureService | None = None
        self._capture_error: str | None = None
        self.encoding = "utf-16"
        self.client_name = ""
        self._timer: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._generator = None
        self.background = Background(self)
        self.diagnostics = Diagnostics(self)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="editloop-writer")
        self._commits: list[asyncio.Future[Any]] = []

    # -- state -------------------------------------------------------------------------------
    @property
    def capture(self) -> CaptureService:
        if self._capture is None:
            raise EditloopError(self._capture_error or "the server is not initialized yet")
        return self._capture

    def configure(self, raw: dict[str, Any] | None) -> None:
        """Apply ``editloop.*`` settings (from initializationOptions or didChangeConfiguration)."""
        from ..store import Store

        new = parse_settings(raw, self.settings)
        reopen = self._capture is None or new.data_dir != self.settings.data_dir
        self.settings = new
        if reopen:
            try:
                store = Store.open(home_setting=new.data_dir, redact_secrets=new.redact_secrets)
            except EditloopError as exc:
                self._capture_error = f"Editloop cannot store feedback: {exc}"
                self.window_show_message(types.ShowMessageParams(types.MessageType.Error, self._capture_error))
                return
            old = self._capture
            self._capture = CaptureService(store, new, clock=self.clock, client=self.client_name)
            self._capture.deferred = True  # scoring and writes run on the writer thread, not the event loop
            self._capture_error = None
            if old is not None:
                for uri, doc in old.docs.items():
                    self._capture.open(uri, doc.text, version=doc.version, language_id=doc.language_id, encoding=doc.encoding)
                old.flush_positions()
                old.store.close()
        else:
            self._capture.settings = new
            self._capture.store.redact_secrets = new.redact_secrets
        self.poke_timer()

    def generator(self):
        """The generation backend (created on first use; never on the start-up path)."""
        if self._generator is None or self._generator.store is not self.capture.store:
            from ..generation.service import Generator

            self._generator = Generator(self.capture.store, self.settings)
        self._generator.settings = self.settings
        return self._generator

    # -- notifications -----------------------------------------------------------------------
    # -- outcomes off the event loop ----------------------------------------------------------
    def commit_outbox(self) -> None:
        """Score and store queued outcomes on the single writer thread (in order)."""
        if self._capture is None:
            return
        for outcome in self._capture.take_outbox():
            self._commits.append(asyncio.get_running_loop().run_in_executor(self._writer, self._commit, self._capture, outcome))

    @staticmethod
    def _commit(capture: CaptureService, outcome: Any) -> dict[str, Any] | None:
        try:
            return capture.commit(outcome)
        except Exception:  # noqa: BLE001 - the region stays pending in the database; it re-anchors later
            log.exception("recording the outcome of region %s failed", outcome.region.get("id"))
            return None

    async def settle(self) -> list[dict[str, Any]]:
        """Wait until every queued outcome is stored; returns the events they created."""
        self.commit_outbox()
        commits, self._commits = self._commits, []
        results = await asyncio.gather(*commits) if commits else []
        return [r for r in results if r]

    async def run_writer(self, fn: Any, *args: Any) -> Any:
        await self.settle()
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn, *args)

    def publish(self, result: ChangeResult) -> None:
        self.commit_outbox()
        if result.events or self._commits:
            self.background.note_event()
        for uri in sorted(result.changed_uris):
            self.protocol.notify("editloop/regions", {"uri": uri, "regions": self.capture.region_views(uri)})
            self.diagnostics.schedule(uri)
        if result.events:
            self.poke_timer()

    def publish_uri(self, uri: str) -> None:
        self.protocol.notify("editloop/regions", {"uri": uri, "regions": self.capture.region_views(uri)})
        self.diagnostics.schedule(uri)
        self.poke_timer()

    # -- survival checks ---------------------------------------------------------------------
    def recover_runs(self) -> None:
        """A run whose worker died (kill -9, a reboot) is marked failed. Off the start-up path."""
        if self._capture is None:
            return
        store = self._capture.store

        def work() -> None:
            try:
                from ..training.jobs import recover

                recover(store)
            except Exception:  # noqa: BLE001 - never block capture on this
                log.exception("could not check for interrupted training runs")

        asyncio.get_running_loop().run_in_executor(self.thread_pool, work)

    def start_timer(self) -> None:
        if self._timer is None and not isinstance(self.clock, ManualClock):
            self._wakeup = asyncio.Event()
            self._timer = asyncio.get_running_loop().create_task(self._survival_loop())

    def poke_timer(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    async def _survival_loop(self) -> None:
        assert self._wakeup is not None
        while True:
            delay = FLUSH_INTERVAL
            if self._capture is not None:
                nxt = self._capture.next_check_at()
                if nxt is not None:
                    delay = max(0.05, min(delay, nxt - self.clock()))
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass
            self._wakeup.clear()
            self.run_checks()
            if self._capture is not None:
                self.dismiss_inline(self)  # suggestions shown long ago and never taken
            await self.background.tick()

    def run_checks(self) -> ChangeResult:
        if self._capture is None:
            return ChangeResult()
        try:
            result = self._capture.tick()
        except Exception:  # noqa: BLE001 - a failing check must not stop the timer
            log.exception("survival check failed")
            return ChangeResult()
        self.publish(result)
        return result


def create_server(*, manual_clock: bool = False) -> EditloopServer:
    server = EditloopServer(manual_clock=manual_clock)
    from . import commands, documents, features, inline, training  # noqa: F401 - registering handlers

    documents.register(server)
    commands.register(server)
    commands.register_generation(server)
    features.register(server)
    training.register(server)
    inline.register(server)
    return server


def serve(*, manual_clock: bool = False) -> None:
    import os

    # stderr only (stdout carries LSP). pygls logs every message at INFO: keep it at WARNING.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("editloop").setLevel(os.environ.get("EDITLOOP_LOG_LEVEL", "INFO").upper())
    create_server(manual_clock=manual_clock).start_io()

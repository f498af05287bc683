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
from .inline import InlineSuggestions
from .protocol import EditloopProtocol
from .wire import region_list

log = logging.getLogger(__name__)

# How often pending region positions are saved for re-anchoring after a crash (seconds).
FLUSH_INTERVAL = 5.0
# ``editloop/statsChanged`` is sent at most once per this many seconds.
STATS_COALESCE = 1.0
# ``editloop/regions`` notifications of one document are coalesced over this many seconds.
REGIONS_COALESCE = 0.05


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
        self._capture_error_shown: str | None = None
        self.encoding = "utf-16"
        self.client_name = ""
        self._timer: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._generator = None
        self.background = Background(self)
        self.diagnostics = Diagnostics(self)
        self.inline = InlineSuggestions()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="editloop-writer")
        self._commits: list[asyncio.Future[Any]] = []
        self._region_uris: set[str] = set()
        self._stats_note: asyncio.TimerHandle | None = None
        self._data_version: int | None = None
        self._region_flush: asyncio.TimerHandle | None = None

    # -- state -------------------------------------------------------------------------------
    @property
    def capture(self) -> CaptureService:
        if self._capture is None:
            raise EditloopError(self._capture_error or "the server is not initialized yet")
        return self._capture

    @property
    def capture_if_ready(self) -> CaptureService | None:
        """The capture service, or None before initialize or when the data folder is unusable
        (for features that quietly answer nothing then, unlike commands)."""
        return self._capture

    def configure(self, raw: dict[str, Any] | None) -> None:
        """Apply ``editloop.*`` settings (from initializationOptions or didChangeConfiguration).

        A bad value never disables the rest: that setting keeps its default and one message says
        which. A new data folder is opened before the old one is let go; regions being tracked
        move with it (:func:`editloop.store.transfer.move_pending_regions`). If the new folder
        cannot be used, the old one stays in use and the message names it."""
        problems: list[str] = []
        new = parse_settings(raw, self.settings, problems=problems)
        if problems:
            text = "Editloop: " + "; ".join(problems)
            log.warning("%s", text)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, text))
        old = self._capture
        if old is not None and new.data_dir == self.settings.data_dir:
            self.settings = new
            old.settings = new
            old.store.redact_secrets = new.redact_secrets
            self.poke_timer()
            return
        self._open_data_dir(new)
        self.poke_timer()

    def _open_data_dir(self, new: Settings) -> None:
        from ..store import Store
        from ..store.db import open_db
        from ..store.transfer import move_pending_regions

        old = self._capture
        if old is not None:
            self.commit_outbox()  # outcomes already recorded go to the folder they were recorded in
        try:
            # quick_check takes seconds on a large database (docs/benchmarks.md): it runs off the start-up path (below).
            store = Store(open_db(home_setting=new.data_dir, check=False), redact_secrets=new.redact_secrets)
        except EditloopError as exc:
            if old is None:
                self.settings = new
                self._capture_error = f"Editloop cannot store feedback: {exc}"
            else:  # keep capturing where we were: nothing is lost, and the user is told where
                self.settings = new.replace(data_dir=self.settings.data_dir)
                old.settings = self.settings
                self._capture_error = None
                self._capture_error_shown = f"Editloop cannot use editloop.dataDir {new.data_dir!r}: {exc}. Feedback is still stored in {old.store.home}."
            message = self._capture_error or self._capture_error_shown
            log.error("%s", message)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, message))
            return
        self.settings = new
        if old is not None and store.path == old.store.path:  # e.g. EDITLOOP_HOME wins over the setting
            store.close()
            old.settings = new
            old.store.redact_secrets = new.redact_secrets
            return
        # deferred: scoring and writes run on the writer thread, not the event loop
        capture = CaptureService(store, new, clock=self.clock, client=self.client_name, deferred=True)
        self._capture = capture
        self._capture_error = None
        self._check_integrity(store)
        if old is None:
            return
        old.flush_positions()
        moved = move_pending_regions(old.store, store, old.tracked_ids())
        uris = capture.reopen_documents(old)
        self._writer.submit(old.store.close)  # after the writes queued before it
        text = f"Editloop now stores feedback in {store.home}" + (f" ({moved} tracked region{'s' if moved != 1 else ''} moved from {old.store.home})" if moved else "")
        log.info("%s", text)
        self.window_show_message(types.ShowMessageParams(types.MessageType.Info, text))
        for uri in uris:
            self.publish_uri(uri)

    def _check_integrity(self, store: Any) -> None:
        """``PRAGMA quick_check`` in a thread; a damaged database stops capture with one message."""
        from ..store.db import integrity_error

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving (a test constructing the server): check now
            err = integrity_error(store.path)
            if err is not None:
                self._capture, self._capture_error = None, f"Editloop cannot store feedback: {err}"
            return

        def done(fut: "asyncio.Future[Any]") -> None:
            err = fut.result()
            if err is None or self._capture is None or self._capture.store is not store:
                return
            self._capture, self._capture_error = None, f"Editloop cannot store feedback: {err}"
            log.error("%s", self._capture_error)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, self._capture_error))
            self._writer.submit(store.close)

        loop.run_in_executor(self.thread_pool, integrity_error, store.path).add_done_callback(done)

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

    def stats_changed(self) -> None:
        """Tell the editor (its stats panel) that events were recorded: one notification a second at most."""
        if self._stats_note is None:
            self._stats_note = asyncio.get_running_loop().call_later(STATS_COALESCE, self._send_stats_changed)

    def _send_stats_changed(self) -> None:
        self._stats_note = None
        self.protocol.notify("editloop/statsChanged", {})

    def watch_other_writers(self) -> None:
        """Another window or the CLI wrote the database: the panel should show it too."""
        if self._capture is None:
            return
        from ..store.watch import data_version

        version = data_version(self._capture.store)
        if version is not None and self._data_version is not None and version != self._data_version:
            self.stats_changed()
        self._data_version = version

    def publish(self, result: ChangeResult) -> None:
        self.commit_outbox()
        if result.events or self._commits:
            self.background.note_event()
            self.stats_changed()
        for uri in sorted(result.changed_uris):
            self.notify_regions(uri)
        if result.events:
            self.poke_timer()

    def publish_uri(self, uri: str) -> None:
        self.notify_regions(uri)
        self.poke_timer()

    def notify_regions(self, uri: str) -> None:
        """Queue ``editloop/regions`` for ``uri``: at most one per document every ``REGIONS_COALESCE`` s.

        Each notification carries the document's whole region list, so sending one per change made
        a flood of ``track`` calls quadratic (10,000 calls stalled a session)."""
        self._region_uris.add(uri)
        self.diagnostics.schedule(uri)
        if self._region_flush is None:
            self._region_flush = asyncio.get_running_loop().call_later(REGIONS_COALESCE, self.flush_regions)

    def flush_regions(self) -> None:
        self._region_flush = None
        uris, self._region_uris = sorted(self._region_uris), set()
        for uri in uris:
            try:
                views = region_list(self.capture.spans(uri))
            except EditloopError:
                return
            self.protocol.notify("editloop/regions", {"uri": uri, "regions": views})

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
            self.watch_other_writers()
            self.dismiss_inline()  # suggestions shown long ago and never taken
            await self.background.tick()

    def dismiss_inline(self, *, uri: str | None = None) -> None:
        """Record inline completions shown in ``uri`` (and stale ones) as implicit rejects."""
        if self._capture is not None and self.inline.dismiss(self._capture, uri=uri):
            self.commit_outbox()

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
    from . import documents, features, inline
    from .dispatch import register_commands

    documents.register(server)
    features.register(server)
    inline.register(server)
    register_commands(server)
    return server


def serve(*, manual_clock: bool = False) -> None:
    import os

    # stderr only (stdout carries LSP). pygls logs every message at INFO: keep it at WARNING.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("editloop").setLevel(os.environ.get("EDITLOOP_LOG_LEVEL", "INFO").upper())
    from .dispatch import ExpectedErrorsOneLine

    logging.getLogger("pygls.protocol.json_rpc").addFilter(ExpectedErrorsOneLine())
    create_server(manual_clock=manual_clock).start_io()

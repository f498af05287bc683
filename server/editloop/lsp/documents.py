"""Lifecycle and document sync: initialize, settings, didOpen / didChange / didClose, shutdown."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder

from ..errors import EditloopError

if TYPE_CHECKING:
    from .server import EditloopServer

log = logging.getLogger(__name__)

# How long a command waits for the editor's didChange to bring text it inserted: polls x interval (s).
INSERTION_POLLS = 500
INSERTION_POLL_INTERVAL = 0.01


def register(server: "EditloopServer") -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: "EditloopServer", params: types.InitializeParams) -> None:
        enc = ServerCapabilitiesBuilder.choose_position_encoding(params.capabilities)
        ls.encoding = str(getattr(enc, "value", enc) or "utf-16")
        if params.client_info is not None:
            ls.client_name = f"{params.client_info.name} {params.client_info.version or ''}".strip()
        options = params.initialization_options
        try:
            ls.configure(options if isinstance(options, dict) else None)
        except EditloopError as exc:
            log.error("bad initializationOptions: %s", exc)
            ls.window_show_message(types.ShowMessageParams(types.MessageType.Error, str(exc)))
            ls.configure(None)

    @server.feature(types.INITIALIZED)
    def initialized(ls: "EditloopServer", params: types.InitializedParams) -> None:
        ls.start_timer()
        ls.recover_runs()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: "EditloopServer", params: types.DidChangeConfigurationParams) -> None:
        raw = params.settings
        if not isinstance(raw, dict):
            return
        try:
            ls.configure(raw.get("editloop", raw))
        except EditloopError as exc:
            ls.window_show_message(types.ShowMessageParams(types.MessageType.Error, str(exc)))

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: "EditloopServer", *args: object) -> None:
        if ls.capture_if_ready is not None:
            await ls.settle()  # every recorded outcome is stored before we answer
            if ls.capture_if_ready is not None:
                ls.capture_if_ready.flush_positions()


def did_open(ls: "EditloopServer", params: types.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    try:
        result = ls.capture.open(doc.uri, doc.text, version=doc.version, language_id=doc.language_id, encoding=ls.encoding)
        ls.publish(result)
    except Exception:  # noqa: BLE001 - a notification has no reply; log and keep serving
        log.exception("didOpen %s failed", doc.uri)


def did_change(ls: "EditloopServer", params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    changes = []
    for ch in params.content_changes:
        if isinstance(ch, types.TextDocumentContentChangePartial):
            r = ch.range
            changes.append(((r.start.line, r.start.character, r.end.line, r.end.character), ch.text))
        else:
            changes.append((None, ch.text))
    try:
        result = ls.capture.change(uri, changes, version=params.text_document.version)
        ls.background.note_edit()
        ls.publish(result)
        if ls.capture.has_regions(uri) or uri in ls.diagnostics.published:
            ls.diagnostics.schedule(uri)  # region text changed even if its range did not move
    except Exception:  # noqa: BLE001
        log.exception("didChange %s failed", uri)


def did_close(ls: "EditloopServer", params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    try:
        ls.publish(ls.capture.close(uri))
    except Exception:  # noqa: BLE001
        log.exception("didClose %s failed", uri)


async def wait_for_insertion(ls: "EditloopServer", uri: str, line: int, character: int, text: str, *, missing: str) -> tuple[int, int, int, int]:
    """The client range of ``text`` once the document holds it at (line, character).

    Text the editor inserted for us (``workspace/applyEdit`` after Generate, an accepted inline
    completion) reaches our copy of the document through a later ``didChange``: wait for it, up to
    ``INSERTION_POLLS`` x ``INSERTION_POLL_INTERVAL`` seconds (about 5 s), then raise ``missing``
    (nothing is tracked: the text is not where the editor said it would be)."""
    for _ in range(INSERTION_POLLS):
        rng = ls.capture.inserted_range(uri, line, character, text)
        if rng is not None:
            return rng
        await asyncio.sleep(INSERTION_POLL_INTERVAL)
    raise EditloopError(missing)

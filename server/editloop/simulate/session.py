"""A scripted LSP client for a real `editloop serve` subprocess.

The demo and the learning benchmark only play the user: they open documents, insert the model's
output, track it, type the user's corrections as incremental ``didChange`` edits (derived from the
Levenshtein opcodes between the current and the wanted text), and accept or reject, exactly as an
editor would. Everything else happens in the server.

A run started through the session is waited for as long as it makes progress (its
``runs/<id>/progress.jsonl``), never against a fixed deadline; a run that falls silent for the
stall timeout, and every run still going when the session ends (Ctrl-C, a crash), is cancelled:
``editloop.cancel`` through the server, else directly (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from ..errors import EditloopError
from ..training.progress import DEFAULT_STALL_TIMEOUT, ProgressFile, RunStalled, StallWatch

log = logging.getLogger(__name__)


class ServerSession:
    def __init__(self, home: str | Path, *, settings: dict[str, Any] | None = None, manual_clock: bool = True, env: dict[str, str] | None = None) -> None:
        self.home = Path(home)
        self.settings = {"dataDir": str(self.home), **(settings or {})}
        self.manual_clock = manual_clock
        self.env = env
        self.client = LanguageClient("editloop-simulated-user", "1")
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        self.notifications: list[tuple[str, Any]] = []
        self._stderr_task: asyncio.Task[None] | None = None
        self.stderr_tail: list[str] = []
        self.progress: list[Any] = []
        self.messages: list[str] = []  # window/showMessage, as an editor would show them
        self.finished: dict[str, asyncio.Future[Any]] = {}
        self.started_runs: list[str] = []  # editloop.train through this session, cancelled if still going at stop()
        # the server's data folder: EDITLOOP_HOME wins over the dataDir setting, as in editloop.paths
        self.data_home = Path((self.env or {}).get("EDITLOOP_HOME") or os.environ.get("EDITLOOP_HOME") or self.home)

    async def __aenter__(self) -> "ServerSession":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> types.InitializeResult:
        cmd = [sys.executable, "-m", "editloop", "serve"] + (["--manual-clock"] if self.manual_clock else [])
        for method in ("editloop/regions", "editloop/runFinished", "editloop/statsChanged"):
            self.client.feature(method)(lambda params, m=method: self._notified(m, params))
        self.client.feature(types.WORKSPACE_APPLY_EDIT)(lambda params: self._apply_edit(params))
        self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)(lambda params: None)
        self.client.feature(types.PROGRESS)(lambda params: self.progress.append(_plain(params.value)))
        self.client.feature(types.WINDOW_SHOW_MESSAGE)(lambda params: self.messages.append(params.message))
        env = {**os.environ, **(self.env or {})}
        await self.client.start_io(*cmd, env=env)
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        result = await self.client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities(), initialization_options=self.settings, process_id=os.getpid())
        )
        self.client.initialized(types.InitializedParams())
        return result

    def _notified(self, method: str, params: Any) -> None:
        self.notifications.append((method, params))
        if method == "editloop/runFinished":
            fut = self.finished.setdefault(params.runId, asyncio.get_running_loop().create_future())
            if not fut.done():
                fut.set_result(_plain(params))

    async def wait_run(self, run_id: str, *, stall_timeout: float | None = DEFAULT_STALL_TIMEOUT,
                       on_progress: Callable[[dict[str, Any]], None] | None = None, poll: float = 0.25) -> dict[str, Any]:
        """The run's ``editloop/runFinished``, however long the run takes while it makes progress.

        ``on_progress`` gets each event of the run's progress file. No event for ``stall_timeout``
        seconds (None: never), the server gone, or this wait interrupted (Ctrl-C, a cancelled
        task): the run is cancelled, then :class:`RunStalled`, an EditloopError or the interruption
        is raised."""
        fut = self.finished.setdefault(run_id, asyncio.get_running_loop().create_future())
        follower = ProgressFile(self.data_home / "runs" / run_id / "progress.jsonl")
        watch = StallWatch(run_id, stall_timeout)
        try:
            while True:
                await asyncio.wait([fut], timeout=poll)
                for event in follower.read_new():
                    watch.seen(event)
                    if on_progress is not None:
                        on_progress(event)
                if fut.done():
                    return fut.result()
                if not self.server_alive():
                    raise EditloopError(f"the language server exited while run {run_id} was running"
                                        + (f" ({self.stderr_tail[-1]})" if self.stderr_tail else ""))
                watch.check()
        except RunStalled as exc:
            status = await self.cancel_run(run_id)
            raise RunStalled(f"{exc}; " + ("cancelled it" if status == "cancelled" else f"it ended {status}")) from None
        except BaseException:
            await asyncio.shield(self.cancel_run(run_id))
            raise

    def server_alive(self) -> bool:
        proc = self.client._server
        return proc is not None and proc.returncode is None

    async def cancel_run(self, run_id: str, *, timeout: float = 60) -> str:
        """Cancel a run that is still going: ``editloop.cancel`` through the server, else (the
        server gone or not answering) here, as the server would (SIGTERM, then SIGKILL). Returns
        the run's status."""
        from ..training.jobs import ACTIVE, cancel_run, run_status

        if run_id in self.finished and self.finished[run_id].done():
            return str(self.finished[run_id].result().get("status"))
        if self.server_alive():
            request = asyncio.ensure_future(self.command("editloop.cancel", {"runId": run_id}))
            deadline = asyncio.get_running_loop().time() + timeout
            while not request.done() and self.server_alive() and asyncio.get_running_loop().time() < deadline:
                await asyncio.wait([request], timeout=0.2)
            if not request.done():
                request.cancel()  # the server went away or does not answer: cancel the run here
                log.warning("editloop.cancel %s got no answer; cancelling it here", run_id)
            elif request.cancelled() or request.exception() is not None:
                why = "cancelled" if request.cancelled() else request.exception()
                log.warning("editloop.cancel %s failed (%s); cancelling it here", run_id, why)
        status = await asyncio.to_thread(run_status, self.data_home, run_id)
        if status["status"] in ACTIVE:
            status = await asyncio.to_thread(cancel_run, self.data_home, run_id)
        return str(status["status"])

    async def cancel_unfinished(self) -> list[str]:
        """Cancel every run started through this session that has not finished; returns their ids."""
        cancelled = []
        for run_id in self.started_runs:
            fut = self.finished.get(run_id)
            if fut is not None and fut.done():
                continue
            try:
                if await self.cancel_run(run_id) == "cancelled":
                    cancelled.append(run_id)
            except Exception as exc:  # noqa: BLE001 - keep cancelling the others
                log.error("could not cancel run %s: %s", run_id, exc)
        return cancelled

    def _apply_edit(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        """Apply the server's edit the way an editor does: change the text, report it with didChange."""
        changes = params.edit.changes or {}
        for uri, edits in changes.items():
            if uri not in self.texts:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason=f"{uri} is not open")
            for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
                start = _offset(self.texts[uri], e.range.start)
                end = _offset(self.texts[uri], e.range.end)
                self.replace(uri, start, end, e.new_text)
        return types.ApplyWorkspaceEditResult(applied=True)

    async def _drain_stderr(self) -> None:
        proc = self.client._server
        if proc is None or proc.stderr is None:
            return
        while True:
            line = await proc.stderr.readline()
            if not line:
                return
            self.stderr_tail = (self.stderr_tail + [line.decode(errors="replace").rstrip()])[-50:]

    async def stop(self) -> None:
        """Cancel the runs this session started that are still going, then shut the server down."""
        try:
            await self.cancel_unfinished()
        except BaseException as exc:  # noqa: BLE001 - the server must still be stopped
            log.error("cancelling this session's runs failed: %s", exc)
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), timeout=30)
            self.client.exit(None)
        except Exception:  # noqa: BLE001 - the server may already be gone
            pass
        await self.client.stop()
        if self._stderr_task:
            self._stderr_task.cancel()

    # -- documents ---------------------------------------------------------------------------
    def open(self, uri: str, text: str, language_id: str = "plaintext") -> None:
        self.versions[uri] = 1
        self.texts[uri] = text
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text)))

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri=uri)))
        self.texts.pop(uri, None)

    def replace(self, uri: str, start: int, end: int, new: str) -> None:
        """Replace text between two offsets of the document, sent as one incremental change."""
        text = self.texts[uri]
        s, e = _pos(text, start), _pos(text, end)
        self.versions[uri] += 1
        self.texts[uri] = text[:start] + new + text[end:]
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=self.versions[uri], uri=uri),
                [types.TextDocumentContentChangePartial(types.Range(s, e), new)],
            )
        )

    def edit_region(self, uri: str, start: int, current: str, wanted: str) -> int:
        """Turn ``current`` (at offset ``start``) into ``wanted`` with the edits a user would type,
        one didChange per changed span (last span first so offsets stay valid). Returns the count."""
        from rapidfuzz.distance import Levenshtein

        ops = [op for op in Levenshtein.opcodes(current, wanted) if op.tag != "equal"]
        # Merge spans that are close together into one typed change, like a human editing a word.
        merged: list[list[int]] = []
        for op in ops:
            if merged and op.src_start - merged[-1][1] <= 3:
                merged[-1][1], merged[-1][3] = op.src_end, op.dest_end
            else:
                merged.append([op.src_start, op.src_end, op.dest_start, op.dest_end])
        for s0, s1, d0, d1 in reversed(merged):
            self.replace(uri, start + s0, start + s1, wanted[d0:d1])
        return len(merged)

    # -- commands ----------------------------------------------------------------------------
    async def command(self, name: str, arg: dict[str, Any] | None = None) -> Any:
        result = await self.client.workspace_execute_command_async(types.ExecuteCommandParams(command=name, arguments=[arg or {}]))
        result = _plain(result)
        if name == "editloop.train" and isinstance(result, dict) and result.get("runId"):
            self.started_runs.append(result["runId"])
        return result

    async def track(self, uri: str, start: int, end: int, **fields: Any) -> str:
        text = self.texts[uri]
        s, e = _pos(text, start), _pos(text, end)
        rng = {"start": {"line": s.line, "character": s.character}, "end": {"line": e.line, "character": e.character}}
        out = await self.command("editloop.track", {"uri": uri, "range": rng, **fields})
        return out["regionId"]


def _pos(text: str, offset: int) -> types.Position:
    """Offset -> LSP position in UTF-16 code units (the default encoding)."""
    head = text[:offset]
    line = head.count("\n")
    col_text = head[head.rfind("\n") + 1 :]
    return types.Position(line, len(col_text.encode("utf-16-le")) // 2)


def _offset(text: str, pos: types.Position) -> int:
    """LSP position (UTF-16) -> offset in ``text``."""
    lines = text.split("\n")
    off = sum(len(line) + 1 for line in lines[: pos.line])
    line = lines[pos.line] if pos.line < len(lines) else ""
    units = 0
    for i, ch in enumerate(line):
        if units >= pos.character:
            return off + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return off + len(line)


def _plain(value: Any) -> Any:
    """pygls hands back attrs-like ``Object``s for JSON objects; turn them into dicts and lists."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "_asdict"):  # pygls's Object is a namedtuple: check before tuple
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if hasattr(value, "__dict__"):
        return {k: _plain(v) for k, v in vars(value).items()}
    return value

"""A scripted LSP client for a real `editloop serve` subprocess.

The demo and the learning benchmark only play the user: they open documents, insert the model's
output, track it, type the user's corrections as incremental ``didChange`` edits (derived from the
Levenshtein opcodes between the current and the wanted text), and accept or reject, exactly as an
editor would. Everything else happens in the server.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient


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

    async def __aenter__(self) -> "ServerSession":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> types.InitializeResult:
        cmd = [sys.executable, "-m", "editloop", "serve"] + (["--manual-clock"] if self.manual_clock else [])
        for method in ("editloop/regions", "editloop/runFinished"):
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

    async def wait_run(self, run_id: str, timeout: float = 900) -> dict[str, Any]:
        fut = self.finished.setdefault(run_id, asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(fut, timeout)

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
        return _plain(result)

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

"""Validity of tracked regions as LSP diagnostics (source `editloop`), refreshed after edits.

Validation (mmdr in its helper process, tree-sitter) runs on a worker thread, debounced per
document; messages are positioned relative to the region and moved to document positions here.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..capture.document import Pos

if TYPE_CHECKING:
    from .server import EditloopServer

DEBOUNCE = 0.3


class Diagnostics:
    def __init__(self, ls: "EditloopServer") -> None:
        self.ls = ls
        self.pending: dict[str, asyncio.TimerHandle] = {}
        self.published: set[str] = set()

    def schedule(self, uri: str) -> None:
        loop = asyncio.get_running_loop()
        old = self.pending.pop(uri, None)
        if old is not None:
            old.cancel()
        self.pending[uri] = loop.call_later(DEBOUNCE, lambda: loop.create_task(self.refresh(uri)))

    async def refresh(self, uri: str) -> None:
        self.pending.pop(uri, None)
        ls = self.ls
        cap = ls.capture_if_ready
        doc = cap.find_document(uri) if cap is not None else None
        if doc is None:
            self._publish(uri, [])
            return
        jobs: list[tuple[Pos, str, str, str | None]] = []
        for span in cap.spans(uri):
            row = cap.store.get_region(span.id)
            jobs.append((span.start, doc.slice(span.start, span.end), row["artifact_type"], row.get("language")))

        def work() -> list[tuple[Pos, Any]]:
            from ..signals.validate import validate

            return [(start, validate(text, artifact, language)) for start, text, artifact, language in jobs]

        results = await asyncio.get_running_loop().run_in_executor(ls.thread_pool, work)
        if cap.find_document(uri) is not doc:
            return
        diags = []
        for start, result in results:
            for msg in result.messages or ([] if result.score is None or result.score >= 100 else [{"line": 0, "column": None, "message": "invalid"}]):
                line = start.line + int(msg.get("line") or 0)
                if line >= len(doc.lines):
                    line = len(doc.lines) - 1
                col = msg.get("column")
                char = (start.character if line == start.line else 0) + (int(col) if col is not None else 0)
                text = doc.lines[line].rstrip("\r\n")
                s = doc.to_client(Pos(line, min(char, len(text))))
                e = doc.to_client(Pos(line, len(text)))
                diags.append(
                    types.Diagnostic(
                        range=types.Range(types.Position(*s), types.Position(*e)),
                        message=f"{msg.get('message', 'invalid')} ({result.parser}, validity {result.score:.0f}/100)",
                        severity=types.DiagnosticSeverity.Error,
                        source="editloop",
                    )
                )
        self._publish(uri, diags)

    def _publish(self, uri: str, diags: list[types.Diagnostic]) -> None:
        if not diags and uri not in self.published:
            return
        self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diags))
        if diags:
            self.published.add(uri)
        else:
            self.published.discard(uri)

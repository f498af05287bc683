"""Shared helpers for end-to-end tests against the real `editloop serve` subprocess."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types

SERVER = [sys.executable, "-m", "editloop", "serve", "--manual-clock"]


def rng(l0: int, c0: int, l1: int, c1: int) -> dict[str, Any]:
    return {"start": {"line": l0, "character": c0}, "end": {"line": l1, "character": c1}}


def open_doc(client, uri: str, text: str, language_id: str = "mermaid", version: int = 1) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text)))


def change(client, uri: str, version: int, l0: int, c0: int, l1: int, c1: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=uri),
            [types.TextDocumentContentChangePartial(types.Range(types.Position(l0, c0), types.Position(l1, c1)), text)],
        )
    )


async def cmd(client, name: str, arg: Any = None) -> Any:
    args = [] if arg is None else [arg]
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command=name, arguments=args))


def _rows(home: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(home / "feedback.db")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def events(home: Path) -> list[dict[str, Any]]:
    return _rows(home, "SELECT * FROM events ORDER BY id")


def regions(home: Path) -> list[dict[str, Any]]:
    return _rows(home, "SELECT * FROM regions ORDER BY created_at")

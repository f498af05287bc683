"""Inline completions through a real server and the local model: accepted -> tracked region;
shown and not taken -> an implicit reject."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from lsprotocol import types

from editloop.simulate.session import ServerSession, _offset

pytestmark = pytest.mark.slow  # builds the tiny model and generates with it


def test_inline_completion_accept_and_dismiss(home, tiny_model):
    async def session():
        async with ServerSession(home, settings={"training.baseModel": tiny_model, "generation.inline": True}) as s:
            uri = "file:///proj/schema.txt"
            s.open(uri, "table order {\n", "plaintext")

            async def ask(line: int, character: int):
                return await s.client.text_document_inline_completion_async(
                    types.InlineCompletionParams(
                        text_document=types.TextDocumentIdentifier(uri), position=types.Position(line, character),
                        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
                    )
                )

            first = await ask(1, 0)
            item = first.items[0]
            # The user takes it: the editor inserts the text, then runs the item's command.
            at = _offset(s.texts[uri], item.range.start)
            s.replace(uri, at, at, item.insert_text)
            accepted = await s.command(item.command.command, item.command.arguments[0])
            region = await s.command("editloop.region", {"regionId": accepted["regionId"]})
            # A second suggestion is shown, then the user keeps typing and asks again: the second was dismissed.
            end = s.texts[uri].count("\n")
            second = await ask(end, 0)
            await ask(end, 0)
            stats = await s.command("editloop.stats", {})
            return item, region, second, stats

    item, region, second, stats = asyncio.run(session())
    assert item.insert_text.strip()
    assert region["status"] == "pending" and region["original"] == item.insert_text
    assert second.items
    assert stats["counts"]["reject"] == 1
    row = sqlite3.connect(home / "feedback.db").execute("SELECT action, source, reason, original FROM events").fetchone()
    assert row == ("reject", "implicit", "inline dismissed", second.items[0].insert_text)

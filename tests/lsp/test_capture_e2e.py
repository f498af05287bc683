"""End to end: a real `editloop serve` subprocess driven over stdio by pytest-lsp."""

from __future__ import annotations

import asyncio
import os

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from .helpers import SERVER, change, cmd, events, open_doc, regions, rng

ERD = "erDiagram\n    CUSTOMER ||--o{ ORDER : places\n    ORDER ||--|{ LINE_ITEM : contains\n"


@pytest.fixture
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("home")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, home):
    lsp_client.region_updates = []
    lsp_client.feature("editloop/regions")(lambda params: lsp_client.region_updates.append(params))
    lsp_client.init_result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            initialization_options={"dataDir": str(home), "survivalSeconds": [30, 120, 300, 600]},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_advertises_commands_and_incremental_sync(client: LanguageClient):
    caps = client.init_result.capabilities
    for name in ("editloop.track", "editloop.accept", "editloop.reject", "editloop.stats", "editloop.forget"):
        assert name in caps.execute_command_provider.commands
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
    assert caps.position_encoding == types.PositionEncodingKind.Utf16


async def test_track_edit_accept_records_original_and_final(client: LanguageClient, home):
    uri = "file:///work/shop/model.mmd"
    text = "%% notes\n" + ERD
    open_doc(client, uri, text)
    res = await cmd(client, "editloop.track", {"uri": uri, "range": rng(1, 0, 4, 0), "prompt": "customers place orders", "model": "tiny", "artifactType": "mermaid-erd"})
    rid = res["regionId"]
    # The user renames ORDER -> ORDERS on line 2 (inside the region) and types above it (before the region).
    change(client, uri, 2, 2, 20, 2, 25, "ORDERS")
    change(client, uri, 3, 0, 0, 0, 0, "%% header\n")
    out = await cmd(client, "editloop.accept", {"regionId": rid})
    assert out["action"] == "edit"
    assert 0 < out["similarity"] < 1
    [ev] = events(home)
    assert ev["original"] == ERD
    assert ev["final"] == ERD.replace("o{ ORDER :", "o{ ORDERS :")
    assert ev["source"] == "explicit" and ev["prompt"] == "customers place orders"
    # A second accept is answered with the same event, not a duplicate.
    again = await cmd(client, "editloop.accept", {"regionId": rid})
    assert again["eventId"] == out["eventId"]
    assert len(events(home)) == 1
    stats = await cmd(client, "editloop.stats", {})
    assert stats["counts"]["edit"] == 1 and stats["total"] == 1


async def test_unchanged_accept_and_explicit_reject(client: LanguageClient, home):
    uri = "untitled:Untitled-1"
    open_doc(client, uri, "a = 1\nb = 2\n", language_id="python")
    r1 = (await cmd(client, "editloop.track", {"uri": uri, "range": rng(0, 0, 0, 5), "artifactType": "python"}))["regionId"]
    r2 = (await cmd(client, "editloop.track", {"uri": uri, "range": rng(1, 0, 1, 5), "artifactType": "python"}))["regionId"]
    assert (await cmd(client, "editloop.accept", {"regionId": r1}))["action"] == "accept"
    rej = await cmd(client, "editloop.reject", {"regionId": r2})
    assert rej["action"] == "reject"
    evs = {e["region_id"]: e for e in events(home)}
    assert evs[r1]["similarity"] == 1.0
    assert evs[r2]["reward"] < evs[r1]["reward"]


async def test_deleting_region_is_implicit_reject(client: LanguageClient, home):
    uri = "file:///tmp/x.mmd"
    open_doc(client, uri, "keep\n" + ERD + "tail\n")
    rid = (await cmd(client, "editloop.track", {"uri": uri, "range": rng(1, 0, 4, 0), "artifactType": "mermaid-erd"}))["regionId"]
    change(client, uri, 2, 1, 0, 4, 0, "")
    stats = await cmd(client, "editloop.stats", {})  # a request after the notification: it has been handled
    assert stats["counts"]["reject"] == 1
    [ev] = events(home)
    assert ev["region_id"] == rid and ev["action"] == "reject" and ev["source"] == "implicit" and ev["final"] == ""
    last = client.region_updates[-1]
    assert last.uri == uri and last.regions == []


async def test_survival_checks_with_injected_clock(client: LanguageClient, home):
    uri = "file:///tmp/s.sql"
    open_doc(client, uri, "CREATE TABLE a (id int);\n", language_id="sql")
    rid = (await cmd(client, "editloop.track", {"uri": uri, "range": rng(0, 0, 0, 24), "artifactType": "sql"}))["regionId"]
    out = await cmd(client, "editloop.advanceClock", {"seconds": 31})
    assert out["events"] == []
    change(client, uri, 2, 0, 19, 0, 22, "bigint")
    out = await cmd(client, "editloop.advanceClock", {"seconds": 300})
    assert out["events"] == []
    out = await cmd(client, "editloop.advanceClock", {"seconds": 300})
    [ev] = out["events"]
    assert ev["regionId"] == rid and ev["action"] == "edit" and ev["source"] == "implicit"
    [row] = events(home)
    assert row["final"] == "CREATE TABLE a (id bigint);"
    import sqlite3

    conn = sqlite3.connect(home / "feedback.db")
    curve = conn.execute("SELECT after_seconds, similarity FROM survival_checks WHERE region_id=? ORDER BY 1", [rid]).fetchall()
    assert [c[0] for c in curve] == [30, 120, 300, 600]
    assert curve[0][1] == 1.0 and curve[-1][1] < 1.0


async def test_close_resolves_pending_with_current_text(client: LanguageClient, home):
    uri = "file:///tmp/c.py"
    open_doc(client, uri, "def f():\n    return 1\n", language_id="python")
    await cmd(client, "editloop.track", {"uri": uri, "range": rng(0, 0, 1, 12), "artifactType": "python"})
    change(client, uri, 2, 1, 11, 1, 12, "2")
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await cmd(client, "editloop.stats", {})
    [ev] = events(home)
    assert ev["action"] == "edit" and ev["final"] == "def f():\n    return 2" and ev["reason"] == "closed"


async def test_a_rewrite_typed_where_a_rejected_region_was_becomes_its_final_text(client: LanguageClient, home):
    uri = "file:///tmp/rw.sql"
    open_doc(client, uri, "-- top\nCREATE TABLE a (id int);\n", language_id="sql")
    rid = (await cmd(client, "editloop.track", {"uri": uri, "range": rng(1, 0, 2, 0), "artifactType": "sql"}))["regionId"]
    assert (await cmd(client, "editloop.reject", {"regionId": rid}))["action"] == "reject"
    change(client, uri, 2, 1, 0, 2, 0, "")  # the extension removes a rejected region's text
    change(client, uri, 3, 1, 0, 1, 0, "CREATE TABLE accounts (\n")  # then the user writes their own
    change(client, uri, 4, 2, 0, 2, 0, "  id INTEGER PRIMARY KEY\n);\n")
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await cmd(client, "editloop.stats", {})
    [ev] = events(home)
    assert (ev["action"], ev["reason"]) == ("reject", "reject, rewritten")
    assert ev["final"] == "CREATE TABLE accounts (\n  id INTEGER PRIMARY KEY\n);\n" and ev["edit_distance"] > 0
    # a second document: the place is still open when the last survival check is due
    uri2 = "file:///tmp/rw2.sql"
    open_doc(client, uri2, "CREATE TABLE b (id int);\n", language_id="sql")
    rid2 = (await cmd(client, "editloop.track", {"uri": uri2, "range": rng(0, 0, 1, 0), "artifactType": "sql"}))["regionId"]
    change(client, uri2, 2, 0, 0, 1, 0, "CREATE TABLE bees (id bigint);\n")  # replaced at once: an edit, not a reject
    await cmd(client, "editloop.reject", {"regionId": rid2})
    change(client, uri2, 3, 0, 0, 1, 0, "CREATE TABLE birds (id text);\n")
    await cmd(client, "editloop.advanceClock", {"seconds": 601})
    await cmd(client, "editloop.stats", {})
    ev2 = next(e for e in events(home) if e["region_id"] == rid2)
    assert ev2["final"] == "CREATE TABLE birds (id text);\n" and ev2["reason"] == "reject, rewritten"


async def test_emoji_before_region_does_not_shift_it(client: LanguageClient, home):
    uri = "file:///tmp/e.mmd"
    # "😀" is 2 UTF-16 code units; "é" is 1. The region starts after them on the same line.
    open_doc(client, uri, "😀é A ||--o{ B : has\n")
    rid = (await cmd(client, "editloop.track", {"uri": uri, "range": rng(0, 4, 0, 20), "artifactType": "mermaid-erd"}))["regionId"]
    desc = await cmd(client, "editloop.region", {"regionId": rid})
    assert desc["original"] == "A ||--o{ B : has"
    change(client, uri, 2, 0, 0, 0, 0, "🎉")  # another emoji in front
    desc = await cmd(client, "editloop.region", {"regionId": rid})
    assert desc["current"] == "A ||--o{ B : has"
    assert desc["range"] == rng(0, 6, 0, 22)


async def test_bad_input_gets_clear_errors_and_server_keeps_serving(client: LanguageClient, home):
    from pygls.exceptions import JsonRpcException

    uri = "file:///tmp/b.txt"
    open_doc(client, uri, "one\ntwo\n")
    cases = [
        ("editloop.accept", {"regionId": "nope"}, "unknown region"),
        ("editloop.accept", {"regionId": 5}, "regionId"),
        ("editloop.track", {"uri": uri, "range": rng(10, 0, 11, 0), "artifactType": "code"}, "outside the document"),
        ("editloop.track", {"uri": uri, "range": "0-1", "artifactType": "code"}, "range"),
        ("editloop.track", {"uri": uri, "range": rng(0, 0, 0, 3)}, "artifactType"),
        ("editloop.track", {"uri": "file:///never/opened", "range": rng(0, 0, 0, 3), "artifactType": "code"}, "not open"),
        ("editloop.track", ["not", "an", "object"], "one object"),
    ]
    for name, arg, needle in cases:
        with pytest.raises(JsonRpcException) as err:
            await cmd(client, name, arg)
        assert needle in str(err.value), (name, str(err.value))
    assert (await cmd(client, "editloop.stats", {}))["total"] == 0


async def test_excluded_files_are_never_captured(client: LanguageClient, home):
    from pygls.exceptions import JsonRpcException

    uri = "file:///proj/.env"
    open_doc(client, uri, "TOKEN=abc\n", language_id="dotenv")
    with pytest.raises(JsonRpcException, match="exclude"):
        await cmd(client, "editloop.track", {"uri": uri, "range": rng(0, 0, 0, 9), "artifactType": "code"})
    assert regions(home) == []


async def test_forget_uri_removes_rows(client: LanguageClient, home):
    uri = "file:///tmp/f.py"
    open_doc(client, uri, "x = 1\n", language_id="python")
    rid = (await cmd(client, "editloop.track", {"uri": uri, "range": rng(0, 0, 0, 5), "artifactType": "python"}))["regionId"]
    await cmd(client, "editloop.accept", {"regionId": rid})
    out = await cmd(client, "editloop.forget", {"uri": uri})
    assert out == {"deleted": 1}
    assert events(home) == [] and regions(home) == []
    assert not os.path.exists(home / "feedback.db-wal") or (home / "feedback.db-wal").stat().st_size == 0


async def test_code_lenses_and_hover_on_pending_regions(client: LanguageClient, home):
    uri = "file:///tmp/lens.mmd"
    open_doc(client, uri, "x\n" + ERD)
    rid = (await cmd(client, "editloop.track", {"uri": uri, "range": rng(1, 0, 3, 39), "prompt": "shop", "model": "m1", "modelVersion": "20261203-140501-eb4e90", "artifactType": "mermaid-erd"}))["regionId"]
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(types.TextDocumentIdentifier(uri)))
    assert [(lens.command.title, lens.command.command, list(lens.command.arguments)) for lens in lenses] == [
        ("Accept", "editloop.accept", [{"regionId": rid}]),
        ("Reject", "editloop.reject", [{"regionId": rid}]),
    ]
    assert lenses[0].range.start.line == 1
    hover = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(2, 5)))
    assert "m1" in hover.contents.value and "100%" in hover.contents.value
    assert "written by `m1` (run of 12-03 14:05, …eb4e90)" in hover.contents.value  # which model wrote it
    assert await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 0))) is None
    await cmd(client, "editloop.accept", {"regionId": rid})
    assert not await client.text_document_code_lens_async(types.CodeLensParams(types.TextDocumentIdentifier(uri)))


async def test_invalid_mermaid_region_gets_a_diagnostic_at_the_right_line(client: LanguageClient, home):
    uri = "file:///tmp/diag.mmd"
    broken = "erDiagram\n    CUSTOMER ||--o{ ORDER : places\n    ORDER }|..|{ : contains\n"
    open_doc(client, uri, "%% header\n%% notes\n" + broken)
    await cmd(client, "editloop.track", {"uri": uri, "range": rng(2, 0, 5, 0), "artifactType": "mermaid-erd"})
    for _ in range(100):
        diags = client.diagnostics.get(uri)
        if diags:
            break
        await asyncio.sleep(0.1)
    assert diags, "no diagnostics published"
    assert all(d.source == "editloop" for d in diags)
    assert diags[0].range.start.line == 4  # the broken relationship line, in document coordinates
    # Fixing the line clears them.
    change(client, uri, 2, 4, 4, 4, 27, "    ORDER ||--|{ LINE_ITEM : contains")
    for _ in range(100):
        if not client.diagnostics.get(uri):
            break
        await asyncio.sleep(0.1)
    assert not client.diagnostics.get(uri)

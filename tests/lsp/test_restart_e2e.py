"""Pending regions survive a server restart: re-anchored when the document is opened again."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import ClientServerConfig

from .helpers import SERVER, change, cmd, events, open_doc, regions, rng

ERD = "erDiagram\n    CUSTOMER ||--o{ ORDER : places\n"


async def _session(home):
    client = await ClientServerConfig(server_command=SERVER).start()
    client.region_updates = []
    client.feature("editloop/regions")(lambda p: client.region_updates.append(p))
    await client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities(), initialization_options={"dataDir": str(home)}))
    return client


async def _stop(client):
    await client.shutdown_session()
    await client.stop()


async def test_restart_and_reopen_reanchors_exact_and_fuzzy_and_marks_lost(tmp_path):
    home = tmp_path
    a, b, c = "file:///p/a.mmd", "file:///p/b.mmd", "file:///p/c.mmd"
    client = await _session(home)
    open_doc(client, a, "title\n" + ERD)
    open_doc(client, b, ERD)
    open_doc(client, c, ERD)
    ra = (await cmd(client, "editloop.track", {"uri": a, "range": rng(1, 0, 2, 35), "artifactType": "mermaid-erd"}))["regionId"]
    rb = (await cmd(client, "editloop.track", {"uri": b, "range": rng(0, 0, 1, 35), "artifactType": "mermaid-erd"}))["regionId"]
    rc = (await cmd(client, "editloop.track", {"uri": c, "range": rng(0, 0, 1, 35), "artifactType": "mermaid-erd"}))["regionId"]
    change(client, a, 2, 0, 0, 0, 0, "%% moved down\n")
    await _stop(client)  # no didClose: the editor died with the documents open

    client = await _session(home)
    try:
        # a: the same text, moved by edits made while the server was down -> exact match.
        open_doc(client, a, "a new first line\n%% moved down\ntitle\n" + ERD)
        # b: edited slightly while the server was down -> fuzzy match.
        open_doc(client, b, "%% x\n" + ERD.replace("places", "placez"))
        # c: the text is gone -> lost.
        open_doc(client, c, "flowchart LR\n  A --> B\n")
        da = await cmd(client, "editloop.region", {"regionId": ra})
        assert da["status"] == "pending" and da["range"] == rng(3, 0, 4, 34)
        assert da["current"] == ERD.rstrip("\n")
        db = await cmd(client, "editloop.region", {"regionId": rb})
        assert db["status"] == "pending" and db["range"]["start"]["line"] == 1
        assert "placez" in db["current"]
        dc = await cmd(client, "editloop.region", {"regionId": rc})
        assert dc["status"] == "lost"
        # The re-anchored region keeps being tracked and resolved as usual.
        out = await cmd(client, "editloop.accept", {"regionId": rb})
        assert out["action"] == "edit"
        lost = [r for r in regions(home) if r["status"] == "lost"]
        assert [r["id"] for r in lost] == [rc]
        assert [e["region_id"] for e in events(home)] == [rb]  # lost regions never become events
    finally:
        await _stop(client)

"""`editloop.export` over a real server: only into the workspace folders or Editloop's exports folder,
never over the live database, an existing file only with `overwrite: true`, one clear message per refusal."""

from __future__ import annotations

import os
import stat

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from .helpers import SERVER, cmd, events, open_doc, rng


@pytest.fixture
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("home")


@pytest.fixture
def ws(tmp_path_factory):
    return tmp_path_factory.mktemp("ws")


@pytest.fixture
def outside(tmp_path_factory):
    return tmp_path_factory.mktemp("outside")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, home, ws):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=ws.as_uri(), name="ws")],
            initialization_options={"dataDir": str(home)},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def _accept_some(client, ws, n: int = 3, name: str = "schema.sql") -> None:
    uri = (ws / name).as_uri()
    lines = [f"CREATE TABLE t{i} (id INT PRIMARY KEY);" for i in range(n)]
    open_doc(client, uri, "\n".join(lines) + "\n", language_id="sql")
    for i, line in enumerate(lines):
        rid = (await cmd(client, "editloop.track", {"uri": uri, "range": rng(i, 0, i, len(line)), "prompt": f"table {i}", "model": "m", "artifactType": "sql"}))["regionId"]
        await cmd(client, "editloop.accept", {"regionId": rid})


async def _refused(client, arg: dict, match: str) -> str:
    with pytest.raises(JsonRpcException, match=match) as err:
        await cmd(client, "editloop.export", arg)
    assert "internal error" not in str(err.value)
    return str(err.value)


async def test_export_stays_inside_the_workspace_and_never_touches_the_database(client: LanguageClient, home, ws, outside):
    await _accept_some(client, ws)
    db = home / "feedback.db"
    n_events = len(events(home))
    out = await cmd(client, "editloop.export", {"format": "sft", "path": str(ws / "train.jsonl")})
    assert out["rows"] == n_events and out["path"] == str(ws.resolve() / "train.jsonl")
    assert stat.S_IMODE(os.stat(ws / "train.jsonl").st_mode) == 0o600
    # the live database (or anything else in the data folder) is refused, even with overwrite
    for target in (db, home / "feedback.db-wal", home / "notes.jsonl"):
        await _refused(client, {"format": "sft", "path": str(target), "overwrite": True}, "inside Editloop's data folder")
    # outside the workspace, through a link, or with .. : refused and nothing written
    (ws / "escape").symlink_to(outside)
    (ws / "link.jsonl").symlink_to(outside / "victim")
    (outside / "victim").write_text("keep")
    await _refused(client, {"format": "sft", "path": str(outside / "x.jsonl")}, "outside the workspace folders")
    await _refused(client, {"format": "sft", "path": str(ws / "escape" / "x.jsonl")}, "resolves to")
    await _refused(client, {"format": "sft", "path": f"{ws}/../{outside.name}/x.jsonl"}, "resolves to")
    await _refused(client, {"format": "sft", "path": str(ws / "link.jsonl"), "overwrite": True}, "symbolic link")
    await _refused(client, {"format": "sft", "path": str(ws)}, "is a folder")
    await _refused(client, {"format": "sft", "path": str(ws / "new" / "x.jsonl")}, "does not exist")
    await _refused(client, {"format": "sft", "path": "train.jsonl"}, "must be absolute")
    assert sorted(p.name for p in outside.iterdir()) == ["victim"] and (outside / "victim").read_text() == "keep"
    assert not (ws / "new").exists()
    # an existing file only with overwrite: true, and it keeps its mode
    os.chmod(ws / "train.jsonl", 0o644)
    await _refused(client, {"format": "dpo", "path": str(ws / "train.jsonl")}, "already exists; pass overwrite: true")
    again = await cmd(client, "editloop.export", {"format": "kto", "path": str(ws / "train.jsonl"), "overwrite": True})
    assert again["rows"] > 0 and stat.S_IMODE(os.stat(ws / "train.jsonl").st_mode) == 0o644
    # no path: a new file in <dataDir>/exports
    auto = await cmd(client, "editloop.export", {"format": "openai"})
    assert auto["path"].startswith(str(home.resolve() / "exports" / "openai-")) and auto["rows"] == n_events
    # the server still records events in the same database afterwards
    await _accept_some(client, ws, 1, name="more.sql")
    assert len(events(home)) == n_events + 1

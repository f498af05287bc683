"""A damaged feedback.db over a real server: one clear window/showMessage, commands fail with the same
words, and the file is left byte-identical for `editloop doctor`."""

from __future__ import annotations

import asyncio

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.store.damage import corrupt_interior_page, database_with_events

from .helpers import SERVER, cmd


@pytest.fixture
def copy(tmp_path_factory):
    return tmp_path_factory.mktemp("copy") / "feedback.db"


@pytest.fixture
def home(tmp_path_factory, copy):
    home = tmp_path_factory.mktemp("home")
    corrupt_interior_page(database_with_events(home))
    copy.write_bytes((home / "feedback.db").read_bytes())
    return home


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, home):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities(), initialization_options={"dataDir": str(home)})
    )
    yield
    await lsp_client.shutdown_session()


async def test_a_damaged_database_is_reported_once_and_left_untouched(client: LanguageClient, home, copy):
    for _ in range(100):  # the check may run off the start-up path: wait for its report
        if any("damaged" in m.message for m in client.messages):
            break
        await asyncio.sleep(0.05)
    errors = [m for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1, client.messages
    text = errors[0].message
    assert str(home / "feedback.db") in text and "damaged" in text and "doctor --fresh-db" in text
    with pytest.raises(JsonRpcException, match="damaged"):
        await cmd(client, "editloop.stats", {})
    await asyncio.sleep(0.2)
    assert len([m for m in client.messages if m.type == types.MessageType.Error]) == 1  # said once
    assert (home / "feedback.db").read_bytes() == copy.read_bytes()

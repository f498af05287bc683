"""Hostile input against the real server over raw stdio frames: it answers with errors and never dies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from editloop.bench.system import _frame, _read_message

class Raw:
    def __init__(self, home):
        env = {**os.environ, "EDITLOOP_HOME": str(home)}
        self.p = subprocess.Popen([sys.executable, "-m", "editloop", "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.next_id = 100

    def send(self, obj) -> None:
        self.p.stdin.write(_frame(obj) if isinstance(obj, dict) else obj)
        self.p.stdin.flush()

    def request(self, method, params=None):
        self.next_id += 1
        rid = self.next_id
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            msg = _read_message(self.p.stdout)
            if msg.get("id") == rid:
                return msg

    def cmd(self, name, *args):
        return self.request("workspace/executeCommand", {"command": name, "arguments": list(args)})

    @classmethod
    def session(cls, home) -> "Raw":
        """A started server that has answered `initialize` and been told `initialized`."""
        r = cls(home)
        r.request("initialize", {"processId": None, "capabilities": {}, "rootUri": None})
        r.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        return r

    def close(self):
        try:
            self.send({"jsonrpc": "2.0", "id": 1, "method": "shutdown"})
            self.send({"jsonrpc": "2.0", "method": "exit"})
            # Read what the server still writes (coalesced notifications arrive after the last
            # answer): an unread, full pipe would block its exit, as it would with any client.
            self.p.communicate(timeout=30)
        finally:
            if self.p.poll() is None:
                self.p.kill()


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    r = Raw.session(tmp_path_factory.mktemp("hostile"))
    yield r
    r.close()


def alive(raw) -> bool:
    out = raw.cmd("editloop.stats", {})
    return "result" in out and raw.p.poll() is None


def test_malformed_frames_do_not_kill_the_server(raw):
    frames = [
        b"Content-Length: 5\r\n\r\n{bad}",
        b"Content-Length: 2\r\n\r\n[]",
        _frame({"jsonrpc": "2.0", "id": 5, "method": "no/such/method", "params": {}}),
        _frame({"jsonrpc": "2.0", "id": 6, "method": "textDocument/hover", "params": {"textDocument": 3}}),
        _frame({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file:///nope", "version": 2}, "contentChanges": [{"text": "x"}]}}),
        _frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": 5}}}),
        _frame({"jsonrpc": "2.0", "id": 7, "method": "workspace/executeCommand", "params": {"command": "editloop.nope", "arguments": []}}),
    ]
    for f in frames:
        raw.send(f)
    assert alive(raw)


@pytest.mark.parametrize(
    "name, arg, needle",
    [
        ("editloop.track", {"uri": 3, "range": {}, "artifactType": "x"}, "uri"),
        ("editloop.track", {"uri": "file:///a", "range": {"start": {"line": "0", "character": 0}, "end": {"line": 0, "character": 1}}, "artifactType": "x"}, "range"),
        ("editloop.track", {"uri": "file:///a", "range": {"start": {"line": -1, "character": 0}, "end": {"line": 0, "character": 1}}, "artifactType": "x"}, "not open"),
        ("editloop.accept", {}, "regionId"),
        ("editloop.accept", {"regionId": None}, "regionId"),
        ("editloop.accept", {"regionId": ["r1"]}, "regionId"),
        ("editloop.reject", {"regionId": "r" * 10000}, "unknown region"),
        ("editloop.forget", {}, "uri"),
        ("editloop.forget", {"all": "yes"}, "all"),
        ("editloop.stats", {"artifactType": 7}, "artifactType"),
        ("editloop.region", {"regionId": 1.5}, "regionId"),
        ("editloop.advanceClock", {"seconds": 1}, "manual-clock"),
        ("editloop.generate", {"uri": "file:///a", "position": {"line": 0}, "prompt": "x"}, ""),
    ],
)
def test_wrong_types_and_missing_fields_are_clear_errors(raw, name, arg, needle):
    out = raw.cmd(name, arg)
    assert "error" in out, out
    assert needle in out["error"]["message"]
    assert "Traceback" not in out["error"]["message"]
    assert alive(raw)


def test_huge_binary_documents_and_bad_positions(raw):
    uri = "file:///big.txt"
    big = ("x" * 99 + "\n") * 100_000 + "\x00\x01 NUL and \udcff? no: ok\n"  # 10 MB with NUL bytes
    big = big.replace("\udcff", "\ufffd")
    t0 = time.time()
    raw.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "plaintext", "version": 1, "text": big}}})
    out = raw.cmd("editloop.track", {"uri": uri, "range": {"start": {"line": 100000, "character": 0}, "end": {"line": 100000, "character": 5}}, "artifactType": "code"})
    assert "result" in out, out
    rid = out["result"]["regionId"]
    # A position in the middle of a surrogate pair, past the end of a line, and past the end of the document.
    raw.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
        {"range": {"start": {"line": 100000, "character": 999}, "end": {"line": 100000, "character": 999}}, "text": "!"},
        {"range": {"start": {"line": 500000, "character": 0}, "end": {"line": 500001, "character": 0}}, "text": "tail"},
    ]}})
    out = raw.cmd("editloop.track", {"uri": uri, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 50000, "character": 0}}, "artifactType": "code"})
    assert "error" in out and "at most" in out["error"]["message"]
    out = raw.cmd("editloop.accept", {"regionId": rid})
    assert out["result"]["action"] == "accept"
    assert time.time() - t0 < 60
    assert alive(raw)

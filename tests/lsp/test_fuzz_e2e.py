"""Fuzz: random sequences of document edits and commands against the real server (one process).

Every answer must be a result or an LSP error with a message, the server must stay alive, and the
text of each tracked region must equal what a naive string model predicts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..capture.test_tracker_property import naive_move
from .test_hostile_e2e import Raw

CHARS = st.sampled_from(list("ab \n") + ["é", "😀", "\t", "\x00", "{}"])
TEXT = st.lists(CHARS, max_size=8).map("".join)


def _pos(text: str, off: int) -> dict:
    head = text[:off]
    line = head.count("\n")
    col = head[head.rfind("\n") + 1 :]
    return {"line": line, "character": len(col.encode("utf-16-le")) // 2}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    r = Raw.session(tmp_path_factory.mktemp("fuzz"))
    yield r
    r.close()


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("edit"), st.integers(0, 10_000), st.integers(0, 10_000), TEXT),
        st.tuples(st.just("track"), st.integers(0, 10_000), st.integers(1, 12), st.none()),
        st.tuples(st.sampled_from(["accept", "reject", "region"]), st.integers(0, 5), st.none(), st.none()),
        st.tuples(st.just("garbage"), st.integers(0, 3), st.none(), st.none()),
    ),
    min_size=1,
    max_size=14,
)
COUNT = {"sequences": 0, "operations": 0}  # also names each sequence's document


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=TEXT.filter(bool), ops=OPS)
def test_random_sequences(server, initial, ops):
    COUNT["sequences"] += 1
    uri = f"file:///fuzz/{COUNT['sequences']}.txt"
    text = initial
    server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "plaintext", "version": 1, "text": text}}})
    regions: dict[str, list[int]] = {}  # id -> [a, b] in the naive model
    resolved: set[str] = set()
    version = 1
    for op, x, y, new in ops:
        COUNT["operations"] += 1
        if op == "edit":
            s = x % (len(text) + 1)
            e = s + y % (len(text) - s + 1)
            if "\r" in text:
                continue
            version += 1
            server.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": {"start": _pos(text, s), "end": _pos(text, e)}, "text": new}]}})
            for rid, (a, b) in list(regions.items()):
                na, nb = naive_move(a, b, s, e, len(new))
                regions[rid] = [na, nb]
                if na == nb:
                    del regions[rid]
                    resolved.add(rid)  # deleted: an implicit reject
            text = text[:s] + new + text[e:]
        elif op == "track":
            a = x % (len(text) + 1)
            b = min(len(text), a + y)
            out = server.cmd("editloop.track", {"uri": uri, "range": {"start": _pos(text, a), "end": _pos(text, b)}, "artifactType": "code"})
            if a == b:
                assert "error" in out and "empty" in out["error"]["message"]
            else:
                assert "result" in out, out
                regions[out["result"]["regionId"]] = [a, b]
        elif op in ("accept", "reject", "region"):
            ids = sorted(regions) + sorted(resolved)
            if not ids:
                continue
            rid = ids[x % len(ids)]
            out = server.cmd(f"editloop.{op}", {"regionId": rid})
            assert "result" in out, out
            if op == "region" and rid in regions:
                a, b = regions[rid]
                assert out["result"]["current"] == text[a:b]
            elif op != "region" and rid in regions:
                del regions[rid]
                resolved.add(rid)
        else:
            bad = [["x"], {"regionId": 7}, {"uri": uri}, {}][x]
            out = server.cmd("editloop.track" if x % 2 else "editloop.accept", bad)
            assert "error" in out and out["error"]["message"]
    server.send({"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": uri}}})
    assert "result" in server.cmd("editloop.stats", {})

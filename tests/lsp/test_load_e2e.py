"""Load: thousands of didChange per second against the real server; it keeps answering and its
memory stays bounded. (A one-minute run is in `editloop bench system`; this one is 15 s.)"""

from __future__ import annotations

import json
import time

import pytest

from .test_hostile_e2e import Raw
from editloop.bench.system import _frame, _rss_mb

SECONDS = 15


@pytest.mark.slow  # ~17 s of didChange traffic
def test_sustained_did_change_flood(tmp_path):
    r = Raw.session(tmp_path)
    uri = "file:///load.txt"
    text = "".join(f"line {i}\n" for i in range(2000))
    r.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "plaintext", "version": 1, "text": text}}})
    for i in range(0, 2000, 20):
        out = r.cmd("editloop.track", {"uri": uri, "range": {"start": {"line": i, "character": 0}, "end": {"line": i + 2, "character": 0}}, "artifactType": "code"})
        assert "result" in out
    rss_start = _rss_mb(r.p.pid)
    sent, version = 0, 1
    t0 = time.monotonic()
    batch = []
    while time.monotonic() - t0 < SECONDS:
        for _ in range(200):
            version += 1
            line = (version * 7) % 1990
            # type a character, then delete it: the document stays the same size
            change = {"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}, "text": "x"} if version % 2 else \
                     {"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 1}}, "text": ""}
            batch.append(_frame({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}}))
        r.send(b"".join(batch))
        sent += len(batch)
        batch = []
        # The server answers a request between floods: it is alive and keeping up.
        if sent % 2000 == 0:
            assert "result" in r.cmd("editloop.stats", {})
    elapsed = time.monotonic() - t0
    t_answer = time.monotonic()
    stats = r.cmd("editloop.stats", {})
    lag = time.monotonic() - t_answer
    rss_end = _rss_mb(r.p.pid)
    r.close()
    rate = sent / elapsed
    print(f"didChange flood: {sent} changes in {elapsed:.1f} s ({rate:.0f}/s), RSS {rss_start:.0f} -> {rss_end:.0f} MB, catch-up {lag:.2f} s")
    assert "result" in stats
    # a real flood (the rate itself is a benchmark figure, not a test: it depends on the machine)
    assert sent >= 5000, sent
    assert rss_end < rss_start + 50, (rss_start, rss_end)

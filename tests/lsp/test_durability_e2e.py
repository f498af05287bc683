"""Durability: acknowledged events survive kill -9; several servers share one database safely."""

from __future__ import annotations

import signal
import sqlite3
import threading

from .test_hostile_e2e import Raw

N_REGIONS = 40


def _session(home):
    return Raw.session(home)


def _work(r: Raw, uri: str, n: int, acked: list[int]) -> None:
    text = "".join(f"line {i} of {uri}\n" for i in range(n))
    r.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "plaintext", "version": 1, "text": text}}})
    for i in range(n):
        rng = {"start": {"line": i, "character": 0}, "end": {"line": i, "character": 4}}
        rid = r.cmd("editloop.track", {"uri": uri, "range": rng, "artifactType": "code"})["result"]["regionId"]
        out = r.cmd("editloop.accept" if i % 3 else "editloop.reject", {"regionId": rid})
        acked.append(out["result"]["eventId"])


def _check(home, expected: list[int]) -> None:
    conn = sqlite3.connect(home / "feedback.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ids = [row[0] for row in conn.execute("SELECT id FROM events")]
    assert len(ids) == len(set(ids))
    missing = set(expected) - set(ids)
    assert not missing, f"acknowledged events lost: {sorted(missing)[:10]}"
    dup = conn.execute("SELECT COUNT(*) - COUNT(DISTINCT region_id) FROM events").fetchone()[0]
    assert dup == 0


def test_four_servers_writing_one_database_lose_and_duplicate_nothing(tmp_path):
    servers = [_session(tmp_path) for _ in range(4)]
    acked: list[list[int]] = [[] for _ in servers]
    threads = [threading.Thread(target=_work, args=(s, f"file:///w{k}.txt", N_REGIONS, acked[k])) for k, s in enumerate(servers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    for s in servers:
        s.close()
    flat = [e for a in acked for e in a]
    assert len(flat) == 4 * N_REGIONS
    _check(tmp_path, flat)
    conn = sqlite3.connect(tmp_path / "feedback.db")
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 4 * N_REGIONS


def test_kill_9_during_writes_loses_no_acknowledged_event(tmp_path):
    r = _session(tmp_path)
    acked: list[int] = []
    t = threading.Thread(target=lambda: _safe_work(r, acked))
    t.start()
    while len(acked) < 25:
        t.join(timeout=0.05)
    r.p.send_signal(signal.SIGKILL)  # mid-stream: requests are in flight
    t.join(timeout=60)
    r.p.wait(timeout=10)
    _check(tmp_path, acked)
    # The next server opens the same database and keeps working.
    r2 = _session(tmp_path)
    more: list[int] = []
    _work(r2, "file:///after.txt", 3, more)
    r2.close()
    _check(tmp_path, acked + more)


def _safe_work(r: Raw, acked: list[int]) -> None:
    try:
        _work(r, "file:///k.txt", 400, acked)
    except Exception:  # noqa: BLE001 - the server was killed under us, as intended
        pass

"""Damage a real feedback.db the way a bad disk sector does: garbage over one interior b-tree page."""

from __future__ import annotations

import time
from pathlib import Path

from editloop.capture.outcomes import record_outcome
from editloop.store import Store


def database_with_events(home: Path, n: int = 60) -> Path:
    """A closed feedback.db (WAL checkpointed into it) holding ``n`` events with 2 KB texts."""
    store = Store.open(home)
    now = time.time()
    for i in range(n):
        reg = store.insert_region({"uri": f"file:///w/{i}.sql", "artifact_type": "sql", "prompt": f"table {i}",
                                   "original": f"CREATE TABLE t{i} (id INT);\n" + "-- note\n" * 250})
        record_outcome(store, reg, final=reg["original"] + f"-- edited {i}\n", now=now + i)
    store.close()
    return home / "feedback.db"


def corrupt_interior_page(file: Path) -> int:
    """Overwrite the middle interior b-tree page of ``file`` with garbage; returns its number."""
    data = bytearray(file.read_bytes())
    size = int.from_bytes(data[16:18], "big") or 65536
    if size == 1:
        size = 65536
    interior = [p for p in range(2, len(data) // size + 1) if data[(p - 1) * size] in (0x02, 0x05)]
    assert interior, "the database has no interior page: add events"
    page = interior[len(interior) // 2]
    start = (page - 1) * size
    data[start:start + size] = bytes((i * 37 + 11) % 256 for i in range(size))
    file.write_bytes(bytes(data))
    return page

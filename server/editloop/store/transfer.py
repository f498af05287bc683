"""Move pending regions from one feedback database to another (``editloop.dataDir`` changed).

A region still being tracked when the data folder changes would otherwise stay ``pending`` in
the old database forever while the editor keeps editing it. Its row and survival checks are
copied into the new database first (one transaction), then deleted from the old one (another):
a crash in between leaves a copy in both, never in neither.
"""

from __future__ import annotations

from typing import Iterable

from .db import write_tx
from .store import Store


def move_pending_regions(src: Store, dst: Store, region_ids: Iterable[str]) -> int:
    """Move the given regions (those still pending in ``src``) to ``dst``; returns how many moved."""
    ids = list(dict.fromkeys(region_ids))
    if not ids:
        return 0
    marks = ",".join("?" for _ in ids)
    with src.lock:
        rows = list(src.db.query(f"SELECT * FROM regions WHERE status = 'pending' AND id IN ({marks})", ids))
        checks = list(src.db.query(f"SELECT * FROM survival_checks WHERE region_id IN ({marks})", ids))
    if not rows:
        return 0
    dst_cols = {r["name"] for r in dst.db.query("PRAGMA table_info(regions)")}
    check_cols = {r["name"] for r in dst.db.query("PRAGMA table_info(survival_checks)")}
    moved = [r["id"] for r in rows]
    with dst.lock, write_tx(dst.db):
        for row in rows:
            row = {k: v for k, v in row.items() if k in dst_cols}
            cols = list(row)
            dst.db.execute(
                f"INSERT OR IGNORE INTO regions ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})", [row[c] for c in cols]
            )
        for check in checks:
            check = {k: v for k, v in check.items() if k in check_cols and k != "id"}
            cols = list(check)
            dst.db.execute(
                f"INSERT OR IGNORE INTO survival_checks ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                [check[c] for c in cols],
            )
    marks = ",".join("?" for _ in moved)
    with src.lock, write_tx(src.db):
        src.db.execute(f"DELETE FROM survival_checks WHERE region_id IN ({marks})", moved)
        src.db.execute(f"DELETE FROM regions WHERE status = 'pending' AND id IN ({marks})", moved)
    return len(moved)

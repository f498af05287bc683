"""``editloop doctor``: what state the data folder and its database are in, and, only when asked,
a fresh database in place of a damaged one (the damaged files are moved aside, never changed)."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

from ..errors import EditloopError
from ..paths import DB_NAME
from .db import check_integrity

SIDE_FILES = ("", "-wal", "-shm")


def diagnose(home: Path) -> dict[str, Any]:
    """The data folder, the database's integrity (``PRAGMA integrity_check``), schema version and counts.

    Read-only: the folder is not created and the database is opened with ``mode=ro``."""
    from .migrations import STEPS

    file = home / DB_NAME
    report: dict[str, Any] = {"dataDir": str(home), "dataDirExists": home.is_dir(), "database": str(file),
                              "exists": file.exists(), "ok": True, "problems": [], "schemaVersion": None,
                              "schemaLatest": len(STEPS), "counts": {}}
    if report["dataDirExists"]:
        report["dataDirMode"] = f"{stat.S_IMODE(os.stat(home).st_mode):04o}"
    if not report["exists"]:
        return report
    report["bytes"] = sum(os.path.getsize(str(file) + s) for s in SIDE_FILES if os.path.exists(str(file) + s))
    try:
        report["problems"] = check_integrity(file, full=True)
    except sqlite3.Error as exc:
        report["problems"] = [f"cannot read it: {exc}"]
    report["ok"] = not report["problems"]
    conn = sqlite3.connect(file.absolute().as_uri() + "?mode=ro", uri=True)
    try:
        report["schemaVersion"] = conn.execute("PRAGMA user_version").fetchone()[0]
        for name, sql in (("regions", "SELECT status, COUNT(*) FROM regions GROUP BY status"),
                          ("events", "SELECT action, COUNT(*) FROM events GROUP BY action"),
                          ("runs", "SELECT status, COUNT(*) FROM runs GROUP BY status")):
            try:
                report["counts"][name] = dict(conn.execute(sql).fetchall())
            except sqlite3.Error as exc:
                report["counts"][name] = f"unreadable ({exc})"
    except sqlite3.Error as exc:
        report["problems"].append(f"cannot read the schema: {exc}")
        report["ok"] = False
    finally:
        conn.close()
    if report["schemaVersion"] is not None and report["schemaVersion"] > len(STEPS):
        report["problems"].append(f"schema version {report['schemaVersion']} is newer than this Editloop ({len(STEPS)}); upgrade Editloop")
        report["ok"] = False
    return report


def format_report(r: dict[str, Any]) -> str:
    lines = [f"data folder: {r['dataDir']}" + (f" (mode {r['dataDirMode']})" if r.get("dataDirMode") else " (not created yet)")]
    if not r["exists"]:
        lines.append(f"database:    {r['database']} does not exist yet (created on first use)")
        return "\n".join(lines)
    lines.append(f"database:    {r['database']} ({r['bytes'] / 1e6:.1f} MB with -wal/-shm)")
    if r["ok"]:
        lines.append("integrity:   ok (PRAGMA integrity_check)")
    else:
        n = len(r["problems"])
        lines.append(f"integrity:   DAMAGED ({n}{' or more' if n >= 10 else ''} problem(s) found by PRAGMA integrity_check)")
        lines.extend(f"  {p}" for p in r["problems"][:10])
        lines.append("  `editloop doctor --fresh-db` moves the damaged files aside (kept as they are) and starts a new database")
    lines.append(f"schema:      version {r['schemaVersion']} (this Editloop: {r['schemaLatest']})")
    for name, counts in r["counts"].items():
        if isinstance(counts, dict):
            detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))
            lines.append(f"{name + ':':<12} {sum(counts.values())}" + (f" ({detail})" if detail else ""))
        else:
            lines.append(f"{name + ':':<12} {counts}")
    return "\n".join(lines)


def move_aside(home: Path, now: float | None = None) -> list[Path]:
    """Rename ``feedback.db`` (and its -wal/-shm) to ``feedback.db.corrupt-<timestamp>`` (``-wal``,
    ``-shm``: SQLite still opens the set together); returns the new names. Bytes are not changed."""
    file = home / DB_NAME
    if not file.exists():
        raise EditloopError(f"{file} does not exist: nothing to move aside")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    base = home / f"{DB_NAME}.corrupt-{stamp}"
    n = 1
    while any(os.path.lexists(str(base) + s) for s in SIDE_FILES):
        n += 1
        base = home / f"{DB_NAME}.corrupt-{stamp}-{n}"
    moved = []
    for s in SIDE_FILES:
        src = Path(str(file) + s)
        if os.path.lexists(src):
            dst = Path(str(base) + s)
            os.rename(src, dst)
            moved.append(dst)
    return moved


def fresh_db(home: Path) -> tuple[list[Path], Path]:
    """Only for a damaged database: move it aside and create a new, empty one. Returns (moved, new file)."""
    from .db import open_db

    report = diagnose(home)
    if not report["exists"]:
        raise EditloopError(f"{report['database']} does not exist; Editloop creates it on first use")
    if report["ok"]:
        raise EditloopError(f"{report['database']} is sound; --fresh-db only replaces a damaged database (nothing was changed)")
    moved = move_aside(home)
    db = open_db(home / DB_NAME)
    db.conn.close()
    return moved, home / DB_NAME

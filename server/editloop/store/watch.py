"""Has another connection written the database? (``PRAGMA data_version``, no table read.)

SQLite bumps a connection's ``data_version`` when *another* connection commits, so a server can
tell an editor's stats panel to refresh when a second window or the CLI recorded events.
"""

from __future__ import annotations

import sqlite3

from .store import Store


def data_version(store: Store) -> int | None:
    try:
        with store.lock:
            return int(store.db.conn.execute("PRAGMA data_version").fetchone()[0])
    except sqlite3.Error:  # closed or unreadable: the next check says so elsewhere
        return None

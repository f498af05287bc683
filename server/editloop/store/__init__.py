"""The feedback database: open it, write regions and events, read statistics.

Every write path goes through :class:`Store`, which redacts secrets (when enabled) before a row
reaches SQLite, and writes each event in one transaction together with its region's new status.
"""

from .db import open_db, parse_iso, utcnow_iso, write_tx
from .store import Store

__all__ = ["Store", "open_db", "utcnow_iso", "parse_iso", "write_tx"]

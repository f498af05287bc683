"""The feedback database, and the only package that writes SQL.

Captured regions and events are written through :class:`Store`, which redacts secrets (when
enabled) before a row reaches SQLite, and writes each event in one transaction together with its
region's new status. Each table has one module with the queries the other layers ask, named for
what they answer and returning typed records: :mod:`.regions`, :mod:`.events`, :mod:`.runs`,
:mod:`.batches`, :mod:`.embeddings`; :mod:`.stats` reads ``stats_rollup``.
"""

from .db import open_db, parse_iso, utcnow_iso, write_tx
from .store import Store

__all__ = ["Store", "open_db", "utcnow_iso", "parse_iso", "write_tx"]

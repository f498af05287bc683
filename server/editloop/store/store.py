"""The write path of captured data: :class:`Store` redacts secrets before a region or an event
reaches SQLite, guards the one connection its threads share with a lock, and writes an event and
its region's new status in one transaction. The SQL is in the tables' modules (:mod:`.regions`,
:mod:`.events`), but for ``forget``, which empties several tables at once."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any, Iterable

from ..errors import EditloopError, NotFound
from ..unicode import clean_text
from . import events, regions
from .db import DB, open_db, utcnow_iso, write_tx

# Every text column a region or an event stores that can hold what the user or the client typed; all are
# redacted (when redaction is on) before the row reaches SQLite. ``validation_messages`` is JSON: its
# strings are redacted one by one (see ``_redacted``). ``edit_spans`` needs nothing: its excerpts are
# cut from the redacted original and final. Survival checks hold only numbers.
REGION_TEXT_FIELDS = ("prompt", "original", "current", "model", "model_version")
EVENT_TEXT_FIELDS = ("prompt", "original", "final", "model", "model_version", "validation_messages")
JSON_TEXT_FIELDS = frozenset({"validation_messages"})


def new_region_id() -> str:
    return "r" + uuid.uuid4().hex[:16]


def _redact_json(value: str, redact: Any) -> tuple[str, int]:
    """Redact each string inside a JSON value (the JSON stays valid); plain text when it is not JSON."""
    try:
        data = json.loads(value)
    except ValueError:
        return redact(value)
    total = 0

    def walk(v: Any) -> Any:
        nonlocal total
        if isinstance(v, str):
            v, n = redact(v)
            total += n
            return v
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    data = walk(data)
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")), total) if total else (value, 0)


class Store:
    """One connection to ``feedback.db``, shared by the threads of one process (guarded by a lock)."""

    def __init__(self, db: DB, *, redact_secrets: bool = True) -> None:
        self.db = db
        self.redact_secrets = redact_secrets
        self.lock = threading.RLock()
        self.path = Path(db.conn.execute("PRAGMA database_list").fetchone()[2])

    @classmethod
    def open(cls, path: str | Path | None = None, *, home_setting: str | None = None, redact_secrets: bool = True) -> "Store":
        return cls(open_db(path, home_setting=home_setting), redact_secrets=redact_secrets)

    @property
    def home(self) -> Path:
        return self.path.parent

    def close(self) -> None:
        with self.lock:
            self.db.conn.close()

    # -- redaction ---------------------------------------------------------------------------
    def _redacted(self, row: dict[str, Any], fields: Iterable[str]) -> tuple[dict[str, Any], int]:
        out = {k: clean_text(v) if isinstance(v, str) else v for k, v in row.items()}  # SQLite refuses lone surrogates
        if not self.redact_secrets:
            return out, 0
        from ..signals.redact import redact

        total = 0
        for f in fields:
            value = out.get(f)
            if isinstance(value, str) and value:
                out[f], n = _redact_json(value, redact) if f in JSON_TEXT_FIELDS else redact(value)
                total += n
        return out, total

    # -- regions -----------------------------------------------------------------------------
    def insert_region(self, row: dict[str, Any]) -> dict[str, Any]:
        row = dict(row)
        row.setdefault("id", new_region_id())
        row.setdefault("status", "pending")
        row.setdefault("created_at", utcnow_iso())
        row.setdefault("current", row.get("original"))
        row, n = self._redacted(row, REGION_TEXT_FIELDS)
        row["redactions"] = n
        with self.lock, write_tx(self.db):
            regions.insert(self.db, row)
        return row

    def get_region(self, region_id: str) -> dict[str, Any]:
        if not isinstance(region_id, str) or not region_id:
            raise EditloopError("regionId must be a non-empty string")
        with self.lock:
            row = regions.find(self.db, region_id)
        if row is None:
            raise NotFound(f"unknown region {region_id!r}")
        return row

    def pending_regions(self, uri: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return regions.pending(self.db, uri)

    def save_positions(self, updates: list[dict[str, Any]]) -> None:
        """Persist the last known range and text of pending regions (for re-anchoring after a restart)."""
        if not updates:
            return
        rows = []
        for u in updates:
            u, _ = self._redacted(u, ("current",))
            rows.append(u)
        with self.lock, write_tx(self.db):
            regions.save_positions(self.db, rows)

    def mark_lost(self, region_id: str, at: str | None = None) -> bool:
        with self.lock, write_tx(self.db):
            return regions.mark_lost(self.db, region_id, at or utcnow_iso())

    def add_survival_check(self, region_id: str, after_seconds: int, similarity: float, present: bool, at: str) -> None:
        with self.lock, write_tx(self.db):
            regions.add_survival_check(self.db, region_id, after_seconds, similarity, present, at)

    def survival_curve(self, region_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return regions.survival_curve(self.db, region_id)

    # -- events ------------------------------------------------------------------------------
    def record_outcome(self, region_id: str, event: dict[str, Any], *, status: str, at: str) -> tuple[dict[str, Any], bool]:
        """Resolve a pending region and insert its event, atomically.

        Returns ``(event_row, created)``. If the region was already resolved (by another editor
        window, or an earlier click), nothing is written and the existing event is returned.
        """
        event, n = self._redacted(event, EVENT_TEXT_FIELDS)
        event["redactions"] = event.get("redactions", 0) + n
        event["region_id"] = region_id
        event.setdefault("created_at", at)
        with self.lock:
            with write_tx(self.db):
                created = regions.resolve(self.db, region_id, status=status, at=at, current=event["final"])
                if created:
                    event["id"] = events.insert(self.db, event)
            if not created:
                existing = self.event_of_region(region_id)
                if existing is None:
                    region = self.get_region(region_id)
                    raise EditloopError(f"region {region_id} is {region['status']}, nothing to record")
                return existing, False
        return event, True

    def record_rewrite(self, event_id: int, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Replace a reject's final text with the user's rewrite, and the signals computed from it
        (``events.REWRITE_COLUMNS``). Returns the event, or None when it is not a reject."""
        fields, n = self._redacted(fields, ("final", "validation_messages"))
        fields["redactions"] = fields.get("redactions", 0) + n
        fields["embedding_similarity"] = None  # computed again by the backfill, from the new final text
        with self.lock:
            with write_tx(self.db):
                if not events.set_rewrite(self.db, event_id, fields):
                    return None
            return self.get_event(event_id)

    def get_event(self, event_id: int) -> dict[str, Any]:
        with self.lock:
            row = events.find(self.db, event_id)
        if row is None:
            raise NotFound(f"unknown event {event_id!r}")
        return row

    def event_of_region(self, region_id: str) -> dict[str, Any] | None:
        """The event recorded for ``region_id`` (a region has at most one), or None."""
        with self.lock:
            return events.of_region(self.db, region_id)

    # -- forget ------------------------------------------------------------------------------
    def forget(self, *, uri: str | None = None, everything: bool = False) -> int:
        """Delete captured text (regions, events, checks, cached embeddings) and compact the file."""
        if not everything and not uri:
            raise EditloopError("forget needs a uri or all=true")
        with self.lock:
            with write_tx(self.db):
                if everything:
                    n = self.db.conn.execute("SELECT COUNT(*) FROM regions").fetchone()[0]
                    n += self.db.conn.execute("SELECT COUNT(*) FROM events WHERE region_id IS NULL").fetchone()[0]
                    for table in ("batch_rows", "batches", "survival_checks", "events", "regions", "embeddings"):
                        self.db.conn.execute(f"DELETE FROM {table}")
                else:
                    n = self.db.conn.execute("SELECT COUNT(*) FROM regions WHERE uri = ?", [uri]).fetchone()[0]
                    self.db.conn.execute("DELETE FROM events WHERE uri = ? OR region_id IN (SELECT id FROM regions WHERE uri = ?)", [uri, uri])
                    self.db.conn.execute("DELETE FROM regions WHERE uri = ?", [uri])
            self.compact()
        return n

    def compact(self) -> None:
        """Rewrite the file so deleted text is gone from disk (WAL included)."""
        with self.lock:
            self.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.db.conn.execute("VACUUM")
            self.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

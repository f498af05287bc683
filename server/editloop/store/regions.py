"""The ``regions`` and ``survival_checks`` tables: tracked AI output and its retention curve.

Capture reaches these through :class:`~editloop.store.Store`, which redacts a region's text and
holds its lock and the write transaction around each call here; so these functions take the bare
:class:`~editloop.store.db.DB`. A region is read as a dict keyed by column: capture keeps it as
the live state of a tracked region and passes it on to the outcome it records.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING, Any, Iterable

from .db import DB, write_tx

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class NewRegion:
    """A region written as it is, already resolved (benchmarks fill a database with them)."""

    id: str
    uri: str
    artifact_type: str
    prompt: str
    model: str
    original: str
    status: str
    created_at: str


def insert(db: DB, row: dict[str, Any]) -> None:
    db.insert("regions", row)


def find(db: DB, region_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM regions WHERE id = ?", [region_id]))
    return rows[0] if rows else None


def pending(db: DB, uri: str | None = None) -> list[dict[str, Any]]:
    """Pending regions (of ``uri`` when given), oldest first."""
    sql = "SELECT * FROM regions WHERE status = 'pending'"
    args: list[Any] = []
    if uri is not None:
        sql += " AND uri = ?"
        args.append(uri)
    return list(db.query(sql + " ORDER BY created_at", args))


def count_with_status(db: DB, status: str, artifact_type: str | None = None) -> int:
    """How many regions are in ``status`` (of ``artifact_type`` when given)."""
    where, args = ("AND artifact_type = ?", [artifact_type]) if artifact_type else ("", [])
    return db.conn.execute(f"SELECT COUNT(*) FROM regions WHERE status = ? {where}", [status, *args]).fetchone()[0]


def save_positions(db: DB, rows: list[dict[str, Any]]) -> None:
    """Each row's range and ``current`` text, on the region ``id`` while it is pending."""
    db.conn.executemany(
        "UPDATE regions SET start_line=:start_line, start_character=:start_character, "
        "end_line=:end_line, end_character=:end_character, current=:current "
        "WHERE id=:id AND status='pending'",
        rows,
    )


def mark_lost(db: DB, region_id: str, at: str) -> bool:
    """``lost`` if it was pending; whether it was."""
    cur = db.conn.execute("UPDATE regions SET status='lost', resolved_at=? WHERE id=? AND status='pending'", [at, region_id])
    return cur.rowcount == 1


def resolve(db: DB, region_id: str, *, status: str, at: str, current: str) -> bool:
    """Resolve a pending region to ``status`` with its final text; whether it was pending."""
    cur = db.conn.execute(
        "UPDATE regions SET status=?, resolved_at=?, current=? WHERE id=? AND status='pending'",
        [status, at, current, region_id],
    )
    return cur.rowcount == 1


def add_survival_check(db: DB, region_id: str, after_seconds: int, similarity: float, present: bool, at: str) -> None:
    """One point of the retention curve (a point already recorded for that time is kept)."""
    db.conn.execute(
        "INSERT OR IGNORE INTO survival_checks(region_id, after_seconds, similarity, present, checked_at) VALUES (?,?,?,?,?)",
        [region_id, int(after_seconds), float(similarity), int(present), at],
    )


def survival_curve(db: DB, region_id: str) -> list[dict[str, Any]]:
    """``{after_seconds, similarity, present, checked_at}`` per check, earliest first."""
    return list(db.query(
        "SELECT after_seconds, similarity, present, checked_at FROM survival_checks WHERE region_id = ? ORDER BY after_seconds",
        [region_id],
    ))


def insert_many(store: Store, regions: Iterable[NewRegion]) -> None:
    """Write ``regions`` as they are (no redaction), in one transaction."""
    rows = [astuple(r) for r in regions]
    with store.lock, write_tx(store.db):
        store.db.conn.executemany(
            "INSERT INTO regions(id, uri, artifact_type, prompt, model, original, status, created_at) VALUES (?,?,?,?,?,?,?,?)",
            rows,
        )

"""The ``batches`` and ``batch_rows`` tables: which events a curation batch used, and how.

A batch is written once (:func:`record`), its row and all its ``batch_rows`` in one transaction.
The reads answer the two questions curation asks of earlier batches: on which side of the
train/validation split was each event first placed, and which events has a succeeded run trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, NamedTuple

from .db import write_tx
from .store import Store


@dataclass(frozen=True)
class NewBatch:
    """A ``batches`` row; ``components``, ``params`` and ``counts`` are JSON text."""

    id: str
    artifact_type: str | None
    method: str
    components: str
    params: str
    counts: str
    created_at: str


class BatchRow(NamedTuple):
    """A ``batch_rows`` row (a batch holds thousands: a tuple, not a dataclass)."""

    batch_id: str
    event_id: int | None
    split: str
    kind: str
    weight: float
    synthetic: bool


def record(store: Store, batch: NewBatch, rows: Iterable[BatchRow]) -> None:
    """Insert the batch and its rows, all in one transaction."""
    values = [(r.batch_id, r.event_id, r.split, r.kind, float(r.weight), int(bool(r.synthetic))) for r in rows]
    with store.lock, write_tx(store.db):
        store.db.conn.execute(
            "INSERT INTO batches(id, artifact_type, method, components, params, counts, created_at) VALUES (?,?,?,?,?,?,?)",
            [batch.id, batch.artifact_type, batch.method, batch.components, batch.params, batch.counts, batch.created_at],
        )
        store.db.conn.executemany(
            "INSERT INTO batch_rows(batch_id, event_id, split, kind, weight, synthetic) VALUES (?,?,?,?,?,?)", values
        )


def assigned_splits(store: Store) -> dict[int, str]:
    """Event id -> the split side recorded for it (``kind = 'assign'`` rows; a later row wins)."""
    with store.lock:
        rows = store.db.conn.execute(
            "SELECT event_id, split FROM batch_rows WHERE kind = 'assign' ORDER BY rowid"
        ).fetchall()
    return {eid: split for eid, split in rows}


def trained_event_ids(store: Store) -> set[int]:
    """Events in the train rows of a batch that a succeeded run used."""
    with store.lock:
        rows = store.db.conn.execute(
            "SELECT DISTINCT br.event_id FROM batch_rows br JOIN runs ON runs.batch_id = br.batch_id "
            "WHERE runs.status = 'succeeded' AND br.split = 'train' AND br.kind != 'assign'"
        ).fetchall()
    return {r[0] for r in rows}

"""Persist a batch: one ``batches`` row and its ``batch_rows``, in one transaction.

``batch_rows.kind`` is one of:

- ``assign``: the event's split was decided by this batch (first sight, see :mod:`.split`);
- ``sft``, ``kto_pos``, ``kto_neg``, ``dpo`` (an edit's own pair): one row per training row;
- ``dpo_cross`` then ``dpo_cross_rejected``: a cross-event pair (chosen's event, rejected's event).

``synthetic = 1`` marks augmented variants (``event_id`` is the source event); ``weight`` the
row's sample weight; oversampled hard negatives appear once per copy.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Iterable

from ..store import Store, utcnow_iso, write_tx
from .events import Ev


def new_batch_id() -> str:
    return "b" + uuid.uuid4().hex[:16]


def record_batch(
    store: Store,
    batch_id: str,
    *,
    artifact_type: str | None,
    method: str,
    components: list[str],
    params: dict[str, Any],
    counts: dict[str, int],
    assigned: Iterable[Ev],
    rows: Iterable[tuple[str, dict[str, Any]]],
) -> None:
    """``rows`` yields ``(split, meta)`` for every train and validation row."""
    out: list[tuple] = [(batch_id, ev.id, ev.split, "assign", 1.0, 0) for ev in assigned]
    for split, m in rows:
        out.append((batch_id, m["event_id"], split, m["kind"], float(m["weight"]), int(bool(m.get("synthetic")))))
        if m["kind"] == "dpo_cross":
            out.append((batch_id, m["rejected_event_id"], split, "dpo_cross_rejected", float(m["weight"]), int(bool(m.get("synthetic")))))
    with store.lock, write_tx(store.db):
        store.db.conn.execute(
            "INSERT INTO batches(id, artifact_type, method, components, params, counts, created_at) VALUES (?,?,?,?,?,?,?)",
            [batch_id, artifact_type, method, json.dumps(components), json.dumps(params, sort_keys=True, default=str),
             json.dumps(counts, sort_keys=True), utcnow_iso()],
        )
        store.db.conn.executemany(
            "INSERT INTO batch_rows(batch_id, event_id, split, kind, weight, synthetic) VALUES (?,?,?,?,?,?)", out
        )


def trained_event_ids(store: Store) -> set[int]:
    """Events already in the train rows of a batch that a succeeded run used."""
    with store.lock:
        rows = store.db.conn.execute(
            "SELECT DISTINCT br.event_id FROM batch_rows br JOIN runs ON runs.batch_id = br.batch_id "
            "WHERE runs.status = 'succeeded' AND br.split = 'train' AND br.kind != 'assign'"
        ).fetchall()
    return {r[0] for r in rows}

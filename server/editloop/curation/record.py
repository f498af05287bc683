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

from ..store import Store, batches, utcnow_iso
from ..store.batches import BatchRow, NewBatch
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
    out = [BatchRow(batch_id, ev.id, ev.split, "assign", 1.0, False) for ev in assigned]
    for split, m in rows:
        synthetic = bool(m.get("synthetic"))
        out.append(BatchRow(batch_id, m["event_id"], split, m["kind"], float(m["weight"]), synthetic))
        if m["kind"] == "dpo_cross":
            out.append(BatchRow(batch_id, m["rejected_event_id"], split, "dpo_cross_rejected", float(m["weight"]), synthetic))
    batch = NewBatch(batch_id, artifact_type, method, json.dumps(components), json.dumps(params, sort_keys=True, default=str),
                     json.dumps(counts, sort_keys=True), utcnow_iso())
    batches.record(store, batch, out)

"""Which validation rows the generation metrics (checkpoint selection, promotion) compare against."""

from __future__ import annotations

import tinymodel

from editloop.store import Store
from editloop.training.data import MIN_USER_TARGETS, Split, TrainingData, from_batch


def _row(i: int, action: str | None) -> dict:
    row = {"prompt": [{"role": "user", "content": f"spec {i}"}],
           "completion": [{"role": "assistant", "content": f"text {i}"}]}
    if action is not None:
        row["action"] = action
    return row


def _texts(data: TrainingData) -> list[str]:
    return [t.text for t in data.generation_targets()]


def test_unchanged_accepts_are_left_out_of_the_generation_targets():
    # A lazily accepted output is the promoted model's own greedy text: that model scores 1.0 on it.
    rows = [_row(i, "edit") for i in range(MIN_USER_TARGETS)] + [_row(100, "accept"), _row(101, "reject"), _row(102, None)]
    data = TrainingData(sft=Split(train=[_row(0, "edit")], val=rows))
    texts = _texts(data)
    assert "text 100" not in texts
    assert texts == [f"text {i}" for i in range(MIN_USER_TARGETS)] + ["text 101", "text 102"]


def test_too_few_user_written_rows_keep_every_row():
    rows = [_row(i, "edit") for i in range(MIN_USER_TARGETS - 1)] + [_row(100, "accept")]
    data = TrainingData(sft=Split(train=[_row(0, "edit")], val=rows))
    assert _texts(data) == [f"text {i}" for i in range(MIN_USER_TARGETS - 1)] + ["text 100"]


def test_from_batch_records_each_validation_rows_action(tmp_path):
    from editloop.curation import build_batch

    store = Store.open(tmp_path / "data")
    try:
        tinymodel.seed_events(store, 120)  # edits, accepts and rejects
        batch = build_batch(store, artifact_type="toy", method="sft")
        data = from_batch(batch, store=store)
        with store.lock:
            actions = dict(store.db.conn.execute("SELECT id, action FROM events").fetchall())
    finally:
        store.close()
    metas = batch.val_meta["sft"]
    assert data.sft.val and len(metas) == len(data.sft.val)
    assert [row["action"] for row in data.sft.val] == [actions[m["event_id"]] for m in metas]
    assert {row["action"] for row in data.sft.val} <= {"edit", "accept"}
    # enough user-written rows: the unchanged accepts are not generation targets
    written = [r for r in data.sft.val if r["action"] != "accept"]
    assert len(written) >= MIN_USER_TARGETS and len(written) < len(data.sft.val)
    assert [t.prompt for t in data.generation_targets()] == [r["prompt"] for r in written]

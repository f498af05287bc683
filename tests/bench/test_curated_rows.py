"""The learning benchmark skips an ablation's Train now only when curation builds exactly full
Editloop's rows: checked here on a real feedback database, through the worker's config path."""

from __future__ import annotations

import shutil

from editloop.bench.learning import Plan, _request, curated_rows
from editloop.store import Store
from tests.curation.conftest import Maker


def test_same_request_same_rows_and_a_switch_that_matters_differs(tmp_path):
    snap = tmp_path / "snap"
    snap.mkdir()
    store = Store.open(snap / "feedback.db")
    try:
        Maker(store).spec_events(60, seed=5, artifact_types=("mermaid-erd", "sql"))
    finally:
        store.close()
    before = (snap / "feedback.db").read_bytes()
    plan = Plan()

    full = curated_rows(snap, tmp_path, _request(plan, {}))
    assert full == curated_rows(snap, tmp_path, _request(plan, {}))  # deterministic: nothing random but the seed
    assert full["rows"]["sft"][0] and full["rows"]["sft"][1]  # train and validation rows
    without_aug = curated_rows(snap, tmp_path, _request(plan, {"settings": {"curation": {"augmentation": False}}}))
    assert without_aug != full
    assert len(without_aug["rows"]["sft"][0]) < len(full["rows"]["sft"][0])  # augmentation adds rows
    # the snapshot itself is left as it was (curation records its batch in a copy)
    assert (snap / "feedback.db").read_bytes() == before
    shutil.rmtree(snap)

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


def test_an_ablation_with_full_editloops_rows_is_reported_as_not_retrained():
    from editloop.bench.learning import Ablation
    from editloop.bench.learning_report import _ablation_table
    from editloop.simulate.loop import Evaluation

    def ev(cost: float) -> dict:
        return {"mermaid-erd": Evaluation(cost, 0.3, 0.0, 0.9, 1.0, [int(cost)] * 4, [100, 200, 300, 400])}

    full_run = {"metrics": {"method": "sft"}}
    res = {"plan": Plan(), "full_final": ev(100.0), "full_final_seconds": 70.0, "full_final_run": full_run,
           "ablations": [Ablation("hard_negatives", "without hard negatives", "note", ev(100.0), None, full_run, same_rows=True),
                         Ablation("replay", "without replay", "note", ev(130.0), 91.0, full_run)]}
    body = _ablation_table(res)
    assert "| without hard negatives | 100.0 | +0% |" in body
    assert "= full (curation built the same rows: not retrained) | - |" in body
    assert "| without replay | 130.0 | +30% |" in body and "| 91 | +30% |" in body
    assert "that Train now was not repeated" in body

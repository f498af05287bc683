"""A run's ``curation`` setting reaches curation's build_batch (the learning benchmark's ablations)."""

from __future__ import annotations

import json

import pytest
import tinymodel

from editloop.errors import InvalidArgument
from editloop.store import Store
from editloop.training import jobs, worker
from editloop.training.config import TrainConfig


def test_curation_overrides_are_checked_before_a_run_is_queued():
    cfg = TrainConfig(curation={"active": False, "augment_kinds": ["rename"]})
    cur = cfg.curation_config()
    assert cur.active is False and cur.augment_kinds == ("rename",) and cur.curriculum is True
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))).curation_config() == cur
    with pytest.raises(InvalidArgument, match="unknown curation setting"):
        TrainConfig(curation={"activ": False})
    with pytest.raises(InvalidArgument, match="true or false"):
        TrainConfig(curation={"active": "no"})
    with pytest.raises(InvalidArgument, match="object"):
        TrainConfig(curation=["active"])


@pytest.mark.slow
def test_a_run_builds_its_batch_with_the_curation_overrides(tmp_path, tiny_model):
    home = tmp_path / "data"
    store = Store.open(home)
    try:
        tinymodel.seed_events(store, 40)
        off = ["augmentation", "hard_negatives", "curriculum"]
        run_id = jobs.create_run(store, method="sft", artifact_type="toy", base_model=tiny_model,
                                 settings={"epochs": 1, "max_new_tokens": 16, "curation": {k: False for k in off}})
    finally:
        store.close()
    worker.run(home, run_id)
    run = jobs.run_status(home, run_id)
    assert run["status"] == "succeeded", run["error"]
    store = Store.open(home)
    try:
        with store.lock:
            row = store.db.conn.execute("SELECT components, params FROM batches WHERE id = ?", [run["batch_id"]]).fetchone()
    finally:
        store.close()
    components, params = json.loads(row[0]), json.loads(row[1])
    assert not set(off) & set(components) and "active" in components
    assert params["config"]["augmentation"] is False

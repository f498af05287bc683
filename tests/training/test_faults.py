"""Training faults: out of memory (a low address-space limit on the worker) leaves a failed run with
a clear error, a consistent database and the promoted model unchanged."""

from __future__ import annotations

import sys

import pytest

from editloop.store import Store
from editloop.training import jobs
from editloop.training.tracker import promote, promoted_run

from test_jobs import _run_in_process  # tests/training is on sys.path (conftest)

pytestmark = pytest.mark.slow  # trains the tiny model


def test_out_of_memory_worker_fails_cleanly_and_keeps_the_promoted_model(home, tiny_model, toy_data):
    good = _run_in_process(home, tiny_model, toy_data)
    assert good["promoted"]
    # 600 MB of address space: torch cannot even finish loading, as on a machine out of memory.
    run_id = jobs.start_run(home, method="sft", artifact_type="toy", base_model=tiny_model, data=toy_data,
                            launcher=["prlimit", "--as=600000000", sys.executable])
    status = jobs.wait_run(home, run_id, stall_timeout=300)
    assert status["status"] == "failed"
    assert status["error"].startswith("out of memory while training"), status["error"]
    assert "\n" not in status["error"]
    assert "Traceback" in (jobs.run_dir(home, run_id) / "train.log").read_text()  # the details are kept
    store = Store.open(home)
    try:
        assert promoted_run(store, "toy").id == good["id"]
        assert store.db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        promote(store, good["id"], artifact_type="toy")  # still loadable and promotable
    finally:
        store.close()
    assert jobs.read_lock(home) is None

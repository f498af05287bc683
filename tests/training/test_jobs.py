"""Train now as a process: progress, cancel, kill -9, one run at a time, promotion and rollback."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import tinymodel

from editloop.errors import EditloopError
from editloop.store import Store
from editloop.training import jobs, worker
from editloop.training.data import Split, TrainingData
from editloop.training.tracker import promote, promoted_run

pytestmark = pytest.mark.slow

FAST = {"epochs": 3, "max_new_tokens": 32, "threads": 1}


def _run_in_process(home, tiny_model, data, **settings):
    """create_run + the worker's own entry point, in this process (saves the subprocess import time)."""
    store = Store.open(home)
    try:
        run_id = jobs.create_run(store, method="sft", artifact_type="toy", base_model=tiny_model,
                                 settings={**FAST, **settings}, data=data)
    finally:
        store.close()
    worker.run(home, run_id)
    return jobs.run_status(home, run_id)


def _wait_for_step(home, run_id, timeout=120):
    for event in jobs.iter_progress(home, run_id, stall_timeout=timeout):
        if event.get("type") == "progress" and event["step"] >= 1:
            return event
        assert event.get("type") != "finished", event
    raise AssertionError("no progress")


def test_cancel_stops_the_worker_and_promotes_nothing(home, tiny_model, toy_data):
    run_id = jobs.start_run(home, method="sft", artifact_type="toy", base_model=tiny_model,
                            settings={"epochs": 500, "early_stopping_patience": 500, "threads": 1}, data=toy_data)
    event = _wait_for_step(home, run_id)
    assert {"percentage", "step", "loss", "maxSteps"} <= set(event)
    # One run at a time per data folder.
    with pytest.raises(EditloopError, match="already in progress"):
        jobs.start_run(home, method="sft", base_model=tiny_model, data=toy_data)

    assert jobs.cancel_run(home, run_id)["status"] == "cancelled"
    status = jobs.run_status(home, run_id)
    assert status["status"] == "cancelled" and not status["promoted"] and status["finished_at"]
    folder = jobs.run_dir(home, run_id)
    assert not (folder / "adapter").exists() and not (folder / "checkpoints").exists()
    assert (folder / "train.log").exists()
    assert jobs.read_lock(home) is None
    assert jobs.read_progress(home, run_id)[-1]["type"] == "finished"


def test_killed_worker_leaves_the_database_consistent(home, tiny_model, toy_data):
    run_id = jobs.start_run(home, method="sft", artifact_type="toy", base_model=tiny_model,
                            settings={"epochs": 500, "early_stopping_patience": 500, "threads": 1}, data=toy_data)
    _wait_for_step(home, run_id)
    pid = jobs.run_status(home, run_id)["pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while jobs.pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)

    status = jobs.run_status(home, run_id)  # recovery happens on the next look at the runs
    assert status["status"] == "failed"
    assert f"pid {pid}" in status["reason"] and status["finished_at"]
    assert not (jobs.run_dir(home, run_id) / "adapter").exists()
    store = Store.open(home)
    try:
        assert promoted_run(store, "toy") is None
        assert [r["status"] for r in jobs.list_runs(store)] == ["failed"]
    finally:
        store.close()
    # The stale lock does not block the next run.
    jobs._take_lock(home, os.getpid(), "next")
    jobs.release_lock(home, "next")


def test_a_worse_run_is_not_promoted_and_rollback_works(home, tiny_model, toy_data):
    good = _run_in_process(home, tiny_model, toy_data)
    assert good["status"] == "succeeded" and good["promoted"], good
    metrics = json.loads((jobs.run_dir(home, good["id"]) / "metrics.json").read_text())
    assert metrics["incumbent"]["model"] == "base" and metrics["curve"][0]["stage"] == "base"

    # Deliberately worse: training targets that are nothing like what the user keeps.
    train_words, val_words = tinymodel.split_words()
    bad = TrainingData(sft=Split(tinymodel.sft_rows(train_words, tinymodel.worse_style) * 3,
                                 tinymodel.sft_rows(val_words)), artifact_type="toy")
    worse = _run_in_process(home, tiny_model, bad)
    assert worse["status"] == "succeeded" and not worse["promoted"]
    assert "did not beat" in worse["reason"]
    assert worse["metrics"]["incumbent"]["model"] == good["adapter_path"]

    store = Store.open(home)
    try:
        assert promoted_run(store, "toy").id == good["id"]
        promote(store, worse["id"])  # a user may still choose it by hand...
        assert promoted_run(store, "toy").id == worse["id"]
        promote(store, good["id"])  # ...and roll back
        assert promoted_run(store, "toy").id == good["id"]
        promote(store, "base", artifact_type="toy")
        assert promoted_run(store, "toy") is None
        with pytest.raises(EditloopError, match="unknown run"):
            promote(store, "nope")
    finally:
        store.close()


def test_failures_end_in_a_clear_failed_run(home, tiny_model, toy_data):
    empty = _run_in_process(home, tiny_model, TrainingData(artifact_type="toy"))
    assert empty["status"] == "failed" and "no SFT training rows" in empty["error"]
    assert not empty["promoted"]
    with pytest.raises(EditloopError, match="does not exist"):
        jobs.start_run(home, base_model=str(home / "missing-model"))
    with pytest.raises(EditloopError, match="unknown training setting"):
        jobs.start_run(home, base_model=tiny_model, settings={"epoch": 3})
    assert jobs.read_lock(home) is None


def test_a_corrupt_promoted_adapter_is_reported_and_left_alone(home, tiny_model, toy_data):
    good = _run_in_process(home, tiny_model, toy_data)
    weights = jobs.run_dir(home, good["id"]) / "adapter" / "model.safetensors"
    weights.write_bytes(b"not safetensors")
    store = Store.open(home)
    try:
        with pytest.raises(EditloopError, match="corrupt or incomplete"):
            promote(store, good["id"])
    finally:
        store.close()
    again = _run_in_process(home, tiny_model, toy_data)
    assert again["status"] == "succeeded"
    assert any("cannot be loaded" in n for n in again["metrics"]["notes"])
    assert again["metrics"]["incumbent"]["model"] == "base"


def test_train_now_on_recorded_events_uses_a_curation_batch(home, tiny_model):
    store = Store.open(home)
    try:
        tinymodel.seed_events(store, 40)
        run_id = jobs.create_run(store, method="auto", artifact_type="toy", base_model=tiny_model, settings=FAST)
    finally:
        store.close()
    worker.run(home, run_id)
    run = jobs.run_status(home, run_id)
    assert run["status"] == "succeeded", run["error"]
    assert run["batch_id"] and run["metrics"]["counts"]["sft"] > 0
    assert run["reason"].startswith("SFT on")
    assert run["progress"]["percentage"] == 100

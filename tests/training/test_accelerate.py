"""Train now under `accelerate launch`: the worker, unchanged, as two data-parallel CPU processes (gloo).

accelerate 1.15 starts several CPU processes only through torchrun (``--multi_gpu``; ``--cpu
--num_processes 2`` without an MPI host file starts one process); the trainer then runs on the CPU
(``use_cpu``) with the gloo backend. The GPU is hidden so the test means the same on a GPU machine.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import pytest
import tinymodel

from editloop.store import Store
from editloop.training import jobs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launcher(processes: int) -> list[str]:
    accelerate = Path(sys.executable).with_name("accelerate")
    return [str(accelerate), "launch", "--multi_gpu", "--num_processes", str(processes), "--num_machines", "1",
            "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port())]


def _tensors(folder: str | Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(Path(folder) / "model.safetensors"))


@pytest.mark.slow  # two worker processes train the tiny model
def test_train_now_runs_data_parallel_on_two_processes_and_rank_0_alone_writes(home, tiny_model):
    store = Store.open(home)
    try:
        tinymodel.seed_events(store, 40)  # a few dozen events: the curation batch is built by rank 0
    finally:
        store.close()
    started = time.monotonic()
    run_id = jobs.start_run(home, method="sft", artifact_type="toy", base_model=tiny_model,
                            settings={"epochs": 3, "max_new_tokens": 32, "threads": 1},
                            launcher=_launcher(2), env={"CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"})
    run = jobs.wait_run(home, run_id, stall_timeout=300)
    elapsed = time.monotonic() - started
    folder = jobs.run_dir(home, run_id)
    log = (folder / jobs.LOG_NAME).read_text()
    assert run["status"] == "succeeded", f"{run['error']}\n{log[-4000:]}"
    assert elapsed < 300, f"took {elapsed:.0f} s"

    # both ranks trained: the trainer saw a world of two processes
    stages = run["metrics"]["stages"]
    assert [s["processes"] for s in stages] == [2]
    assert "Traceback" not in log and "ChildFailedError" not in log  # neither rank failed, even after rank 0

    # rank 0 alone wrote: one batch, one progress stream (every event once), one model, no leftovers
    store = Store.open(home)
    try:
        assert store.db.conn.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 1
        assert [r["id"] for r in jobs.list_runs(store)] == [run_id]
    finally:
        store.close()
    events = jobs.read_progress(home, run_id)
    assert [e["type"] for e in events].count("finished") == 1
    steps = [e["step"] for e in events if e["type"] == "progress" and "stoppedEarly" not in e]
    assert steps == sorted(set(steps)), "a progress event was written twice"
    printed = [line for line in log.splitlines() if line.startswith('{"runId"')]
    assert len(printed) == len(events)  # rank 1 printed no progress either
    assert sorted(p.name for p in folder.iterdir()) == ["adapter", "data.json", "metrics.json", "progress.jsonl",
                                                          "train.log"]
    assert json.loads((folder / jobs.METRICS_NAME).read_text())["stages"] == stages

    # the model trained: the kept weights differ from the base's, and it was promoted
    tuned, base = _tensors(folder / "adapter"), _tensors(tiny_model)
    assert tuned.keys() == base.keys()
    changed = [k for k in base if not (tuned[k] == base[k]).all()]
    assert len(changed) > len(base) // 2, f"only {len(changed)} of {len(base)} tensors changed"
    assert run["promoted"] and run["metrics"]["valSimilarity"] > run["metrics"]["base"]["similarity"]


@pytest.mark.slow
def test_cancel_stops_every_process(home, tiny_model, toy_data):
    run_id = jobs.start_run(home, method="sft", artifact_type="toy", base_model=tiny_model, data=toy_data,
                            settings={"epochs": 500, "early_stopping_patience": 500, "threads": 1},
                            launcher=_launcher(2), env={"CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"})
    for event in jobs.iter_progress(home, run_id, stall_timeout=120):
        assert event.get("type") != "finished", event
        if event.get("type") == "progress" and event["step"] >= 2:
            break
    pid = jobs.run_status(home, run_id)["pid"]
    assert jobs.cancel_run(home, run_id)["status"] == "cancelled"
    status = jobs.run_status(home, run_id)
    assert status["status"] == "cancelled" and not status["promoted"]
    assert not jobs.pid_alive(pid) and jobs.read_lock(home) is None
    assert not (jobs.run_dir(home, run_id) / "adapter").exists()
    assert jobs.read_progress(home, run_id)[-1]["type"] == "finished"


@pytest.mark.parametrize("variable", ["ACCELERATE_USE_DEEPSPEED", "ACCELERATE_USE_FSDP"])
def test_a_deepspeed_or_fsdp_launch_is_recognized(monkeypatch, variable):
    from editloop.training.finetune import sharded_launch

    monkeypatch.delenv("ACCELERATE_USE_DEEPSPEED", raising=False)
    monkeypatch.delenv("ACCELERATE_USE_FSDP", raising=False)
    assert not sharded_launch()
    monkeypatch.setenv(variable, "false")
    assert not sharded_launch()
    monkeypatch.setenv(variable, "true")  # what `accelerate launch` sets for such a config
    assert sharded_launch()


def test_an_fsdp_launch_keeps_full_checkpoints(tmp_path, monkeypatch):
    # transformers refuses save_only_model with DeepSpeed/FSDP when the best checkpoint is reloaded
    # (DeepSpeed's arguments need the deepspeed package, not installed here: FSDP's are checked)
    from editloop.training.config import TrainConfig, resolve
    from editloop.training.finetune import _trainer_args

    monkeypatch.delenv("ACCELERATE_USE_FSDP", raising=False)
    cfg = TrainConfig()
    res = resolve(cfg, "sft", n_params=1_000_000, on_gpu=False, bf16_ok=False)
    assert _trainer_args("sft", cfg, res, tmp_path / "a", 10).save_only_model  # one process: the model only
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    args = _trainer_args("sft", cfg, res, tmp_path / "b", 10)
    assert not args.save_only_model and args.load_best_model_at_end

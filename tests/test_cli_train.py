"""`editloop train`'s progress bar and exit: a failed run's bar stops where the run stopped, and the
reason is one line with a non-zero exit (the run itself is faked: this is about the CLI edge)."""

from __future__ import annotations

from editloop import cli
from editloop.training import jobs


def test_a_failed_train_exits_nonzero_with_the_reason_on_one_line(tmp_path, monkeypatch, capsys):
    events = [
        {"type": "status", "phase": "measuring the base model", "done": 12, "total": 12, "percentage": 2},
        {"type": "progress", "phase": "training", "stage": "sft", "step": 17, "maxSteps": 40, "percentage": 41.5, "loss": 0.8},
        {"type": "finished", "status": "failed", "percentage": 100, "error": "out of memory while training\n(details in train.log)"},
    ]
    seen = {}

    def fake_wait(home, run_id, *, callback=None, stall_timeout=None):
        seen["stall_timeout"] = stall_timeout
        for event in events:
            callback(event)
        return {"status": "failed", "promoted": False, "reason": events[-1]["error"], "error": events[-1]["error"], "metrics": {}}

    monkeypatch.setattr(jobs, "start_run", lambda home, **kw: "run-1")
    monkeypatch.setattr(jobs, "wait_run", fake_wait)
    rc = cli.main(["train", "--data-dir", str(tmp_path), "--stall-timeout", "120"])
    err = capsys.readouterr().err
    assert rc == 1 and seen["stall_timeout"] == 120
    last = err.rstrip("\n").split("\n")[-1]
    assert last == "editloop: run run-1 failed: out of memory while training (details in train.log)"
    bar = [line for line in err.replace("\r", "\n").split("\n") if "failed at" in line]
    assert bar and "41.5%" in bar[0] and "100.0%" not in err and "step 17/40" in bar[0]


def test_runs_lists_a_failed_runs_reason(tmp_path):
    import subprocess
    import sys

    from editloop.store import Store, utcnow_iso
    from editloop.training.jobs import create_run, update_run

    store = Store.open(tmp_path)
    run_id = create_run(store, method="sft")
    update_run(store, run_id, status="failed", error="no SFT training rows for any artifact type yet", finished_at=utcnow_iso())
    store.close()
    out = subprocess.run([sys.executable, "-m", "editloop", "runs", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    line = [ln for ln in out.stdout.splitlines() if run_id in ln][0]
    assert "failed" in line and "no SFT training rows for any artifact type yet" in line

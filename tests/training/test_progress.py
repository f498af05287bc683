"""What a wait on a run does: it follows progress past any deadline, fails only on a stall (saying
where the run was, and cancelling it), and the bar of a failed run stays where the run stopped."""

from __future__ import annotations

import io
import threading
import time

import pytest

from editloop.store import Store
from editloop.training import jobs
from editloop.training.progress import ProgressLine, ProgressPrinter, RunStalled, StallWatch, describe


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def step(n: int, total: int = 40, pct: float | None = None, **extra) -> dict:
    return {"type": "progress", "phase": "training", "stage": "sft", "step": n, "maxSteps": total,
            "percentage": pct if pct is not None else 2 + 93 * n / total, "loss": 1.0 / n, **extra}


def test_slow_progress_past_any_fixed_deadline_never_stalls():
    clock = Clock()
    watch = StallWatch("r1", 600, clock=clock)
    for n in range(1, 60):  # 59 events 500 s apart: ~8 hours, each within the stall timeout
        clock.now += 500
        watch.check()
        watch.seen(step(n))
    watch.check()


def test_a_stall_fails_with_where_the_run_was():
    clock = Clock()
    watch = StallWatch("r1", 600, clock=clock)
    watch.seen(step(24))
    clock.now += 599
    watch.check()
    clock.now += 1
    with pytest.raises(RunStalled, match=r"^no progress from run r1 for 600 s \(last: phase training SFT, step 24/40\)$"):
        watch.check()
    assert StallWatch("r2", None, clock=clock).check() is None  # None: no stall timeout at all


def test_a_failed_runs_bar_stays_where_it_stopped_with_the_reason():
    clock = Clock()
    line = ProgressLine(clock)
    line.update({"type": "status", "phase": "measuring the base model", "done": 0, "total": 12, "percentage": 1})
    for n in (1, 10, 24):
        clock.now += 10
        text = line.update(step(n, pct=42.0 if n == 24 else None))
    assert "42.0%" in text and "step 24/40" in text and "loss 0.042" in text and "ETA" in text
    # the worker's last event says 42.0 too; a renderer must not trust a finished event's 100 anyway
    final = line.update({"type": "finished", "status": "failed", "percentage": 100, "error": "out of memory\nwhile training"})
    assert "100.0%" not in final and "42.0%" in final
    assert final.endswith("failed at phase training SFT, step 24/40: out of memory while training")
    done = ProgressLine().update({"type": "finished", "status": "succeeded", "promoted": False, "percentage": 100})
    assert "100.0%" in done and "not promoted" in done


def test_progress_text_names_the_phase_and_never_the_run_id():
    events = [
        {"runId": "r-123", "type": "status", "phase": "measuring the base model", "done": 5, "total": 12, "percentage": 1.4},
        {"runId": "r-123", **step(7)},
        {"runId": "r-123", "type": "status", "phase": "validating", "stage": "sft", "step": 8, "maxSteps": 40, "done": 3, "total": 12, "percentage": 20},
        {"runId": "r-123", **step(40, pct=95, stoppedEarly=False)},
        {"runId": "r-123", "type": "status", "phase": "interpolating", "done": 12, "total": 36, "percentage": 95.3},
    ]
    texts = [describe(e) for e in events]
    assert texts[0] == "measuring the base model · 5/12 outputs"
    assert texts[1].startswith("training SFT · step 7/40 · loss")
    assert texts[2] == "validating SFT · step 8/40 · 3/12 outputs"
    assert texts[3].startswith("training SFT · step 40/40")
    assert texts[4] == "interpolating · 12/36 outputs"
    assert not any("r-123" in t for t in texts)


def test_printer_writes_one_line_per_phase_off_a_terminal():
    clock, out = Clock(), io.StringIO()
    printer = ProgressPrinter(out, tty=False, every=15, clock=clock)
    for n in range(1, 11):  # ten steps in 10 s: one line for the phase
        clock.now += 1
        printer(step(n))
    printer({"type": "status", "phase": "interpolating", "done": 0, "total": 3, "percentage": 95})
    printer({"type": "finished", "status": "succeeded", "promoted": True, "percentage": 100})
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and "step 1/40" in lines[0] and "interpolating" in lines[1] and "100.0%" in lines[2]


def _queued_run(home) -> str:
    store = Store.open(home)
    try:
        return jobs.create_run(store, method="sft", settings={"epochs": 1})
    finally:
        store.close()


def test_iter_progress_follows_a_slow_run_then_wait_run_cancels_a_stalled_one(tmp_path):
    home = tmp_path / "data"
    run_id = _queued_run(home)
    folder = jobs.run_dir(home, run_id)

    def slow_worker():  # progress every 0.25 s for 2 s: past twice the stall timeout, never silent that long
        for n in range(1, 9):
            time.sleep(0.25)
            jobs._append_progress(folder, step(n, total=8))

    writer = threading.Thread(target=slow_worker)
    writer.start()
    seen = []
    try:
        for event in jobs.iter_progress(home, run_id, poll=0.05, stall_timeout=1.0):
            seen.append(event["step"])
            if event["step"] == 8:
                break
    finally:
        writer.join()
    assert seen == list(range(1, 9))

    # then silence: wait_run gives up after the stall timeout, cancels the run and says so
    with pytest.raises(RunStalled, match=rf"no progress from run {run_id} for \d s \(last: phase training SFT, "
                                         r"step 8/8\); cancelled it"):
        jobs.wait_run(home, run_id, stall_timeout=1.0)
    assert jobs.run_status(home, run_id)["status"] == "cancelled"

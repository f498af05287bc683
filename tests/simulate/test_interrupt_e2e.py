"""Ctrl-C while a Train now runs in a demo-like session (a real `editloop serve`, the tiny model):
the run is cancelled and no training worker is left behind.

The terminal's Ctrl-C reaches the driver and its language server (one process group), not the
worker (it leads its own session), so the session must cancel the run itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))

import tinymodel  # noqa: E402

from editloop.store import Store  # noqa: E402
from editloop.training import jobs  # noqa: E402

pytestmark = pytest.mark.slow

DRIVER = """
import asyncio, sys
from editloop.simulate.session import ServerSession
from editloop.training.progress import ProgressPrinter

home, base = sys.argv[1], sys.argv[2]

async def main():
    async with ServerSession(home, settings={"training": {"baseModel": base}}, env={"EDITLOOP_HOME": home}) as s:
        started = await s.command("editloop.train", {"method": "sft", "artifactType": "toy", "settings": {
            "epochs": 500, "early_stopping_patience": 500, "max_new_tokens": 16, "threads": 1}})
        await s.wait_run(started["runId"], on_progress=ProgressPrinter(sys.stdout, tty=False))

try:
    asyncio.run(main())
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


def test_ctrl_c_during_train_now_cancels_the_run_and_leaves_no_worker(tmp_path):
    base = tinymodel.build_tiny_model(tmp_path / "base")
    home = tmp_path / "data"
    store = Store.open(home)
    tinymodel.seed_events(store, 40)
    store.close()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(home), str(base)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True, env=env)
    run_id, deadline = None, time.monotonic() + 120
    try:
        while run_id is None and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            for path in (home / "runs").glob("*/progress.jsonl"):
                events = [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]
                if any(e.get("phase") == "training" and e.get("step", 0) >= 1 for e in events):
                    run_id = path.parent.name
        if run_id is None:
            proc.kill()
            pytest.fail("no training step in time:\n" + proc.communicate(timeout=30)[0][-3000:])
        pid = jobs.run_status(home, run_id)["pid"]
        assert jobs.pid_alive(pid)
        time.sleep(1.0)  # the driver's wait reads the progress file 4 times a second
        os.killpg(proc.pid, signal.SIGINT)  # the terminal's Ctrl-C: every process in the foreground group
        out = proc.communicate(timeout=90)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130 and "interrupted" in out, out[-3000:]
    assert "training SFT · step" in out, out  # the progress display saw the run train
    status = jobs.run_status(home, run_id)
    assert status["status"] == "cancelled" and not status["promoted"], status
    assert not jobs.pid_alive(pid), f"worker {pid} still running"
    assert jobs.read_lock(home) is None
    assert not (jobs.run_dir(home, run_id) / "adapter").exists()

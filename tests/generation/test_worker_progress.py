"""The local workers are waited for while they progress, and stopped only when silent."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from editloop.errors import EditloopError
from editloop.generation.local import LocalWorker, Watchdog

# A stand-in worker speaking the protocol: "steps" progress lines "pause" seconds apart, then the answer;
# "hang" writes one progress line and then nothing.
FAKE = textwrap.dedent("""
    import json, sys, time
    for line in sys.stdin:
        req = json.loads(line)
        for done in range(req["steps"]):
            time.sleep(req["pause"])
            print(json.dumps({"id": req["id"], "progress": {"done": done, "total": req["steps"]}}), flush=True)
        if req.get("hang"):
            time.sleep(600)
        print(json.dumps({"id": req["id"], "text": "done after %d steps" % req["steps"]}), flush=True)
""")


class FakeWorker(LocalWorker):
    label = "the fake worker"

    def __init__(self, script, **kw):
        super().__init__(**kw)
        self.script = script

    def _ensure(self):
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen([sys.executable, str(self.script)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return self.proc


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "fake_worker.py"
    path.write_text(FAKE)
    return path


def test_a_request_that_keeps_progressing_outlasts_the_silence_limit(script):
    seen = []
    worker = FakeWorker(script, silence=0.6, on_progress=seen.append)
    try:
        t0 = time.monotonic()
        answer = worker._ask({"steps": 8, "pause": 0.2})
        assert answer["text"] == "done after 8 steps"
        assert time.monotonic() - t0 > 1.2  # twice the silence limit, never cut off
        assert [p["done"] for p in seen] == list(range(8)) and seen[-1]["total"] == 8
    finally:
        worker.close()


def test_a_silent_worker_is_stopped_with_a_reason_and_the_next_request_restarts_it(script):
    worker = FakeWorker(script, silence=0.5)
    try:
        with pytest.raises(EditloopError, match=r"the fake worker showed no progress for 0.5 s and was stopped; it restarts"):
            worker._ask({"steps": 1, "pause": 0.0, "hang": True})
        assert worker.proc is None
        assert worker._ask({"steps": 0, "pause": 0.0})["text"] == "done after 0 steps"
    finally:
        worker.close()


def test_a_worker_killed_from_outside_is_reported_as_such(script):
    worker = FakeWorker(script, silence=30)
    try:
        worker._ensure()
        worker.proc.kill()
        worker.proc.wait()
        worker.proc.poll = lambda: None  # as if it died just after the check
        with pytest.raises(EditloopError, match=r"stopped \(exit code -9: out of memory or killed\?\)"):
            worker._ask({"steps": 0, "pause": 0.0})
    finally:
        worker.close()


def test_the_watchdog_fires_once_after_silence_and_not_while_reset():
    fired = []
    dog = Watchdog(0.3, lambda: fired.append(time.monotonic()))
    for _ in range(5):
        time.sleep(0.1)
        dog.reset()
    assert fired == [] and not dog.fired
    time.sleep(0.6)
    assert len(fired) == 1 and dog.fired
    dog.stop()

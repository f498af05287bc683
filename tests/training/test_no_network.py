"""Nothing leaves the machine: capture, curation and training run with every network socket blocked."""

from __future__ import annotations

import socket
import time

import pytest

from editloop.capture.clock import ManualClock
from editloop.capture.service import CaptureService
from editloop.store import Store

pytestmark = pytest.mark.slow  # trains the tiny model


@pytest.fixture
def no_network(monkeypatch):
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded(self, address):
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        attempts.append(address)
        raise OSError(f"network blocked by the test: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, address: guarded(self, address) or 0)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: guarded(socket.socket(), address))
    return attempts


def test_capture_curation_and_training_open_no_connection(no_network, tiny_model, tmp_path):
    from editloop.curation import build_batch, export
    from editloop.training.config import TrainConfig
    from editloop.training.data import from_batch
    from editloop.training.finetune import train

    store = Store.open(tmp_path / "home")
    svc = CaptureService(store, clock=ManualClock(time.time()))
    for i in range(36):
        uri = f"file:///p/{i}.sql"
        text = f"CREATE TABLE t{i} (id int);\n"
        svc.open(uri, text, language_id="sql")
        rid = svc.track(uri, (0, 0, 0, len(text) - 1), prompt=f"a table t{i} with an id", artifact_type="sql")["id"]
        if i % 3:
            svc.change(uri, [((0, 20, 0, 23), "uuid PRIMARY KEY")])
        svc.accept(rid)
    batch = build_batch(store, artifact_type="sql", method="sft")
    assert batch.counts()["sft"] > 0
    assert export(store, "openai", tmp_path / "out.jsonl") > 0
    data = from_batch(batch, store=store)
    result = train(data, TrainConfig(method="sft", base_model=tiny_model, epochs=1, max_new_tokens=16, eval_examples=4), tmp_path / "run")
    assert result.metrics["curve"]
    assert no_network == [], f"connections attempted: {no_network}"
    # The guard itself works: a real attempt is caught and recorded.
    import urllib.request

    with pytest.raises(OSError):
        urllib.request.urlopen("http://127.0.0.1:9/", timeout=2)
    assert len(no_network) == 1

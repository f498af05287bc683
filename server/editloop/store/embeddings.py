"""The ``embeddings`` table: sentence vectors cached by text hash and model name.

A text is embedded once: :func:`vectors` reads what the cache holds and encodes only the rest
(with :class:`editloop.signals.embeddings.Embedder`, which loads torch on first use: call it from a
worker thread or a subprocess, never the server's event loop). Vectors are stored as float32 bytes.
Keys: :func:`vectors` hashes a text with sha256 (:func:`~editloop.signals.embeddings.text_hash`);
curation's diversity vectors (:mod:`editloop.curation.vectors`) with sha1: two key spaces, one table.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple, Sequence

from ..signals.embeddings import Embedder, cosine, default_embedder, embeddings_status, from_blob, text_hash, to_blob
from .db import write_tx
from .store import Store

CHUNK = 500  # hashes per ``IN (...)`` list


class CachedVector(NamedTuple):
    hash: str
    model: str
    dim: int
    vector: bytes  # ``dim`` float32 values


def cached(store: Store, model: str, hashes: Sequence[str]) -> dict[str, CachedVector]:
    """The cached vectors of ``model`` for those of ``hashes`` that have one, by hash."""
    out: dict[str, CachedVector] = {}
    with store.lock:
        for i in range(0, len(hashes), CHUNK):
            chunk = list(hashes[i : i + CHUNK])
            q = ",".join("?" * len(chunk))
            for row in store.db.conn.execute(
                f"SELECT hash, model, dim, vector FROM embeddings WHERE model = ? AND hash IN ({q})", [model, *chunk]
            ):
                out[row[0]] = CachedVector._make(row)
    return out


def save(store: Store, rows: Iterable[CachedVector]) -> None:
    """Cache ``rows`` (replacing a vector already cached for the same hash and model), in one transaction."""
    rows = list(rows)
    with store.lock, write_tx(store.db):
        store.db.conn.executemany("INSERT OR REPLACE INTO embeddings(hash, model, dim, vector) VALUES (?,?,?,?)", rows)


def vectors(store: Store, texts: Iterable[str], embedder: Embedder | None = None) -> dict[str, list[float]]:
    """Vectors of ``texts`` by sha256 hash (:func:`text_hash`), from the cache or freshly encoded (and cached)."""
    embedder = embedder or default_embedder()
    by_hash: dict[str, str] = {}
    for t in texts:
        by_hash.setdefault(text_hash(t), t)
    if not by_hash:
        return {}
    hashes = list(by_hash)
    found = {h: from_blob(row.vector) for h, row in cached(store, embedder.name, hashes).items()}
    missing = [h for h in hashes if h not in found]
    if missing:
        fresh = embedder.encode([by_hash[h] for h in missing])
        save(store, (CachedVector(h, embedder.name, len(v), to_blob(v)) for h, v in zip(missing, fresh)))
        found.update(zip(missing, fresh))
    return found


def embedding_similarity(store: Store, a: str, b: str, embedder: Embedder | None = None) -> float | None:
    """Cosine similarity of the two texts' embeddings (cached), or ``None`` when embeddings are off."""
    if embeddings_status() != "on":
        return None
    if a == b:
        return 1.0
    vecs = vectors(store, [a, b], embedder)
    return round(cosine(vecs[text_hash(a)], vecs[text_hash(b)]), 6)

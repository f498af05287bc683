"""Fill ``events.embedding_similarity`` for events that lack it: a job, run in its own process.

``python -m editloop.store.backfill --home DIR`` prints how many events it filled. The language
server starts it as a subprocess after events arrive (``lsp/background.py``), so torch and the
embedding model never load into the server's own process.
"""

from __future__ import annotations

from ..signals.embeddings import Embedder, cosine, embeddings_status, text_hash
from . import events
from .embeddings import vectors
from .store import Store


def fill_embedding_similarity(store: Store, *, limit: int | None = None, batch: int = 64, embedder: Embedder | None = None) -> int:
    """Fill ``events.embedding_similarity`` where it is NULL, ``batch`` events per transaction;
    returns how many were filled. Loads the model on first use; does nothing when embeddings are off."""
    if embeddings_status() != "on":
        return 0
    done = 0
    while limit is None or done < limit:
        n = batch if limit is None else min(batch, limit - done)
        rows = events.lacking_embedding_similarity(store, n)
        if not rows:
            break
        vecs = vectors(store, [t for _, o, f in rows for t in (o, f)], embedder)
        events.set_embedding_similarity(store, (
            (i, 1.0 if o == f else round(cosine(vecs[text_hash(o)], vecs[text_hash(f)]), 6)) for i, o, f in rows
        ))
        done += len(rows)
    return done


def main(argv: list[str] | None = None) -> int:
    """``python -m editloop.store.backfill --home DIR [--limit N]``: fill missing embedding similarities."""
    import argparse
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    p = argparse.ArgumentParser(prog="python -m editloop.store.backfill")
    p.add_argument("--home", required=True)
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args(argv)
    store = Store.open(args.home)
    try:
        n = fill_embedding_similarity(store, limit=args.limit)
    finally:
        store.close()
    print(n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Curation speed on a large feedback database: build_batch and export on N events (default 100,000).

    .venv/bin/python -m editloop.bench.curation_bench [--events 100000] [--repeat 3] [--keep DIR]

Creates a real ``feedback.db`` (migrations applied by the store), bulk-inserts regions and events
in one transaction (texts from the synthetic spec generator: Mermaid ERDs, SQL, dataclasses in
several styles, 300-2,000 characters; 25% accepts, 55% edits, 20% rejects, 2% of regions lost),
then times ``build_batch`` (first build: records every split assignment; later builds: reuse them)
and ``export`` in each format. Embeddings off. Prints a table with medians.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from editloop.curation import CurationConfig, build_batch, export
from editloop.signals.reward import reward
from editloop.signals.similarity import similarity
from editloop.store import Store, utcnow_iso
from editloop.store import events as store_events
from editloop.store import regions as store_regions
from editloop.store.events import NewEvent
from editloop.store.regions import NewRegion
from editloop.synth import BASE_STYLE, get_artifact, get_user, random_spec, random_style
from editloop.synth.users import USERS

ARTIFACTS = (("mermaid-erd", 0.5), ("sql", 0.3), ("python-dataclass", 0.2))


def make_db(home: Path, n: int, seed: int = 0) -> tuple[Store, list[int]]:
    """A feedback database of ``n`` events, and the lengths of their original texts."""
    rng = random.Random(seed)
    store = Store.open(home)
    specs = [random_spec(rng, min_entities=2, max_entities=7, max_attributes=6) for _ in range(max(50, n // 25))]
    styles = [random_style(rng) for _ in range(8)] + [BASE_STYLE]
    users = list(USERS)
    start = time.time() - 90 * 86400
    cache: dict[tuple, tuple[str, str, float]] = {}
    regions, events = [], []
    types, weights = zip(*ARTIFACTS)
    for i in range(n):
        si = rng.randrange(len(specs))
        spec = specs[si]
        at = rng.choices(types, weights)[0]
        st = rng.randrange(len(styles))
        user = rng.choice(users)
        key = (si, at, st, user)
        if key not in cache:
            original = get_artifact(at).render(spec, styles[st])
            final = get_user(user).final_text(spec, at)
            cache[key] = (original, final, similarity(original, final))
        original, final, sim = cache[key]
        r = rng.random()
        if r < 0.25:
            action, final_text, sim_e = "accept", original, 1.0
        elif r < 0.80:
            action, final_text, sim_e = "edit", final, sim
        else:
            action = "reject"
            final_text = final if rng.random() < 0.5 else ""
            sim_e = sim if final_text else 0.0
        prompt = spec.prompt() if rng.random() < 0.5 else f"{spec.prompt()}\nProject note {rng.randint(1, 400)}."
        created = utcnow_iso(start + i * (90 * 86400 / n))
        rid = f"r{i:016x}"
        status = "lost" if rng.random() < 0.02 else {"accept": "accepted", "edit": "edited", "reject": "rejected"}[action]
        uri = f"file:///w/f{i % 997}.md"
        regions.append(NewRegion(rid, uri, at, prompt, "base", original, status, created))
        events.append(NewEvent(action, rng.choice(("explicit", "implicit")), prompt, original, final_text, at, sim_e,
                               reward(action, sim_e), None, created, region_id=rid, uri=uri, model="base",
                               validation=None if rng.random() < 0.5 else float(rng.randint(0, 100))))
    store_regions.insert_many(store, regions)
    store_events.insert_many(store, events)
    return store, sorted(len(e.original) for e in events)


CPU: list[float] = []


def timed(fn) -> tuple[float, object]:
    """Wall seconds (and the process's CPU seconds, appended to CPU: other load inflates wall time)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    CPU.append(time.process_time() - c0)
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", help="folder for the database (default: a temporary folder)")
    args = ap.parse_args(argv)
    home = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="editloop-bench-"))
    t_make, (store, lengths) = timed(lambda: make_db(home, args.events))
    size_mb = os.path.getsize(store.path) / 1e6
    print(f"# {args.events:,} events, db {size_mb:.0f} MB (+WAL), original text {min(lengths)}-{max(lengths)} chars "
          f"(median {statistics.median(lengths):.0f}); created in {t_make:.1f} s; nproc {os.cpu_count()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| step | wall | CPU | notes |\n| --- | --- | --- | --- |")
    cfg = CurationConfig(embeddings=False)
    def cpu(k: int) -> str:
        return f"cpu {statistics.median(CPU[-k:]):.2f} s"

    first, batch = timed(lambda: build_batch(store, config=cfg))
    print(f"| build_batch, first (records {args.events:,} split assignments) | {first:.2f} s | {cpu(1)} | "
          f"counts {batch.counts()}, size {batch.size}, augmented {batch.info['augmented']} |")
    runs = [timed(lambda: build_batch(store, config=cfg))[0] for _ in range(args.repeat)]
    print(f"| build_batch, later builds (median of {args.repeat}) | {statistics.median(runs):.2f} s | {cpu(args.repeat)} | |")
    runs = [timed(lambda: build_batch(store, artifact_type="sql", method="dpo", config=cfg))[0] for _ in range(args.repeat)]
    print(f"| build_batch sql/dpo (median of {args.repeat}) | {statistics.median(runs):.2f} s | {cpu(args.repeat)} | |")
    off = CurationConfig(embeddings=False, augmentation=False)
    runs = [timed(lambda: build_batch(store, config=off))[0] for _ in range(args.repeat)]
    print(f"| build_batch without augmentation (median of {args.repeat}) | {statistics.median(runs):.2f} s | {cpu(args.repeat)} | |")
    for fmt in ("sft", "dpo", "kto", "openai"):
        out = home / f"export.{fmt}.jsonl"
        runs = []
        for _ in range(args.repeat):
            dt, n = timed(lambda: export(store, fmt, out, overwrite=True))
            runs.append(dt)
        print(f"| export {fmt} (median of {args.repeat}) | {statistics.median(runs):.2f} s | {cpu(args.repeat)} | "
              f"{n:,} rows, {os.path.getsize(out) / 1e6:.0f} MB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

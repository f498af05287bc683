"""Signals speed: ingestion through the real capture path, embeddings, validation, redaction.

    .venv/bin/python -m editloop.bench.signals_bench [--events 2000] [--no-embeddings]

- Ingestion: ``CaptureService.open + track + change + accept + close`` per event on 2 KB Python
  texts (real source code of this package, one to three lines edited per event), into a real
  ``feedback.db`` (WAL) in a temporary folder: every signal except embeddings (similarity, Indel,
  BLEU, chrF, edit spans, validation of original and final, reward, redaction of every text).
  Also the same through ``outcomes.record_outcome`` alone (region insert + outcome), and the
  accept-only case.
- Embeddings: all-MiniLM-L6-v2 on CPU, 2 KB texts, batch 32, after the model is loaded.
- Validation p50/p99 per artifact type (tree-sitter on 2 KB of code; mmdr, via its helper process,
  on diagrams of 8-40 lines, valid and invalid).
- Redaction per 2 KB of code and of a package-lock.json.

Prints markdown tables.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from editloop.capture.clock import ManualClock
from editloop.capture.outcomes import record_outcome
from editloop.capture.service import CaptureService
from editloop.settings import Settings
from editloop.signals.redact import redact, warm_up
from editloop.signals.score import score_event
from editloop.signals.validate import validate
from editloop.store import Store
from editloop.store.events import scored_counts
from editloop.synth import BASE_STYLE, get_artifact, random_spec


def code_texts(n: int, size: int = 2048) -> list[str]:
    import editloop.capture.document
    import editloop.capture.service
    import editloop.signals.redact
    import editloop.signals.validate
    import editloop.store.store

    chunks = []
    for mod in (editloop.capture.service, editloop.store.store, editloop.signals.validate, editloop.signals.redact, editloop.capture.document):
        src = inspect.getsource(mod)
        lines = src.splitlines(keepends=True)
        cur = ""
        for line in lines:
            cur += line
            if len(cur) >= size:
                chunks.append(cur)
                cur = ""
    return [chunks[i % len(chunks)] for i in range(n)]


def edit(text: str, rng: random.Random) -> tuple[int, str]:
    """Index of an edited line and its new text (a rename, an added comment, a changed literal)."""
    lines = text.split("\n")
    i = rng.randrange(len(lines) - 1)
    line = lines[i]
    choice = rng.random()
    if choice < 0.4 and "_" in line:
        new = line.replace("_", "__", 1)
    elif choice < 0.7:
        new = line + "  # checked"
    else:
        new = line.replace("=", "= 1 +", 1) if "=" in line else line + " pass"
    return i, new


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def bench_ingestion(n: int, accept_only: bool = False) -> tuple[float, float]:
    rng = random.Random(1)
    texts = code_texts(n)
    with tempfile.TemporaryDirectory() as home:
        store = Store.open(home)
        clock = ManualClock(1_700_000_000.0)
        svc = CaptureService(store, Settings(), clock=clock)
        t, c = time.perf_counter(), time.process_time()
        for k, text in enumerate(texts):
            uri = f"file:///bench/f{k}.py"
            svc.open(uri, text, language_id="python")
            last = text.count("\n")
            row = svc.track(uri, (0, 0, last, 0), prompt="write the module", model="bench", artifact_type="python")
            if not accept_only:
                i, new = edit(text, rng)
                old_len = len(text.split("\n")[i])
                svc.change(uri, [((i, 0, i, old_len), new)])
            clock.advance(3)
            svc.accept(row["id"])
            svc.close(uri)
        dt, cpu = time.perf_counter() - t, time.process_time() - c
        scored = scored_counts(store)
        assert scored == {"events": n, "bleu": n, "validation": n}, scored
        store.close()
    return n / dt, n / cpu


def edited(text: str, rng: random.Random) -> str:
    """``text`` with one line changed by :func:`edit`."""
    i, new = edit(text, rng)
    lines = text.split("\n")
    lines[i] = new
    return "\n".join(lines)


def bench_record_outcome(n: int) -> tuple[float, float]:
    rng = random.Random(2)
    texts = code_texts(n)
    finals = [edited(text, rng) for text in texts]
    with tempfile.TemporaryDirectory() as home:
        store = Store.open(home)
        t, c = time.perf_counter(), time.process_time()
        for text, final in zip(texts, finals):
            region = store.insert_region({"uri": "file:///b.py", "artifact_type": "python", "original": text, "created_at": "2026-01-01T00:00:00.000Z"})
            record_outcome(store, region, final=final, now=1_767_225_610.0)
        dt, cpu = time.perf_counter() - t, time.process_time() - c
        store.close()
    return n / dt, n / cpu


def bench_score_parts(n: int) -> dict[str, float]:
    from editloop.signals.overlap import bleu, chrf
    from editloop.signals.similarity import edit_spans_json, indel_similarity, similarity

    rng = random.Random(3)
    texts = code_texts(n)
    pairs = [(text, edited(text, rng)) for text in texts]
    out = {}
    for name, f in (
        ("similarity (Levenshtein)", similarity),
        ("indel_similarity", indel_similarity),
        ("edit_spans_json", edit_spans_json),
        ("bleu", bleu),
        ("chrf", chrf),
        ("validate (python, uncached)", lambda a, b: validate(a + f"\n# {rng.random()}\n", "python")),
        ("score_event (all, no embeddings)", lambda a, b: score_event(a, b + f"\n# {rng.random()}", action="edit", artifact_type="python")),
        ("redact (uncached)", lambda a, b: redact(a + f"\n# {rng.random()}")),
    ):
        t = time.process_time()
        for a, b in pairs:
            f(a, b)
        out[name] = (time.process_time() - t) / len(pairs) * 1e3
    return out


ERD_TYPES = ["uuid", "string", "int", "timestamp", "decimal", "boolean"]


def erd(rng: random.Random, entities: int) -> str:
    out = ["erDiagram"]
    names = [f"ENTITY_{i}" for i in range(entities)]
    for i, name in enumerate(names):
        out.append(f"    {name} {{")
        out.append("        uuid id PK")
        for j in range(rng.randint(1, 4)):
            out.append(f"        {rng.choice(ERD_TYPES)} field_{j}")
        out.append("    }")
        if i:
            out.append(f"    {names[i - 1]} ||--o{{ {name} : has")
    return "\n".join(out) + "\n"


def flowchart(rng: random.Random, nodes: int) -> str:
    out = ["flowchart LR"]
    for i in range(1, nodes):
        out.append(f"    N{rng.randrange(i)}[Step {rng.randrange(i)}] -->|go {i}| N{i}[Step {i}]")
    return "\n".join(out) + "\n"


def sequence(rng: random.Random, messages: int) -> str:
    people = ["Alice", "Bob", "Carol", "Dave"]
    out = ["sequenceDiagram"]
    for i in range(messages):
        a, b = rng.sample(people, 2)
        out.append(f"    {a}->>{b}: message {i}")
    return "\n".join(out) + "\n"


def class_diagram(rng: random.Random, classes: int) -> str:
    out = ["classDiagram"]
    for i in range(classes):
        out.append(f"    class C{i} {{\n        +int id\n        +run{i}() bool\n    }}")
        if i:
            out.append(f"    C{rng.randrange(i)} <|-- C{i}")
    return "\n".join(out) + "\n"


def broken(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    i = rng.randrange(1, len(lines) - 1)
    lines[i] = lines[i].replace(":", "", 1).replace("-->", "--> -->", 1).replace("->>", "->>>", 1).replace("{", "{{", 1) + " }"
    return "\n".join(lines)


def bench_validation(samples: int) -> list[tuple[str, str, float, float, int]]:
    rng = random.Random(4)
    rows = []
    gens = {
        "mermaid-erd": (erd, (3, 8)),
        "mermaid-flowchart": (flowchart, (8, 30)),
        "mermaid-sequence": (sequence, (8, 30)),
        "mermaid-class": (class_diagram, (3, 8)),
    }
    validate(erd(rng, 2), "mermaid-erd")  # starts the helper process
    for at, (gen, (lo, hi)) in gens.items():
        for label, make in (("valid", lambda: gen(rng, rng.randint(lo, hi))), ("invalid", lambda: broken(gen(rng, rng.randint(lo, hi)), rng))):
            times, lines = [], []
            for k in range(samples):
                text = make() + f"%% {k} {rng.random()}\n"  # distinct texts: no cache hits
                t = time.perf_counter()
                validate(text, at)
                times.append((time.perf_counter() - t) * 1e3)
                lines.append(text.count("\n"))
            rows.append((at, label, statistics.median(times), pct(times, 0.99), int(statistics.median(lines))))
    texts = code_texts(samples)
    sql = "\n".join(get_artifact("sql").render(random_spec(random.Random(i)), BASE_STYLE) for i in range(8))  # SQL schemas, as the product writes
    ts = "".join(f"export interface Item{i} {{ id: string; count: number }}\nexport function total{i}(items: Item{i}[]): number {{\n  return items.reduce((a, b) => a + b.count, 0);\n}}\n" for i in range(12))
    for at, base in (("python", None), ("javascript", ts.replace(": Item", " /*Item").replace("[]): number", "[]*/)").replace(": string; count: number", "")), ("typescript", ts), ("sql", sql)):
        times = []
        for k in range(samples):
            text = (texts[k] if base is None else base)[:2048] + ("\n# " if at == "python" else "\n-- " if at == "sql" else "\n// ") + str(rng.random()) + "\n"
            t = time.perf_counter()
            validate(text, at)
            times.append((time.perf_counter() - t) * 1e3)
        rows.append((at, "2 KB", statistics.median(times), pct(times, 0.99), 0))
    return rows


def bench_embeddings(n: int) -> tuple[float, float] | None:
    from editloop.signals.embeddings import default_embedder, embeddings_status

    if embeddings_status() != "on":
        return None
    emb = default_embedder()
    t = time.perf_counter()
    emb.encode(["warm up"])
    load = time.perf_counter() - t
    texts = [t + str(i) for i, t in enumerate(code_texts(n))]
    t = time.perf_counter()
    emb.encode(texts)
    return load, n / (time.perf_counter() - t)


def bench_redaction() -> list[tuple[str, float, int]]:
    warm_up()
    texts = code_texts(200)
    lock = json.dumps(
        {
            "packages": {
                f"node_modules/pkg{i}": {
                    "version": "1.2.3",
                    "resolved": f"https://registry.npmjs.org/pkg{i}/-/pkg{i}-1.2.3.tgz",
                    "integrity": "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==",
                }
                for i in range(12)
            }
        },
        indent=2,
    )[:2048]
    env = "".join(f"SERVICE_{i}_URL=https://s{i}.example.com\nSERVICE_{i}_TOKEN=9f8e7d6c5b4a3928{i:04d}1706f5e4a3b2\n" for i in range(30))[:2048]
    rows = []
    for name, batch in (("2 KB Python", texts), ("2 KB package-lock.json", [lock] * 200), ("2 KB .env, ~25 secrets", [env] * 200)):
        batch = [f"{text}\n# {k}\n" for k, text in enumerate(batch)]  # distinct texts: no cache hits
        t = time.process_time()
        found = 0
        for text in batch:
            found += redact(text)[1]
        rows.append((name, (time.process_time() - t) / len(batch) * 1e3, found // len(batch)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--no-embeddings", action="store_true")
    args = ap.parse_args()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"## Ingestion (real feedback.db, all signals except embeddings, 2 KB Python; {os.cpu_count()} cores, load {load:.1f})\n")
    print("events/s of wall time, and of this process's CPU time (what it would reach on an idle core)\n")
    print("| path | events/s (wall) | events/s (CPU) |\n| --- | ---: | ---: |")
    for name, (wall, cpu) in (
        ("CaptureService open+track+change+accept+close (edits)", bench_ingestion(args.events)),
        ("CaptureService, unchanged accepts", bench_ingestion(args.events, accept_only=True)),
        ("outcomes.record_outcome (region insert + edit event)", bench_record_outcome(args.events)),
    ):
        print(f"| {name} | {wall:,.0f} | {cpu:,.0f} |")

    print("\n## CPU cost per 2 KB edited pair\n")
    print("| signal | ms |\n| --- | ---: |")
    for name, ms in bench_score_parts(min(args.events, 500)).items():
        print(f"| {name} | {ms:.3f} |")

    print("\n## Validation\n")
    print("| artifact type | input | p50 ms | p99 ms | lines (median) |\n| --- | --- | ---: | ---: | ---: |")
    for at, label, p50, p99, lines in bench_validation(args.samples):
        print(f"| {at} | {label} | {p50:.2f} | {p99:.2f} | {lines or ''} |")

    print("\n## Redaction\n")
    print("| text (uncached) | CPU ms per text | secrets found |\n| --- | ---: | ---: |")
    for name, ms, found in bench_redaction():
        print(f"| {name} | {ms:.3f} | {found} |")

    if not args.no_embeddings:
        res = bench_embeddings(256)
        print("\n## Embeddings (all-MiniLM-L6-v2, CPU, batch 32, 2 KB texts)\n")
        if res is None:
            print("embeddings off (the `embeddings` extra is not installed)")
        else:
            load, rate = res
            print(f"| first call (imports + load) | {load:.1f} s |\n| --- | ---: |\n| throughput | {rate:.1f} texts/s |")


if __name__ == "__main__":
    main()

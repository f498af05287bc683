"""`editloop bench system`: is Editloop fast and small enough to live in an editor?

Each figure is measured beside its reference in the same run (BENCHMARK.md section 2):
server start to ``initialize`` answered (vs pygls's minimal server), ``didChange`` latency with
200 tracked regions in a 10,000-line document, idle RSS (vs the minimal server), ``editloop.stats``
on 100,000 events; the generation backends (transformers and llama.cpp on the same GGUF base:
:mod:`.backends`). Other sections (ingestion, batch building, training throughput) are added by
their modules' benchmarks.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .report import table, write_section

MINIMAL_SERVER = """
from pygls.lsp.server import LanguageServer
server = LanguageServer("minimal", "v1")
server.start_io()
"""


def _frame(obj: dict[str, Any]) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read_message(stream) -> dict[str, Any]:
    length = 0
    while True:
        line = stream.readline()
        if not line:
            raise RuntimeError("server closed its output")
        if line in (b"\r\n", b"\n"):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(stream.read(length))


def _start_and_initialize(cmd: list[str], env: dict[str, str]) -> tuple[float, int, subprocess.Popen]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdin and proc.stdout
    proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": os.getpid(), "capabilities": {}, "rootUri": None}}))
    proc.stdin.flush()
    while True:
        msg = _read_message(proc.stdout)
        if msg.get("id") == 1:
            break
    elapsed = time.perf_counter() - t0
    proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
    proc.stdin.flush()
    return elapsed, proc.pid, proc


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _stop(proc: subprocess.Popen) -> None:
    try:
        assert proc.stdin
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
        proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "exit"}))
        proc.stdin.flush()
        proc.wait(timeout=10)
    except Exception:  # noqa: BLE001
        proc.kill()


def bench_start(runs: int, tmp: Path) -> dict[str, Any]:
    minimal = tmp / "minimal_server.py"
    minimal.write_text(MINIMAL_SERVER)
    env = {**os.environ, "EDITLOOP_HOME": str(tmp / "home")}
    ours, ref, rss_ours, rss_ref = [], [], [], []
    for _ in range(runs):  # interleaved so load from other processes hits both alike
        for cmd, times, rss in (([sys.executable, str(minimal)], ref, rss_ref), ([sys.executable, "-m", "editloop", "serve"], ours, rss_ours)):
            t, pid, proc = _start_and_initialize(cmd, env)
            time.sleep(0.3)
            rss.append(_rss_mb(pid))
            times.append(t)
            _stop(proc)
    return {
        "start_ours": statistics.median(ours),
        "start_ref": statistics.median(ref),
        "rss_ours": statistics.median(rss_ours),
        "rss_ref": statistics.median(rss_ref),
    }


def bench_did_change(tmp: Path, *, lines: int = 10_000, regions: int = 200, edits: int = 2000) -> dict[str, Any]:
    from ..capture.clock import ManualClock
    from ..capture.service import CaptureService
    from ..lsp.wire import region_list
    from ..store import Store

    rng = random.Random(0)
    store = Store.open(tmp / "didchange")
    svc = CaptureService(store, clock=ManualClock(1_000_000.0))
    text = "".join(f"    attribute_{i} varchar(255) NOT NULL, -- line {i} é\n" for i in range(lines))
    uri = "file:///bench/big.sql"
    svc.open(uri, text)
    step = lines // regions
    for r in range(regions):
        svc.track(uri, (r * step, 0, r * step + 3, 0), artifact_type="sql")
    samples = []
    notify = []
    for _ in range(edits):
        line = rng.randrange(lines)
        col = rng.randrange(20)
        if rng.random() < 0.8:
            change = ((line, col, line, col), rng.choice("abcxyz_ "))
        else:
            change = ((line, col, line, col + 1), "")
        t0 = time.perf_counter()
        result = svc.change(uri, [change])
        t1 = time.perf_counter()
        for u in result.changed_uris:  # what the server then serializes into editloop/regions
            json.dumps({"uri": u, "regions": region_list(svc.spans(u))})
        t2 = time.perf_counter()
        samples.append((t1 - t0) * 1000)
        notify.append((t2 - t0) * 1000)
    store.close()
    q = statistics.quantiles
    return {
        "p50": statistics.median(samples),
        "p99": q(samples, n=100)[98],
        "p50_notify": statistics.median(notify),
        "p99_notify": q(notify, n=100)[98],
        "edits": edits,
    }


def _pairs(n: int, size: int = 2048) -> list[tuple[str, str]]:
    """2 KB Python texts (this package's own source) and a one-line edit of each."""
    import inspect

    from .. import capture, store
    from ..capture import document, service
    from ..store import store as store_mod

    src = "".join(inspect.getsource(m) for m in (service, store_mod, document, capture, store))
    rng = random.Random(5)
    out = []
    for i in range(n):
        start = (i * 997) % max(1, len(src) - size)
        text = src[start : start + size]
        lines = text.splitlines(True)
        k = rng.randrange(len(lines))
        lines[k] = lines[k].rstrip("\n") + "  # edited\n"
        out.append((text, "".join(lines)))
    return out


def bench_ingestion(tmp: Path, n: int = 1000) -> dict[str, Any]:
    """Events/s through the real outcome path into a real feedback.db: every signal, and (the
    BENCHMARK's definition) similarity and reward only."""
    from ..capture import outcomes
    from ..signals.redact import warm_up
    from ..signals.reward import reward
    from ..signals.similarity import similarity
    from ..store import Store

    warm_up()
    pairs = _pairs(n)
    result = {}
    real = outcomes.score_event
    for label, scorer in (("all signals", real), ("similarity and reward", None)):
        store = Store.open(tmp / f"ingest-{len(result)}")
        regions = [store.insert_region({"uri": "file:///bench.py", "artifact_type": "python", "prompt": "p", "original": o}) for o, _ in pairs]
        if scorer is None:
            outcomes.score_event = lambda o, f, **k: {"similarity": similarity(o, f), "reward": reward(k["action"], similarity(o, f))}
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            for (_, final), reg in zip(pairs, regions):
                outcomes.record_outcome(store, reg, final=final, now=time.time())
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        finally:
            outcomes.score_event = real
            store.close()
        result[label] = (n / wall, n / cpu)
    return result


def bench_stats(tmp: Path, n: int = 100_000) -> dict[str, Any]:
    from ..store import Store, events
    from ..store.stats import stats

    store = Store.open(tmp / "stats")
    rng = random.Random(1)
    now = time.time()
    rows = []
    for i in range(n):
        action = rng.choice(("accept", "edit", "edit", "reject"))
        sim = 1.0 if action == "accept" else rng.random()
        ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now - rng.random() * 80 * 86400))
        rows.append(events.NewEvent(action, rng.choice(("explicit", "implicit")), "p" * 200, "o" * 1000, "f" * 1000, rng.choice(("mermaid-erd", "sql", "python")), sim, rng.random(), int((1 - sim) * 1000), ts))
    events.insert_many(store, rows)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        out = stats(store.db)
        times.append((time.perf_counter() - t0) * 1000)
    assert out["total"] == n
    store.close()
    return {"stats_ms": statistics.median(times), "events": n}


# The per-module benchmarks (source checkout only): ingestion and validation, batch building and
# export on 100,000 events, training throughput against plain TRL and one Train now on 200 events.
MODULE_BENCHES = [
    ("signals", "signals_bench", ["--events", "2000"], ["--events", "200", "--samples", "20", "--no-embeddings"]),
    ("curation", "curation_bench", ["--events", "100000", "--repeat", "3"], ["--events", "5000", "--repeat", "1"]),
    ("training", "training_bench", ["--repeat", "3"], ["--repeat", "1", "--events", "40", "--epochs", "1"]),
]


def run_module_benches(*, quick: bool, write: bool) -> list[str]:
    out = []
    for name, module, full, short in MODULE_BENCHES:
        args = short if quick else full
        cmd = [sys.executable, "-m", f"{__package__}.{module}", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True)  # no deadline: a benchmark that progresses runs to its end
        if proc.returncode != 0:
            raise RuntimeError(f"{module} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
        # Keep the report; drop the trainers' per-step log dictionaries they print to stdout.
        body = "\n".join(line for line in proc.stdout.strip().splitlines() if not (line.startswith("{'") and line.endswith("}")))
        out.append(body)
        if write and not quick:
            write_section(name, body, command=f"python -m editloop.bench.{module} {' '.join(args)}")
    return out


def run(*, quick: bool = False, write: bool = True) -> str:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        start = bench_start(2 if quick else 7, tmp)
        dc = bench_did_change(tmp, edits=300 if quick else 3000)
        st = bench_stats(tmp, n=10_000 if quick else 100_000)
        ing = bench_ingestion(tmp, n=100 if quick else 1000)
    rows = [
        ["server start to `initialize` answered", f"{start['start_ours']:.2f} s", f"{start['start_ref']:.2f} s (pygls minimal server)", f"{start['start_ours'] / start['start_ref']:.2f}x", "<= 1.2x"],
        ["idle RSS after `initialize`", f"{start['rss_ours']:.1f} MB", f"{start['rss_ref']:.1f} MB (pygls minimal server)", f"{start['rss_ours'] / start['rss_ref']:.2f}x", "< 80 MB"],
        ["`didChange` p50 / p99, 200 regions, 10,000 lines", f"{dc['p50']:.3f} / {dc['p99']:.3f} ms", "-", "-", "p99 < 5 ms"],
        ["... including the `editloop/regions` payload", f"{dc['p50_notify']:.3f} / {dc['p99_notify']:.3f} ms", "-", "-", "p99 < 5 ms"],
        [f"`editloop.stats` on {st['events']:,} events", f"{st['stats_ms']:.0f} ms", "-", "-", "< 100 ms"],
    ]
    for label, (wall, cpu) in ing.items():
        rows.append([f"feedback ingestion, 2 KB edited pairs, {label}", f"{wall:,.0f} events/s ({cpu:,.0f}/s of CPU time)", "-", "-", ">= 1,000/s"])
    body = table(["figure", "Editloop", "reference (same run)", "ratio", "target"], rows)
    if quick:
        body += "\n\n(quick mode: fewer runs and events; not the reported figures)"
    if write and not quick:
        write_section("system-core", body, command="editloop bench system")
    from .backends import run as run_backends

    backends = run_backends(quick=quick, write=write)
    modules = run_module_benches(quick=quick, write=write)
    return "\n\n".join([body, backends, *modules])

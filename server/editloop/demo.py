"""`editloop demo`: the whole loop on the embedded default model, measured in that run.

A real language-server session; a simulated user asks for Mermaid ERDs and SQL, edits them toward
their own conventions and accepts them; Train now; the held-out edit cost and accept rate before
and after are printed, and an HTML report with charts is written next to the data.
"""

from __future__ import annotations

import html
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import EditloopError

if TYPE_CHECKING:  # the CLI imports this module for its help text: pygls only when the demo runs
    from .simulate.loop import LoopConfig, LoopResult

DEFAULT_DIR = ".editloop-demo"
MARKER = "demo.json"  # marks a folder the demo wrote, which the next demo may wipe
FOLDER_HELP = (f"data folder: --data-dir, else EDITLOOP_HOME, else ./{DEFAULT_DIR}; the demo starts from nothing, "
               "so it empties a previous demo's folder and refuses one holding other Editloop data")


def demo_dir(home: str | None = None) -> Path:
    """The demo's data folder, resolved as every command resolves it (``--data-dir`` sets
    EDITLOOP_HOME; EDITLOOP_HOME wins over ``home``), with ``./.editloop-demo`` instead of the
    user's own data folder as the default: the demo empties its folder."""
    raw = os.environ.get("EDITLOOP_HOME") or home
    if not raw:
        return Path(DEFAULT_DIR).resolve()
    from .paths import data_dir

    return data_dir(raw, create=False).resolve()


def prepare(home: Path) -> None:
    """Start from nothing: empty a previous demo's folder (cancelling a run still going in it);
    refuse a folder holding Editloop data that the demo did not write."""
    import shutil

    if (home / "feedback.db").exists():
        ours = home.name == DEFAULT_DIR or (home / MARKER).exists() or (home / "report.html").exists()
        if not ours:
            raise EditloopError(f"{home} holds Editloop data that the demo did not write; the demo empties its "
                                "folder, so give it another one (--data-dir DIR)")
        cancel_active(home)
        shutil.rmtree(home)
    from .paths import ensure_private_dir
    from .store import Store

    ensure_private_dir(home)
    Store.open(home).close()
    (home / MARKER).write_text(json.dumps({"demo": True, "started": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")


def cancel_active(home: Path) -> list[str]:
    """Cancel every run still queued or running in ``home`` (the last resort after an interrupted demo)."""
    from .store import Store
    from .training.jobs import ACTIVE, cancel_run, list_runs

    store = Store.open(home)
    try:
        active = [r["id"] for r in list_runs(store) if r["status"] in ACTIVE]
    finally:
        store.close()
    for run_id in active:
        cancel_run(home, run_id)
    return active


def run_demo(*, quick: bool = False, home: str | None = None, base_model: str | None = None,
             train_settings: dict[str, Any] | None = None) -> int:
    """The demo (``base_model``/``train_settings``: another base model and TrainConfig fields, for tests)."""
    import asyncio

    from .simulate.loop import LoopConfig, run_loop
    from .training.progress import ProgressPrinter

    home_path = demo_dir(home)
    prepare(home_path)
    server_settings = {"training": {"baseModel": base_model}} if base_model else {}
    cfg = LoopConfig(user="snake-purist", rounds=1, events_per_round=16 if quick else 80, heldout=4 if quick else 12, seed=7,
                     server_settings=server_settings, train_settings=dict(train_settings or {}))
    t0 = time.perf_counter()
    print(f"Editloop demo: data in {home_path}")
    if not base_model:
        from .training.base_model import default_model_path, stderr_progress

        print(f"base model: {default_model_path(home_path, progress=stderr_progress)}")
    printer = ProgressPrinter(sys.stderr)

    def log(line: str) -> None:
        printer.close()
        print(line, flush=True)

    try:
        result = asyncio.run(run_loop(home_path, cfg, log=log, on_progress=printer))
    except BaseException:
        printer.close()
        # the session cancels its runs; this catches one it could not (a second Ctrl-C, a crash)
        for run_id in cancel_active(home_path):
            print(f"cancelled run {run_id}", file=sys.stderr)
        raise
    printer.close()
    elapsed = time.perf_counter() - t0
    table = summary(result, cfg)
    print()
    print(table)
    report = home_path / "report.html"
    report.write_text(html_report(result, cfg, table, home_path, elapsed))
    print(f"\nreport: {report}\nwhole demo: {elapsed:.0f} s")
    for message in result.messages:
        print(f"editor message: {message}")
    ok = all(r["status"] == "succeeded" for r in result.runs)
    return 0 if ok else 1


def summary(result: LoopResult, cfg: LoopConfig) -> str:
    lines = [f"held-out specs per artifact: {cfg.heldout}; simulated user: {cfg.user}; events: {len(result.events)}", ""]
    lines.append(f"{'artifact':<14} {'edit cost before':>17} {'after':>8} {'change':>8} {'unedited accepts':>18} {'validity':>15}")
    final = result.after[-1]
    for a, b in result.before.items():
        f = final[a]
        change = (f.cost - b.cost) / b.cost if b.cost else 0.0
        lines.append(f"{a:<14} {b.cost:>17.1f} {f.cost:>8.1f} {change:>+8.0%} {b.exact:>8.0%} -> {f.exact:>5.0%} {b.validity:>6.0%} -> {f.validity:>4.0%}")
    lines.append("")
    for r, s in zip(result.runs, result.train_seconds):
        m = r.get("metrics") or {}
        verdict = "promoted" if r.get("promoted") else f"not promoted ({m.get('promotion') or r.get('error') or 'see editloop runs'})"
        lines.append(f"Train now: run {r.get('runId')} {r.get('status')} in {s:.0f} s; {verdict}")
        if m.get("reason"):
            lines.append(f"  {m['reason']}")
    return "\n".join(lines)


def _bars(title: str, items: list[tuple[str, float]], unit: str = "") -> str:
    width, bar_h, gap = 600, 22, 8
    top = max((v for _, v in items), default=1) or 1
    h = 30 + len(items) * (bar_h + gap)
    out = [f'<svg width="{width}" height="{h}" role="img" aria-label="{html.escape(title)}"><text x="0" y="16" class="t">{html.escape(title)}</text>']
    for i, (label, v) in enumerate(items):
        y = 28 + i * (bar_h + gap)
        w = int(300 * v / top)
        out.append(f'<text x="0" y="{y + 15}">{html.escape(label)}</text><rect x="190" y="{y}" width="{w}" height="{bar_h}" class="b{i % 2}"/>'
                   f'<text x="{196 + w}" y="{y + 15}">{v:.1f}{unit}</text>')
    out.append("</svg>")
    return "".join(out)


def html_report(result: LoopResult, cfg: LoopConfig, table: str, home: Path, elapsed: float) -> str:
    from .store import Store
    from .store.stats import stats

    store = Store.open(home)
    s = stats(store.db)
    store.close()
    charts = []
    for a, b in result.before.items():
        f = result.after[-1][a]
        charts.append(_bars(f"{a}: held-out edit cost (characters)", [("before Train now", b.cost), ("after Train now", f.cost)]))
    hist = s["rewardHistogram"]
    charts.append(_bars("reward histogram (events)", [(f"{hist['edges'][i]:.1f}-{hist['edges'][i + 1]:.1f}", float(c)) for i, c in enumerate(hist["counts"])]))
    counts = s["counts"]
    charts.append(_bars("events by action", [(k, float(v)) for k, v in counts.items()]))
    curve = []
    for r in result.runs:
        for p in (r.get("metrics") or {}).get("curve", []) or []:
            if p.get("valLoss") is not None:
                curve.append((f"step {p.get('step')}", float(p["valLoss"])))
    if curve:
        charts.append(_bars("validation loss during Train now", curve[:12]))
    data = json.dumps({"before": {k: v.__dict__ for k, v in result.before.items()}, "after": [{k: v.__dict__ for k, v in a.items()} for a in result.after], "runs": result.runs}, default=str)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Editloop demo</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:60em}} pre{{background:#f4f4f4;padding:1em;white-space:pre-wrap}}
svg text{{font:12px system-ui,sans-serif}} .t{{font-weight:bold}} .b0{{fill:#3b6fb6}} .b1{{fill:#e08a2c}}</style></head>
<body><h1>Editloop demo</h1><p>Measured in this run ({elapsed:.0f} s, {html.escape(time.strftime('%Y-%m-%d %H:%M'))}).</p>
<pre>{html.escape(table)}</pre>{''.join(charts)}
<details><summary>raw numbers</summary><pre>{html.escape(data)}</pre></details></body></html>"""


__all__ = ["run_demo", "demo_dir", "DEFAULT_DIR"]

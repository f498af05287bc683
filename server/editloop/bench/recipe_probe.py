"""Probe Train now recipes on the real loop: does the product's training path learn a simulated
user's conventions and get promoted, measured on held-out specs?

Two phases, both through the product (``editloop.simulate.loop`` / ``editloop.bench.learning``):

    # 1. play N events per user through a real server session; snapshot the feedback database
    #    just before Train now (the events do not depend on the recipe: the base model wrote them)
    python -m editloop.bench.recipe_probe play --users snake-purist rails-veteran enterprise-architect --events 200

    # 2. per recipe: copy a snapshot into a fresh data folder, Train now (editloop.train with
    #    `settings`), held-out edit cost of the model the product now uses, and of the run's model
    #    even when it was not promoted
    python -m editloop.bench.recipe_probe train --users snake-purist --events 200 --name lr3e-3 \
        --settings '{"learning_rate": 3e-3}'

Results are appended as JSON lines to ``<work>/results.jsonl`` (default work folder:
``/tmp/editloop-recipe-probe``); ``report`` prints them as a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path

from editloop.bench.learning import log, run_model_outputs, snapshot, train_now
from editloop.simulate.loop import LoopConfig, Outputs, evaluate, heldout_outputs, run_loop, score

ARTIFACTS = ("mermaid-erd", "sql")


def config(user: str, events: int, heldout: int, seed: int, train_settings=None, base_model: str = "") -> LoopConfig:
    server = {"training": {"baseModel": base_model}} if base_model else {}
    return LoopConfig(user=user, artifacts=ARTIFACTS, rounds=1, events_per_round=events, heldout=heldout, seed=seed,
                      server_settings=server, train_settings=dict(train_settings or {}))


def _evals(evals) -> dict:
    return {a: {"cost": round(e.cost, 1), "relative": round(e.relative_cost, 3), "validity": e.validity,
                "exact": e.exact} for a, e in evals.items()}


def _base(work: Path, cfg: LoopConfig) -> Outputs:
    path = work / f"base-{cfg.heldout}-{cfg.seed}.json"
    if path.exists():
        raw = json.loads(path.read_text())
        return Outputs(raw["texts"], raw["seconds"])
    home = work / "base-home"
    home.mkdir(parents=True, exist_ok=True)
    out = heldout_outputs(home, cfg)
    path.write_text(json.dumps({"texts": out.texts, "seconds": out.seconds}))
    return out


def play(args) -> None:
    work = Path(args.work)
    for user in args.users:
        cfg = config(user, args.events, args.heldout, args.seed, json.loads(args.settings or "{}"), args.base_model)
        base = _base(work, cfg)
        home = work / f"{user}-{args.events}-home"
        snap = work / f"{user}-{args.events}-snap"
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(snap, ignore_errors=True)
        home.mkdir(parents=True)
        t0 = time.perf_counter()
        result = asyncio.run(run_loop(home, cfg, log=log, base=base, before_train=lambda r: snapshot(home, snap)))
        run = result.runs[-1]
        record(work, {"phase": "play", "name": args.name or "default", "user": user, "events": args.events,
                      "before": _evals(result.before), "after": _evals(result.after[-1]),
                      "promoted": bool(run.get("promoted")), "train_s": round(result.train_seconds[-1], 1),
                      "reason": (run.get("metrics") or {}).get("reason"),
                      "promotion": (run.get("metrics") or {}).get("promotion"), "error": run.get("error"),
                      "curve": _curve(run), "play_s": round(time.perf_counter() - t0, 1)})


def _curve(run: dict) -> list:
    m = run.get("metrics") or {}
    return [(p.get("stage"), p.get("epoch"), round(p.get("valSimilarity") or 0, 3), p.get("valValidity"))
            for p in m.get("curve", [])]


def train(args) -> None:
    work = Path(args.work)
    settings = json.loads(args.settings or "{}")
    for user in args.users:
        cfg = config(user, args.events, args.heldout, args.seed, settings, args.base_model)
        base = _base(work, cfg)
        snap = work / f"{user}-{args.events}-snap"
        home = work / f"{user}-{args.events}-{args.name}"
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(snap, home)
        request = {"method": args.method}
        if settings:
            request["settings"] = settings
        run, seconds = asyncio.run(train_now(home, cfg, request))
        m = run.get("metrics") or {}
        promoted = bool(run.get("promoted"))
        after = evaluate(home, cfg)
        model = None
        if not promoted and run.get("status") == "succeeded":
            model = _evals(score(run_model_outputs(home, cfg, run["runId"]), cfg))
        rec = {"phase": "train", "name": args.name, "settings": settings, "user": user, "events": args.events,
               "before": _evals(score(base, cfg)), "after": _evals(after), "unpromoted_model": model,
               "promoted": promoted, "train_s": round(seconds, 1), "reason": m.get("reason"),
               "promotion": m.get("promotion"), "error": run.get("error"), "curve": _curve(run),
               "counts": m.get("counts"), "valExamples": m.get("valExamples")}
        record(work, rec)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


def record(work: Path, rec: dict) -> None:
    with open(work / "results.jsonl", "a") as f:
        f.write(json.dumps(rec) + "\n")
    short = {k: rec[k] for k in ("name", "user", "events", "promoted", "train_s", "promotion") if k in rec}
    log(json.dumps(short))
    for a in ARTIFACTS:
        b, f2 = rec["before"].get(a), rec["after"].get(a)
        extra = (rec.get("unpromoted_model") or {}).get(a)
        log(f"  {a}: cost {b['cost']} -> {f2['cost']} ({f2['cost'] / b['cost']:.0%}), validity {b['validity']} -> "
            f"{f2['validity']}" + (f"; unpromoted model {extra['cost']} validity {extra['validity']}" if extra else ""))
    log(f"  curve {rec.get('curve')}")


def report(args) -> None:
    work = Path(args.work)
    print("| config | user | events | ERD cost before -> after | SQL cost before -> after | validity ERD/SQL after | "
          "promoted | Train now s |")
    print("|---|---|---|---|---|---|---|---|")
    for line in (work / "results.jsonl").read_text().splitlines():
        r = json.loads(line)
        cells = []
        for a in ARTIFACTS:
            b, f = r["before"][a], r["after"][a]
            cells.append(f"{b['cost']} -> {f['cost']} ({f['cost'] / b['cost']:.0%})")
        val = "/".join(f"{r['after'][a]['validity']:.0%}" for a in ARTIFACTS)
        print(f"| {r['name']} | {r['user']} | {r['events']} | {cells[0]} | {cells[1]} | {val} | "
              f"{'yes' if r['promoted'] else 'no: ' + str(r.get('promotion'))} | {r['train_s']} |")


def main() -> int:
    os.environ.setdefault("EDITLOOP_THREADS", "1")
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=("play", "train", "report"))
    parser.add_argument("--users", nargs="+", default=["snake-purist"])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--heldout", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="")
    parser.add_argument("--method", default="auto")
    parser.add_argument("--settings", default="")
    parser.add_argument("--base-model", default="")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--work", default="/tmp/editloop-recipe-probe")
    args = parser.parse_args()
    Path(args.work).mkdir(parents=True, exist_ok=True)
    {"play": play, "train": train, "report": report}[args.phase](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

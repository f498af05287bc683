"""The feedback loop played by a simulated user through the real product.

Each event goes through a real `editloop serve` session: the server generates with the current
model (`editloop.generate`, inserted via `workspace/applyEdit` and tracked), the user's edits
arrive as `didChange`, and the user accepts or rejects. "Train now" is `editloop.train`. Held-out
specs are scored with the product's own generation backend (never tracked, never trained on).
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..synth import generate_specs, get_artifact, get_user
from .session import ServerSession

EXTENSIONS = {"mermaid-erd": ("mmd", "mermaid"), "sql": ("sql", "sql"), "python-dataclass": ("py", "python")}


@dataclass
class LoopConfig:
    user: str = "snake-purist"
    artifacts: tuple[str, ...] = ("mermaid-erd", "sql")
    rounds: int = 1
    events_per_round: int = 40  # split evenly over the artifacts
    heldout: int = 10  # held-out specs per artifact
    seed: int = 0
    method: str = "auto"
    max_entities: int = 3
    server_settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Evaluation:
    cost: float  # mean Levenshtein distance to the user's text
    relative_cost: float  # cost / mean length of the user's text
    exact: float  # share of outputs the user would accept unedited
    validity: float  # share the real parser accepts
    seconds: float


@dataclass
class LoopResult:
    before: dict[str, Evaluation]
    after: list[dict[str, Evaluation]]
    events: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    train_seconds: list[float]


def evaluate(home: Path, cfg: LoopConfig, settings: dict[str, Any] | None = None) -> dict[str, Evaluation]:
    """Held-out edit cost of the model the product would use now (base or promoted adapter)."""
    from rapidfuzz.distance import Levenshtein

    from ..generation.service import Generator
    from ..settings import parse_settings
    from ..store import Store

    store = Store.open(home)
    gen = Generator(store, parse_settings({**(settings or {}), **cfg.server_settings}))
    user = get_user(cfg.user)
    specs = generate_specs(cfg.heldout, seed=cfg.seed, split="heldout", max_entities=cfg.max_entities)
    out: dict[str, Evaluation] = {}
    try:
        for artifact in cfg.artifacts:
            art = get_artifact(artifact)
            t0 = time.perf_counter()
            costs, lengths, exact, valid = [], [], 0, 0
            for spec in specs:
                text = gen.generate(spec.prompt(), artifact).text.strip()
                target = user.final_text(spec, artifact).strip()
                d = Levenshtein.distance(text, target)
                costs.append(d)
                lengths.append(len(target))
                exact += d == 0
                valid += art.is_valid(text)
            n = len(specs)
            out[artifact] = Evaluation(
                cost=statistics.mean(costs), relative_cost=sum(costs) / max(1, sum(lengths)), exact=exact / n, validity=valid / n, seconds=time.perf_counter() - t0
            )
    finally:
        gen.close()
        store.close()
    return out


async def play(session: ServerSession, cfg: LoopConfig, specs: list, artifact: str, rng: random.Random, log: Callable[[str], None], start_index: int) -> list[dict[str, Any]]:
    """The user asks for each spec, then accepts, edits toward their conventions, or rejects."""
    from rapidfuzz.distance import Levenshtein

    user = get_user(cfg.user)
    ext, lang = EXTENSIONS.get(artifact, ("txt", "plaintext"))
    events = []
    for k, spec in enumerate(specs):
        uri = f"file:///editloop-sim/{artifact}/{start_index + k}.{ext}"
        session.open(uri, "", lang)
        out = await session.command("editloop.generate", {"uri": uri, "position": {"line": 0, "character": 0}, "prompt": spec.prompt(), "artifactType": artifact})
        text = out["text"]
        resp = user.respond(spec, artifact, text.strip(), rng)
        final = resp.final_text.strip("\n") + "\n"
        if resp.action in ("accept", "lazy-accept"):
            ev = await session.command("editloop.accept", {"regionId": out["regionId"]})
            kept = text
        elif resp.action == "edit":
            session.edit_region(uri, 0, text, final)
            ev = await session.command("editloop.accept", {"regionId": out["regionId"]})
            kept = final
        else:  # rewrite: reject the output, then write their own (untracked)
            ev = await session.command("editloop.reject", {"regionId": out["regionId"]})
            session.replace(uri, 0, len(session.texts[uri]), final)
            kept = final
        session.close(uri)
        events.append({"artifact": artifact, "action": ev["action"], "user_action": resp.action, "cost": Levenshtein.distance(text, kept), "reward": ev["reward"], "modelVersion": out.get("modelVersion")})
    counts = ", ".join(f"{a} {sum(e['user_action'] == a for e in events)}" for a in ("accept", "lazy-accept", "edit", "rewrite"))
    log(f"  {artifact}: {len(specs)} events ({counts})")
    return events


async def run_loop(home: str | Path, cfg: LoopConfig, *, log: Callable[[str], None] = print) -> LoopResult:
    home = Path(home)
    rng = random.Random(cfg.seed)
    log(f"measuring the base model on {cfg.heldout} held-out specs per artifact ...")
    before = evaluate(home, cfg)
    after: list[dict[str, Evaluation]] = []
    events: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    train_seconds: list[float] = []
    per_artifact = max(1, cfg.events_per_round // len(cfg.artifacts))
    async with ServerSession(home, settings=cfg.server_settings) as session:
        for r in range(cfg.rounds):
            log(f"round {r + 1}/{cfg.rounds}: the simulated user '{cfg.user}' asks for {per_artifact * len(cfg.artifacts)} artifacts")
            specs = generate_specs(per_artifact * cfg.rounds, seed=cfg.seed, split="train", max_entities=cfg.max_entities)[r * per_artifact : (r + 1) * per_artifact]
            for artifact in cfg.artifacts:
                events += await play(session, cfg, specs, artifact, rng, log, start_index=r * per_artifact)
            log("  Train now ...")
            t0 = time.perf_counter()
            started = await session.command("editloop.train", {"method": cfg.method})
            finished = await session.wait_run(started["runId"])
            train_seconds.append(time.perf_counter() - t0)
            runs.append(finished)
            log(f"  run {started['runId']}: {finished['status']} in {train_seconds[-1]:.0f} s" + (f" ({finished.get('error')})" if finished.get("error") else ""))
            after.append(evaluate(home, cfg))
    return LoopResult(before, after, events, runs, train_seconds)

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
from ..training.progress import DEFAULT_STALL_TIMEOUT, RunStalled
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
    train_settings: dict[str, Any] = field(default_factory=dict)  # editloop.train's `settings` (TrainConfig fields)
    search: int = 0  # Optuna trials per Train now (0: none)
    # a Train now is waited for while it makes progress; silent this long, it is cancelled (None: never)
    stall_timeout: float | None = DEFAULT_STALL_TIMEOUT


@dataclass
class Evaluation:
    cost: float  # mean Levenshtein distance to the user's text
    relative_cost: float  # cost / mean length of the user's text
    exact: float  # share of outputs the user would accept unedited
    validity: float  # share the real parser accepts
    seconds: float
    costs: list[int] = field(default_factory=list)  # per held-out spec, in spec order
    lengths: list[int] = field(default_factory=list)  # the user's text per spec
    retried: dict[str, int] = field(default_factory=dict)  # outputs replaced by a valid retry: {"beam": n, "base": n}
    entity_recall: float = 0.0  # share of the prompts' entities named in the outputs (entity_recall)


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def entity_recall(text: str, spec) -> float:
    """Share of the spec's entities the text names, in any case style (``fuel card``, ``FuelCard``,
    ``fuel_cards``, ``FUEL_CARD``): the entity's words, singular or plural, with the separators
    removed, found in the text with its separators removed. Whether the model wrote the prompt's
    data model at all, before any convention: a base that writes a generic diagram scores 0."""
    if not spec.entities:
        return 1.0
    flat = _letters(text)
    found = sum(_letters("".join(e.words)) in flat or _letters("".join(e.plural_words)) in flat for e in spec.entities)
    return found / len(spec.entities)


@dataclass
class LoopResult:
    before: dict[str, Evaluation]
    after: list[dict[str, Evaluation]]
    events: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    train_seconds: list[float]
    messages: list[str] = field(default_factory=list)  # what the server told the "editor" (window/showMessage)


@dataclass
class Outputs:
    """What a model wrote for the held-out specs of each artifact type, and how long it took."""

    texts: dict[str, list[str]]
    seconds: dict[str, float]
    retried: dict[str, dict[str, int]] = field(default_factory=dict)  # per artifact: {"beam": n, "base": n}


def heldout_outputs(home: Path, cfg: LoopConfig, settings: dict[str, Any] | None = None) -> Outputs:
    """Generate the held-out specs with the model the product would use now (base or promoted
    adapter), through the product's own generation backend (greedy, one batch per artifact, outputs
    the validator rejects retried as ``editloop.generation.retryInvalid`` says). Nothing is tracked
    or trained on."""
    from ..generation.service import Generator
    from ..settings import parse_settings
    from ..store import Store

    store = Store.open(home)
    gen = Generator(store, parse_settings({**(settings or {}), **cfg.server_settings}))
    specs = generate_specs(cfg.heldout, seed=cfg.seed, split="heldout", max_entities=cfg.max_entities)
    out = Outputs({}, {})
    try:
        for artifact in cfg.artifacts:
            t0 = time.perf_counter()
            gens = gen.generate_many([spec.prompt() for spec in specs], artifact)
            out.texts[artifact] = [g.text.strip() for g in gens]
            out.seconds[artifact] = time.perf_counter() - t0
            out.retried[artifact] = {how: sum(g.retry == how for g in gens) for how in ("beam", "base")}
    finally:
        gen.close()
        store.close()
    return out


def score(outputs: Outputs, cfg: LoopConfig) -> dict[str, Evaluation]:
    """Edit cost of each held-out output against the simulated user's own text, and validity."""
    from rapidfuzz.distance import Levenshtein

    user = get_user(cfg.user)
    specs = generate_specs(cfg.heldout, seed=cfg.seed, split="heldout", max_entities=cfg.max_entities)
    out: dict[str, Evaluation] = {}
    for artifact, texts in outputs.texts.items():
        art = get_artifact(artifact)
        targets = [user.final_text(spec, artifact).strip() for spec in specs]
        costs = [Levenshtein.distance(t, target) for t, target in zip(texts, targets)]
        lengths = [len(target) for target in targets]
        n = len(specs)
        out[artifact] = Evaluation(
            cost=statistics.mean(costs), relative_cost=sum(costs) / max(1, sum(lengths)), exact=sum(d == 0 for d in costs) / n,
            validity=sum(art.is_valid(t) for t in texts) / n, seconds=outputs.seconds[artifact], costs=costs, lengths=lengths,
            retried=dict(outputs.retried.get(artifact, {})),
            entity_recall=statistics.mean(entity_recall(t, spec) for t, spec in zip(texts, specs)),
        )
    return out


def evaluate(home: Path, cfg: LoopConfig, settings: dict[str, Any] | None = None) -> dict[str, Evaluation]:
    """Held-out edit cost of the model the product would use now (base or promoted adapter)."""
    return score(heldout_outputs(home, cfg, settings), cfg)


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
        else:  # rewrite: reject the output, then write their own where it was (captured as the reject's rewrite)
            ev = await session.command("editloop.reject", {"regionId": out["regionId"]})
            session.replace(uri, 0, len(session.texts[uri]), final)
            kept = final
        session.close(uri)
        events.append({"artifact": artifact, "spec": start_index + k, "action": ev["action"], "user_action": resp.action, "cost": Levenshtein.distance(text, kept), "reward": ev["reward"], "modelVersion": out.get("modelVersion"), "retry": out.get("retry", "")})
    counts = ", ".join(f"{a} {sum(e['user_action'] == a for e in events)}" for a in ("accept", "lazy-accept", "edit", "rewrite"))
    log(f"  {artifact}: {len(specs)} events ({counts})")
    return events


async def run_loop(home: str | Path, cfg: LoopConfig, *, log: Callable[[str], None] = print, base: Outputs | None = None,
                   before_train: Callable[[int], None] | None = None,
                   after_train: Callable[[int, dict[str, Any]], None] | None = None,
                   on_progress: Callable[[dict[str, Any]], None] | None = None) -> LoopResult:
    """R rounds: the user plays ``events_per_round`` specs, then Train now, then the held-out cost.

    ``base``: the base model's held-out outputs when already generated (they do not depend on
    the user); ``before_train(round)`` runs before each Train now (e.g. to snapshot the data),
    ``after_train(round, runFinished)`` after it (e.g. to measure the run's own model);
    ``on_progress(event)`` gets each progress event of a Train now (e.g. a
    :class:`~editloop.training.progress.ProgressPrinter`).

    A Train now is waited for as long as it makes progress; one silent for ``cfg.stall_timeout``
    seconds is cancelled and recorded as ``cancelled`` with the reason, and the loop goes on. An
    interruption (Ctrl-C, an exception) cancels the run in progress before it propagates.
    """
    home = Path(home)
    rng = random.Random(cfg.seed)
    if base is None:
        log(f"measuring the base model on {cfg.heldout} held-out specs per artifact ...")
        base = heldout_outputs(home, cfg)
    before = score(base, cfg)
    after: list[dict[str, Evaluation]] = []
    events: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    train_seconds: list[float] = []
    per_artifact = max(1, cfg.events_per_round // len(cfg.artifacts))
    # the data folder is this home, whatever EDITLOOP_HOME the caller runs under (env wins over dataDir)
    async with ServerSession(home, settings=cfg.server_settings, env={"EDITLOOP_HOME": str(home)}) as session:
        for r in range(cfg.rounds):
            log(f"round {r + 1}/{cfg.rounds}: the simulated user '{cfg.user}' asks for {per_artifact * len(cfg.artifacts)} artifacts")
            specs = generate_specs(per_artifact * cfg.rounds, seed=cfg.seed, split="train", max_entities=cfg.max_entities)[r * per_artifact : (r + 1) * per_artifact]
            for artifact in cfg.artifacts:
                played = await play(session, cfg, specs, artifact, rng, log, start_index=r * per_artifact)
                events += [{**e, "round": r} for e in played]
            if before_train is not None:
                before_train(r)
            log("  Train now ...")
            t0 = time.perf_counter()
            request: dict[str, Any] = {"method": cfg.method, "search": cfg.search}
            if cfg.train_settings:
                request["settings"] = cfg.train_settings
            started = await session.command("editloop.train", request)
            try:
                finished = await session.wait_run(started["runId"], stall_timeout=cfg.stall_timeout, on_progress=on_progress)
            except RunStalled as exc:
                finished = {"runId": started["runId"], "status": "cancelled", "promoted": False, "metrics": {}, "error": str(exc)}
            train_seconds.append(time.perf_counter() - t0)
            runs.append(finished)
            log(f"  run {started['runId']}: {finished['status']} in {train_seconds[-1]:.0f} s" + (f" ({finished.get('error')})" if finished.get("error") else ""))
            if after_train is not None:
                after_train(r, finished)
            after.append(evaluate(home, cfg))
    return LoopResult(before, after, events, runs, train_seconds, list(session.messages))

"""The learning benchmark's tables (markdown) and plot (SVG rendered to PNG), from measured results only."""

from __future__ import annotations

import html
import statistics
from pathlib import Path
from typing import Any

from ..simulate.loop import Evaluation
from .report import table

COMMAND = "editloop bench learning"


def _pct(x: float) -> str:
    return f"{x:+.0%}"


def _mean(evals: dict[str, Evaluation], attr: str = "cost") -> float:
    return statistics.mean(getattr(e, attr) for e in evals.values())


def hardest_quarter(ev: Evaluation) -> float:
    """Mean cost on the quarter of held-out specs whose user text is longest (the edge cases)."""
    order = sorted(range(len(ev.costs)), key=lambda i: -ev.lengths[i])[: max(1, len(ev.costs) // 4)]
    return statistics.mean(ev.costs[i] for i in order)


def per_task(plan) -> int:
    return max(1, plan.events_per_round // len(plan.artifacts))


def first_round_below(costs: list[float], limit: float) -> int | None:
    return next((r for r, c in enumerate(costs) if c <= limit), None)


def _events_for(costs: list[float], base: float, cut: float, step: int) -> tuple[str, int | None]:
    """Events (of one task) after which the held-out cost is down by ``cut``."""
    r = first_round_below(costs, base * (1 - cut))
    if r is None:
        return f"> {step * len(costs)}", None
    return str(step * (r + 1)), step * (r + 1)


def _short(reason: str | None, n: int = 90) -> str:
    reason = (reason or "").replace("|", "/")
    return reason if len(reason) <= n else reason[: n - 1] + "..."


def render(res: dict[str, Any], *, quick: bool) -> str:
    plan = res["plan"]
    step = per_task(plan)
    total_step = step * len(plan.artifacts)
    info = res["base_info"]
    out: list[str] = []
    if quick:
        out.append("**Quick mode**: a tiny base model, a handful of events, one epoch. It proves the pipeline runs "
                   "end to end; its numbers mean nothing.\n")
    load0, load1 = res["load"]
    out.append(
        f"Base model: `{Path(res['base']).name}` ({info.get('params', '?'):,} parameters, preset "
        f"{info.get('preset', '?')}, {info.get('steps', '?')} pretraining steps). Tasks: {', '.join(plan.artifacts)}. "
        f"Users: {', '.join(plan.users)}. Protocol: {plan.rounds} rounds of {plan.events_per_round} prompts "
        f"({step} per task) per user, Train now (`editloop.train`, method auto) after each round; "
        f"{plan.heldout} held-out specs per task, never trained on, generated greedily by the product's backend. "
        + (f"Measurements finished {res['finished']}. " if res.get("finished") else "")
        + f"Seed {plan.seed}. Whole benchmark: {res['seconds'] / 60:.1f} min; load average "
        f"{load0[0]:.1f} at the start, {load1[0]:.1f} at the end (the benchmark's own training threads included). Code: "
        + (res["code"][0] if res["code"][0] == res["code"][1] else f"{res['code'][0]} at the start, {res['code'][1]} at the end")
        + "."
    )
    # -- per task and user -------------------------------------------------------------------------
    rows, curve_rows, validity_ok, cut_ok = [], [], True, True
    for u in res["users"]:
        base = res["base_eval"][u.user]
        train_s = u.loop.train_seconds
        for a in plan.artifacts:
            b = base[a]
            curve = [r[a] for r in u.loop.after]
            costs = [e.cost for e in curve]
            f = curve[-1]
            own = [m[a] if m else None for m in u.run_models]
            evs = [e for e in u.loop.events if e["artifact"] == a]
            first = [e["cost"] for e in evs if e.get("round") == 0]
            no_learning = statistics.mean(first) * len(evs) if first else float("nan")
            cumulative = sum(e["cost"] for e in evs)
            half, _ = _events_for(costs, b.cost, 0.5, step)
            eighty, n80 = _events_for(costs, b.cost, 0.8, step)
            ok80 = n80 is not None and n80 * len(plan.artifacts) <= 200
            cut_ok &= ok80
            valid_here = all(e.validity >= b.validity for e in curve)
            validity_ok &= valid_here
            rows.append([
                u.user, a, f"{b.cost:.1f}", f"{f.cost:.1f}", _pct(f.cost / b.cost - 1) if b.cost else "-",
                f"{cumulative:,.0f} vs {no_learning:,.0f}", f"{b.exact:.0%} -> {f.exact:.0%}",
                f"{b.validity:.0%} -> {f.validity:.0%}" + ("" if valid_here else f" (below base after round {_first_below(curve, b.validity)})")
                + _retried(f),
                half, eighty + (" yes" if ok80 else " **no**"), ", ".join(f"{s:.0f}" for s in train_s),
                "-" if own[-1] is None else f"{own[-1].cost:.1f} ({_pct(own[-1].cost / b.cost - 1) if b.cost else '-'}), valid {own[-1].validity:.0%}",
            ])
            curve_rows.append([u.user, a, f"{b.cost:.1f}"] + [
                f"{c:.1f} ({c / b.cost:.0%})" + ("" if o is None or o is curve[r] else f" / {o.cost:.1f} ({o.cost / b.cost:.0%})")
                if b.cost else f"{c:.1f}" for r, (c, o) in enumerate(zip(costs, own))])
    out.append("\n### Held-out edit cost per task and user\n")
    out.append(
        "Edit cost: mean Levenshtein distance between the model's output and the user's own text on the held-out "
        "specs. Cumulative: the sum over the user's interactions in the loop (PRELUDE's metric) vs no learning "
        "(estimated as round 1's mean cost, which the base model wrote, times the number of interactions). "
        "Events for a cut: events of that task (the user made as many of the other task) after which held-out "
        "cost fell by 50% / 80%; the 80% target counts both tasks' events (<= 200). Validity: of the outputs the "
        "product served, which regenerates an output its validator rejects (`editloop.generation.retryInvalid`, on by "
        "default): how many of the last round's were such retries, by beam search with the same model or by the base "
        "model, is in brackets; the row \"without retrying invalid outputs\" of the ablations shows the model's own first "
        "outputs.\n"
    )
    out.append(table(["user", "task", "no learning", "after last round", "change", "cumulative cost (vs no learning)",
                      "unedited accepts", "validity (real parser)", "events for -50%", "events for -80% (target met)",
                      "each Train now (s)", "last run's own model (promoted or not)"], rows))
    out.append("\n### Held-out edit cost after each round (share of no learning)\n")
    out.append("The model in use after each Train now (the product keeps the previous one unless the new run is "
               "promoted); where the run was not promoted, `/` the cost of the model it trained.\n")
    out.append(table(["user", "task", "no learning"] + [f"after {total_step * (r + 1)} events" for r in range(plan.rounds)], curve_rows))
    if len(res.get("seeds", {})) > 1:
        out.append("\n" + _seed_spread(res))
    out.append("\n" + _runs_table(res))
    out.append("\n" + _baselines(res, step, total_step))
    out.append("\n" + _ablation_table(res))
    out.append("\n" + _claims(res))
    out.append("\n" + _targets(res, cut_ok, validity_ok, step))
    out.append("\n" + _limits(res))
    out.append("\n![held-out edit cost over rounds](img/learning.png)")
    return "\n".join(out)


def _seed_spread(res: dict[str, Any]) -> str:
    """The headline change (held-out cost after the last round vs no learning) for every seed."""
    seeds = res["seeds"]
    order = sorted(seeds)
    rows, means = [], {s: [] for s in order}
    for user in res["plan"].users:
        for a in res["plan"].artifacts:
            changes = []
            for s in order:
                c0, c1, _v0, v1 = seeds[s][user][a]
                changes.append(c1 / c0 - 1 if c0 else float("nan"))
                means[s].append(changes[-1])
            valid = min(seeds[s][user][a][3] for s in order)
            rows.append([user, a, *(_pct(c) for c in changes), _pct(statistics.mean(changes)),
                         f"{_pct(min(changes))} .. {_pct(max(changes))}", f"{statistics.stdev(changes) * 100:.0f} points",
                         f"{valid:.0%}"])
    overall = [statistics.mean(means[s]) for s in order]
    rows.append(["all", "mean", *(_pct(m) for m in overall), _pct(statistics.mean(overall)),
                 f"{_pct(min(overall))} .. {_pct(max(overall))}", f"{statistics.stdev(overall) * 100:.0f} points", ""])
    head = ("### Seed-to-seed spread\n\nThe same loop with other seeds (other training and held-out specs, other "
            "random user behaviour; same base, same code): the held-out edit cost after the last round vs no learning. "
            "Read a row of the ablations against this spread: a difference smaller than it is noise.\n")
    return head + "\n" + table(["user", "task", *(f"seed {s}" for s in order), "mean", "range", "std dev",
                                 "lowest validity after the last round"], rows)


def _runs_table(res: dict[str, Any]) -> str:
    plan = res["plan"]
    rows = []
    for u in res["users"]:
        for r, (run, secs) in enumerate(zip(u.loop.runs, u.loop.train_seconds)):
            m = run.get("metrics") or {}
            counts = m.get("counts") or {}
            own = u.run_models[r]
            rows.append([u.user, r + 1, plan.events_per_round * (r + 1), f"{counts.get('sft', '-')}/{counts.get('dpo', '-')}/{counts.get('kto', '-')}/{counts.get('val', '-')}",
                         run.get("status"), m.get("method", "-"), _short(run.get("reason") or m.get("reason"), 200),
                         ("yes" if u.promoted[r] else "no") + f": {_short(m.get('promotion'), 60)}",
                         "-" if own is None else f"{_mean(own):.1f}, valid {_mean(own, 'validity'):.0%}", f"{secs:.0f}"])
    return "### Every Train now\n\nRows trained (SFT/DPO/KTO) and validation rows of the curation batch; the method kept; " \
           "whether it replaced the model in use; wall time from the command to `editloop/runFinished`.\n\n" + \
        table(["user", "round", "events recorded", "rows sft/dpo/kto/val", "status", "method kept", "why", "promoted", "its model: held-out cost, validity", "seconds"], rows)


def _baselines(res: dict[str, Any], step: int, total_step: int) -> str:
    rows, eff = [], []
    for u in res["users"]:
        base = _mean(res["base_eval"][u.user])
        curve = [_mean(r) for r in u.loop.after]
        own = [_mean(m) if m else float("inf") for m in u.run_models]
        full = curve[-1]
        for label, ev, secs in (("plain SFT, TRL defaults + default LoRA", u.plain, u.plain_seconds),
                                ("plain SFT, Editloop's hyper-parameters, no curation", u.tuned, u.tuned_seconds)):
            target = _mean(ev)
            r = first_round_below(curve, target)
            needed = "0 (the base already does as well)" if target >= base else (f"{total_step * (r + 1)}" if r is not None else f"> {u.events}")
            ratio = "-" if target >= base or r is None else f"{u.events / (total_step * (r + 1)):.1f}x"
            r2 = first_round_below(own, target)
            needed += f" ({total_step * (r2 + 1) if r2 is not None else '> ' + str(u.events)} by the models trained)"
            rows.append([u.user, label, f"{target:.1f}", _pct(target / base - 1) if base else "-", f"{_mean(ev, 'validity'):.0%}",
                         f"{secs:.0f}", f"{u.events}"])
            eff.append([u.user, label, f"{target:.1f}", needed, ratio])
        rows.insert(len(rows) - 2, [u.user, "no learning (the base model)", f"{base:.1f}", "+0%", f"{_mean(res['base_eval'][u.user], 'validity'):.0%}", "0", "0"])
        rows.append([u.user, "full Editloop (last round)", f"{full:.1f}", _pct(full / base - 1) if base else "-",
                     f"{_mean(u.loop.after[-1], 'validity'):.0%}", f"{sum(u.loop.train_seconds):.0f} (all rounds)", f"{u.events}"])
    return ("### Baselines, same specs, same events\n\nPlain SFT trains on every (prompt, final text) pair the user produced "
            "(`export_rows(store, \"sft\")`), once, in its own process; held-out outputs through the product's local "
            "backend. Cost: mean over the tasks.\n\n"
            + table(["user", "configuration", "held-out cost", "vs no learning", "validity", "training (s)", "events"], rows)
            + "\n\nData efficiency: events full Editloop needed (curve above, per round) until the model in use reached "
              "each plain SFT's final cost (in brackets: until a model a Train now trained did, promoted or not).\n\n"
            + table(["user", "baseline", "its final cost", "events Editloop needed", "data efficiency (baseline events / Editloop events)"], eff))


def _first_below(curve, base_validity: float) -> int:
    """The first round (1-based) after which the model in use was less valid than the base."""
    return next(r for r, e in enumerate(curve, 1) if e.validity < base_validity)


def _retried(*evs) -> str:
    """' (2 beam, 1 base retried)': the served outputs of these evaluations that were valid retries
    (results from before retries were counted: '')."""
    counts: dict[str, int] = {}
    for ev in evs:
        for how, n in (getattr(ev, "retried", None) or {}).items():
            counts[how] = counts.get(how, 0) + n
    counts = {k: v for k, v in counts.items() if v}
    return f" ({', '.join(f'{v} {k}' for k, v in counts.items())} retried)" if counts else ""


def _same(ab) -> bool:
    """The ablation reused full Editloop's run (results pickled before the field existed: False)."""
    return bool(getattr(ab, "same_rows", False))


def _ablation_table(res: dict[str, Any]) -> str:
    plan = res["plan"]
    full = res["full_final"]
    full_s = res["full_final_seconds"]
    fc, fh = _mean(full), statistics.mean(hardest_quarter(e) for e in full.values())
    rows = [["full Editloop", f"{fc:.1f}", "-", f"{_mean(full, 'validity'):.0%}" + _retried(*full.values()),
             f"{fh:.1f}", "-", f"{full_s:.0f}", "-",
             _short(res["full_final_run"].get("metrics", {}).get("method")), "-"]]
    for ab in res["ablations"]:
        if ab.evaluation is None:
            rows.append([ab.label, "not run", "-", "-", "-", "-", "-" if ab.seconds is None else f"{ab.seconds:.0f}", "-", ab.why_not, ab.note])
            continue
        c = _mean(ab.evaluation)
        h = statistics.mean(hardest_quarter(e) for e in ab.evaluation.values())
        m = ab.run.get("metrics") or {}
        if getattr(ab, "same_model", False):
            seconds = ("= full (the same model: a generation setting)", "-")
        elif _same(ab):
            seconds = ("= full (curation built the same rows: not retrained)", "-")
        else:
            seconds = (f"{ab.seconds:.0f}", _pct(ab.seconds / full_s - 1))
        rows.append([ab.label, f"{c:.1f}", _pct(c / fc - 1) if fc else "-",
                     f"{_mean(ab.evaluation, 'validity'):.0%}" + _retried(*ab.evaluation.values()), f"{h:.1f}",
                     _pct(h / fh - 1) if fh else "-", *seconds, _short(m.get("method")), ab.note])
    return (f"### Ablations: one Train now on {plan.ablation_user}'s data as it was before the last round's Train now\n\n"
            "Each configuration starts from a copy of the same database (same events, same earlier runs) and trains once "
            "through `editloop.train` with one component switched (its `settings`); the model that run trained is "
            "measured on the held-out specs (promoted or not); the generation setting's row trains nothing: it is full "
            "Editloop's model, generating with the setting off. Hardest quarter: the held-out specs whose user text is "
            "longest (the edge cases). A positive change in cost is worse. Training is deterministic for the same rows in "
            "the same order: a row identical to full Editloop means the switch changed nothing this run trained on"
            + (" (where curation built exactly full Editloop's rows with the switch, checked before training, the row is "
               "full Editloop's and that Train now was not repeated)" if any(_same(a) for a in res["ablations"]) else "")
            + ". One "
            "seed: differences of a few percent are within one seed's noise.\n\n"
            + table(["configuration", "held-out cost", "vs full", "validity", "hardest-quarter cost", "vs full",
                     "Train now (s)", "vs full", "method kept", "what the component does in training"], rows))


def _claims(res: dict[str, Any]) -> str:
    full = res["full_final"]
    fc = _mean(full)
    fh = statistics.mean(hardest_quarter(e) for e in full.values())
    abl = {a.key: a for a in res["ablations"]}
    users = res["users"]

    def ratio(x: float, y: float) -> str:
        return f"{x / y:.2f}x" if y else "-"

    def effect(key: str, attr: str) -> str:
        a = abl.get(key)
        if a is None or a.evaluation is None:
            return f"{key}: not run ({a.why_not if a else 'absent'})"
        if attr == "seconds" and _same(a):
            return f"{key}: curation built the same rows without it, so the same Train now ({res['full_final_seconds']:.0f} s)"
        if attr == "seconds":
            return f"Train now with {key} {res['full_final_seconds']:.0f} s, without {a.seconds:.0f} s: {ratio(res['full_final_seconds'], a.seconds)} the time"
        v = statistics.mean(hardest_quarter(e) for e in a.evaluation.values()) if attr == "hard" else _mean(a.evaluation)
        ref = fh if attr == "hard" else fc
        return f"hardest-quarter cost with {key} {ref:.1f}, without {v:.1f}: {ratio(ref, v)} the cost"

    served = "; ".join(f"{u.user} {ratio(_mean(u.loop.after[-1]), _mean(u.plain))} / {ratio(_mean(u.loop.after[-1]), _mean(u.tuned))}" for u in users)
    trained = "; ".join(f"{u.user} {ratio(_mean(u.run_models[-1]), _mean(u.plain))} / {ratio(_mean(u.run_models[-1]), _mean(u.tuned))}"
                        for u in users if u.run_models[-1])
    rows = [
        ["+21% model quality", f"held-out cost of full Editloop / plain SFT with TRL defaults / plain SFT with Editloop's hyper-parameters "
                               f"(below 1.00x: Editloop better). Model in use: {served}. Model the last Train now trained: {trained or '-'}"],
        ["-40% training time", "; ".join(effect(k, "seconds") for k in ("adaptive_batch", "active"))],
        ["2-3x data efficiency", "see the data-efficiency table: events plain SFT used / events Editloop needed to match it"],
        ["+75% edge-case handling", "; ".join(effect(k, "hard") for k in ("hard_negatives", "augmentation"))],
    ]
    return "### The original design's claims, measured\n\n" + table(["claim", "measured in this run"], rows)


def _efficiency(res: dict[str, Any], attr: str, step: int) -> str:
    """Did the model in use reach this baseline's final cost with at most half its events? (per user)"""
    verdicts = []
    for u in res["users"]:
        curve = [_mean(r) for r in u.loop.after]
        target = _mean(getattr(u, attr))
        if target >= _mean(res["base_eval"][u.user]):
            verdicts.append(f"{u.user}: trivially (the baseline did not improve on the base)")
            continue
        r = first_round_below(curve, target)
        ok = r is not None and step * len(res["plan"].artifacts) * (r + 1) <= u.events / 2
        verdicts.append(f"{u.user}: " + ("met" if ok else "**missed**"))
    return "; ".join(verdicts)


def _targets(res: dict[str, Any], cut_ok: bool, validity_ok: bool, step: int) -> str:
    users = res["users"]
    last = [u.loop.train_seconds[-1] for u in users]
    own_valid = min((m[a].validity - res["base_eval"][u.user][a].validity for u in users for m in u.run_models if m for a in m), default=0.0)
    rows = [
        ["held-out cost -80% vs no learning after <= 200 events, every user and task", "met" if cut_ok else "**missed**"],
        ["validity never below the base model's (every user, task, round)", ("met" if validity_ok else "**missed**")
         + f" for the model in use; the models Train now trained: worst {own_valid:+.0%} vs the base"],
        ["full Editloop reaches plain SFT's final cost with at most half the events: TRL defaults", _efficiency(res, "plain", step)],
        ["... plain SFT with Editloop's hyper-parameters (no curation)", _efficiency(res, "tuned", step)],
        [f"one Train now on {users[0].events} recorded events <= 60 s (the last round's, per user)",
         ("met" if max(last) <= 60 else "**missed**") + f" ({', '.join(f'{s:.0f} s' for s in last)})"],
    ]
    return "### Targets (BENCHMARK.md)\n\n" + table(["target", "this run"], rows)


def _limits(res: dict[str, Any]) -> str:
    plan = res["plan"]
    runs = [r for u in res["users"] for r in u.loop.runs]
    gated = sum(str((r.get("metrics") or {}).get("promotion", "")).startswith("validity fell") for r in runs)
    promoted = sum(p for u in res["users"] for p in u.promoted)
    last_rows = [((u.loop.runs[-1].get("metrics") or {}).get("counts") or {}).get("sft", 0) for u in res["users"] if u.loop.runs]
    from ..curation import CurationConfig

    cur = CurationConfig()
    info = res["base_info"]
    own = {a: v["relative_edit_distance"] for a, v in (info.get("heldout") or {}).items()}
    own_style = ", ".join(f"{a} {v:.1%}" for a, v in own.items())
    content = ("content errors (names and attributes not copied from the prompt) that are part of every cost here"
               if not own or max(own.values()) >= 0.02 else
               "so nearly all of each cost here is the user's conventions, which the fine-tunes have to learn")
    noise = ""
    cur_ab = next((a for a in res.get("ablations", []) if a.key == "curriculum" and a.evaluation), None)
    if cur_ab is not None and _mean(res["full_final"]):
        noise = (f" Here the curriculum row moved the cost by {_pct(_mean(cur_ab.evaluation) / _mean(res['full_final']) - 1)}: "
                 "the rows trained on were the same, only their order changed.")
    behind = [f"{u.user} {_pct(_mean(u.tuned) / _mean(res['base_eval'][u.user]) - 1)} vs "
              f"{_pct(_mean(u.loop.after[-1]) / _mean(res['base_eval'][u.user]) - 1)}"
              for u in res["users"] if u.loop.after and _mean(u.tuned) < _mean(u.loop.after[-1])]
    items = [
        f"One seed and {plan.heldout} held-out specs per task: differences of the size of the curriculum row (which "
        "only changes the order rows are trained in) may be noise." + noise,
        *([f"Plain SFT with Editloop's hyper-parameters on all of a user's events, without curation, a validation split "
           f"or the promotion gate, ended below the model Editloop had in use ({'; '.join(behind)}, held-out cost vs no "
           "learning): plain SFT trains on every event and keeps its last epoch; Editloop holds out validation events "
           "(the val column of the runs table), picks the checkpoint on a few dozen validation generations, and keeps "
           f"the previous model unless the new one beats it there ({len(runs) - promoted} of {len(runs)} runs were not "
           "promoted). Plain SFT's models serve invalid output where Editloop retries it (validity column)."]
          if behind else []),
        f"Every Train now fine-tunes the base model from scratch, not the model in use, on one curation batch: "
        f"{min(last_rows, default=0)}-{max(last_rows, default=0)} SFT rows in the last round's runs, while "
        f"{max((u.events for u in res['users']), default=0)} events per user were recorded; "
        + (f"earlier training events are replayed (at most {cur.max_replay})." if getattr(cur, "replay", False) else
           f"the batch is the events no earlier run trained on (its size, adaptive {cur.min_batch_size}-"
           f"{cur.max_batch_size} or fixed {cur.fixed_batch_size}, is capped by them; older events only top it up to "
           f"{cur.min_batch_size}), so with Train now after every round each model learns from one round's events."),
        f"Promotion needs higher validation similarity with validity at most a tolerance below the model in use; "
        f"{gated} of {len(runs)} runs were refused because validity fell, {promoted} of {len(runs)} were promoted. "
        "The validation sets are small (the val column of the runs table), so a promoted model's held-out validity can "
        "still be lower than its validation validity.",
        "Curation's sample weights (`weights`) reach SFT and DPO through the trainer's sampler (rows drawn in "
        "proportion to them: the reward weighting row); KTO gets curation's class weights instead "
        "(KTOConfig's desirable/undesirable_weight); the curriculum's order reaches the optimizer (see its row).",
        f"The base is a {info.get('params', 0):,}-parameter model pretrained from scratch; even against its own style its "
        f"held-out outputs are off by {own_style or '?'} of the text (its build's measurement): {content}.",
        "Seconds are wall time (the load averages above include the benchmark's own training threads; anything else "
        "running adds to them): upper bounds.",
        f"The whole benchmark took {res['seconds'] / 60:.0f} min ("
        + ("within" if res["seconds"] <= 45 * 60 else "over")
        + " the 45 min it should fit in): with replay each Train now trains on every earlier event, and each of the "
        f"{sum(a.evaluation is not None and not _same(a) and not getattr(a, 'same_model', False) for a in res.get('ablations', []))} retrained ablation rows "
        "is a full Train now.",
    ]
    return "### What limits these numbers\n\n" + "\n".join(f"- {i}" for i in items)


# -- plot ------------------------------------------------------------------------------------------

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def svg_plot(res: dict[str, Any]) -> str:
    plan = res["plan"]
    step = per_task(plan) * len(plan.artifacts)
    w, h, left, right, top, bottom = 820, 420, 70, 280, 40, 50
    pw, ph = w - left - right, h - top - bottom
    xmax = step * plan.rounds
    ymax = 110.0

    def xy(events: float, pct: float) -> str:
        return f"{left + pw * events / xmax:.1f},{top + ph * (1 - min(pct, ymax) / ymax):.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="DejaVu Sans, sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{left}" y="22" font-size="14" font-weight="bold">Held-out edit cost, % of no learning (the base model)</text>']
    for pct in range(0, 101, 20):
        y = top + ph * (1 - pct / ymax)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>')
    y20 = top + ph * (1 - 20 / ymax)
    parts.append(f'<line x1="{left}" y1="{y20:.1f}" x2="{left + pw}" y2="{y20:.1f}" stroke="#888" stroke-dasharray="2,3"/>'
                 f'<text x="{left + pw - 4}" y="{y20 - 4:.1f}" text-anchor="end" fill="#666">target -80%</text>')
    for r in range(plan.rounds + 1):
        x = left + pw * step * r / xmax
        parts.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">{step * r}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{h - 10}" text-anchor="middle">events recorded by the user (both tasks)</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    ly = top + 10
    for i, u in enumerate(res["users"]):
        base = res["base_eval"][u.user]
        for j, a in enumerate(plan.artifacts):
            color, dash = COLORS[i % len(COLORS)], ("" if j == 0 else ' stroke-dasharray="6,4"')
            pts = [xy(0, 100)] + [xy(step * (r + 1), 100 * ev[a].cost / base[a].cost if base[a].cost else 0) for r, ev in enumerate(u.loop.after)]
            parts.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
            own = [(r, m[a]) for r, m in enumerate(u.run_models) if m is not None and m is not u.loop.after[r]]
            for r, m in own:  # a model a Train now trained but the product did not promote
                cx, cy = xy(step * (r + 1), 100 * m.cost / base[a].cost if base[a].cost else 0).split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="4" fill="{color}" fill-opacity="0.5"/>')
            plain = 100 * u.plain[a].cost / base[a].cost if base[a].cost else 0
            px, py = xy(xmax, plain).split(",")
            parts.append(f'<rect x="{float(px) - 4:.1f}" y="{float(py) - 4:.1f}" width="8" height="8" fill="none" stroke="{color}"/>')
            tuned = 100 * u.tuned[a].cost / base[a].cost if base[a].cost else 0
            tx, ty = (float(v) for v in xy(xmax, tuned).split(","))
            parts.append(f'<polygon points="{tx},{ty - 5:.1f} {tx + 5:.1f},{ty + 4:.1f} {tx - 5:.1f},{ty + 4:.1f}" fill="none" stroke="{color}"/>')
            parts.append(f'<line x1="{left + pw + 12}" y1="{ly}" x2="{left + pw + 40}" y2="{ly}" stroke="{color}" stroke-width="2"{dash}/>'
                         f'<text x="{left + pw + 46}" y="{ly + 4}">{html.escape(u.user)}, {html.escape(a)}</text>')
            ly += 18
    parts.append(f'<rect x="{left + pw + 22}" y="{ly - 4}" width="8" height="8" fill="none" stroke="#444"/>'
                 f'<text x="{left + pw + 46}" y="{ly + 4}">plain SFT, TRL defaults (all events)</text>'
                 f'<polygon points="{left + pw + 26},{ly + 13} {left + pw + 31},{ly + 22} {left + pw + 21},{ly + 22}" fill="none" stroke="#444"/>'
                 f'<text x="{left + pw + 46}" y="{ly + 22}">plain SFT, Editloop hyper-parameters</text>'
                 f'<circle cx="{left + pw + 26}" cy="{ly + 36}" r="4" fill="#444" fill-opacity="0.5"/>'
                 f'<text x="{left + pw + 46}" y="{ly + 40}">trained, not promoted</text>')
    parts.append("</svg>")
    return "".join(parts)


def write_plot(res: dict[str, Any], path: Path) -> Path:
    import novasvg  # ships with mmdr, a core dependency

    path.parent.mkdir(parents=True, exist_ok=True)
    novasvg.svg2png(svg_plot(res), str(path), background_color=0xFFFFFFFF)
    return path


__all__ = ["render", "write_plot", "svg_plot", "hardest_quarter", "COMMAND"]

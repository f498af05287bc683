"""Statistics over the feedback database: what `editloop.stats` and `editloop stats` show.

Read from `stats_rollup` (per-day aggregates that triggers keep in step with `events`), so the
cost does not grow with the number of events.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, NamedTuple

from . import regions
from . import runs as run_table

REWARD_BINS = 10
ACTIONS = ("accept", "edit", "reject")


class RollupRow(NamedTuple):
    """One ``stats_rollup`` row: the sums over the events of one day, type, action, model and reward bin."""

    day: str
    artifact_type: str
    action: str
    model: str
    model_version: str
    reward_bin: int
    n: int
    sum_similarity: float
    sum_reward: float
    sum_edit_distance: float
    n_edit_distance: int
    sum_validation: float
    n_validation: int
    first_at: str | None


def stats(db: Any, *, artifact_type: str | None = None, days: int = 90, runs: int = 10) -> dict[str, Any]:
    """Counts by action and artifact type, accept rate, mean similarity, reward histogram,
    a daily series, per-model figures and recent runs."""
    rows = rollup_rows(db, artifact_type)
    counts = {a: 0 for a in ACTIONS}
    for r in rows:
        counts[r.action] += r.n
    total = sum(counts.values())
    by_model = _by_model(rows)
    since = (_dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(days=days)).strftime("%Y-%m-%d")
    return {
        "total": total,
        "counts": counts,
        "byArtifactType": _by_type(rows),
        "byModel": by_model,
        "modelComparison": model_comparison(by_model),
        # acceptRate: kept unchanged; keptRate: kept with or without edits (what "accepted" means
        # to a user who fixed the output and clicked Accept). Both shown, named apart.
        "acceptRate": _rate(counts["accept"], total),
        "unchangedRate": _rate(counts["accept"], total),
        "keptRate": _rate(counts["accept"] + counts["edit"], total),
        **_means(rows, total),
        "rewardHistogram": _histogram(rows),
        "daily": _daily(rows, since),
        "pending": regions.count_with_status(db, "pending", artifact_type),
        "lost": regions.count_with_status(db, "lost", artifact_type),
        "recentRuns": recent_runs(db, limit=runs, artifact_type=artifact_type),
    }


def rollup_rows(db: Any, artifact_type: str | None = None) -> list[RollupRow]:
    """Every ``stats_rollup`` row (of ``artifact_type`` when given)."""
    where, args = ("WHERE artifact_type = ?", [artifact_type]) if artifact_type else ("", [])
    cur = db.conn.execute(f"SELECT {', '.join(RollupRow._fields)} FROM stats_rollup {where}", args)
    return [RollupRow._make(r) for r in cur]


def _by_type(rows: list[RollupRow]) -> dict[str, dict[str, Any]]:
    """Per artifact type: counts by action, total, accept (unchanged) and kept rates."""
    by_type: dict[str, dict[str, Any]] = {}
    for r in rows:
        by_type.setdefault(r.artifact_type, {a: 0 for a in ACTIONS})[r.action] += r.n
    for e in by_type.values():
        e["total"] = e["accept"] + e["edit"] + e["reject"]
        e["acceptRate"] = _rate(e["accept"], e["total"])
        e["keptRate"] = _rate(e["accept"] + e["edit"], e["total"])
    return by_type


def _means(rows: list[RollupRow], total: int) -> dict[str, Any]:
    """Mean similarity and reward over every event, mean validation over the validated ones."""
    sim = reward = val = 0.0
    n_val = 0
    for r in rows:
        sim += r.sum_similarity
        reward += r.sum_reward
        val += r.sum_validation
        n_val += r.n_validation
    return {
        "meanSimilarity": _round(sim / total) if total else None,
        "meanReward": _round(reward / total) if total else None,
        "meanValidation": _round(val / n_val, 2) if n_val else None,
        "validated": n_val,
    }


def _histogram(rows: list[RollupRow]) -> dict[str, list]:
    counts = [0] * REWARD_BINS
    for r in rows:
        counts[r.reward_bin] += r.n
    return {"edges": [round(i / REWARD_BINS, 2) for i in range(REWARD_BINS + 1)], "counts": counts}


def _daily(rows: list[RollupRow], since: str) -> list[dict[str, Any]]:
    """One entry per day from ``since`` (YYYY-MM-DD) on, oldest first."""
    daily: dict[str, dict[str, float]] = {}
    for r in rows:
        if r.day < since:
            continue
        d = daily.setdefault(r.day, {"events": 0, "accept": 0, "edit": 0, "reject": 0, "sim": 0.0, "dist": 0.0, "ndist": 0})
        d["events"] += r.n
        d[r.action] += r.n
        d["sim"] += r.sum_similarity
        d["dist"] += r.sum_edit_distance
        d["ndist"] += r.n_edit_distance
    return [
        {
            "date": day,
            "events": d["events"],
            "accept": d["accept"],
            "edit": d["edit"],
            "reject": d["reject"],
            "acceptRate": _rate(d["accept"], d["events"]),
            "keptRate": _rate(d["accept"] + d["edit"], d["events"]),
            "meanSimilarity": _round(d["sim"] / d["events"]),
            "meanEditDistance": _round(d["dist"] / d["ndist"], 1) if d["ndist"] else None,
        }
        for day, d in sorted(daily.items())
    ]


def _by_model(rows: list[RollupRow]) -> list[dict[str, Any]]:
    """Per model and version, in the order they first appeared."""
    models: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        m = models.setdefault((r.model, r.model_version),
                              {"events": 0, "accept": 0, "sim": 0.0, "dist": 0.0, "ndist": 0, "first": r.first_at})
        m["events"] += r.n
        m["accept"] += r.n if r.action == "accept" else 0
        m["sim"] += r.sum_similarity
        m["dist"] += r.sum_edit_distance
        m["ndist"] += r.n_edit_distance
        m["first"] = min(m["first"] or r.first_at, r.first_at or m["first"])
    return [
        {
            "model": model,
            "modelVersion": version or None,
            "events": m["events"],
            "acceptRate": _rate(m["accept"], m["events"]),
            "meanSimilarity": _round(m["sim"] / m["events"]) if m["events"] else None,
            "meanEditDistance": _round(m["dist"] / m["ndist"], 1) if m["ndist"] else None,
        }
        for (model, version), m in sorted(models.items(), key=lambda kv: kv[1]["first"] or "")
    ]


def model_comparison(by_model: list[dict[str, Any]], *, min_events: int = 5) -> dict[str, Any] | None:
    """The first model version against the newest, by mean edit distance (measured, never assumed)."""
    known = [m for m in by_model if m["events"] >= min_events and m["meanEditDistance"] is not None]
    if len(known) < 2:
        return None
    first, last = known[0], known[-1]
    if not first["meanEditDistance"]:
        return None
    cut = 1 - last["meanEditDistance"] / first["meanEditDistance"]

    def name(m: dict[str, Any]) -> str:
        return f"{m['model'] or 'model'} {m['modelVersion'] or ''}".strip()

    verb = f"needs {cut:.0%} fewer edits than" if cut >= 0 else f"needs {-cut:.0%} more edits than"
    return {"from": first, "to": last, "editReduction": round(cut, 4), "summary": f"{name(last)} {verb} {name(first)}"}


def recent_runs(db: Any, *, limit: int = 10, artifact_type: str | None = None) -> list[dict[str, Any]]:
    """The newest runs (of ``artifact_type`` and untyped ones, when given) as the stats panel shows them."""
    return [
        {
            "id": r.id,
            "method": r.method,
            "status": r.status,
            "artifactType": r.artifact_type,
            "baseModel": r.base_model,
            "promoted": r.promoted,
            "reason": r.reason,
            "metrics": r.decoded_metrics(),
            "startedAt": r.started_at,
            "finishedAt": r.finished_at,
        }
        for r in run_table.recent(db, artifact_type=artifact_type, limit=limit, with_untyped=True)
    ]


def _rate(a: int | None, n: int | None) -> float | None:
    return round((a or 0) / n, 4) if n else None


def _round(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)

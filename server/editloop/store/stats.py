"""Statistics over the feedback database: what `editloop.stats` and `editloop stats` show.

Read from `stats_rollup` (per-day aggregates that triggers keep in step with `events`), so the
cost does not grow with the number of events.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from .metrics import normalize_metrics

REWARD_BINS = 10


def stats(db: Any, *, artifact_type: str | None = None, days: int = 90, runs: int = 10) -> dict[str, Any]:
    """Counts by action and artifact type, accept rate, mean similarity, reward histogram,
    a daily series, per-model figures and recent runs."""
    where, args = ("WHERE artifact_type = ?", [artifact_type]) if artifact_type else ("", [])
    rows = db.conn.execute(
        "SELECT day, artifact_type, action, model, model_version, reward_bin, n, sum_similarity, sum_reward, "
        f"sum_edit_distance, n_edit_distance, sum_validation, n_validation, first_at FROM stats_rollup {where}",
        args,
    ).fetchall()
    counts = {"accept": 0, "edit": 0, "reject": 0}
    by_type: dict[str, dict[str, Any]] = {}
    hist = [0] * REWARD_BINS
    daily: dict[str, dict[str, float]] = {}
    models: dict[tuple[str, str], dict[str, Any]] = {}
    tot = {"sim": 0.0, "reward": 0.0, "val": 0.0, "nval": 0}
    since = (_dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(days=days)).strftime("%Y-%m-%d")
    for day, at, action, model, version, rbin, n, s_sim, s_rew, s_dist, n_dist, s_val, n_val, first in rows:
        counts[action] += n
        e = by_type.setdefault(at, {"accept": 0, "edit": 0, "reject": 0})
        e[action] += n
        hist[rbin] += n
        tot["sim"] += s_sim
        tot["reward"] += s_rew
        tot["val"] += s_val
        tot["nval"] += n_val
        if day >= since:
            d = daily.setdefault(day, {"events": 0, "accept": 0, "edit": 0, "reject": 0, "sim": 0.0, "dist": 0.0, "ndist": 0})
            d["events"] += n
            d[action] += n
            d["sim"] += s_sim
            d["dist"] += s_dist
            d["ndist"] += n_dist
        m = models.setdefault((model, version), {"events": 0, "accept": 0, "sim": 0.0, "dist": 0.0, "ndist": 0, "first": first})
        m["events"] += n
        m["accept"] += n if action == "accept" else 0
        m["sim"] += s_sim
        m["dist"] += s_dist
        m["ndist"] += n_dist
        m["first"] = min(m["first"] or first, first or m["first"])
    for e in by_type.values():
        e["total"] = e["accept"] + e["edit"] + e["reject"]
        e["acceptRate"] = _rate(e["accept"], e["total"])
        e["keptRate"] = _rate(e["accept"] + e["edit"], e["total"])
    total = sum(counts.values())
    conn = db.conn
    pend_where, pend_args = ("AND artifact_type = ?", [artifact_type]) if artifact_type else ("", [])
    pending = conn.execute(f"SELECT COUNT(*) FROM regions WHERE status = 'pending' {pend_where}", pend_args).fetchone()[0]
    lost = conn.execute(f"SELECT COUNT(*) FROM regions WHERE status = 'lost' {pend_where}", pend_args).fetchone()[0]
    by_model = [
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
    return {
        "total": total,
        "counts": counts,
        "byArtifactType": by_type,
        "byModel": by_model,
        "modelComparison": model_comparison(by_model),
        # acceptRate: kept unchanged; keptRate: kept with or without edits (what "accepted" means
        # to a user who fixed the output and clicked Accept). Both shown, named apart.
        "acceptRate": _rate(counts["accept"], total),
        "unchangedRate": _rate(counts["accept"], total),
        "keptRate": _rate(counts["accept"] + counts["edit"], total),
        "meanSimilarity": _round(tot["sim"] / total) if total else None,
        "meanReward": _round(tot["reward"] / total) if total else None,
        "meanValidation": _round(tot["val"] / tot["nval"], 2) if tot["nval"] else None,
        "validated": tot["nval"],
        "rewardHistogram": {"edges": [round(i / REWARD_BINS, 2) for i in range(REWARD_BINS + 1)], "counts": hist},
        "daily": [
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
        ],
        "pending": pending,
        "lost": lost,
        "recentRuns": recent_runs(db, limit=runs, artifact_type=artifact_type),
    }


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
    sql = "SELECT * FROM runs"
    args: list[Any] = []
    if artifact_type:
        sql += " WHERE artifact_type = ? OR artifact_type IS NULL"
        args.append(artifact_type)
    sql += " ORDER BY created_at DESC LIMIT ?"
    args.append(limit)
    out = []
    for r in db.query(sql, args):
        out.append(
            {
                "id": r["id"],
                "method": r["method"],
                "status": r["status"],
                "artifactType": r["artifact_type"],
                "baseModel": r["base_model"],
                "promoted": bool(r["promoted"]),
                "reason": r["reason"],
                "metrics": normalize_metrics(json.loads(r["metrics"]) if r["metrics"] else {}),
                "startedAt": r["started_at"],
                "finishedAt": r["finished_at"],
            }
        )
    return out


def _rate(a: int | None, n: int | None) -> float | None:
    return round((a or 0) / n, 4) if n else None


def _round(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)

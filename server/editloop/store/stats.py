"""Statistics over the feedback database: what `editloop.stats` and `editloop stats` show."""

from __future__ import annotations

import json
from typing import Any

REWARD_BINS = 10


def stats(db: Any, *, artifact_type: str | None = None, days: int = 90, runs: int = 10) -> dict[str, Any]:
    """Counts by action and artifact type, accept rate, mean similarity, reward histogram,
    a daily series and recent runs. One pass of indexed SQL aggregates per figure."""
    where, args = ("WHERE artifact_type = ?", [artifact_type]) if artifact_type else ("", [])
    conn = db.conn
    by_type: dict[str, dict[str, Any]] = {}
    counts = {"accept": 0, "edit": 0, "reject": 0}
    for at, action, n in conn.execute(f"SELECT artifact_type, action, COUNT(*) FROM events {where} GROUP BY 1, 2", args):
        entry = by_type.setdefault(at, {"accept": 0, "edit": 0, "reject": 0})
        entry[action] = n
        counts[action] += n
    for entry in by_type.values():
        entry["total"] = entry["accept"] + entry["edit"] + entry["reject"]
        entry["acceptRate"] = _rate(entry["accept"], entry["total"])
    total = sum(counts.values())
    row = conn.execute(
        f"SELECT AVG(similarity), AVG(reward), AVG(validation), COUNT(validation) FROM events {where}", args
    ).fetchone()
    hist = [0] * REWARD_BINS
    for b, n in conn.execute(
        f"SELECT MIN(CAST(reward * {REWARD_BINS} AS INTEGER), {REWARD_BINS - 1}), COUNT(*) FROM events {where} GROUP BY 1", args
    ):
        if b is not None and 0 <= b < REWARD_BINS:
            hist[b] += n
    daily = []
    day_where = f"{where} {'AND' if where else 'WHERE'} created_at >= date('now', ?)"
    for day, n, acc, ed, rej, sim, dist in conn.execute(
        f"""SELECT substr(created_at, 1, 10), COUNT(*), SUM(action='accept'), SUM(action='edit'), SUM(action='reject'),
                   AVG(similarity), AVG(CASE WHEN action != 'reject' THEN (1 - similarity) * MAX(length(original), length(final)) END)
            FROM events {day_where} GROUP BY 1 ORDER BY 1""",
        [*args, f"-{int(days)} days"],
    ):
        daily.append(
            {
                "date": day,
                "events": n,
                "accept": acc,
                "edit": ed,
                "reject": rej,
                "acceptRate": _rate(acc, n),
                "meanSimilarity": _round(sim),
                "meanEditDistance": _round(dist, 1),
            }
        )
    pend_where, pend_args = ("AND artifact_type = ?", [artifact_type]) if artifact_type else ("", [])
    pending = conn.execute(f"SELECT COUNT(*) FROM regions WHERE status = 'pending' {pend_where}", pend_args).fetchone()[0]
    lost = conn.execute(f"SELECT COUNT(*) FROM regions WHERE status = 'lost' {pend_where}", pend_args).fetchone()[0]
    by_model = []
    for model, version, n, acc, sim in conn.execute(
        f"""SELECT model, COALESCE(model_version, ''), COUNT(*), SUM(action='accept'), AVG(similarity)
            FROM events {where} GROUP BY 1, 2 ORDER BY MIN(created_at)""",
        args,
    ):
        by_model.append({"model": model, "modelVersion": version or None, "events": n, "acceptRate": _rate(acc, n), "meanSimilarity": _round(sim)})
    return {
        "total": total,
        "counts": counts,
        "byArtifactType": by_type,
        "byModel": by_model,
        "acceptRate": _rate(counts["accept"], total),
        "meanSimilarity": _round(row[0]),
        "meanReward": _round(row[1]),
        "meanValidation": _round(row[2], 2),
        "validated": row[3],
        "rewardHistogram": {"edges": [round(i / REWARD_BINS, 2) for i in range(REWARD_BINS + 1)], "counts": hist},
        "daily": daily,
        "pending": pending,
        "lost": lost,
        "recentRuns": recent_runs(db, limit=runs, artifact_type=artifact_type),
    }


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
                "metrics": json.loads(r["metrics"]) if r["metrics"] else {},
                "startedAt": r["started_at"],
                "finishedAt": r["finished_at"],
            }
        )
    return out


def _rate(a: int | None, n: int | None) -> float | None:
    return round((a or 0) / n, 4) if n else None


def _round(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)

"""The ``runs`` table: training runs, their status, metrics and which one is promoted.

Reads return :class:`Run` records, which callers read by attribute (``run.adapter_path``).
:meth:`Run.to_row` is the row as a dict with the table's column names, :meth:`Run.to_json` the
same with ``params``/``metrics`` decoded and metrics under their current names: what the editor
and ``editloop runs --json`` receive, converted only at those edges.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..errors import NotFound
from .db import DB, write_tx
from .metrics import normalize_metrics
from .store import Store


@dataclass(frozen=True)
class Run:
    """One row of ``runs``; ``params`` and ``metrics`` are the stored JSON text."""

    id: str
    method: str
    status: str
    artifact_type: str | None
    base_model: str
    adapter_path: str | None
    batch_id: str | None
    params: str | None
    metrics: str | None
    reason: str | None
    error: str | None
    pid: int | None
    promoted: bool
    created_at: str
    started_at: str | None
    finished_at: str | None

    def to_row(self) -> dict[str, Any]:
        """The row as a dict keyed by column name (JSON text left as it is)."""
        return asdict(self)

    def to_json(self) -> dict[str, Any]:
        """The row with ``params`` and ``metrics`` decoded (metrics under their current names)."""
        row = asdict(self)
        row["params"] = _decode(self.params)
        row["metrics"] = normalize_metrics(_decode(self.metrics))
        return row

    def decoded_params(self) -> dict[str, Any]:
        """The run's parameters as a dict (``{}`` when none were stored)."""
        return _decode(self.params)

    def decoded_metrics(self) -> dict[str, Any]:
        """The run's metrics as a dict, under their current names (``{}`` when none yet)."""
        return normalize_metrics(_decode(self.metrics))


COLUMNS = tuple(f.name for f in fields(Run))
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM runs"
# Columns a caller may set with :func:`update`; ``id`` and ``created_at`` never change.
UPDATABLE = frozenset(COLUMNS) - {"id", "created_at"}


def _decode(text: str | None) -> Any:
    return json.loads(text) if text else {}


def _run(row: tuple) -> Run:
    values = dict(zip(COLUMNS, row))
    values["promoted"] = bool(values["promoted"])
    return Run(**values)


def _select(source: Store | DB, where: str = "", args: list[Any] | None = None) -> list[Run]:
    """Runs matching ``where``; through a Store (under its lock) or a DB whose caller holds the lock."""
    db, lock = (source.db, source.lock) if isinstance(source, Store) else (source, nullcontext())
    with lock:
        rows = db.conn.execute(f"{_SELECT} {where}", args or []).fetchall()
    return [_run(r) for r in rows]


def find(store: Store, run_id: str) -> Run | None:
    rows = _select(store, "WHERE id = ?", [run_id])
    return rows[0] if rows else None


def get(store: Store, run_id: str) -> Run:
    """The run ``run_id``; :class:`NotFound` when there is none."""
    run = find(store, run_id)
    if run is None:
        raise NotFound(f"unknown run {run_id!r}")
    return run


def active(store: Store) -> list[Run]:
    """Runs still ``queued`` or ``running`` (by the database's account)."""
    return _select(store, "WHERE status IN ('queued','running')")


def recent(store: Store | DB, *, artifact_type: str | None = None, limit: int = 50, with_untyped: bool = False) -> list[Run]:
    """Newest first. ``artifact_type`` keeps that type's runs (and, ``with_untyped``, runs of every type).
    ``store`` may be a bare DB whose caller holds the lock (the statistics read through one)."""
    where, args = "", []
    if with_untyped and artifact_type:
        where, args = "WHERE artifact_type = ? OR artifact_type IS NULL", [artifact_type]
    elif not with_untyped and artifact_type is not None:
        where, args = "WHERE artifact_type = ?", [artifact_type]
    return _select(store, where + " ORDER BY created_at DESC LIMIT ?", [*args, limit])


def promoted(store: Store, artifact_type: str | None) -> Run | None:
    """The promoted run of ``artifact_type`` (``None``: runs on every type), newest finished first."""
    rows = _select(store, "WHERE promoted = 1 AND artifact_type IS ? ORDER BY finished_at DESC LIMIT 1", [artifact_type])
    return rows[0] if rows else None


def last_created_at(store: Store) -> str | None:
    """When the newest run was created (``None``: no run yet)."""
    with store.lock:
        return store.db.conn.execute("SELECT MAX(created_at) FROM runs").fetchone()[0]


def succeeded_metrics(store: Store, artifact_type: str | None = None, limit: int = 5) -> list[str]:
    """The metrics JSON of the ``limit`` most recently finished succeeded runs, newest first
    (of ``artifact_type`` and of untyped runs, when given)."""
    sql = "SELECT metrics FROM runs WHERE status = 'succeeded' AND metrics IS NOT NULL"
    args: list[Any] = []
    if artifact_type:
        sql += " AND (artifact_type = ? OR artifact_type IS NULL)"
        args.append(artifact_type)
    sql += " ORDER BY COALESCE(finished_at, created_at) DESC LIMIT ?"
    with store.lock:
        return [r[0] for r in store.db.conn.execute(sql, [*args, limit]).fetchall()]


def insert_queued(store: Store, run_id: str, *, method: str, artifact_type: str | None, base_model: str,
                  params: str, created_at: str) -> None:
    """A new ``queued`` run, not promoted; ``params`` is JSON text."""
    with store.lock, write_tx(store.db):
        store.db.conn.execute(
            "INSERT INTO runs (id, method, status, artifact_type, base_model, params, promoted, created_at) "
            "VALUES (?, ?, 'queued', ?, ?, ?, 0, ?)",
            [run_id, method, artifact_type, base_model, params, created_at],
        )


def update(store: Store, run_id: str, values: dict[str, Any], *, only_if: tuple[str, ...] | None = None) -> bool:
    """Set ``values`` (column -> value) on the run, only while its status is in ``only_if`` when given.
    Returns whether the run was updated. Unknown column names raise ValueError."""
    unknown = set(values) - UPDATABLE
    if unknown:
        raise ValueError(f"not a column of runs that can be set: {', '.join(sorted(unknown))}")
    if not values:
        raise ValueError("nothing to update")
    sql = f"UPDATE runs SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?"
    args = [*values.values(), run_id]
    if only_if:
        sql += f" AND status IN ({', '.join('?' * len(only_if))})"
        args += list(only_if)
    with store.lock, write_tx(store.db):
        cur = store.db.conn.execute(sql, args)
    return cur.rowcount == 1


def set_pid_if_unset(store: Store, run_id: str, pid: int) -> None:
    """Record ``pid`` as the run's process unless a launcher already recorded one."""
    with store.lock, write_tx(store.db):
        store.db.conn.execute("UPDATE runs SET pid = ? WHERE id = ? AND pid IS NULL", [pid, run_id])


def set_promoted(store: Store, run_id: str | None, artifact_type: str | None) -> None:
    """Make ``run_id`` the only promoted run of ``artifact_type`` (``None``: none is), in one transaction."""
    with store.lock, write_tx(store.db):
        store.db.conn.execute("UPDATE runs SET promoted = 0 WHERE artifact_type IS ?", [artifact_type])
        if run_id is not None:
            store.db.conn.execute("UPDATE runs SET promoted = 1 WHERE id = ?", [run_id])

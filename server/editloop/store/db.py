"""Open the feedback database: WAL, foreign keys, a busy timeout, migrations applied, 0600 files."""

from __future__ import annotations

import datetime as _dt
import os
import sqlite3
import sys
from pathlib import Path

from typing import Any, Iterable, Iterator

from ..errors import EditloopError
from ..paths import DB_NAME, data_dir, ensure_private_dir

BUSY_TIMEOUT_MS = 10_000


def utcnow_iso(ts: float | None = None) -> str:
    """An ISO-8601 UTC timestamp with milliseconds (sorts as text, readable in Datasette)."""
    when = _dt.datetime.now(_dt.timezone.utc) if ts is None else _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=_dt.timezone.utc).timestamp()


class DB:
    """A sqlite3 connection with the few conveniences Editloop uses (dict rows, sqlite-utils tables on demand)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def query(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> Iterator[dict[str, Any]]:
        cur = self.conn.execute(sql, params if isinstance(params, dict) else list(params))
        names = [d[0] for d in cur.description or ()]
        for row in cur:
            yield dict(zip(names, row))

    def execute(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params if isinstance(params, dict) else list(params))

    def insert(self, table: str, row: dict[str, Any]) -> int:
        cols = list(row)
        cur = self.conn.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})", [row[c] for c in cols]
        )
        return cur.lastrowid

    def utils(self) -> Any:
        """The same connection as a sqlite-utils Database (imports sqlite-utils)."""
        from sqlite_utils import Database

        return Database(self.conn)

    def __getitem__(self, table: str) -> Any:
        return self.utils()[table]


def _connect(file: str) -> sqlite3.Connection:
    conn = sqlite3.connect(file, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")  # deleted text is overwritten, not left in free pages
    return conn


def open_db(path: str | os.PathLike | None = None, *, home_setting: str | None = None) -> DB:
    """Open (creating and migrating) ``feedback.db``.

    ``path`` may be the database file or the data folder; by default the data folder is resolved by
    :func:`editloop.paths.data_dir`.
    """
    if path is None:
        file = data_dir(home_setting) / DB_NAME
    else:
        p = Path(path)
        file = p / DB_NAME if p.is_dir() or p.suffix == "" else p
        ensure_private_dir(file.parent)
    old_umask = os.umask(0o077)
    try:
        conn = _connect(str(file))
        db = DB(conn)
        from .migrations import STEPS

        if conn.execute("PRAGMA user_version").fetchone()[0] < len(STEPS):
            if "sqlite_utils" in sys.modules or os.environ.get("EDITLOOP_MIGRATE_IN_PROCESS"):
                migrate(db)
            else:
                # sqlite-utils imports pandas when it is installed (+80 MB, ~1 s): a long-lived
                # process (the language server) migrates in a short-lived child instead.
                _migrate_in_child(file)
            if conn.execute("PRAGMA user_version").fetchone()[0] < len(STEPS):
                raise EditloopError(f"the schema of {file} could not be brought up to date")
    except sqlite3.Error as exc:
        raise EditloopError(f"cannot open database {file}: {exc}") from None
    finally:
        os.umask(old_umask)
    for suffix in ("", "-wal", "-shm"):
        f = Path(str(file) + suffix)
        if f.exists():
            try:
                os.chmod(f, 0o600)
            except OSError:
                pass
    return db


def migrate(db: "DB") -> None:
    """Apply pending migrations with sqlite-utils' Migrations (safe against a concurrent migrator)."""
    from .migrations import STEPS, migrations

    sdb = db.utils()
    m = migrations()
    try:
        m.apply(sdb)
    except sqlite3.OperationalError:
        # Another process (a second editor window) migrated at the same moment.
        if m.pending(sdb):
            raise
    db.conn.execute(f"PRAGMA user_version = {len(STEPS)}")


def _migrate_in_child(file: Path) -> None:
    import subprocess

    code = "import sys; from editloop.store.db import DB, migrate, _connect; migrate(DB(_connect(sys.argv[1])))"
    proc = subprocess.run([sys.executable, "-c", code, str(file)], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise EditloopError(f"cannot migrate {file}: {last}")


class _immediate:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``: a write transaction that takes the lock up front."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise storage_error(exc) from None
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return
            except sqlite3.Error as err:
                exc_type, exc = type(err), err
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise storage_error(exc) from None


def storage_error(exc: sqlite3.Error) -> EditloopError:
    """A write that failed: say why in words a user can act on (nothing was half-written)."""
    text = str(exc)
    hint = ""
    if "readonly" in text or "read-only" in text:
        hint = ": the data folder is read-only (check editloop.dataDir / EDITLOOP_HOME)"
    elif "full" in text:
        hint = ": the disk (or the database's size limit) is full; free some space"
    elif "locked" in text or "busy" in text:
        hint = ": another process held the database for too long; try again"
    return EditloopError(f"cannot write feedback.db ({text}){hint}; nothing was recorded")


def write_tx(db: Any) -> _immediate:
    """One write transaction (BEGIN IMMEDIATE) on ``db``: all rows commit together or none do."""
    return _immediate(db.conn)

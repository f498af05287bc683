"""Open the feedback database: checked (``PRAGMA quick_check``), WAL, foreign keys, a busy timeout,
migrations applied, new files 0600."""

from __future__ import annotations

import datetime as _dt
import logging
import os
import shlex
import sqlite3
import sys
from pathlib import Path

from typing import Any, Iterable, Iterator

from ..errors import EditloopError
from ..paths import DB_NAME, data_dir, ensure_private_dir

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


class DatabaseDamaged(EditloopError):
    """SQLite's own check found ``feedback.db`` damaged; Editloop leaves the file as it is."""

    def __init__(self, file: Path, problems: list[str]) -> None:
        self.file = Path(file)
        self.problems = problems
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        doctor = f"editloop --data-dir {shlex.quote(str(self.file.parent))} doctor"
        super().__init__(
            f"the database {file} is damaged (SQLite: {problems[0]}{more}); Editloop left it untouched and records "
            f"nothing in it. Run `{doctor}` for details, then `{doctor} --fresh-db` to move it aside and start a new one",
            code="damaged",
        )


def _is_damage(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


def check_integrity(file: str | os.PathLike, *, full: bool = False, max_errors: int = 10) -> list[str]:
    """SQLite's ``quick_check`` (``integrity_check`` with ``full``) of ``file``: ``[]`` when it is sound,
    else the problems found. Runs on a read-only connection, so the file is never written (not even
    a checkpoint of its WAL). Raises sqlite3.Error when the file cannot be read at all."""
    uri = Path(file).absolute().as_uri() + "?mode=ro"
    pragma = "integrity_check" if full else "quick_check"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        try:
            rows = [r[0] for r in conn.execute(f"PRAGMA {pragma}({int(max_errors)})")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if _is_damage(exc):
            return [str(exc)]
        raise
    if rows == ["ok"]:
        return []
    lines = [ln.strip() for r in rows for ln in str(r).splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("*** in database")]


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


def copy_database(src: str | os.PathLike, dest: str | os.PathLike) -> None:
    """A consistent copy of the database ``src`` into ``dest`` (SQLite's online backup: safe while
    another process holds ``src`` open and writes it; its WAL is included)."""
    source, target = sqlite3.connect(src), sqlite3.connect(dest)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _connect(file: str) -> sqlite3.Connection:
    conn = sqlite3.connect(file, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")  # deleted text is overwritten, not left in free pages
    return conn


# Files (device, inode) this process found sound: each is checked once per process, not at every
# open (training status polls open the database four times a second).
_sound: set[tuple[int, int]] = set()


def _file_key(file: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(file)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def integrity_error(file: str | os.PathLike) -> DatabaseDamaged | None:
    """:class:`DatabaseDamaged` if ``quick_check`` finds ``file`` damaged, else ``None`` (also when it
    does not exist or cannot be read: opening it reports that). Checks a file once per process; for
    a check run off the start-up path (see ``open_db(check=False)``)."""
    file = Path(file)
    key = _file_key(file)
    if key is None or key in _sound:
        return None
    try:
        problems = check_integrity(file)
    except sqlite3.Error as exc:  # not damage (busy, unreadable): opening it says what is wrong
        log.warning("could not check %s: %s", file, exc)
        return None
    if problems:
        return DatabaseDamaged(file, problems)
    _sound.add(key)
    return None


def open_db(path: str | os.PathLike | None = None, *, home_setting: str | None = None, check: bool = True) -> DB:
    """Open (creating and migrating) ``feedback.db``.

    ``path`` may be the database file or the data folder; by default the data folder is resolved by
    :func:`editloop.paths.data_dir`. An existing database is first checked with ``PRAGMA quick_check``
    (``check``; once per process and file; up to seconds on a large file, measured in
    docs/benchmarks.md): a damaged one raises :class:`DatabaseDamaged` and is not
    touched. ``check=False`` skips it, for a caller that runs :func:`integrity_error` off its
    start-up path instead (the language server). Files Editloop creates are 0600 (umask 077);
    existing ones keep their mode.
    """
    if path is None:
        file = data_dir(home_setting) / DB_NAME
    else:
        p = Path(path)
        file = p / DB_NAME if p.is_dir() or p.suffix == "" else p
        ensure_private_dir(file.parent)
    damaged = integrity_error(file) if check else None
    if damaged is not None:
        raise damaged
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
        if _is_damage(exc):
            raise DatabaseDamaged(file, [str(exc)]) from None
        raise EditloopError(f"cannot open database {file}: {exc}") from None
    finally:
        os.umask(old_umask)
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
    elif _is_damage(exc):
        hint = ": the database is damaged; run `editloop doctor` (its --fresh-db option moves it aside)"
    elif "locked" in text or "busy" in text:
        hint = ": another process held the database for too long; try again"
    return EditloopError(f"cannot write feedback.db ({text}){hint}; nothing was recorded")


def write_tx(db: Any) -> _immediate:
    """One write transaction (BEGIN IMMEDIATE) on ``db``: all rows commit together or none do."""
    return _immediate(db.conn)

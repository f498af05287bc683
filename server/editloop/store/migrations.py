"""Schema changes, append-only. Never edit a shipped migration: add a new one below.

The README's "Schema" table documents the resulting tables.
"""

from __future__ import annotations

from typing import Any, Callable

# (name, function) in order. sqlite-utils' Migrations applies them and records each in the
# `_sqlite_migrations` table; `PRAGMA user_version` mirrors the count so that opening an up-to-date
# database needs no sqlite-utils import (it imports pandas when installed: ~0.8 s on the server's start).
STEPS: list[tuple[str, Callable[[Any], None]]] = []


def step(fn: Callable[[Any], None]) -> Callable[[Any], None]:
    STEPS.append((fn.__name__, fn))
    return fn


def migrations() -> Any:
    from sqlite_utils import Migrations

    m = Migrations("editloop")
    for name, fn in STEPS:
        m(name=name)(fn)
    return m


@step
def m001_initial(db: Any) -> None:
    db.execute(
        """
        CREATE TABLE regions (
            id TEXT PRIMARY KEY,
            uri TEXT NOT NULL,
            workspace TEXT,
            artifact_type TEXT NOT NULL,
            language TEXT,
            prompt TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL DEFAULT '',
            model_version TEXT,
            original TEXT NOT NULL,
            current TEXT,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending','accepted','edited','rejected','lost')),
            start_line INTEGER, start_character INTEGER,
            end_line INTEGER, end_character INTEGER,
            client TEXT,
            redactions INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            resolved_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX regions_uri_status ON regions(uri, status)")
    db.execute("CREATE INDEX regions_status ON regions(status)")
    db.execute(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            region_id TEXT REFERENCES regions(id) ON DELETE CASCADE,
            action TEXT NOT NULL CHECK (action IN ('accept','edit','reject')),
            source TEXT NOT NULL CHECK (source IN ('explicit','implicit')),
            reason TEXT,
            uri TEXT,
            workspace TEXT,
            prompt TEXT NOT NULL DEFAULT '',
            original TEXT NOT NULL,
            final TEXT NOT NULL,
            artifact_type TEXT NOT NULL,
            language TEXT,
            model TEXT NOT NULL DEFAULT '',
            model_version TEXT,
            similarity REAL NOT NULL,
            indel_similarity REAL,
            bleu REAL,
            chrf REAL,
            embedding_similarity REAL,
            edit_spans TEXT,
            reward REAL NOT NULL,
            validation REAL,
            validation_messages TEXT,
            seconds_to_resolve REAL,
            redactions INTEGER NOT NULL DEFAULT 0,
            synthetic INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE UNIQUE INDEX events_region ON events(region_id) WHERE region_id IS NOT NULL")
    db.execute("CREATE INDEX events_created ON events(created_at)")
    db.execute("CREATE INDEX events_type_action ON events(artifact_type, action)")
    db.execute(
        """
        CREATE TABLE survival_checks (
            region_id TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
            after_seconds INTEGER NOT NULL,
            similarity REAL NOT NULL,
            present INTEGER NOT NULL,
            checked_at TEXT NOT NULL,
            PRIMARY KEY (region_id, after_seconds)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            method TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('queued','running','succeeded','failed','cancelled')),
            artifact_type TEXT,
            base_model TEXT NOT NULL DEFAULT '',
            adapter_path TEXT,
            batch_id TEXT,
            params TEXT,
            metrics TEXT,
            reason TEXT,
            error TEXT,
            pid INTEGER,
            promoted INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE batches (
            id TEXT PRIMARY KEY,
            artifact_type TEXT,
            method TEXT,
            components TEXT,
            params TEXT,
            counts TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE batch_rows (
            batch_id TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
            event_id INTEGER REFERENCES events(id) ON DELETE CASCADE,
            split TEXT NOT NULL,
            kind TEXT NOT NULL,
            weight REAL NOT NULL DEFAULT 1.0,
            synthetic INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    db.execute("CREATE INDEX batch_rows_batch ON batch_rows(batch_id)")
    db.execute(
        """
        CREATE TABLE embeddings (
            hash TEXT NOT NULL,
            model TEXT NOT NULL,
            dim INTEGER NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (hash, model)
        )
        """
    )


@step
def m002_edit_distance_and_rollup(db: Any) -> None:
    """The edit cost (Levenshtein distance, the benchmark's metric) per event, and `stats_rollup`:
    per-day aggregates kept by triggers in the same transaction as each event, so
    `editloop.stats` reads a few hundred rows instead of scanning every event."""
    db.execute("ALTER TABLE events ADD COLUMN edit_distance INTEGER")
    db.execute(
        """
        CREATE TABLE stats_rollup (
            day TEXT NOT NULL,
            artifact_type TEXT NOT NULL,
            action TEXT NOT NULL,
            model TEXT NOT NULL,
            model_version TEXT NOT NULL,
            reward_bin INTEGER NOT NULL,
            n INTEGER NOT NULL DEFAULT 0,
            sum_similarity REAL NOT NULL DEFAULT 0,
            sum_reward REAL NOT NULL DEFAULT 0,
            sum_edit_distance REAL NOT NULL DEFAULT 0,
            n_edit_distance INTEGER NOT NULL DEFAULT 0,
            sum_validation REAL NOT NULL DEFAULT 0,
            n_validation INTEGER NOT NULL DEFAULT 0,
            first_at TEXT,
            PRIMARY KEY (day, artifact_type, action, model, model_version, reward_bin)
        )
        """
    )
    key = (
        "substr({r}.created_at, 1, 10), {r}.artifact_type, {r}.action, COALESCE({r}.model, ''), "
        "COALESCE({r}.model_version, ''), MIN(MAX(CAST({r}.reward * 10 AS INTEGER), 0), 9)"
    )

    def add(r: str, sign: str) -> str:
        ensure = (
            f"INSERT INTO stats_rollup (day, artifact_type, action, model, model_version, reward_bin, first_at) "
            f"VALUES ({key.format(r=r)}, {r}.created_at) ON CONFLICT DO NOTHING;"
            if sign == "+"
            else ""
        )
        return f"""{ensure}
            UPDATE stats_rollup SET
                n = n {sign} 1,
                sum_similarity = sum_similarity {sign} {r}.similarity,
                sum_reward = sum_reward {sign} {r}.reward,
                sum_edit_distance = sum_edit_distance {sign} (CASE WHEN {r}.action != 'reject' THEN COALESCE({r}.edit_distance, 0) ELSE 0 END),
                n_edit_distance = n_edit_distance {sign} ({r}.edit_distance IS NOT NULL AND {r}.action != 'reject'),
                sum_validation = sum_validation {sign} COALESCE({r}.validation, 0),
                n_validation = n_validation {sign} ({r}.validation IS NOT NULL),
                first_at = MIN(COALESCE(first_at, {r}.created_at), {r}.created_at)
            WHERE (day, artifact_type, action, model, model_version, reward_bin) = ({key.format(r=r)});"""

    db.execute(f"CREATE TRIGGER events_rollup_insert AFTER INSERT ON events BEGIN {add('NEW', '+')} END")
    db.execute(f"CREATE TRIGGER events_rollup_delete AFTER DELETE ON events BEGIN {add('OLD', '-')} DELETE FROM stats_rollup WHERE n <= 0; END")
    db.execute(
        "CREATE TRIGGER events_rollup_update AFTER UPDATE OF similarity, reward, validation, edit_distance, action, "
        f"artifact_type, model, model_version, created_at ON events BEGIN {add('OLD', '-')} {add('NEW', '+')} "
        "DELETE FROM stats_rollup WHERE n <= 0; END"
    )

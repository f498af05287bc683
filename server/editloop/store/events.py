"""The ``events`` table: reads for curation, training, generation and the CLI, and bulk writes.

An event is written with its region by :meth:`Store.record_outcome` (redacted, one transaction),
which calls :func:`insert`, :func:`find` and :func:`of_region` on the bare DB under its own lock:
those read an event as a dict keyed by column, as capture passes it on. The other functions are
the queries the other layers ask, each named for what it answers. Reads that may return every
event (curation's) give :class:`EventRow` records, or the caller's subclass of it, built straight
from SQLite's row tuples: 100,000 events load in a fraction of a second.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from itertools import starmap
from typing import TYPE_CHECKING, Any, Iterable, Iterator, NamedTuple, Sequence, TypeVar

from .db import DB, write_tx

if TYPE_CHECKING:  # store.py calls the row functions below: no import cycle at run time
    from .store import Store

CHUNK = 500  # ids per ``IN (...)`` list, well below SQLite's variable limit


@dataclass(slots=True)
class EventRow:
    """An event as curation reads it. ``ts`` is ``created_at`` in Unix seconds (to the millisecond,
    as ``created_at`` is written; 0.0 if unreadable); ``rewritten``: the final text is the user's
    own (non-empty, different from the original). Mutable, not frozen: curation subclasses it
    (:class:`editloop.curation.events.Ev`) and fills in the texts of rows read without them."""

    id: int
    action: str
    source: str
    artifact_type: str
    language: str | None
    prompt: str
    original: str
    final: str
    similarity: float
    reward: float
    validation: float | None
    validation_messages: str | None
    edit_spans: str | None
    synthetic: bool
    created_at: str
    ts: float
    original_len: int
    rewritten: bool

    def __post_init__(self) -> None:
        """SQLite gives 0 or 1 for the flags, and ``ts`` with the float noise of ``julianday``."""
        self.synthetic, self.rewritten, self.ts = bool(self.synthetic), bool(self.rewritten), round(self.ts or 0.0, 3)


R = TypeVar("R", bound=EventRow)


class EventTexts(NamedTuple):
    id: int
    original: str
    final: str


class EventKind(NamedTuple):
    """What training needs to know of an event behind a row. ``rewritten``: a reject whose final
    text is the user's own (non-empty, different from the original)."""

    action: str
    language: str | None
    artifact_type: str
    rewritten: bool = False


class Example(NamedTuple):
    """A past prompt and the text the user kept for it."""

    prompt: str
    final: str


@dataclass(frozen=True)
class Activity:
    """Events recorded after a moment: how many, and their mean reward (``None`` when none)."""

    count: int
    mean_reward: float | None


@dataclass(frozen=True)
class RecentEvent:
    id: int
    action: str
    source: str
    artifact_type: str
    similarity: float
    reward: float
    original: str
    final: str


@dataclass(frozen=True)
class NewEvent:
    """An event written without a region and without scoring (benchmarks fill a database with them)."""

    action: str
    source: str
    prompt: str
    original: str
    final: str
    artifact_type: str
    similarity: float
    reward: float
    edit_distance: int | None
    created_at: str
    region_id: str | None = None
    uri: str | None = None
    model: str = ""
    validation: float | None = None


_COLUMNS = (
    "e.id, e.action, e.source, e.artifact_type, e.language, COALESCE(e.prompt, ''), {texts}, "
    "COALESCE(e.similarity, 0.0), COALESCE(e.reward, 0.0), e.validation, e.validation_messages, e.edit_spans, "
    "e.synthetic != 0, e.created_at, (julianday(e.created_at) - 2440587.5) * 86400.0, "
    "COALESCE(length(e.original), 0), (trim(e.final) != '' AND e.final != e.original) IS 1"
)
_TEXTS = "COALESCE(e.original, ''), COALESCE(e.final, '')"
# Without texts, only a prompt-less event's original is read (it names the event's split group).
_NO_TEXTS = "CASE WHEN trim(e.prompt) = '' THEN COALESCE(e.original, '') ELSE '' END, ''"
_ELIGIBLE = "FROM events e LEFT JOIN regions r ON r.id = e.region_id WHERE (r.status IS NULL OR r.status != 'lost')"


def insert(db: DB, row: dict[str, Any]) -> int:
    """Insert an event row (the caller holds the lock and the transaction); its id."""
    return db.insert("events", row)


# What a reject's rewrite replaces: its final text and every signal computed from it.
REWRITE_COLUMNS = frozenset({
    "final", "reason", "similarity", "indel_similarity", "bleu", "chrf", "edit_spans", "validation", "validation_messages",
    "reward", "edit_distance", "redactions", "embedding_similarity",
})


def set_rewrite(db: DB, event_id: int, fields: dict[str, Any]) -> bool:
    """Give a reject its rewrite (the caller holds the lock and the transaction); False when the
    event is not a reject."""
    unknown = set(fields) - REWRITE_COLUMNS
    if unknown:
        raise ValueError(f"not a rewrite column: {', '.join(sorted(unknown))}")
    assignments = ", ".join(f"{name} = ?" for name in fields)
    cur = db.conn.execute(f"UPDATE events SET {assignments} WHERE id = ? AND action = 'reject'", [*fields.values(), event_id])
    return cur.rowcount == 1


def find(db: DB, event_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM events WHERE id = ?", [event_id]))
    return rows[0] if rows else None


def of_region(db: DB, region_id: str) -> dict[str, Any] | None:
    """The event recorded for ``region_id`` (a region has at most one)."""
    rows = list(db.query("SELECT * FROM events WHERE region_id = ?", [region_id]))
    return rows[0] if rows else None


def _rows(store: Store, sql: str, args: Sequence[object], make: type[R]) -> list[R]:
    with store.lock:
        return list(starmap(make, store.db.conn.execute(sql, list(args))))


def for_training(store: Store, artifact_type: str | None = None, *, texts: bool = True,
                 make: type[R] = EventRow) -> list[R]:
    """Every event that may be used for training, oldest first: events of ``lost`` regions never
    (their outcome is unknown). ``texts=False`` leaves ``original``/``final`` empty (but for a
    prompt-less event's original), so that a large table loads fast. ``make``: the record class
    (:class:`EventRow` or a subclass that adds defaulted fields)."""
    sql = f"SELECT {_COLUMNS.format(texts=_TEXTS if texts else _NO_TEXTS)} {_ELIGIBLE}"
    args: list[object] = []
    if artifact_type:
        sql += " AND e.artifact_type = ?"
        args.append(artifact_type)
    return _rows(store, sql + " ORDER BY e.created_at, e.id", args, make)


def failures(store: Store, artifact_type: str | None = None, *, failure_reward: float, limit: int,
             make: type[R] = EventRow) -> list[R]:
    """The newest ``limit`` eligible failures (rejects, or reward below ``failure_reward``), newest
    first, as ``make`` records (see :func:`for_training`)."""
    sql = f"SELECT {_COLUMNS.format(texts=_TEXTS)} {_ELIGIBLE} AND (e.action = 'reject' OR e.reward < ?)"
    args: list[object] = [failure_reward]
    if artifact_type:
        sql += " AND e.artifact_type = ?"
        args.append(artifact_type)
    return _rows(store, sql + " ORDER BY e.created_at DESC LIMIT ?", [*args, limit], make)


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i : i + CHUNK])


def texts(store: Store, ids: Iterable[int]) -> dict[int, EventTexts]:
    """The original and final text of each of ``ids`` that exists."""
    out: dict[int, EventTexts] = {}
    with store.lock:
        for chunk in _chunks(sorted(set(ids))):
            q = ",".join("?" * len(chunk))
            for row in store.db.conn.execute(f"SELECT id, original, final FROM events WHERE id IN ({q})", chunk):
                out[row[0]] = EventTexts(row[0], row[1] or "", row[2] or "")
    return out


def kinds(store: Store, ids: Iterable[int]) -> dict[int, EventKind]:
    """Action, language, artifact type and whether it is a rewritten reject, of each of ``ids`` that exists."""
    out: dict[int, EventKind] = {}
    with store.lock:
        for chunk in _chunks(sorted(set(ids))):
            q = ",".join("?" * len(chunk))
            sql = ("SELECT id, action, language, artifact_type, (action = 'reject' AND trim(final) != '' AND final != original) IS 1 "
                   f"FROM events WHERE id IN ({q})")
            for row in store.db.conn.execute(sql, chunk):
                out[row[0]] = EventKind(row[1], row[2], row[3], bool(row[4]))
    return out


def count(store: Store) -> int:
    """How many events the database holds (every type, lost regions' included)."""
    with store.lock:
        return store.db.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]


def since(store: Store, created_after: str | None) -> Activity:
    """Events created after ``created_after`` (an ISO time; ``None``: all of them)."""
    with store.lock:
        n, mean = store.db.conn.execute(
            "SELECT COUNT(*), AVG(reward) FROM events WHERE created_at > COALESCE(?, '')", [created_after]
        ).fetchone()
    return Activity(n, mean)


def kept_examples(store: Store, artifact_type: str, *, limit: int = 2000) -> list[Example]:
    """The newest ``limit`` real (not synthetic) accepted or edited events of ``artifact_type``
    that have a prompt, newest first."""
    with store.lock:
        rows = store.db.conn.execute(
            "SELECT prompt, final FROM events WHERE artifact_type = ? AND action IN ('edit', 'accept') AND synthetic = 0 "
            "AND prompt != '' ORDER BY id DESC LIMIT ?",
            [artifact_type, limit],
        ).fetchall()
    return [Example._make(r) for r in rows]


def latest(store: Store, n: int) -> list[RecentEvent]:
    """The ``n`` most recently recorded events, newest first."""
    with store.lock:
        rows = store.db.conn.execute(
            "SELECT id, action, source, artifact_type, similarity, reward, original, final FROM events ORDER BY id DESC LIMIT ?",
            [int(n)],
        ).fetchall()
    return [RecentEvent(*r) for r in rows]


def lacking_embedding_similarity(store: Store, limit: int) -> list[EventTexts]:
    """Up to ``limit`` events whose ``embedding_similarity`` is not filled yet, oldest first."""
    with store.lock:
        rows = store.db.conn.execute(
            "SELECT id, original, final FROM events WHERE embedding_similarity IS NULL ORDER BY id LIMIT ?", [limit]
        ).fetchall()
    return [EventTexts._make(r) for r in rows]


def set_embedding_similarity(store: Store, values: Iterable[tuple[int, float]]) -> None:
    """Store ``(event id, similarity)`` pairs, in one transaction."""
    rows = [(similarity, event_id) for event_id, similarity in values]
    with store.lock, write_tx(store.db):
        store.db.conn.executemany("UPDATE events SET embedding_similarity = ? WHERE id = ?", rows)


def insert_many(store: Store, events: Iterable[NewEvent]) -> None:
    """Write ``events`` as they are (no redaction, no region), in one transaction."""
    rows = [astuple(e) for e in events]
    with store.lock, write_tx(store.db):
        store.db.conn.executemany(
            "INSERT INTO events(action, source, prompt, original, final, artifact_type, similarity, reward, edit_distance, "
            "created_at, region_id, uri, model, validation) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )


def scored_counts(store: Store) -> dict[str, int]:
    """How many events there are, and how many carry BLEU and a validation score (benchmarks check
    that scoring reached every event)."""
    with store.lock:
        total, bleu, validation = store.db.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(bleu IS NOT NULL), 0), COALESCE(SUM(validation IS NOT NULL), 0) FROM events"
        ).fetchone()
    return {"events": total, "bleu": bleu, "validation": validation}

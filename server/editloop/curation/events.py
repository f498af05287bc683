"""Load the events that may enter training, and the text normalizations every component shares.

One SQL query reads every eligible event: events of regions marked ``lost`` are never eligible
(their outcome is unknown). Everything downstream works on :class:`Ev` records in memory.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from ..store import Store

# ASCII punctuation and control characters become spaces; letters and digits (any script) stay.
_NON_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})


@dataclass(slots=True)
class Ev:
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
    ts: float = 0.0
    norm_prompt: str = ""
    group: str = ""  # split group: events with near-identical prompts share it
    split: str = ""  # "train", "validation", or "none" (synthetic event of a validation group)
    original_len: int = 0
    rewritten: bool = False  # a reject whose final text is the user's own (non-empty, different)
    has_texts: bool = True  # False until fill_texts() when loaded with texts=False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def positive_text(self) -> str | None:
        """The text the user kept (accept/edit), or None."""
        return self.final if self.action in ("accept", "edit") else None


_COLUMNS = (
    "e.id, e.action, e.source, e.artifact_type, e.language, e.prompt, {texts}, e.similarity, "
    "e.reward, e.validation, e.validation_messages, e.edit_spans, e.synthetic, e.created_at, "
    "(julianday(e.created_at) - 2440587.5) * 86400.0, length(e.original), "
    "(trim(e.final) != '' AND e.final != e.original)"
)
_TEXTS = "e.original, e.final"
# Without texts, only a prompt-less event's original is read (it names the event's split group).
_NO_TEXTS = "CASE WHEN trim(e.prompt) = '' THEN e.original ELSE '' END, ''"


def load_events(store: Store, artifact_type: str | None = None, *, texts: bool = True) -> list[Ev]:
    """Every event that may be used for training, oldest first (lost regions excluded).

    ``texts=False`` leaves ``original`` / ``final`` empty (``has_texts`` False) so that 100,000
    events load in a fraction of the time; :func:`fill_texts` reads them for the events in use.
    """
    sql = (
        f"SELECT {_COLUMNS.format(texts=_TEXTS if texts else _NO_TEXTS)} FROM events e "
        "LEFT JOIN regions r ON r.id = e.region_id WHERE (r.status IS NULL OR r.status != 'lost')"
    )
    args: list[Any] = []
    if artifact_type:
        sql += " AND e.artifact_type = ?"
        args.append(artifact_type)
    sql += " ORDER BY e.created_at, e.id"
    with store.lock:
        rows = store.db.conn.execute(sql, args).fetchall()
    out = []
    norm_cache: dict[str, str] = {}
    for r in rows:
        prompt = r[5] or ""
        norm = norm_cache.get(prompt)
        if norm is None:
            norm = norm_cache[prompt] = normalize_prompt(prompt)
        out.append(Ev(r[0], r[1], r[2], r[3], r[4], prompt, r[6] or "", r[7] or "", float(r[8] or 0.0),
                      float(r[9] or 0.0), r[10], r[11], r[12], bool(r[13]), r[14], round(r[15] or 0.0, 3), norm,
                      original_len=r[16] or 0, rewritten=bool(r[17]), has_texts=texts))
    return out


def fill_texts(store: Store, events: list[Ev]) -> list[Ev]:
    """Read ``original`` and ``final`` for the events loaded without them; returns ``events``."""
    todo = {ev.id: ev for ev in events if not ev.has_texts}
    ids = sorted(todo)
    with store.lock:
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            q = ",".join("?" * len(chunk))
            for eid, original, final in store.db.conn.execute(f"SELECT id, original, final FROM events WHERE id IN ({q})", chunk):
                ev = todo[eid]
                ev.original, ev.final, ev.has_texts = original or "", final or "", True
    return events


def normalize_prompt(text: str) -> str:
    """Lower case, words only: prompts that differ in case, spacing or punctuation are one prompt."""
    return " ".join(text.lower().translate(_NON_WORD).split())


def normalize_text(text: str) -> str:
    """Whitespace-insensitive form of an output (whitespace-only edits compare equal)."""
    return " ".join(text.split())


def stable_hash(text: str) -> int:
    """A hash that is the same in every process (Python's ``hash`` of str is salted)."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


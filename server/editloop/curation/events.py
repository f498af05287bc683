"""Load the events that may enter training, and the text normalizations every component shares.

One query (:func:`editloop.store.events.for_training`) reads every eligible event: events of
regions marked ``lost`` are never eligible (their outcome is unknown). Everything downstream
works on :class:`Ev` records in memory.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from ..store import Store
from ..store import events as event_table
from ..store.events import EventRow

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

    @classmethod
    def from_row(cls, r: EventRow, norm_prompt: str = "", *, has_texts: bool = True) -> "Ev":
        """The in-memory event for a row of :func:`editloop.store.events.for_training`."""
        (id_, action, source, artifact_type, language, prompt, original, final, similarity, reward, validation,
         validation_messages, edit_spans, synthetic, created_at, ts, original_len, rewritten) = r  # unpacked: fast
        return cls(id_, action, source, artifact_type, language, prompt, original, final, similarity, reward, validation,
                   validation_messages, edit_spans, bool(synthetic), created_at, round(ts or 0.0, 3), norm_prompt,
                   original_len=original_len, rewritten=bool(rewritten), has_texts=has_texts)


def load_events(store: Store, artifact_type: str | None = None, *, texts: bool = True) -> list[Ev]:
    """Every event that may be used for training, oldest first (lost regions excluded).

    ``texts=False`` leaves ``original`` / ``final`` empty (``has_texts`` False) so that 100,000
    events load in a fraction of the time; :func:`fill_texts` reads them for the events in use.
    """
    out = []
    norm_cache: dict[str, str] = {}
    make = Ev.from_row  # bound once: this loop runs once per event
    for r in event_table.for_training(store, artifact_type, texts=texts):
        norm = norm_cache.get(r.prompt)
        if norm is None:
            norm = norm_cache[r.prompt] = normalize_prompt(r.prompt)
        out.append(make(r, norm, has_texts=texts))
    return out


def fill_texts(store: Store, events: list[Ev]) -> list[Ev]:
    """Read ``original`` and ``final`` for the events loaded without them; returns ``events``."""
    todo = {ev.id: ev for ev in events if not ev.has_texts}
    for eid, original, final in event_table.texts(store, todo).values():
        ev = todo[eid]
        ev.original, ev.final, ev.has_texts = original, final, True
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


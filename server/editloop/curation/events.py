"""Load the events that may enter training, and the text normalizations every component shares.

One query (:func:`editloop.store.events.for_training`) reads every eligible event: events of
regions marked ``lost`` are never eligible (their outcome is unknown). Everything downstream
works on :class:`Ev` records in memory: the store's :class:`~editloop.store.events.EventRow`
(which owns the event's columns) plus what curation derives and assigns.
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
class Ev(EventRow):
    """An eligible event as curation works on it; the store builds it (``make=Ev``)."""

    norm_prompt: str = ""  # set by load_events: normalize_prompt(prompt)
    group: str = ""  # split group: events with near-identical prompts share it
    split: str = ""  # "train", "validation", or "none" (synthetic event of a validation group)
    has_texts: bool = True  # False until fill_texts() when loaded with texts=False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def positive_text(self) -> str | None:
        """The text the user kept (accept/edit), or None."""
        return self.final if self.action in ("accept", "edit") else None


def load_events(store: Store, artifact_type: str | None = None, *, texts: bool = True) -> list[Ev]:
    """Every event that may be used for training, oldest first (lost regions excluded).

    ``texts=False`` leaves ``original`` / ``final`` empty (``has_texts`` False) so that 100,000
    events load in a fraction of the time; :func:`fill_texts` reads them for the events in use.
    """
    events = event_table.for_training(store, artifact_type, texts=texts, make=Ev)
    norm_cache: dict[str, str] = {}
    for ev in events:
        norm = norm_cache.get(ev.prompt)
        if norm is None:
            norm = norm_cache[ev.prompt] = normalize_prompt(ev.prompt)
        ev.norm_prompt, ev.has_texts = norm, texts
    return events


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


"""Train/validation split: grouped, stratified by artifact type, time-aware, and stable across runs.

- **Grouped**: all events of one prompt group (:mod:`.groups`) land on the same side.
- **Stable**: the first batch that sees an event records its side (a ``batch_rows`` row with
  ``kind = 'assign'``); later builds reuse it, so every run is validated on the same events.
  A group whose events were recorded on both sides (two groups merged by a new near-duplicate
  prompt) goes to validation as a whole: the validation set only ever grows.
- **Time-aware and stratified**: groups never assigned before are ordered newest first, per
  artifact type, and go to validation while that type's validation share is below
  ``val_fraction`` (and under ``val_max_per_type``); a type with fewer than ``val_min_events``
  groups gets no validation yet. On a first build the validation set is thus the newest events.
- **Synthetic events never validate**: in a validation group they are left out ("none").
"""

from __future__ import annotations

from collections import defaultdict

from .config import CurationConfig
from .events import Ev, stable_hash

TRAIN, VALIDATION, NONE = "train", "validation", "none"


def assign_splits(events: list[Ev], recorded: dict[int, str], config: CurationConfig) -> list[Ev]:
    """Set ``ev.split`` for every event; return the real events assigned for the first time."""
    groups: dict[str, list[Ev]] = defaultdict(list)
    for ev in events:
        groups[ev.group].append(ev)
    side: dict[str, str] = {}
    fresh: dict[str, list[str]] = defaultdict(list)  # artifact type -> new groups
    for key, members in groups.items():
        prior = {recorded[e.id] for e in members if e.id in recorded}
        if VALIDATION in prior:
            side[key] = VALIDATION
        elif prior:
            side[key] = TRAIN
        else:
            fresh[members[0].artifact_type].append(key)

    real_count: dict[str, int] = defaultdict(int)
    group_count: dict[str, int] = defaultdict(int)
    val_count: dict[str, int] = defaultdict(int)
    for key, members in groups.items():
        at = members[0].artifact_type
        n_real = sum(1 for e in members if not e.synthetic)
        real_count[at] += n_real
        group_count[at] += 1 if n_real else 0
        if side.get(key) == VALIDATION:
            val_count[at] += n_real

    for at, keys in fresh.items():
        target = min(config.val_max_per_type, round(config.val_fraction * real_count[at]))
        if group_count[at] < config.val_min_events:
            target = 0
        newest = {k: max(e.ts for e in groups[k]) for k in keys}
        keys.sort(key=lambda k: (-newest[k], stable_hash(k)))
        for k in keys:
            n_real = sum(1 for e in groups[k] if not e.synthetic)
            if n_real and val_count[at] < target:
                side[k] = VALIDATION
                val_count[at] += n_real
            else:
                side[k] = TRAIN

    new: list[Ev] = []
    for key, members in groups.items():
        s = side[key]
        for ev in members:
            ev.split = NONE if (s == VALIDATION and ev.synthetic) else s
            if not ev.synthetic and recorded.get(ev.id) != ev.split:
                new.append(ev)
    return new

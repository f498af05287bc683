"""Exact and near-duplicate removal, and the train/validation leakage check.

- Exact duplicates: same artifact type, normalized prompt, action, original and final text.
- Near duplicates: same prompt group (near-identical prompts), same action, and outputs equal up to
  whitespace and case. Of each set of duplicates the newest event is kept.

:func:`check_leakage` is the last step of every batch: it raises :class:`LeakageError` if a
validation row shares a prompt group, a normalized prompt or a prompt+completion with a train row,
or if a synthetic row reached validation. It never "fixes" anything silently.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..errors import EditloopError
from .events import Ev, normalize_text


class LeakageError(EditloopError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="leakage")


def dedupe(events: list[Ev], *, near: bool = True) -> tuple[list[Ev], dict[str, int]]:
    """Drop duplicates, keeping the newest of each; order of the survivors is preserved."""
    seen_exact: set[tuple] = set()
    seen_near: set[tuple] = set()
    keep = [True] * len(events)
    exact = near_n = 0
    for i in range(len(events) - 1, -1, -1):
        ev = events[i]
        k = (ev.artifact_type, ev.norm_prompt, ev.action, ev.original, ev.final)
        if k in seen_exact:
            keep[i] = False
            exact += 1
            continue
        seen_exact.add(k)
        if near:
            nk = (ev.group, ev.action, normalize_text(ev.original).lower(), normalize_text(ev.final).lower())
            if nk in seen_near:
                keep[i] = False
                near_n += 1
                continue
            seen_near.add(nk)
    kept = [ev for ev, k in zip(events, keep) if k]
    return kept, {"exact": exact, "near": near_n}


def _completion_text(row: dict[str, Any]) -> str:
    for col in ("completion", "chosen"):
        if col in row:
            return row[col][-1]["content"]
    return ""


def check_leakage(train: Iterable[tuple[dict[str, Any], dict[str, Any]]], val: Iterable[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """``train`` and ``val`` yield ``(row, meta)``; meta has ``group``, ``norm_prompt``, ``artifact_type``, ``synthetic``."""
    val = list(val)
    bad_syn = [m.get("event_id") for _, m in val if m.get("synthetic")]
    if bad_syn:
        raise LeakageError(f"synthetic rows reached validation (events {bad_syn[:5]})")
    val_groups = {m["group"] for _, m in val}
    val_prompts = {(m["artifact_type"], m["norm_prompt"]) for _, m in val if m["norm_prompt"]}
    val_pairs = {(m["norm_prompt"], normalize_text(_completion_text(r))) for r, m in val}
    for row, m in train:
        if m["group"] in val_groups:
            raise LeakageError(f"train row from event {m.get('event_id')} shares prompt group {m['group'][:80]!r} with validation")
        if m["norm_prompt"] and (m["artifact_type"], m["norm_prompt"]) in val_prompts:
            raise LeakageError(f"train row from event {m.get('event_id')} has a validation prompt")
        if (m["norm_prompt"], normalize_text(_completion_text(row))) in val_pairs:
            raise LeakageError(f"train row from event {m.get('event_id')} repeats a validation prompt and completion")

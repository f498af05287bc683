"""Events -> rows in TRL's conversational column names, exactly.

- SFT ``{"prompt": messages, "completion": [assistant(final)]}`` from accepts and edits (and, with
  ``reject_rewrites_as_positive``, from a reject whose final text is the user's own rewrite).
- DPO ``{"prompt", "chosen": [assistant(final)], "rejected": [assistant(original)]}`` from edits
  that change at least ``min_edit_chars`` non-whitespace characters (no pairs from whitespace
  fixes), plus cross-event pairs: a kept output vs a rejected output for the same prompt group.
- KTO ``{"prompt", "completion", "label"}``: accept -> original True; edit -> final True and
  original False; reject -> original False (and its rewrite True when there is one).

Rejected events with no final text only ever contribute negatives. Every row comes with a
``meta`` dict (event ids, weight, group, ...) kept in a parallel list, never as a column: TRL's
trainers drop unknown columns only when ``remove_unused_columns`` is on, and export files stay
plain TRL datasets.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rapidfuzz.distance import Levenshtein

from .config import CurationConfig
from .events import Ev
from .format import assistant, messages
from .weights import row_weight

Row = dict[str, Any]
Meta = dict[str, Any]
METHODS = ("sft", "dpo", "kto")


def _squash(text: str) -> str:
    return "".join(text.split())


def is_real_edit(original: str, final: str, min_chars: int) -> bool:
    """True when the edit changes at least ``min_chars`` characters other than whitespace."""
    if original == final:
        return False
    a, b = _squash(original), _squash(final)
    if a == b:
        return False
    return Levenshtein.distance(a, b, score_cutoff=max(0, min_chars - 1)) >= min_chars


def positive_text(ev: Ev, config: CurationConfig) -> str | None:
    if ev.action == "accept" or ev.action == "edit":
        return ev.final or None
    if config.reject_rewrites_as_positive and ev.final.strip() and is_real_edit(ev.original, ev.final, config.min_edit_chars):
        return ev.final
    return None


def negative_text(ev: Ev, config: CurationConfig) -> str | None:
    if ev.action == "reject":
        return ev.original or None
    if ev.action == "edit" and is_real_edit(ev.original, ev.final, config.min_edit_chars):
        return ev.original
    return None


def _meta(ev: Ev, kind: str, weight: float, **more: Any) -> Meta:
    m = {
        "event_id": ev.id,
        "kind": kind,
        "weight": weight,
        "synthetic": ev.synthetic,
        "group": ev.group,
        "norm_prompt": ev.norm_prompt,
        "artifact_type": ev.artifact_type,
    }
    m.update(more)
    return m


def build_rows(
    events: list[Ev], config: CurationConfig, now: float, *, cross_pairs: bool | None = None, with_meta: bool = True,
    methods: tuple[str, ...] = METHODS,
) -> dict[str, list[tuple[Row, Meta | None]]]:
    """Rows for ``methods`` from ``events`` (one split's events); ``with_meta=False`` skips weights
    and metadata (export). Methods not asked for get empty lists."""
    out: dict[str, list[tuple[Row, Meta | None]]] = {m: [] for m in METHODS}
    want_sft, want_dpo, want_kto = ("sft" in methods), ("dpo" in methods), ("kto" in methods)
    need_neg = want_dpo or want_kto
    cross = want_dpo and (config.cross_pairs if cross_pairs is None else cross_pairs)
    pos_by_group: dict[str, list[tuple[Ev, str]]] = defaultdict(list)
    neg_by_group: dict[str, list[tuple[Ev, str]]] = defaultdict(list)
    prompts: dict[tuple, list[dict[str, str]]] = {}
    for ev in events:
        key = (ev.artifact_type, ev.prompt, ev.language)
        prompt = None if with_meta else prompts.get(key)  # export shares one list per prompt; batches never do
        if prompt is None:
            prompt = prompts[key] = messages(ev.artifact_type, ev.prompt, ev.language)
        pos = positive_text(ev, config)
        neg = negative_text(ev, config) if need_neg else None
        if pos is not None:
            completion = assistant(pos)
            m_sft = m_kto = None
            if with_meta:
                w = row_weight(ev, user_text=ev.action != "accept", good=True, now=now, config=config)
                m_sft, m_kto = _meta(ev, "sft", w), _meta(ev, "kto_pos", w)
            if want_sft:
                out["sft"].append(({"prompt": prompt, "completion": completion}, m_sft))
            if want_kto:
                out["kto"].append(({"prompt": prompt, "completion": completion, "label": True}, m_kto))
            if cross:
                pos_by_group[ev.group].append((ev, pos))
        if neg is not None:
            if want_kto:
                m = _meta(ev, "kto_neg", row_weight(ev, user_text=False, good=False, now=now, config=config)) if with_meta else None
                out["kto"].append(({"prompt": prompt, "completion": assistant(neg), "label": False}, m))
            if cross and ev.action == "reject":
                neg_by_group[ev.group].append((ev, neg))
        if want_dpo and pos is not None and neg is not None:
            m = _meta(ev, "dpo", row_weight(ev, user_text=True, good=True, now=now, config=config)) if with_meta else None
            out["dpo"].append(({"prompt": prompt, "chosen": assistant(pos), "rejected": assistant(neg)}, m))
    if cross:
        out["dpo"].extend(_cross_pairs(pos_by_group, neg_by_group, config, now, with_meta))
    return out


def _cross_pairs(pos_by_group, neg_by_group, config: CurationConfig, now: float, with_meta: bool = True) -> list[tuple[Row, Meta | None]]:
    """Kept output of one event vs a rejected output of another event with a near-identical prompt."""
    pairs = []
    for group, negs in neg_by_group.items():
        poss = pos_by_group.get(group)
        if not poss:
            continue
        made = 0
        for pev, ptext in reversed(poss):  # newest kept outputs first
            if made >= config.max_cross_pairs_per_group:
                break
            for nev, ntext in reversed(negs):
                if made >= config.max_cross_pairs_per_group:
                    break
                if nev.id == pev.id or nev.action != "reject" or not is_real_edit(ntext, ptext, config.min_edit_chars):
                    continue
                row = {
                    "prompt": messages(pev.artifact_type, pev.prompt, pev.language),
                    "chosen": assistant(ptext),
                    "rejected": assistant(ntext),
                }
                meta = None
                if with_meta:
                    w = min(row_weight(pev, user_text=pev.action != "accept", good=True, now=now, config=config),
                            row_weight(nev, user_text=False, good=False, now=now, config=config))
                    meta = _meta(pev, "dpo_cross", w, rejected_event_id=nev.id, synthetic=pev.synthetic or nev.synthetic)
                pairs.append((row, meta))
                made += 1
    return pairs

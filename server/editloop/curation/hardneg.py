"""Hard-negative mining: cluster failures by what went wrong, and surface the biggest clusters.

A failure is a reject or an event whose reward is below ``failure_reward``. Its *kind* is:

- ``invalid: <message>`` when the validator left a message (numbers and quoted names masked,
  so "syntax error at line 3" and "... at line 9" are one kind);
- otherwise the categories of the edited lines (line diff of original vs final):
  ``whitespace``, ``naming-case`` (same text up to case), ``naming-style`` (same up to case and
  ``_``/punctuation: ``customerId`` -> ``customer_id``), ``added-lines``, ``removed-lines``,
  ``changed-lines``, joined with ``+``;
- ``rejected`` (``rejected-invalid`` when validation < 50) for a reject with nothing else known.

Clusters are ``(artifact type, kind)``. The batch builder oversamples the members of the top
clusters as DPO/KTO negatives; :func:`failure_clusters` answers ``stats``.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from typing import Any, Sequence

from rapidfuzz.distance import Levenshtein

from ..store import Store
from ..store import events as event_table
from .events import Ev

_NUM = re.compile(r"\d+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_SEP = re.compile(r"[\W_]+")


def is_failure(ev: Ev, failure_reward: float) -> bool:
    return ev.action == "reject" or ev.reward < failure_reward


def _message(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    if isinstance(value, dict):
        value = value.get("message") or value.get("msg") or next(iter(value.values()), "")
    text = str(value or "").strip().lower()
    if not text:
        return None
    text = _QUOTED.sub("'_'", _NUM.sub("#", text))
    return text[:80]


def edit_categories(original: str, final: str) -> str:
    a, b = original.splitlines(), final.splitlines()
    cats: set[str] = set()
    for op in Levenshtein.opcodes(a, b):  # over lines (rapidfuzz compares any hashable sequence)
        tag, i1, i2, j1, j2 = op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end
        if tag == "insert":
            cats.add("added-lines")
        elif tag == "delete":
            cats.add("removed-lines")
        elif tag == "replace":
            for x, y in zip(a[i1:i2], b[j1:j2]):
                if x.split() == y.split():
                    cats.add("whitespace")
                elif x.lower().split() == y.lower().split():
                    cats.add("naming-case")
                elif _SEP.sub("", x.lower()) == _SEP.sub("", y.lower()):
                    cats.add("naming-style")
                else:
                    cats.add("changed-lines")
            if i2 - i1 > j2 - j1:
                cats.add("removed-lines")
            elif j2 - j1 > i2 - i1:
                cats.add("added-lines")
    return "+".join(sorted(cats)) or "unchanged"


def failure_kind(ev: Ev) -> str:
    msg = _message(ev.validation_messages)
    if msg:
        return f"invalid: {msg}"
    if ev.action == "edit" or (ev.action == "reject" and ev.final.strip() and ev.final != ev.original):
        return edit_categories(ev.original, ev.final)
    if ev.validation is not None and ev.validation < 50:
        return "rejected-invalid"
    return "rejected"


def cluster_failures(events: Sequence[Ev], failure_reward: float) -> list[dict[str, Any]]:
    """Failure clusters, largest first: ``{artifactType, kind, count, share, eventIds}``."""
    members: dict[tuple[str, str], list[int]] = defaultdict(list)
    for ev in events:
        if is_failure(ev, failure_reward):
            members[(ev.artifact_type, failure_kind(ev))].append(ev.id)
    total = sum(len(v) for v in members.values()) or 1
    out = [
        {"artifactType": at, "kind": kind, "count": len(ids), "share": round(len(ids) / total, 4), "eventIds": ids}
        for (at, kind), ids in members.items()
    ]
    out.sort(key=lambda c: (-c["count"], c["artifactType"], c["kind"]))
    return out


def hard_negative_ids(clusters: Sequence[dict[str, Any]], top: int) -> set[int]:
    """Ids of the failures in the ``top`` largest of each artifact type's ``clusters`` (from
    :func:`cluster_failures`, largest first)."""
    by_type: dict[str, int] = Counter()
    out: set[int] = set()
    for c in clusters:
        if by_type[c["artifactType"]] < top:
            by_type[c["artifactType"]] += 1
            out.update(c["eventIds"])
    return out


def failure_clusters(store: Store, artifact_type: str | None = None, *, limit: int = 10, max_events: int = 5000,
                     failure_reward: float = 0.3) -> list[dict[str, Any]]:
    """The top failure clusters of the newest ``max_events`` failures (for ``editloop.stats``)."""
    events = event_table.failures(store, artifact_type, failure_reward=failure_reward, limit=max_events, make=Ev)
    clusters = cluster_failures(events, failure_reward)[:limit]
    for c in clusters:
        c["eventIds"] = c["eventIds"][:5]
    return clusters

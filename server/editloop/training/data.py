"""The rows one run trains on, in TRL's conversational column conventions, and where they come from.

``TrainingData`` holds, per method, the train and validation rows:
SFT ``{"prompt": [messages], "completion": [assistant message]}``, DPO ``{"prompt", "chosen",
"rejected"}``, KTO ``{"prompt", "completion", "label"}``. :func:`from_store` asks curation for a
batch; tests and the benchmark build a ``TrainingData`` from rows directly. Curation's sample
weight of each train row (``Split.weights``) and whether the rows come easy -> hard
(``TrainingData.curriculum``) travel beside the rows, never as columns: :mod:`.sampling` applies them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import EditloopError

# Generation metrics keep unchanged accepts only while fewer user-written validation rows exist
# (generation_targets): a handful of rows would make the metric too noisy to select on.
MIN_USER_TARGETS = 8

COLUMNS = {
    "sft": ("prompt", "completion"),
    "dpo": ("prompt", "chosen", "rejected"),
    "kto": ("prompt", "completion", "label"),
}


@dataclass(frozen=True)
class Target:
    prompt: list[dict[str, Any]]
    text: str
    artifact_type: str | None = None
    language: str | None = None


@dataclass
class Split:
    train: list[dict[str, Any]] = field(default_factory=list)
    val: list[dict[str, Any]] = field(default_factory=list)
    # curation's sample weight of each train row (its reward, decayed by age), parallel to ``train``;
    # empty: every row weighs the same
    weights: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.train)


@dataclass
class TrainingData:
    sft: Split = field(default_factory=Split)
    dpo: Split = field(default_factory=Split)
    kto: Split = field(default_factory=Split)
    artifact_type: str | None = None
    language: str | None = None
    batch_id: str | None = None
    # events behind the rows, by action: {"accept": n, "edit": n, "reject": n, "rewrite": n}; a reject
    # the user rewrote counts as "rewrite" (they wrote the text to learn, as in an edit)
    actions: dict[str, int] = field(default_factory=dict)
    # TRL KTOConfig's desirable_weight / undesirable_weight for the KTO rows' class balance (curation's)
    kto_weights: dict[str, float] = field(default_factory=dict)
    # the train rows are ordered easy -> hard (curation's curriculum): the trainer keeps that order
    curriculum: bool = False

    def split(self, method: str) -> Split:
        return getattr(self, method)

    def counts(self) -> dict[str, int]:
        return {
            **{m: len(self.split(m).train) for m in COLUMNS},
            "val": max(len(self.sft.val), len(self.dpo.val), len(self.kto.val)),
        }

    def generation_targets(self) -> list[Target]:
        """Validation prompts and the text the user kept: what generation metrics compare against.

        SFT validation rows from unchanged accepts are left out while at least
        :data:`MIN_USER_TARGETS` rows remain: their text is a model's own greedy output, which that
        model (often the promoted one, the model a candidate must beat) reproduces exactly, so they
        rank the model that wrote them first however good the others are (:func:`user_written`)."""
        def target(row: Mapping[str, Any], col: str) -> Target:
            return Target(row["prompt"], _content(row[col]), row.get("artifact_type") or self.artifact_type,
                          row.get("language") or self.language)

        rows = self.sft.val
        written = user_written(rows)
        out = [target(row, "completion") for row in (written if len(written) >= MIN_USER_TARGETS else rows)]
        if not out:
            out = [target(row, "chosen") for row in self.dpo.val]
        if not out:
            out = [target(row, "completion") for row in self.kto.val if row["label"]]
        return out

    def check(self, method: str) -> None:
        """Raise a clear EditloopError when ``method`` cannot train on these rows."""
        split = self.split(method)
        if not split.train:
            what = self.artifact_type or "any artifact type"
            raise EditloopError(
                f"no {method.upper()} training rows for {what} yet: accept, edit or reject some AI output first"
            )
        if not split.val or not self.generation_targets():
            raise EditloopError(
                f"too few events to hold out a validation set ({len(split.train)} {method.upper()} rows): "
                "keep working and train again later"
            )
        for row in split.train[:1] + split.val[:1]:
            missing = [c for c in COLUMNS[method] if c not in row]
            if missing:
                raise EditloopError(f"{method.upper()} rows lack column(s) {', '.join(missing)}")
        if method == "kto":
            labels = {bool(r["label"]) for r in split.train}
            if len(labels) < 2:
                raise EditloopError("KTO needs both accepted and rejected outputs")
        _check_weights(split, method)


def _check_weights(split: Split, method: str) -> None:
    """Sample weights, when given, are one finite non-negative number per train row, not all zero."""
    w = split.weights
    if not w:
        return
    if len(w) != len(split.train):
        raise EditloopError(f"{method.upper()} has {len(w)} sample weights for {len(split.train)} training rows")
    if any(isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x < 0 for x in w):
        raise EditloopError(f"{method.upper()} sample weights must be finite numbers of 0 or more")
    if not any(w):
        raise EditloopError(f"{method.upper()} sample weights are all zero")


def user_written(rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The validation rows whose text the user wrote or changed (every action but ``accept``; rows
    without a recorded action count as the user's)."""
    return [row for row in rows if row.get("action") != "accept"]


def _content(messages: Any) -> str:
    if isinstance(messages, str):
        return messages
    return "".join(m["content"] for m in messages if m.get("role") == "assistant")


def trl_rows(rows: list[Mapping[str, Any]], method: str) -> list[dict[str, Any]]:
    """Only TRL's columns (extra metadata columns would confuse the trainers' tokenizers)."""
    cols = COLUMNS[method]
    return [{c: row[c] for c in cols} for row in rows]


def from_store(store, *, artifact_type: str | None, method: str, curation=None) -> TrainingData:
    """Build the run's rows from the feedback database through curation's ``build_batch`` (recorded).

    ``curation`` is a :class:`~editloop.curation.CurationConfig` (None: curation's defaults).
    """
    from ..curation import CurationConfig, build_batch

    batch = build_batch(store, artifact_type=artifact_type, method=method, config=curation or CurationConfig())
    return from_batch(batch, store=store)


def preflight(store, *, artifact_type: str | None, method: str, curation=None) -> None:
    """Refuse, before any worker starts, a run that cannot succeed: curation builds the same rows
    the worker would (not recorded) and :meth:`TrainingData.check` says why in words a user acts on.
    ``auto`` passes when any method can train."""
    from ..curation import CurationConfig, build_batch

    batch = build_batch(store, artifact_type=artifact_type, method=method, config=curation or CurationConfig(), record=False)
    data = from_batch(batch)
    methods = [method] if method != "auto" else ["sft", "kto", "dpo"]
    first: EditloopError | None = None
    for m in methods:
        try:
            data.check(m)
            return
        except EditloopError as exc:
            first = first or exc
    assert first is not None
    raise first


def from_batch(batch: Any, *, store=None) -> TrainingData:
    """Adapt a curation ``Batch`` (train/val rows per method, metadata with event ids and
    weights): each train row's weight as curation computed it, and whether the rows are in
    curriculum order (the batch's ``curriculum`` setting).

    With ``store``, the events behind the rows give the action counts (for ``auto``) and each
    validation row's artifact type and language (for the validity metric).
    """
    data = TrainingData(artifact_type=batch.artifact_type, batch_id=batch.id,
                        kto_weights=dict(batch.kto_weights),
                        curriculum=bool(getattr(getattr(batch, "config", None), "curriculum", False)))
    for method in COLUMNS:
        split = data.split(method)
        split.train = list(batch.train.get(method, []))
        split.val = [dict(r) for r in batch.val.get(method, [])]
        metas = batch.train_meta.get(method, [])
        if len(metas) == len(split.train):  # curation's weights as they are (recorded in batch_rows)
            split.weights = [float(m["weight"]) for m in metas]
    if store is None:
        return data
    ids = {m["event_id"] for metas in batch.train_meta.values() for m in metas if m.get("event_id") is not None}
    val_ids = {m["event_id"] for metas in batch.val_meta.values() for m in metas if m.get("event_id") is not None}
    from ..store import events

    info = events.kinds(store, ids | val_ids)
    for event_id in ids:
        if event_id in info:
            action = "rewrite" if info[event_id].rewritten else info[event_id].action
            data.actions[action] = data.actions.get(action, 0) + 1
    for method in COLUMNS:
        for row, meta in zip(data.split(method).val, batch.val_meta.get(method, [])):
            kind = info.get(meta.get("event_id")) or events.EventKind(None, None, meta.get("artifact_type"))  # type: ignore[arg-type]
            row["artifact_type"], row["language"], row["action"] = kind.artifact_type, kind.language, kind.action
    languages = {v.language for k, v in info.items() if k in val_ids and v.language}
    data.language = languages.pop() if len(languages) == 1 else None
    return data

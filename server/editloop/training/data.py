"""The rows one run trains on, in TRL's conversational column conventions, and where they come from.

``TrainingData`` holds, per method, the train and validation rows:
SFT ``{"prompt": [messages], "completion": [assistant message]}``, DPO ``{"prompt", "chosen",
"rejected"}``, KTO ``{"prompt", "completion", "label"}``. :func:`from_store` asks curation for a
batch; tests and the benchmark build a ``TrainingData`` from rows directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import EditloopError

COLUMNS = {
    "sft": ("prompt", "completion"),
    "dpo": ("prompt", "chosen", "rejected"),
    "kto": ("prompt", "completion", "label"),
}


@dataclass
class Split:
    train: list[dict[str, Any]] = field(default_factory=list)
    val: list[dict[str, Any]] = field(default_factory=list)

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
    # events behind the rows, by action: {"accept": n, "edit": n, "reject": n}
    actions: dict[str, int] = field(default_factory=dict)

    def split(self, method: str) -> Split:
        return getattr(self, method)

    def counts(self) -> dict[str, int]:
        return {
            **{m: len(self.split(m).train) for m in COLUMNS},
            "val": max(len(self.sft.val), len(self.dpo.val), len(self.kto.val)),
        }

    def generation_targets(self) -> list[tuple[list[dict], str]]:
        """Validation (prompt messages, text the user kept): what generation metrics compare against."""
        out: list[tuple[list[dict], str]] = []
        for row in self.sft.val:
            out.append((row["prompt"], _content(row["completion"])))
        if not out:
            out = [(row["prompt"], _content(row["chosen"])) for row in self.dpo.val]
        if not out:
            out = [(row["prompt"], _content(row["completion"])) for row in self.kto.val if row["label"]]
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


def _content(messages: Any) -> str:
    if isinstance(messages, str):
        return messages
    return "".join(m["content"] for m in messages if m.get("role") == "assistant")


def trl_rows(rows: list[Mapping[str, Any]], method: str) -> list[dict[str, Any]]:
    """Only TRL's columns (extra metadata columns would confuse the trainers' tokenizers)."""
    cols = COLUMNS[method]
    return [{c: row[c] for c in cols} for row in rows]


def from_store(store, *, artifact_type: str | None, method: str) -> TrainingData:
    """Build the run's rows from the feedback database through curation's ``build_batch``."""
    try:
        from ..curation import build_batch  # type: ignore[attr-defined]
    except ImportError as exc:
        raise EditloopError(f"curation is not available: {exc}") from None
    batch = build_batch(store, artifact_type=artifact_type, method=method)
    return from_batch(batch, artifact_type=artifact_type)


def from_batch(batch: Any, *, artifact_type: str | None = None) -> TrainingData:
    """Adapt curation's batch (an object or a mapping with sft/dpo/kto train and val rows)."""
    def get(obj: Any, name: str, default: Any = None) -> Any:
        if isinstance(obj, Mapping):
            return obj.get(name, default)
        return getattr(obj, name, default)

    data = TrainingData(
        artifact_type=get(batch, "artifact_type", artifact_type),
        language=get(batch, "language"),
        batch_id=get(batch, "batch_id", get(batch, "id")),
        actions=dict(get(batch, "actions", {}) or {}),
    )
    rows = get(batch, "rows")
    for method in COLUMNS:
        part = get(rows, method) if rows is not None else get(batch, method)
        if part is None:
            continue
        train = get(part, "train", [])
        val = get(part, "val", [])
        data.split(method).train = list(train)
        data.split(method).val = list(val)
    return data

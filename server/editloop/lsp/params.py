"""The typed wire format of Editloop's commands: one params class and one result class per
``workspace/executeCommand`` command (CONTRACT.md), in the style of lsprotocol's types.

Field names are snake_case here and camelCase on the wire (:func:`editloop.lsp.wire.wire_name`);
:func:`editloop.lsp.wire.parse` builds a params object from the JSON argument and
:func:`editloop.lsp.wire.to_json` turns a result into the JSON the extension reads. The
extension's side is ``vscode-extension/src/common/protocol.ts``; ``tests/lsp/test_protocol_ts.py``
checks that both declare the same commands, fields and types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidArgument

TRAIN_METHODS = ("auto", "sft", "dpo", "kto")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class Position:
    """An LSP position (client units: UTF-16 code units unless another encoding was negotiated)."""

    line: int
    character: int

    @classmethod
    def from_json(cls, value: dict[str, Any], key: str) -> "Position":
        line, character = value.get("line"), value.get("character")
        if not (_is_int(line) and _is_int(character)):
            raise InvalidArgument(f"argument {key!r} must be an LSP position {{line, character}}")
        return cls(line, character)


@dataclass(frozen=True)
class Range:
    """An LSP range; ``as_tuple`` gives the (l0, c0, l1, c1) the capture core takes."""

    start: Position
    end: Position

    @classmethod
    def from_json(cls, value: dict[str, Any], key: str) -> "Range":
        try:
            s, e = value["start"], value["end"]
            out = (s["line"], s["character"], e["line"], e["character"])
        except (KeyError, TypeError):
            raise InvalidArgument(f"argument {key!r} must be an LSP range {{start: {{line, character}}, end: {{...}}}}") from None
        if not all(_is_int(x) for x in out):
            raise InvalidArgument(f"argument {key!r} must hold integer lines and characters")
        return cls(Position(out[0], out[1]), Position(out[2], out[3]))

    @classmethod
    def from_tuple(cls, rng: tuple[int, int, int, int]) -> "Range":
        return cls(Position(rng[0], rng[1]), Position(rng[2], rng[3]))

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.start.line, self.start.character, self.end.line, self.end.character)


# -- capture ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrackParams:
    """``editloop.track``: the AI output already in the document at ``range``."""

    uri: str
    range: Range
    artifact_type: str
    prompt: str = ""
    model: str = ""
    language: str | None = None
    model_version: str | None = None


@dataclass(frozen=True)
class TrackResult:
    region_id: str
    artifact_type: str  # canonical: what the server recorded (e.g. mermaid-erd for a given "mermaid")


@dataclass(frozen=True)
class GenerateParams:
    """``editloop.generate``: ask the configured model, insert at ``position``, track the text."""

    uri: str
    position: Position
    prompt: str
    artifact_type: str | None = None  # inferred from the document when absent


@dataclass(frozen=True)
class GenerateResult:
    region_id: str
    text: str
    model: str
    model_version: str | None
    retry: str  # "" (the first output was used), "beam" or "base"


@dataclass(frozen=True)
class RegionParams:
    """``editloop.accept``, ``editloop.reject`` and ``editloop.region``: one region by id."""

    region_id: str


@dataclass(frozen=True)
class EventResult:
    """A recorded outcome (``editloop.accept``, ``editloop.reject``, the events of ``advanceClock``)."""

    event_id: int
    region_id: str | None
    action: str  # accept | edit | reject
    source: str  # explicit | implicit
    similarity: float
    reward: float
    validation: float | None

    @classmethod
    def from_row(cls, ev: dict[str, Any]) -> "EventResult":
        return cls(ev["id"], ev.get("region_id"), ev["action"], ev["source"], ev["similarity"], ev["reward"], ev.get("validation"))


@dataclass(frozen=True)
class RegionResult:
    """``editloop.region``: the stored region with its text and similarity now."""

    id: str
    uri: str
    status: str
    prompt: str
    model: str
    artifact_type: str
    language: str | None
    original: str
    current: str | None
    created_at: str
    similarity: float | None
    range: Range | None = field(default=None, metadata={"omit_none": True})  # absent once no longer tracked


@dataclass(frozen=True)
class StatsParams:
    artifact_type: str | None = None


@dataclass(frozen=True)
class StatsResult:
    """``editloop.stats``: the summary of ``store.stats`` (its keys at top level) plus two fields."""

    summary: dict[str, Any] = field(metadata={"flatten": True})
    embeddings: str  # on | off
    data_dir: str


@dataclass(frozen=True)
class ForgetParams:
    uri: str | None = None
    all: bool = False

    def check(self) -> None:
        if not self.all and self.uri is None:
            raise InvalidArgument("missing argument 'uri'")


@dataclass(frozen=True)
class ForgetResult:
    deleted: int


@dataclass(frozen=True)
class AdvanceClockParams:
    """Test facility (``editloop serve --manual-clock``)."""

    seconds: float

    def check(self) -> None:
        if self.seconds < 0:
            raise InvalidArgument("seconds must be >= 0")


@dataclass(frozen=True)
class AdvanceClockResult:
    now: float
    events: list[EventResult]


@dataclass(frozen=True)
class InlineAcceptedParams:
    shown_id: str


@dataclass(frozen=True)
class InlineAcceptedResult:
    region_id: str


# -- training --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainParams:
    method: str = "auto"
    artifact_type: str | None = None
    search: int = 0  # Optuna trials; 0: no search
    settings: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields over the settings' run

    def check(self) -> None:
        if self.method not in TRAIN_METHODS:
            raise InvalidArgument(f"method must be one of {', '.join(TRAIN_METHODS)}")


@dataclass(frozen=True)
class TrainResult:
    run_id: str


@dataclass(frozen=True)
class CancelParams:
    run_id: str


@dataclass(frozen=True)
class CancelResult:
    run_id: str
    status: str


@dataclass(frozen=True)
class RunsParams:
    pass


@dataclass(frozen=True)
class RunsResult:
    runs: list[dict[str, Any]]  # rows of the runs table, params and metrics decoded


@dataclass(frozen=True)
class BuildBatchParams:
    artifact_type: str | None = None
    method: str = "auto"


@dataclass(frozen=True)
class BuildBatchResult:
    batch_id: str
    counts: dict[str, int]  # rows per method and the validation split


@dataclass(frozen=True)
class ExportParams:
    format: str
    path: str | None = None  # none: <dataDir>/exports/<format>-<time>.jsonl
    overwrite: bool = False
    artifact_type: str | None = None

    def check(self) -> None:
        from ..curation.exporter import FORMATS

        if self.format not in FORMATS:
            raise InvalidArgument(f"format must be one of {', '.join(FORMATS)}")


@dataclass(frozen=True)
class ExportResult:
    path: str
    rows: int


COMMANDS: dict[str, tuple[type, type]] = {
    "editloop.track": (TrackParams, TrackResult),
    "editloop.generate": (GenerateParams, GenerateResult),
    "editloop.accept": (RegionParams, EventResult),
    "editloop.reject": (RegionParams, EventResult),
    "editloop.region": (RegionParams, RegionResult),
    "editloop.stats": (StatsParams, StatsResult),
    "editloop.forget": (ForgetParams, ForgetResult),
    "editloop.advanceClock": (AdvanceClockParams, AdvanceClockResult),
    "editloop.inlineAccepted": (InlineAcceptedParams, InlineAcceptedResult),
    "editloop.train": (TrainParams, TrainResult),
    "editloop.cancel": (CancelParams, CancelResult),
    "editloop.runs": (RunsParams, RunsResult),
    "editloop.buildBatch": (BuildBatchParams, BuildBatchResult),
    "editloop.export": (ExportParams, ExportResult),
}
"""Every command the server registers: its params class and its result class."""

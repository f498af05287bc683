"""Export the whole curated dataset as JSONL: TRL's formats or OpenAI's chat fine-tuning format.

- ``sft``: ``{"prompt": [...], "completion": [...]}`` per kept output;
- ``dpo``: ``{"prompt", "chosen", "rejected"}`` (edit pairs and cross-event pairs);
- ``kto``: ``{"prompt", "completion", "label"}``;
- ``openai``: ``{"messages": [system, user, assistant]}`` per kept output (what OpenAI's
  fine-tuning API and ``datasets.load_dataset("json", ...)`` both read).

Every file loads with ``datasets.load_dataset("json", data_files=path)``. Unlike a batch, an
export has no selection, augmentation or oversampling: it is every eligible event once (lost
regions never, exact duplicates removed; synthetic events only when asked), optionally one side
of the split (``split="train"|"validation"``: the same stable split batches use). Texts are redacted again
on the way out, and the file is written to a temporary name and renamed: a reader never sees a
half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from ..errors import InvalidArgument
from ..signals.redact import redact
from ..store import Store
from .config import CurationConfig
from .dedupe import dedupe
from .events import load_events
from .groups import assign_groups
from .rows import build_rows
from .split import assign_splits, recorded_splits

FORMATS = ("sft", "dpo", "kto", "openai")
SPLITS = ("all", "train", "validation")


class _Redactor:
    """``redact`` once per distinct text (prompts and accepted outputs repeat across rows)."""

    def __init__(self) -> None:
        self.cache: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        clean = self.cache.get(text)
        if clean is None:
            clean = self.cache[text] = redact(text)[0]
        return clean


def _events(store: Store, artifact_type: str | None, split: str, config: CurationConfig, include_synthetic: bool) -> tuple[list, float]:
    events = load_events(store, artifact_type)
    if not include_synthetic:
        events = [ev for ev in events if not ev.synthetic]
    now = config.now if config.now is not None else max((ev.ts for ev in events), default=0.0)
    if split == "all":  # no split to respect: a group is an exact (normalized) prompt
        for ev in events:
            ev.group = f"{ev.artifact_type}|p|{ev.norm_prompt}"
    else:
        assign_groups(events, config.near_duplicate_threshold)
        assign_splits(events, recorded_splits(store), config)
        events = [ev for ev in events if ev.split == split]
    if config.dedupe:
        events, _ = dedupe(events, near=False)
    return events, now


def _trl_rows(store: Store, fmt: str, artifact_type: str | None, split: str, config: CurationConfig,
              include_synthetic: bool) -> list[dict[str, Any]]:
    if fmt not in FORMATS:
        raise InvalidArgument(f"format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if split not in SPLITS:
        raise InvalidArgument(f"split must be one of {', '.join(SPLITS)} (got {split!r})")
    events, now = _events(store, artifact_type, split, config, include_synthetic)
    method = "sft" if fmt == "openai" else fmt
    return [r for r, _ in build_rows(events, config, now, with_meta=False, methods=(method,))[method]]


def export_rows(store: Store, fmt: str, *, artifact_type: str | None = None, split: str = "all",
                config: CurationConfig = CurationConfig(), include_synthetic: bool = False) -> list[dict[str, Any]]:
    """The rows :func:`export` writes, as dicts (redacted)."""
    clean = _Redactor()
    out = []
    for r in _trl_rows(store, fmt, artifact_type, split, config, include_synthetic):
        if fmt == "openai":
            r = {"messages": r["prompt"] + r["completion"]}
        out.append({k: ([{"role": m["role"], "content": clean(m["content"])} for m in v] if isinstance(v, list) else v)
                    for k, v in r.items()})
    return out


class _LineEncoder:
    """JSON lines assembled from cached encodings: each distinct text is redacted and encoded once."""

    def __init__(self) -> None:
        self.clean = _Redactor()
        self.enc = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self.texts: dict[str, str] = {}
        self.lists: dict[int, tuple[list, str]] = {}

    def text(self, text: str) -> str:
        out = self.texts.get(text)
        if out is None:
            out = self.texts[text] = self.enc(self.clean(text))
        return out

    def messages(self, msgs: list[dict[str, str]]) -> str:
        hit = self.lists.get(id(msgs))
        if hit is not None and hit[0] is msgs:
            return hit[1]
        out = "[" + ",".join('{"role":' + self.enc(m["role"]) + ',"content":' + self.text(m["content"]) + "}" for m in msgs) + "]"
        self.lists[id(msgs)] = (msgs, out)  # keeps msgs alive, so the id stays unique
        return out

    def line(self, row: dict[str, Any], fmt: str) -> str:
        if fmt == "openai":
            return '{"messages":' + self.messages(row["prompt"] + row["completion"]) + "}\n"
        parts = ['"' + k + '":' + (self.messages(v) if isinstance(v, list) else self.enc(v)) for k, v in row.items()]
        return "{" + ",".join(parts) + "}\n"


def write_lines(lines: Iterable[str], path: str | os.PathLike) -> Path:
    """Write ``lines`` to ``path`` atomically (temporary file in the same folder, fsync, rename)."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(lines)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def write_jsonl(rows: Iterable[dict[str, Any]], path: str | os.PathLike) -> Path:
    """Write dict rows as JSON lines, atomically."""
    enc = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return write_lines((enc(r) + "\n" for r in rows), path)


def export(store: Store, format: str, path: str | os.PathLike, *, artifact_type: str | None = None, split: str = "all",
           config: CurationConfig = CurationConfig(), include_synthetic: bool = False) -> int:
    """Write the dataset in ``format`` to ``path``; returns the number of rows written."""
    rows = _trl_rows(store, format, artifact_type, split, config, include_synthetic)
    encoder = _LineEncoder()
    write_lines((encoder.line(r, format) for r in rows), path)
    return len(rows)

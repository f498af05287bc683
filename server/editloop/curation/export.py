"""Export the whole curated dataset as JSONL: TRL's formats or OpenAI's chat fine-tuning format.

- ``sft``: ``{"prompt": [...], "completion": [...]}`` per kept output;
- ``dpo``: ``{"prompt", "chosen", "rejected"}`` (edit pairs and cross-event pairs);
- ``kto``: ``{"prompt", "completion", "label"}``;
- ``openai``: ``{"messages": [system, user, assistant]}`` per kept output (what OpenAI's
  fine-tuning API and ``datasets.load_dataset("json", ...)`` both read).

Every file loads with ``datasets.load_dataset("json", data_files=path)``. Unlike a batch, an
export has no selection, augmentation or oversampling: it is every eligible event once (lost
regions never, duplicates removed), optionally one side of the split. Texts are redacted again
on the way out, and the file is written to a temporary name and renamed: a reader never sees a
half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

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


def _redact_messages(msgs: list[dict[str, str]], cache: dict[str, str]) -> list[dict[str, str]]:
    out = []
    for msg in msgs:
        text = msg["content"]
        clean = cache.get(text)
        if clean is None:
            clean = cache[text] = redact(text)[0]
        out.append({"role": msg["role"], "content": clean})
    return out


def export_rows(store: Store, fmt: str, *, artifact_type: str | None = None, split: str = "all",
                config: CurationConfig = CurationConfig(), include_synthetic: bool = False) -> list[dict[str, Any]]:
    if fmt not in FORMATS:
        raise InvalidArgument(f"format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if split not in SPLITS:
        raise InvalidArgument(f"split must be one of {', '.join(SPLITS)} (got {split!r})")
    events = load_events(store, artifact_type)
    if not include_synthetic:
        events = [ev for ev in events if not ev.synthetic]
    now = config.now if config.now is not None else max((ev.ts for ev in events), default=0.0)
    assign_groups(events, config.near_duplicate_threshold)
    if split != "all":
        assign_splits(events, recorded_splits(store), config)
        events = [ev for ev in events if ev.split == split]
    if config.dedupe:
        events, _ = dedupe(events, near=True)
    method = "sft" if fmt == "openai" else fmt
    rows = [r for r, _ in build_rows(events, config, now)[method]]
    cache: dict[str, str] = {}
    out = []
    for r in rows:
        if fmt == "openai":
            out.append({"messages": _redact_messages(r["prompt"] + r["completion"], cache)})
            continue
        clean = {k: (_redact_messages(v, cache) if isinstance(v, list) else v) for k, v in r.items()}
        out.append(clean)
    return out


def write_jsonl(rows: list[dict[str, Any]], path: str | os.PathLike) -> Path:
    """Write ``rows`` to ``path`` atomically (temporary file in the same folder, fsync, rename)."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
            f.writelines(dumps(r) + "\n" for r in rows)
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


def export(store: Store, format: str, path: str | os.PathLike, *, artifact_type: str | None = None, split: str = "all",
           config: CurationConfig = CurationConfig()) -> int:
    """Write the dataset in ``format`` to ``path``; returns the number of rows written."""
    rows = export_rows(store, format, artifact_type=artifact_type, split=split, config=config)
    write_jsonl(rows, path)
    return len(rows)

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
on the way out, and the file is written to a temporary name in the same folder and renamed: a reader
never sees a half-written file. An existing file is replaced only with ``overwrite=True`` (and keeps
its mode: Editloop never changes the mode of a file it did not create); a new file is 0600. Where an
export may go at all is :mod:`.destination`'s policy, applied by :func:`export_to`.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Iterable

from ..errors import EditloopError, InvalidArgument
from ..signals.redact import redact
from ..store import Store
from ..store.batches import assigned_splits
from .config import CurationConfig
from .dedupe import dedupe
from .destination import EXPORTS, check_destination, check_target, default_export_path
from .events import load_events
from .groups import assign_groups
from .rows import build_rows
from .split import assign_splits

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
        assign_splits(events, assigned_splits(store), config)
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


def write_lines(lines: Iterable[str], path: str | os.PathLike, *, overwrite: bool = False,
                overwrite_hint: str = "pass overwrite=True") -> Path:
    """Write ``lines`` to ``path`` atomically: a temporary file in the same folder, fsync, then a rename
    (``overwrite``) or a link that fails if the name was taken meanwhile. The folder must exist."""
    target = check_target(Path(path).expanduser().absolute(), overwrite=overwrite, overwrite_hint=overwrite_hint)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)  # 0600
    except OSError as exc:
        raise EditloopError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(lines)
            f.flush()
            try:
                old = os.lstat(target)
            except FileNotFoundError:
                old = None
            if old is not None and stat.S_ISREG(old.st_mode):
                os.fchmod(f.fileno(), stat.S_IMODE(old.st_mode))  # the replaced file's mode, not 0600
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            _link_new(tmp, target, overwrite_hint)
    except OSError as exc:
        _unlink(tmp)
        raise EditloopError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        _unlink(tmp)
        raise
    return target


def _link_new(tmp: str, target: Path, overwrite_hint: str) -> None:
    """Give ``tmp`` the name ``target`` only if nothing has it (no check-then-write race)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise InvalidArgument(f"{target} already exists; {overwrite_hint} to replace it") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(target):  # a file system without hard links: check, then rename
            raise InvalidArgument(f"{target} already exists; {overwrite_hint} to replace it") from None
        os.replace(tmp, target)
        return
    _unlink(tmp)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def export(store: Store, format: str, path: str | os.PathLike, *, artifact_type: str | None = None, split: str = "all",
           config: CurationConfig = CurationConfig(), include_synthetic: bool = False, overwrite: bool = False,
           overwrite_hint: str = "pass overwrite=True") -> int:
    """Write the dataset in ``format`` to ``path``; returns the number of rows written.

    ``path``'s folder must exist; an existing file is replaced only with ``overwrite``. No location
    policy here (a library caller chooses freely): the command line and the language server go
    through :func:`export_to`.
    """
    check_target(Path(path).expanduser().absolute(), overwrite=overwrite, overwrite_hint=overwrite_hint)  # fail before the work
    rows = _trl_rows(store, format, artifact_type, split, config, include_synthetic)
    encoder = _LineEncoder()
    write_lines((encoder.line(r, format) for r in rows), path, overwrite=overwrite, overwrite_hint=overwrite_hint)
    return len(rows)


def export_to(store: Store, format: str, path: str | os.PathLike | None = None, *, roots: Iterable[str | os.PathLike] | None = None,
              overwrite: bool = False, overwrite_hint: str = "pass overwrite: true", artifact_type: str | None = None) -> tuple[Path, int]:
    """Export under :func:`.destination.check_destination`'s policy (``roots``: the language server's
    workspace folders; ``None``: the command line). Without ``path``: a new file in the exports area.
    Returns the path written and the number of rows."""
    from ..paths import ensure_private_dir

    if format not in FORMATS:
        raise InvalidArgument(f"format must be one of {', '.join(FORMATS)} (got {format!r})")
    home = store.home
    if path is None:
        path = default_export_path(home, format)
    target = check_destination(path, data_dir=home, roots=roots, overwrite=overwrite, overwrite_hint=overwrite_hint)
    if target.parent == Path(os.path.realpath(home)) / EXPORTS:
        ensure_private_dir(target.parent)  # Editloop's own folder: created 0700 on first use
    n = export(store, format, target, artifact_type=artifact_type, overwrite=overwrite, overwrite_hint=overwrite_hint)
    return target, n

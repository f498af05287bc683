"""Where an export may be written: one policy for the command line and the language server.

- Never inside the data folder (``feedback.db``, ``runs/``, ``optuna.db`` ...), except its exports area
  ``<dataDir>/exports/``, which Editloop creates (0700) when it is first used.
- The command line (a local user) may write anywhere else; the language server (a client, possibly
  driven by a repository's content) only inside the workspace folders or the exports area.
- An existing file is replaced only when the caller says so (``--force``, ``overwrite: true``).
- A folder, a symbolic link, something that is not a regular file, a missing parent folder and a
  path whose resolved location escapes the allowed folders each get one clear message.

Only reads the file system (``lstat``, ``realpath``); :mod:`.exporter` does the writing.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Iterable

from ..errors import InvalidArgument

EXPORTS = "exports"


def exports_area(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / EXPORTS


def default_export_path(data_dir: str | os.PathLike, fmt: str, now: float | None = None) -> Path:
    """``<dataDir>/exports/<format>-<YYYYmmdd-HHMMSS>.jsonl`` (``-2``, ``-3`` ... if that name is taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    folder = exports_area(data_dir)
    path, n = folder / f"{fmt}-{stamp}.jsonl", 1
    while os.path.lexists(path):
        n += 1
        path = folder / f"{fmt}-{stamp}-{n}.jsonl"
    return path


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _real(path: Path) -> Path:
    """The location ``path`` names once every link in its folders is followed (the name itself is not)."""
    return Path(os.path.realpath(path.parent)) / path.name


def check_target(path: str | os.PathLike, *, overwrite: bool = False, overwrite_hint: str = "pass overwrite: true",
                 creatable_parent: Path | None = None) -> Path:
    """The shape rules (no location policy): an absolute path naming a regular file or nothing yet,
    in an existing folder (``creatable_parent`` may be missing: Editloop creates it)."""
    target = Path(path).expanduser()
    if not target.is_absolute():
        raise InvalidArgument(f"export path must be absolute (got {str(path)!r})")
    if target.name in ("", ".", ".."):
        raise InvalidArgument(f"export path {target} names a folder; give a file name such as {target / 'dataset.jsonl'}")
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InvalidArgument(f"cannot export to {target}: {exc.strerror or exc}") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise InvalidArgument(f"export path {target} is a symbolic link; Editloop does not write through links: give the file's real path")
        if stat.S_ISDIR(st.st_mode):
            raise InvalidArgument(f"export path {target} is a folder; give a file name such as {target / 'dataset.jsonl'}")
        if not stat.S_ISREG(st.st_mode):
            raise InvalidArgument(f"export path {target} is not a regular file")
        if not overwrite:
            raise InvalidArgument(f"{target} already exists; {overwrite_hint} to replace it")
    parent = target.parent
    if not parent.is_dir():
        if os.path.lexists(parent) and not parent.is_dir():
            raise InvalidArgument(f"cannot export to {target}: {parent} is not a folder")
        if creatable_parent is None or parent != creatable_parent:
            raise InvalidArgument(f"cannot export to {target}: the folder {parent} does not exist (Editloop does not create it)")
    return target


def check_destination(path: str | os.PathLike, *, data_dir: str | os.PathLike, roots: Iterable[str | os.PathLike] | None = None,
                      overwrite: bool = False, overwrite_hint: str = "pass overwrite: true") -> Path:
    """Check ``path`` against the whole policy; returns the path to write (absolute, folders resolved).

    ``roots`` ``None``: the command line's rule (anywhere but the data folder, exports area excepted);
    a list: the language server's rule (only inside those folders, or the exports area).
    """
    data = Path(data_dir).expanduser()
    exports = exports_area(data)
    target = check_target(path, overwrite=overwrite, overwrite_hint=overwrite_hint, creatable_parent=exports)
    real = _real(target)
    real_data = Path(os.path.realpath(data))
    real_exports = real_data / EXPORTS
    in_exports = _within(real.parent, real_exports)
    if _within(real, real_data) and not in_exports:
        raise InvalidArgument(f"export path {target} is inside Editloop's data folder {data}, which holds the live database; "
                              f"export to {exports}{os.sep} or another folder")
    if roots is None or in_exports:
        return real
    allowed = [Path(os.path.realpath(Path(r).expanduser())) for r in roots]
    if any(_within(real.parent, r) for r in allowed):
        return real
    where = "" if real == target else f" (it resolves to {real})"
    folders = ", ".join(str(r) for r in allowed) or "none are open"
    raise InvalidArgument(f"export path {target} is outside the workspace folders ({folders}) and Editloop's exports folder "
                          f"{exports}{where}; the language server writes only there")

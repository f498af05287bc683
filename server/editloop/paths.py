"""Where Editloop keeps its data: EDITLOOP_HOME, the dataDir setting, or the platform's folder.

Editloop never changes the mode of a folder or file it did not create: the folders it creates are
0700 (and its files 0600, created under umask 077), and a folder that already exists keeps its mode.
A configured folder that already holds someone else's files (a project, ``/tmp``) is not taken over:
Editloop keeps its data in an ``editloop`` subfolder of it, and logs where.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from .errors import EditloopError

log = logging.getLogger(__name__)

DB_NAME = "feedback.db"
SUBFOLDER = "editloop"
_announced: set[Path] = set()


def data_dir(setting: str | None = None, *, create: bool = True) -> Path:
    """Resolve the data folder (env wins over the setting, the setting over the default)."""
    raw = os.environ.get("EDITLOOP_HOME") or setting
    if raw:
        path = own_folder(Path(raw).expanduser())
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("editloop", appauthor=False))
    if create:
        ensure_private_dir(path)
    return path


def is_foreign(path: Path) -> bool:
    """An existing folder that is not Editloop's: it has no ``feedback.db`` (names such as ``runs`` are
    too common to mark a folder as Editloop's), and holds other files or lets other users write in it
    (``/tmp``, mode 1777)."""
    try:
        st = os.stat(path)
        if not stat.S_ISDIR(st.st_mode):
            return False  # not a folder at all: ensure_private_dir says so
        names = set(os.listdir(path))
    except OSError:
        return False
    if DB_NAME in names:
        return False
    return bool(names) or bool(st.st_mode & stat.S_IWOTH)


def own_folder(path: Path) -> Path:
    """``path``, or ``path/editloop`` where ``path`` is someone else's folder (see :func:`is_foreign`)."""
    if not is_foreign(path):
        return path
    sub = path / SUBFOLDER
    if sub not in _announced:
        _announced.add(sub)
        log.warning("data folder %s holds other files; Editloop keeps its data in %s and leaves the folder as it is", path, sub)
    return sub


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; captured code is private data.

    A folder that already exists is used as it is: its mode is never changed.
    """
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.is_dir():
            raise NotADirectoryError(20, "not a folder")
    except OSError as exc:
        raise EditloopError(f"cannot use data folder {path}: {exc.strerror or exc}") from None
    return path


def runs_dir(home: Path) -> Path:
    return ensure_private_dir(home / "runs")

"""Where Editloop keeps its data: EDITLOOP_HOME, the dataDir setting, or the platform's folder."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import EditloopError

DB_NAME = "feedback.db"


def data_dir(setting: str | None = None, *, create: bool = True) -> Path:
    """Resolve the data folder (env wins over the setting, the setting over the default)."""
    raw = os.environ.get("EDITLOOP_HOME") or setting
    if raw:
        path = Path(raw).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("editloop", appauthor=False))
    if create:
        ensure_private_dir(path)
    return path


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700; captured code is private data."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o700)
    except OSError as exc:
        raise EditloopError(f"cannot use data folder {path}: {exc.strerror or exc}") from None
    return path


def runs_dir(home: Path) -> Path:
    return ensure_private_dir(home / "runs")

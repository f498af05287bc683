"""A second real LSP client: headless Neovim drives the server, edits a tracked region, accepts it."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.editor
NVIM = shutil.which("nvim")


@pytest.mark.skipif(NVIM is None, reason="nvim is not installed (make test installs it)")
def test_neovim_tracks_edits_and_accepts(tmp_path):
    out = tmp_path / "result.json"
    env = {**os.environ, "EDITLOOP_PY": sys.executable, "EDITLOOP_HOME": str(tmp_path / "home"), "EDITLOOP_OUT": str(out)}
    env.pop("EDITLOOP_HOME_OVERRIDE", None)
    script = Path(__file__).with_name("nvim_session.lua")
    proc = subprocess.run(
        [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {script}"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    result = out.read_text() if out.exists() else ""
    assert proc.returncode == 0, (proc.returncode, result, proc.stderr[-2000:])
    data = json.loads(result)
    assert data["accept"]["action"] == "edit"
    conn = sqlite3.connect(tmp_path / "home" / "feedback.db")
    [(action, original, final, model)] = conn.execute("SELECT action, original, final, model FROM events").fetchall()
    assert action == "edit" and model == "nvim-test"
    assert original.splitlines()[1] == "    CUSTOMER ||--o{ ORDER : places"
    assert final.splitlines()[1] == '    CUSTOMER ||--o{ ORDER : "places"'

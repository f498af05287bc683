"""The command line as a user runs it: a real subprocess, one clear line on errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from editloop import Editloop

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "editloop", "--data-dir", str(home), *args], capture_output=True, text=True, timeout=120)


def test_stats_shows_edit_with_original_and_final(tmp_path):
    el = Editloop(tmp_path)
    rid = el.record_generation("orders", "CREATE TABLE orders (id int);", artifact_type="sql", model="m")
    el.record_outcome(rid, final="CREATE TABLE orders (id bigint PRIMARY KEY);")
    out = run("stats", home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "edit 1" in out.stdout
    assert "original: CREATE TABLE orders (id int);" in out.stdout
    assert "final:    CREATE TABLE orders (id bigint PRIMARY KEY);" in out.stdout
    data = json.loads(run("stats", "--json", home=tmp_path).stdout)
    assert data["counts"]["edit"] == 1


def test_errors_are_one_line_and_nonzero(tmp_path):
    out = run("forget", home=tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0 and out.stderr.startswith("editloop: ")
    bad = tmp_path / "file"
    bad.write_text("not a folder")
    out = run("stats", home=bad)
    assert out.returncode == 1 and "editloop: " in out.stderr and "Traceback" not in out.stderr


def test_forget_all(tmp_path):
    el = Editloop(tmp_path)
    el.record_outcome(el.record_generation("p", "secret sauce", artifact_type="code"), accepted_unchanged=True)
    el.close()
    out = run("forget", "--all", home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert b"secret sauce" not in b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())


def test_every_cli_command_and_lsp_command_is_documented():
    readme = (ROOT / "README.md").read_text()
    from editloop.cli import COMMANDS
    from editloop.lsp.server import create_server

    for name in COMMANDS:
        assert f"editloop {name}" in readme or f"`{name}`" in readme, f"CLI command {name} is not in the README"
    server = create_server()
    for name in server.protocol.fm.commands:
        assert f"`{name}`" in readme, f"LSP command {name} is not in the README"


def test_model_build_tiny_with_threads(tmp_path):
    out = run("model", "build", "-o", str(tmp_path / "m"), "--preset", "tiny", "--threads", "1", home=tmp_path / "home")
    assert out.returncode == 0, out.stderr
    info = json.loads((tmp_path / "m" / "build_info.json").read_text())
    assert (info["preset"], info["threads"]) == ("tiny", 1)
    assert (tmp_path / "m" / "model.safetensors").exists()

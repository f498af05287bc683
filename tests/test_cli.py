"""The command line as a user runs it: a real subprocess, one clear line on errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
    for args in (("bench", "learning", "--seeds", "0"), ("bench", "system", "--seeds", "2")):
        out = run(*args, home=tmp_path)
        assert out.returncode == 1 and out.stderr.startswith("editloop: --seeds is a positive number"), out.stderr


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


@pytest.mark.slow  # builds a model
def test_model_build_tiny_with_threads(tmp_path):
    out = run("model", "build", "-o", str(tmp_path / "m"), "--preset", "tiny", "--threads", "1", home=tmp_path / "home")
    assert out.returncode == 0, out.stderr
    info = json.loads((tmp_path / "m" / "build_info.json").read_text())
    assert (info["preset"], info["threads"]) == ("tiny", 1)
    assert (tmp_path / "m" / "model.safetensors").exists()


def _some_events(home: Path) -> None:
    el = Editloop(home)
    for i in range(3):
        rid = el.record_generation(f"table {i}", f"CREATE TABLE t{i} (id int);", artifact_type="sql", model="m")
        el.record_outcome(rid, final=f"CREATE TABLE t{i} (id bigint PRIMARY KEY);")
    el.close()


def test_export_never_replaces_the_database_and_needs_force_for_an_existing_file(tmp_path):
    import os
    import stat

    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    _some_events(home)
    db = home / "feedback.db"
    before = db.read_bytes()

    def export(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "editloop", "--data-dir", str(home), "export", "--format", "sft", *args],
                              capture_output=True, text=True, timeout=120, cwd=work)

    out = export("-o", str(db), "--force")
    assert out.returncode == 1 and "inside Editloop's data folder" in out.stderr and out.stderr.count("\n") == 1
    assert db.read_bytes() == before
    assert run("stats", "--json", home=home).returncode == 0
    ok = export("-o", "train.jsonl")  # relative to the current folder
    assert ok.returncode == 0, ok.stderr
    assert (work / "train.jsonl").exists() and str(work / "train.jsonl") in ok.stdout
    os.chmod(work / "train.jsonl", 0o644)
    again = export("-o", "train.jsonl")
    assert again.returncode == 1 and "already exists; pass --force to replace it" in again.stderr
    forced = export("-o", "train.jsonl", "--force")
    assert forced.returncode == 0, forced.stderr
    assert stat.S_IMODE(os.stat(work / "train.jsonl").st_mode) == 0o644
    for args, message in ((["-o", str(work)], "is a folder"), (["-o", "no/such/dir/x.jsonl"], "does not exist")):
        bad = export(*args)
        assert bad.returncode == 1 and message in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
    assert not (work / "no").exists()
    default = export()
    assert default.returncode == 0, default.stderr
    [made] = (home / "exports").iterdir()
    assert made.name.startswith("sft-") and str(made) in default.stdout


def test_doctor_reports_a_damaged_database_and_fresh_db_sets_it_aside(tmp_path):
    from tests.store.damage import corrupt_interior_page, database_with_events

    home = tmp_path / "home"
    healthy = run("doctor", home=home)
    assert healthy.returncode == 0 and "does not exist yet" in healthy.stdout
    file = database_with_events(home)
    report = run("doctor", home=home)
    assert report.returncode == 0, report.stdout
    assert "integrity:   ok" in report.stdout and "events:      60 (edit 60)" in report.stdout and "schema:      version" in report.stdout
    refused = run("doctor", "--fresh-db", home=home)
    assert refused.returncode == 1 and "is sound" in refused.stderr
    corrupt_interior_page(file)
    damaged = file.read_bytes()
    stats = run("stats", home=home)
    assert stats.returncode == 1 and "is damaged" in stats.stderr and "doctor --fresh-db" in stats.stderr
    assert stats.stderr.count("\n") == 1
    report = run("doctor", home=home)
    assert report.returncode == 1 and "integrity:   DAMAGED" in report.stdout and str(home) in report.stdout
    assert json.loads(run("doctor", "--json", home=home).stdout)["ok"] is False
    assert file.read_bytes() == damaged
    fresh = run("doctor", "--fresh-db", home=home)
    assert fresh.returncode == 0, fresh.stderr
    [aside] = home.glob("feedback.db.corrupt-*[0-9]")
    assert aside.read_bytes() == damaged and str(aside) in fresh.stdout
    assert run("doctor", home=home).returncode == 0
    _some_events(home)
    assert json.loads(run("stats", "--json", home=home).stdout)["counts"]["edit"] == 3

"""The README's main job, in its quick form: a real server session, the embedded model, Train now,
before/after figures and the HTML report."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.slow  # trains and benchmarks the embedded default
def test_quick_demo_runs_the_whole_loop(tmp_path):
    home = tmp_path / "demo"
    out = subprocess.run([sys.executable, "-m", "editloop", "--data-dir", str(home), "demo", "--quick"], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "edit cost before" in out.stdout and "mermaid-erd" in out.stdout and "sql" in out.stdout
    assert "Train now: run" in out.stdout and "succeeded" in out.stdout
    report = (home / "report.html").read_text()
    assert "held-out edit cost" in report and "Content-Security-Policy" in report


def test_demo_folder_follows_data_dir_and_editloop_home(tmp_path, monkeypatch):
    from editloop.cli import build_parser
    from editloop.demo import demo_dir

    for argv in (["--data-dir", "X", "demo"], ["demo", "--data-dir", "X"], ["demo", "--quick", "--data-dir", "X"]):
        assert build_parser().parse_args(argv).data_dir == "X", argv
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDITLOOP_HOME", raising=False)
    assert demo_dir() == tmp_path / ".editloop-demo"
    assert demo_dir(str(tmp_path / "d")) == tmp_path / "d"
    monkeypatch.setenv("EDITLOOP_HOME", str(tmp_path / "env"))
    assert demo_dir() == tmp_path / "env"


def test_demo_empties_only_a_demo_folder(tmp_path):
    from editloop.demo import MARKER, prepare
    from editloop.errors import EditloopError
    from editloop.store import Store

    mine = tmp_path / "mine"
    Store.open(mine).close()  # someone's real data
    with pytest.raises(EditloopError, match="holds Editloop data that the demo did not write"):
        prepare(mine)
    assert (mine / "feedback.db").exists()

    demo = tmp_path / "demo"
    prepare(demo)
    (demo / "leftover.txt").write_text("from the last demo")
    prepare(demo)  # a previous demo's folder starts from nothing
    assert (demo / MARKER).exists() and (demo / "feedback.db").exists() and not (demo / "leftover.txt").exists()


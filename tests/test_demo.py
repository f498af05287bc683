"""The README's main job, in its quick form: a real server session, the embedded model, Train now,
before/after figures and the HTML report."""

from __future__ import annotations

import subprocess
import sys


def test_quick_demo_runs_the_whole_loop(tmp_path):
    home = tmp_path / "demo"
    out = subprocess.run([sys.executable, "-m", "editloop", "--data-dir", str(home), "demo", "--quick"], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "edit cost before" in out.stdout and "mermaid-erd" in out.stdout and "sql" in out.stdout
    assert "Train now: run" in out.stdout and "succeeded" in out.stdout
    report = (home / "report.html").read_text()
    assert "held-out edit cost" in report and "Content-Security-Policy" in report

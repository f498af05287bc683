"""`editloop bench learning --quick` runs end to end through the product (numbers are not checked)."""

from __future__ import annotations

import pytest

from editloop.bench import learning

pytestmark = pytest.mark.slow


def test_quick_learning_benchmark_writes_every_table_and_the_plot(tmp_path, monkeypatch):
    doc = tmp_path / "benchmarks.md"
    monkeypatch.setenv("EDITLOOP_BENCH_DOC", str(doc))  # never docs/benchmarks.md
    monkeypatch.delenv("EDITLOOP_HOME", raising=False)
    body = learning.run(quick=True, write=True, seeds=2)

    text = doc.read_text()
    assert "<!-- bench:learning -->" in text and "editloop bench learning --quick" in text and body.strip() in text
    png = tmp_path / "img" / "learning.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for user in learning.QUICK.users:
        for task in learning.QUICK.artifacts:
            assert f"| {user} | {task} |" in body
        for baseline in ("no learning (the base model)", "plain SFT, TRL defaults + default LoRA",
                         "plain SFT, Editloop's hyper-parameters, no curation", "full Editloop (last round)"):
            assert f"| {user} | {baseline} |" in body
    for key, label, _request, _note in learning.ABLATIONS:
        inverse = learning.INVERSE.get(key, (label,))[0]
        assert f"| {label}" in body or f"| {inverse}" in body, key
    for claim in ("+21% model quality", "-40% training time", "2-3x data efficiency", "+75% edge-case handling"):
        assert f"| {claim} |" in body
    assert "Quick mode" in body
    # the loop ran again with seed 1: one spread row per user and task, with both seeds' changes
    assert "| user | task | seed 0 | seed 1 | mean | range | std dev |" in body
    spread = body.split("### Seed-to-seed spread")[1].split("###")[0]
    for user in learning.QUICK.users:
        for task in learning.QUICK.artifacts:
            row = next(line for line in spread.splitlines() if line.startswith(f"| {user} | {task} |"))
            assert row.count("%") >= 4, row
    # the runs went through the product: every Train now of the loop ended in a final state
    assert "| succeeded |" in body

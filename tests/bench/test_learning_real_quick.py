"""`editloop bench learning --base SPEC --quick` runs end to end through the product (numbers not checked)."""

from __future__ import annotations

import pytest

from editloop.bench import learning_real
from editloop.cli import main
from editloop.errors import EditloopError

pytestmark = pytest.mark.slow


def test_quick_real_tier_writes_its_table(tmp_path, monkeypatch):
    from editloop.training.base_model import build_base_model

    doc = tmp_path / "benchmarks.md"
    monkeypatch.setenv("EDITLOOP_BENCH_DOC", str(doc))  # never docs/benchmarks.md
    monkeypatch.delenv("EDITLOOP_HOME", raising=False)
    # a seconds-old tiny base named by its folder, the way a user names a model folder in baseModel
    base = build_base_model(tmp_path / "base", preset="tiny", steps=150, evaluate=False)
    body = learning_real.run(str(base), quick=True, write=True)

    text = doc.read_text()
    assert "<!-- bench:learning-real -->" in text and body.strip() in text
    plan = learning_real.plan_for(str(base), quick=True)
    for artifact in plan.artifacts:  # one row per type, each with a before -> after validity and recall
        row = next(line for line in body.splitlines() if line.startswith(f"| {artifact} |"))
        assert row.count("->") == 3, row
    assert "| 1 | 12 |" in body  # round 1, 12 events
    assert "| succeeded |" in body  # the Train now went through the product and finished


def test_a_missing_base_is_one_clear_error_before_any_work(tmp_path, capsys):
    with pytest.raises(EditloopError, match="does not exist"):
        learning_real.run(str(tmp_path / "nope.gguf"), quick=True, write=False)
    assert main(["bench", "system", "--base", "smollm2-135m"]) != 0
    assert "--base is for" in capsys.readouterr().err

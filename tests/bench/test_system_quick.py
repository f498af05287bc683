"""`editloop bench system --quick` runs end to end (numbers are not asserted: they belong in docs/benchmarks.md)."""

from __future__ import annotations

import pytest

from editloop.bench.system import run

pytestmark = pytest.mark.slow  # launches a Train now


def test_system_benchmark_quick_runs_every_part(tmp_path, monkeypatch):
    monkeypatch.setenv("EDITLOOP_BENCH_DOC", str(tmp_path / "benchmarks.md"))
    out = run(quick=True, write=False)
    for figure in ("server start to `initialize` answered", "idle RSS", "`didChange` p50 / p99", "`editloop.stats` on"):
        assert figure in out
    assert "events/s" in out  # ingestion (signals)
    assert "build_batch" in out  # batch building (curation)
    assert "tokens/s" in out  # training throughput beside plain TRL
    assert not (tmp_path / "benchmarks.md").exists()

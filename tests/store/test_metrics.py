"""One name per run metric (store.metrics): what training writes, what the CLI, the stats, curation and the
extension read; runs stored under older names still read the same."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from editloop.curation.batchsize import recent_metric
from editloop.store import Store, utcnow_iso
from editloop.store.metrics import OLD_NAMES, normalize_metrics
from editloop.store.stats import stats
from editloop.training.jobs import create_run, list_runs, run_status, update_run

ROOT = Path(__file__).resolve().parents[2]
CURRENT = set(OLD_NAMES.values())  # valLoss, valSimilarity, valValidity


def test_normalize_renames_old_names_and_keeps_current_ones():
    assert normalize_metrics({"eval_loss": 0.4, "val_similarity": 0.8, "eval_validity": 1.0, "counts": {"sft": 3}}) == {
        "valLoss": 0.4, "valSimilarity": 0.8, "valValidity": 1.0, "counts": {"sft": 3}}
    assert normalize_metrics({"valLoss": 0.3, "eval_loss": 0.9}) == {"valLoss": 0.3}  # the current name wins
    assert normalize_metrics(None) == {} and normalize_metrics([1]) == {}


def _finished_run(store: Store, metrics: dict, finished: float) -> str:
    run_id = create_run(store, method="sft")
    update_run(store, run_id, status="succeeded", metrics=metrics, finished_at=utcnow_iso(finished))
    return run_id


def test_a_run_stored_under_old_names_reads_under_current_ones_everywhere(tmp_path):
    store = Store.open(tmp_path)
    try:
        old = _finished_run(store, {"eval_loss": 0.5, "val_similarity": 0.81, "valValidity": 0.9}, 1_780_000_000.0)
        new = _finished_run(store, {"valLoss": 0.4, "valSimilarity": 0.86, "valValidity": 0.95}, 1_780_000_060.0)
        listed = {r["id"]: r["metrics"] for r in list_runs(store)}
        shown = {r["id"]: r["metrics"] for r in stats(store.db)["recentRuns"]}
        for metrics in (listed, shown):
            assert metrics[old] == {"valLoss": 0.5, "valSimilarity": 0.81, "valValidity": 0.9}
            assert metrics[new] == {"valLoss": 0.4, "valSimilarity": 0.86, "valValidity": 0.95}
        # the adaptive batch size's trend: both runs, under either name
        assert recent_metric(store, "valLoss") == recent_metric(store, "eval_loss") == [0.5, 0.4]
    finally:
        store.close()
    assert run_status(tmp_path, old)["metrics"]["valSimilarity"] == 0.81  # what editloop/runFinished carries
    out = subprocess.run([sys.executable, "-m", "editloop", "runs", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = {ln.split()[0]: ln for ln in out.stdout.splitlines()}
    assert "val similarity 0.81" in lines[old] and "val similarity 0.86" in lines[new]


def test_training_writes_and_the_extension_reads_the_current_names():
    finetune = (ROOT / "server" / "editloop" / "training" / "finetune.py").read_text()
    metrics_dict = finetune[finetune.index("    metrics = {\n        \"method\""):]
    for name in CURRENT:
        assert f'"{name}":' in metrics_dict, f"finetune does not write {name}"
    for old in OLD_NAMES:
        assert f'"{old}":' not in metrics_dict, f"finetune writes the old name {old}"
    ts = "\n".join((ROOT / "vscode-extension" / "src" / "common" / f).read_text() for f in ("runs.ts", "statsModel.ts"))
    read = set(re.findall(r"'(val\w+|eval_\w+|validity)'", ts))
    assert read and read <= CURRENT, f"the extension reads metric names nothing writes: {sorted(read - CURRENT)}"


def test_curation_trend_metric_default_is_a_current_name():
    from editloop.curation.config import CurationConfig

    assert CurationConfig().trend_metric in CURRENT

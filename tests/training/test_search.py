"""Optuna search: trials run, the study is stored in <data>/optuna.db, the best params feed the next run."""

from __future__ import annotations

import pytest

from editloop.training.config import TrainConfig
from editloop.training.search import best_params, search, storage_url, study_name

pytestmark = pytest.mark.slow


def test_a_two_trial_search_completes_and_stores_its_study(home, tiny_model, toy_data):
    import optuna

    cfg = TrainConfig(method="sft", artifact_type="toy", base_model=tiny_model, epochs=2, max_new_tokens=32)
    result = search(home, toy_data, cfg, home / "runs" / "r1", trials=2)

    assert (home / "optuna.db").exists()
    study = optuna.load_study(study_name=study_name("toy", "sft"), storage=storage_url(home))
    assert len(study.trials) == 2
    assert result.metrics["search"]["trials"] == 2
    assert (home / "runs" / "r1" / "adapter" / "config.json").exists()
    assert not (home / "runs" / "r1" / "trials").exists()
    params = best_params(home, "toy", "sft")
    assert set(params) == {"learning_rate", "epochs"}  # a full fine-tune: no LoRA rank to search
    assert cfg.with_params(params).learning_rate == params["learning_rate"]

    # Resuming seeds the sampler from the trial count: the third trial is not a repeat of the first.
    search(home, toy_data, cfg, home / "runs" / "r2", trials=1)
    study = optuna.load_study(study_name=study_name("toy", "sft"), storage=storage_url(home))
    lrs = [t.params["learning_rate"] for t in study.trials]
    assert len(lrs) == 3 and lrs[2] != lrs[0]
    assert (home / "runs" / "r2" / "adapter" / "config.json").exists()


def test_a_runs_first_trial_is_never_pruned(home, tiny_model, toy_data, monkeypatch):
    import optuna

    monkeypatch.setattr(optuna.trial.Trial, "should_prune", lambda self: True)
    cfg = TrainConfig(method="sft", artifact_type="toy", base_model=tiny_model, epochs=2, max_new_tokens=32)
    result = search(home, toy_data, cfg, home / "runs" / "r1", trials=2)

    study = optuna.load_study(study_name=study_name("toy", "sft"), storage=storage_url(home))
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED]
    assert (home / "runs" / "r1" / "adapter" / "config.json").exists()
    assert result.metrics["search"]["trials"] == 2


def test_no_study_means_no_params(home):
    assert best_params(home, "toy", "sft") == {}

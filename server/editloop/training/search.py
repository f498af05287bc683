"""Hyper-parameter search with Optuna: N trials of Train now, pruned on validation similarity.

Studies live in ``<data>/optuna.db`` (one per artifact type and method), so a later search
resumes them and the next Train now starts from the best parameters found (see
:func:`best_params`). The sampler is seeded from the number of trials already in the study: a
resumed study with a fixed-seed TPESampler would repeat its first suggestion.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import EditloopError
from .config import AUTO_EPOCHS, FULL_FINETUNE_BELOW, TrainConfig

STORAGE_NAME = "optuna.db"
# The fields a trial may set; anything else in a study's params is ignored.
SEARCHED = ("learning_rate", "lora_r", "lora_alpha", "epochs", "beta")


def storage_url(home: str | Path) -> str:
    return f"sqlite:///{Path(home) / STORAGE_NAME}"


def study_name(artifact_type: str | None, method: str) -> str:
    return f"editloop-{artifact_type or 'all'}-{method}"


def best_params(home: str | Path, artifact_type: str | None, method: str) -> dict[str, Any]:
    """The best completed trial's parameters for this artifact type and method, or {}."""
    if not (Path(home) / STORAGE_NAME).exists():
        return {}
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=study_name(artifact_type, method), storage=storage_url(home))
        params = study.best_trial.params
    except (KeyError, ValueError):  # no such study, or no completed trial
        return {}
    return {k: v for k, v in params.items() if k in SEARCHED}


def _count_params(base_model: str) -> int:
    from accelerate import init_empty_weights
    from transformers import AutoConfig, AutoModelForCausalLM

    from .base_source import resolve

    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(resolve(base_model)))
    return sum(p.numel() for p in model.parameters())


def suggest(trial, config: TrainConfig, *, lora: bool) -> dict[str, Any]:
    """One trial's parameters: learning rate, epochs, LoRA rank/alpha (LoRA only), beta (DPO/KTO)."""
    from .config import resolve

    default_lr = resolve(config, "sft", n_params=1 if not lora else FULL_FINETUNE_BELOW, on_gpu=False,
                         bf16_ok=False).learning_rate if config.learning_rate is None else config.learning_rate
    params: dict[str, Any] = {
        "learning_rate": trial.suggest_float("learning_rate", default_lr / 5, default_lr * 3, log=True),
        "epochs": float(trial.suggest_int("epochs", 2, max(3, int((config.epochs or AUTO_EPOCHS) * 1.5)))),
    }
    if lora:
        params["lora_r"] = trial.suggest_categorical("lora_r", [4, 8, 16, 32])
        params["lora_alpha"] = trial.suggest_categorical("lora_alpha", [8, 16, 32, 64])
    if config.method in ("dpo", "kto", "auto"):
        params["beta"] = trial.suggest_float("beta", 0.02, 0.5, log=True)
    return params


def search(home: str | Path, data, config: TrainConfig, out_dir: str | Path, *, trials: int,
           progress: Callable[[dict], None] | None = None, should_stop: Callable[[], bool] | None = None,
           incumbent: str | Path | None = None):
    """Run ``trials`` trials; the best trial's model becomes the run's result (no retraining).

    The steps: open (or resume) the study, run the trials one at a time (a cancel stops between
    and inside them), keep the best trial's model."""
    import optuna

    if trials < 1:
        raise EditloopError("a search needs at least one trial")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    lora = config.adaptation == "lora" or (config.adaptation == "auto" and
                                          _count_params(config.base_model) >= FULL_FINETUNE_BELOW)
    study = _open_study(home, config)
    run = _Trials(data, config, Path(out_dir), lora=lora, total=trials, progress=progress or (lambda e: None),
                  should_stop=should_stop or (lambda: False), incumbent=incumbent)
    _optimize(study, run)
    return _keep_best(study, run)


def _open_study(home: str | Path, config: TrainConfig):
    """The study of this artifact type and method, created or resumed; its sampler is seeded from
    the trials it already has (a resumed fixed-seed TPESampler would repeat its first suggestion)."""
    import optuna

    name = study_name(config.artifact_type, config.method)
    storage = storage_url(home)
    existing = 0
    try:
        existing = len(optuna.load_study(study_name=name, storage=storage).trials)
    except KeyError:
        pass
    return optuna.create_study(
        study_name=name, storage=storage, load_if_exists=True, direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=config.seed + existing),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=1),
    )


@dataclass
class _Trials:
    """One search run's trials: what each one trains on, and the results of those that completed."""
    data: Any
    config: TrainConfig
    out_dir: Path
    lora: bool
    total: int
    progress: Callable[[dict], None]
    should_stop: Callable[[], bool]
    incumbent: str | Path | None
    results: dict[int, Any] = field(default_factory=dict)  # trial number -> finetune.RunResult
    done: int = 0  # trials finished in this run (the progress bar's position)

    def objective(self, trial) -> float:
        """Train one trial (Optuna's objective): its validation similarity, or TrialPruned."""
        import optuna

        from .finetune import train

        params = suggest(trial, self.config, lora=self.lora)
        trial_cfg = self.config.with_params({k: v for k, v in params.items() if k in SEARCHED})
        pruned = {"flag": False}

        def on_eval(point: dict) -> bool:
            # Reported at the optimizer step (trials share the batch size): the median pruner then
            # compares trials after the same amount of training, whichever epochs each one evaluates.
            trial.report(point["valSimilarity"], int(point["step"]))
            # A run's first trial is never pruned: every search run keeps a model, even one trial
            # added to a study whose earlier trials did better.
            if self.results and trial.should_prune():
                pruned["flag"] = True
                return True
            return False

        folder = self.out_dir / "trials" / str(trial.number)
        result = train(self.data, trial_cfg, folder, progress=self._trial_progress(trial.number),
                       should_stop=self.should_stop, incumbent=self.incumbent, on_eval=on_eval)
        if pruned["flag"]:
            shutil.rmtree(folder, ignore_errors=True)
            raise optuna.TrialPruned()
        self.results[trial.number] = result
        return float(result.metrics["valSimilarity"])

    def _trial_progress(self, number: int) -> Callable[[dict], None]:
        """The trial's progress events, their percentage scaled to the whole search."""

        def report(event: dict) -> None:
            if "percentage" in event:
                event = {**event, "trial": number,
                         "percentage": round(100 * (self.done + event["percentage"] / 100) / self.total, 1)}
            self.progress(event)

        return report


def _optimize(study, run: _Trials) -> None:
    """Run the trials one at a time, stopping (Cancelled) when the user cancels."""
    from .finetune import Cancelled

    for done in range(run.total):
        run.done = done
        if run.should_stop():
            raise Cancelled()
        study.optimize(run.objective, n_trials=1, catch=())
    if run.should_stop():
        raise Cancelled()


def _keep_best(study, run: _Trials):
    """The best completed trial of this run becomes ``<out_dir>/adapter``; the trials' folders go;
    its metrics say what the search did."""
    import optuna

    ours = [t for t in study.trials if t.number in run.results]
    if not ours:
        raise EditloopError("every search trial was pruned; no model to keep")
    best_trial = max(ours, key=lambda t: t.value)
    best = run.results[best_trial.number]
    artifact = run.out_dir / "adapter"
    shutil.rmtree(artifact, ignore_errors=True)
    shutil.move(str(best.artifact), str(artifact))
    shutil.rmtree(run.out_dir / "trials", ignore_errors=True)
    best.artifact = artifact
    best.metrics["search"] = {
        "study": study.study_name, "trials": run.total, "bestTrial": best_trial.number,
        "bestParams": best_trial.params, "values": {t.number: t.value for t in ours},
        "pruned": sum(1 for t in study.trials if t.state == optuna.trial.TrialState.PRUNED),
    }
    best.reason = f"{best.reason} (best of {run.total} search trials)"
    return best

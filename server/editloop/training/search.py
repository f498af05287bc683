"""Hyper-parameter search with Optuna: N trials of Train now, pruned on validation similarity.

Studies live in ``<data>/optuna.db`` (one per artifact type and method), so a later search
resumes them and the next Train now starts from the best parameters found (see
:func:`best_params`). The sampler is seeded from the number of trials already in the study: a
resumed study with a fixed-seed TPESampler would repeat its first suggestion.
"""

from __future__ import annotations

import shutil
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
    """Run ``trials`` trials; the best trial's model becomes the run's result (no retraining)."""
    import optuna

    from .finetune import Cancelled, RunResult, train

    if trials < 1:
        raise EditloopError("a search needs at least one trial")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    progress = progress or (lambda e: None)
    should_stop = should_stop or (lambda: False)
    out_dir = Path(out_dir)
    lora = config.adaptation == "lora" or (config.adaptation == "auto" and
                                          _count_params(config.base_model) >= FULL_FINETUNE_BELOW)
    name = study_name(config.artifact_type, config.method)
    storage = storage_url(home)
    existing = 0
    try:
        existing = len(optuna.load_study(study_name=name, storage=storage).trials)
    except KeyError:
        pass
    study = optuna.create_study(
        study_name=name, storage=storage, load_if_exists=True, direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=config.seed + existing),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=1),
    )
    results: dict[int, RunResult] = {}

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial, config, lora=lora)
        trial_cfg = config.with_params({k: v for k, v in params.items() if k in SEARCHED})
        pruned = {"flag": False}

        def on_eval(point: dict) -> bool:
            # Reported at the optimizer step (trials share the batch size): the median pruner then
            # compares trials after the same amount of training, whichever epochs each one evaluates.
            trial.report(point["valSimilarity"], int(point["step"]))
            # A run's first trial is never pruned: every search run keeps a model, even one trial
            # added to a study whose earlier trials did better.
            if results and trial.should_prune():
                pruned["flag"] = True
                return True
            return False

        def trial_progress(event: dict) -> None:
            if "percentage" in event:
                event = {**event, "trial": trial.number,
                         "percentage": round(100 * (done + event["percentage"] / 100) / trials, 1)}
            progress(event)

        folder = out_dir / "trials" / str(trial.number)
        result = train(data, trial_cfg, folder, progress=trial_progress, should_stop=should_stop,
                       incumbent=incumbent, on_eval=on_eval)
        if pruned["flag"]:
            shutil.rmtree(folder, ignore_errors=True)
            raise optuna.TrialPruned()
        results[trial.number] = result
        return float(result.metrics["valSimilarity"])

    done = 0
    for done in range(trials):
        if should_stop():
            raise Cancelled()
        study.optimize(objective, n_trials=1, catch=())
    if should_stop():
        raise Cancelled()
    ours = [t for t in study.trials if t.number in results]
    if not ours:
        raise EditloopError("every search trial was pruned; no model to keep")
    best_trial = max(ours, key=lambda t: t.value)
    best = results[best_trial.number]
    artifact = out_dir / "adapter"
    shutil.rmtree(artifact, ignore_errors=True)
    shutil.move(str(best.artifact), str(artifact))
    shutil.rmtree(out_dir / "trials", ignore_errors=True)
    best.artifact = artifact
    best.metrics["search"] = {
        "study": name, "trials": trials, "bestTrial": best_trial.number, "bestParams": best_trial.params,
        "values": {t.number: t.value for t in study.trials if t.number in results},
        "pruned": sum(1 for t in study.trials if t.state == optuna.trial.TrialState.PRUNED),
    }
    best.reason = f"{best.reason} (best of {trials} search trials)"
    return best

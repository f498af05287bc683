"""Train now: fine-tune a local model on the user's fixes, in a separate process.

Import-light on purpose (the language server imports this package): torch, transformers, TRL,
PEFT and Optuna are imported inside the functions that use them.

- :mod:`.config`: ``TrainConfig`` (what a run does) and the size/device decisions.
- :mod:`.data`: ``TrainingData``, the TRL-format rows of one run.
- :mod:`.finetune`: SFT / DPO / KTO with TRL (+ PEFT LoRA), the ``auto`` method.
- :mod:`.tracker`: curves, generation metrics, early stopping, promotion.
- :mod:`.jobs` / :mod:`.worker`: the training process, its lock, progress and cancel.
- :mod:`.search`: Optuna search stored in ``<data>/optuna.db``.
- :mod:`.export`: adapter, merged model and Ollama Modelfile.
"""

from .config import LoraSettings, TrainConfig
from .jobs import cancel_run, iter_progress, list_runs, recover, run_status, start_run, wait_run
from .tracker import promote, promoted_run

__all__ = [
    "TrainConfig", "LoraSettings", "start_run", "cancel_run", "run_status", "iter_progress", "wait_run",
    "list_runs", "recover", "promote", "promoted_run",
]

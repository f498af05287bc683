"""One name per run metric in ``runs.metrics`` (and ``runs/<id>/metrics.json``, ``editloop/runFinished``).

The names are camelCase, as the extension reads them; runs written before this vocabulary are read
through :func:`normalize_metrics`, so their values keep showing:

| metric | name | older names still read |
| --- | --- | --- |
| validation loss (of the chosen checkpoint) | ``valLoss`` | ``eval_loss``, ``val_loss`` |
| validation similarity | ``valSimilarity`` | ``eval_similarity``, ``val_similarity`` |
| validation validity (share of valid outputs) | ``valValidity`` | ``eval_validity``, ``val_validity`` |

The same names are used in a run's ``curve`` points. Inside a training stage the trainer's own
metrics dict keeps transformers' ``eval_*`` names (``EarlyStoppingCallback`` and best-checkpoint
selection need the prefix); those never reach the database.
"""

from __future__ import annotations

from typing import Any

OLD_NAMES = {
    "eval_loss": "valLoss",
    "val_loss": "valLoss",
    "eval_similarity": "valSimilarity",
    "val_similarity": "valSimilarity",
    "eval_validity": "valValidity",
    "val_validity": "valValidity",
}


def metric_name(name: str) -> str:
    """The current name for ``name`` (itself when it is current or unknown)."""
    return OLD_NAMES.get(name, name)


def normalize_metrics(metrics: Any) -> dict[str, Any]:
    """A run's decoded metrics with older names renamed; a current name already present wins.
    Anything but an object (a damaged or empty column) reads as ``{}``."""
    if not isinstance(metrics, dict):
        return {}
    return {metric_name(k): v for k, v in metrics.items() if not (k in OLD_NAMES and OLD_NAMES[k] in metrics)}

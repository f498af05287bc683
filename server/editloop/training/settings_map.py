"""The one mapping from the ``editloop.*`` settings to a training run.

Train now in the editor (``lsp/training.py``), automatic training (``lsp/background.py``) and
``editloop train`` (``cli.py``) all start a run through :func:`run_options`, so the same settings
give the same run wherever it starts:

| setting | where it lands |
| --- | --- |
| ``editloop.training.baseModel`` | ``start_run(base_model=...)`` (``TrainConfig.base_model``) |
| ``editloop.training.threads`` | ``TrainConfig.threads`` |
| ``editloop.generation.retryInvalid`` | ``TrainConfig.retry_invalid`` (validation measures what is served) |
| ``editloop.reward.halfLifeDays`` | ``TrainConfig.curation["half_life_days"]`` (sample-weight decay) |
"""

from __future__ import annotations

from typing import Any, Mapping

from ..settings import Settings

# The settings a training run reads (names as in package.json, without "editloop.").
RUN_SETTINGS = ("training.baseModel", "training.threads", "generation.retryInvalid", "reward.halfLifeDays")


def run_options(settings: Settings, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``start_run``'s ``base_model`` and ``settings`` (TrainConfig fields) for ``settings``.

    ``overrides`` are TrainConfig fields given for this one run (``editloop.train``'s ``settings``
    argument: epochs, curation switches ...); they win, and their ``curation`` object is merged
    into the settings' one key by key. ``start_run`` validates the result."""
    fields: dict[str, Any] = {
        "threads": settings.training_threads,
        "retry_invalid": settings.generation_retry_invalid,
        "curation": {"half_life_days": settings.reward_half_life_days},
    }
    overrides = dict(overrides or {})
    curation = overrides.pop("curation", {})
    # a non-object stays as given, so TrainConfig names it in its error
    fields["curation"] = {**fields["curation"], **curation} if isinstance(curation, Mapping) else curation
    fields.update(overrides)
    return {"base_model": settings.training_base_model, "settings": fields}


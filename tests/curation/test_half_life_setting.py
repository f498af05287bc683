"""`editloop.reward.halfLifeDays` reaches the batch: older events weigh less the shorter the half-life.

The setting goes the way a run takes it: Settings -> training.settings_map.run_options ->
TrainConfig.curation_config() -> build_batch, over a real feedback database."""

from __future__ import annotations

import pytest

from editloop.curation import build_batch
from editloop.curation.config import CurationConfig
from editloop.settings import parse_settings
from editloop.training.config import TrainConfig
from editloop.training.settings_map import run_options

DAY = 86_400.0


def _weights(store, half_life_days: float | None) -> dict[int, float]:
    raw = {} if half_life_days is None else {"reward": {"halfLifeDays": half_life_days}}
    # the run's own overrides (as the benchmark's ablations pass them) keep the setting's half-life
    options = run_options(parse_settings(raw), {"curation": {"augmentation": False, "active": False}})
    config = TrainConfig.from_dict(options["settings"]).curation_config()
    batch = build_batch(store, method="sft", config=config, record=False)
    return {m["event_id"]: m["weight"] for m in batch.train_meta["sft"] if not m.get("copy")}


def test_half_life_setting_changes_the_sample_weights_of_older_events(store, maker):
    ages = {}
    for seed, days_old in enumerate((60, 20, 0)):  # three bursts of events, 60 and 20 days before the newest
        if seed:
            maker.clock += (previous - days_old) * DAY
        for ev in maker.spec_events(12, seed=seed, artifact_types=("mermaid-erd",)):
            ages[ev["id"]] = days_old
        previous = days_old
    short, default, long = _weights(store, 2), _weights(store, None), _weights(store, 3650)
    assert set(short) == set(default) == set(long) and short, "the same rows, only their weights differ"
    by_age = {d: [e for e in short if ages[e] == d] for d in (0, 20, 60)}
    assert all(by_age.values()), by_age
    for e in by_age[0]:  # fresh events (seconds old) do not decay
        assert short[e] == pytest.approx(default[e], rel=1e-3) and default[e] == pytest.approx(long[e], rel=1e-3)
    for e in by_age[20] + by_age[60]:
        assert short[e] < default[e] < long[e], (ages[e], short[e], default[e], long[e])
    # the default setting is curation's default half-life: no setting, no change
    assert CurationConfig().half_life_days == parse_settings({}).reward_half_life_days

"""Adaptive batch size: always 20..100 when there is enough data, and it moves the documented way."""

from __future__ import annotations

import itertools
import json

from editloop.curation import CurationConfig, build_batch
from editloop.curation.batchsize import batch_size, recent_metric, trend_score

CFG = CurationConfig()


def test_bounds_over_a_grid():
    for available, q, r, t in itertools.product((0, 5, 19, 20, 21, 60, 150, 10_000), (0, 0.5, 1), (0, 0.5, 1), (0, 0.5, 1)):
        size, parts = batch_size(available, quality=q, rarity=r, trend=t, config=CFG)
        if available >= 20:
            assert 20 <= size <= 100, (available, q, r, t, size)
        else:
            assert size == available  # nothing is invented
        assert 0 <= parts["score"] <= 1


def test_direction_of_each_part():
    def size(**kw):
        args = {"available": 150, "quality": 0.5, "rarity": 0.5, "trend": 0.5} | kw
        return batch_size(args.pop("available"), config=CFG, **args)[0]

    assert size(available=40) < size(available=200)
    assert size(quality=0.1) < size(quality=0.9)
    assert size(rarity=0.9) < size(rarity=0.1)  # a rare type trains on smaller batches
    assert size(trend=0.0) < size(trend=1.0)  # improving -> smaller, stalled/worse -> larger
    assert batch_size(10_000, quality=1, rarity=0, trend=1, config=CFG)[0] == 100


def test_trend_score():
    assert trend_score([]) == 0.5 and trend_score([1.0]) == 0.5
    assert trend_score([1.0, 0.8]) < 0.5  # loss falling: improving
    assert trend_score([0.8, 1.0]) > 0.5
    assert trend_score([0.5, 0.9], higher_is_better=True) < 0.5


def test_fixed_size_when_off():
    assert batch_size(500, quality=0, rarity=1, trend=0, config=CFG.replace(adaptive_batch=False, fixed_batch_size=64))[0] == 64


def test_build_batch_respects_bounds_and_reads_run_history(store, maker):
    maker.spec_events(260, seed=21)
    store.db.conn.executemany(
        "INSERT INTO runs(id, method, status, metrics, created_at, finished_at) VALUES (?,?,?,?,?,?)",
        [(f"run{i}", "sft", "succeeded", json.dumps({"eval_loss": v}), f"2026-01-0{i + 1}T00:00:00.000Z",
          f"2026-01-0{i + 1}T00:00:00.000Z") for i, v in enumerate((2.0, 1.5, 1.4))],
    )
    assert recent_metric(store, "eval_loss") == [2.0, 1.5, 1.4]
    batch = build_batch(store, config=CurationConfig(augmentation=False))
    assert 20 <= batch.size <= 100
    assert batch.size_parts["trend"] < 0.5  # the loss has been falling
    worse = build_batch(store, config=CurationConfig(augmentation=False), val_history=[1.0, 1.0, 1.6])
    assert worse.size_parts["trend"] > 0.5 and worse.size >= batch.size

"""Curation's reward weights and curriculum order reach the optimizer (training/sampling.py).

The unit tests check the sampler; the slow ones build each stage's real trainer on the tiny base
(without training) and read the row indices its train dataloader yields for one epoch."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
import tinymodel

from editloop.errors import EditloopError
from editloop.training.config import TrainConfig, resolve
from editloop.training.data import Split, TrainingData
from editloop.training.sampling import RowSampler, kept_rows, row_order, systematic_draw


# -- the sampler --------------------------------------------------------------------------------------

@pytest.mark.parametrize("offset", [0.0, 0.37, 0.999])
def test_systematic_draw_gives_each_row_its_share_within_one(offset):
    weights = [1.0, 2.0, 0.0, 0.5, 4.0, 0.05, 1.0]
    n = 23
    counts = Counter(systematic_draw(weights, n, offset))
    assert sum(counts.values()) == n and counts[2] == 0  # a zero weight is never drawn
    for i, w in enumerate(weights):
        share = n * w / sum(weights)
        assert math.floor(share) <= counts[i] <= math.ceil(share), (i, counts[i], share)


def test_equal_weights_draw_every_row_once():
    assert systematic_draw([0.7] * 9, 9, 0.5) == list(range(9))


def test_row_sampler_orders_or_shuffles_each_epoch_reproducibly():
    ordered = RowSampler(12, weights=[1.0] * 6 + [3.0] * 6, ordered=True, seed=3)
    drawn = list(ordered)
    assert drawn == sorted(drawn) and len(drawn) == len(ordered) == 12
    assert sum(i >= 6 for i in drawn) == 9  # three quarters of the weight, three quarters of the draws

    shuffled = RowSampler(12, seed=3)
    first = list(shuffled)
    assert sorted(first) == list(range(12)) and first != list(range(12))
    assert list(shuffled) == first  # same epoch, same order (every process agrees)
    shuffled.set_epoch(1)
    assert sorted(shuffled) == list(range(12)) and list(shuffled) != first
    assert list(RowSampler(12, seed=4)) != first


def test_row_sampler_groups_by_length_when_not_ordered():
    lengths = [(7 * i) % 40 + (100 if i % 2 else 1) for i in range(64)]

    def padding(order: list[int]) -> int:
        batches = [order[k:k + 4] for k in range(0, len(order), 4)]
        return sum(4 * max(lengths[i] for i in b) - sum(lengths[i] for i in b) for b in batches)

    grouped = RowSampler(64, seed=0, lengths=lengths, group_size=4).indices()
    assert sorted(grouped) == list(range(64))
    assert padding(grouped) < padding(RowSampler(64, seed=0).indices()) / 2


def test_kept_rows_follows_the_rows_trl_kept():
    from datasets import Dataset

    source = Dataset.from_list([{"prompt": f"p{i}", "completion": f"c{i}"} for i in range(5)])
    prepared = source.select([0, 1, 3, 4]).add_column("input_ids", [[1]] * 4)
    assert kept_rows(prepared, source, ("prompt", "completion")) == [0, 1, 3, 4]
    assert kept_rows(source, source, ("prompt", "completion")) == list(range(5))
    stranger = Dataset.from_list([{"prompt": "x", "completion": "y"}] * 4)
    assert kept_rows(stranger, source, ("prompt", "completion")) is None
    assert kept_rows(prepared.remove_columns(["prompt"]), source, ("prompt", "completion")) is None


def test_row_order_applies_only_what_changes_the_draw():
    split = Split(train=[{}] * 4, weights=[1.0, 0.5, 1.0, 0.2])
    plan = row_order("sft", split, curriculum=False, reward_weighting=True, seed=0)
    assert plan.weights == [1.0, 0.5, 1.0, 0.2] and not plan.ordered
    assert row_order("dpo", split, curriculum=True, reward_weighting=False, seed=0).weights is None
    assert row_order("sft", split, curriculum=False, reward_weighting=False, seed=0) is None
    assert row_order("sft", Split(train=[{}] * 3, weights=[0.8] * 3), curriculum=False, reward_weighting=True,
                     seed=0) is None  # equal weights: every row once, as without weights
    assert row_order("kto", split, curriculum=True, reward_weighting=True, seed=0) is None  # TRL's sequential KTO


@pytest.mark.parametrize("weights,message", [
    ([1.0, 1.0], "2 sample weights for 3"),
    ([1.0, -0.1, 1.0], "finite numbers of 0 or more"),
    ([1.0, float("nan"), 1.0], "finite numbers of 0 or more"),
    ([0.0, 0.0, 0.0], "all zero"),
])
def test_bad_sample_weights_are_refused_with_a_clear_error(weights, message):
    rows = tinymodel.sft_rows(["customer", "order", "product"])
    data = TrainingData(sft=Split(rows, tinymodel.sft_rows(["invoice"]), weights=weights))
    with pytest.raises(EditloopError, match=message):
        data.check("sft")


# -- the trainers' dataloaders (tiny base, no training) -------------------------------------------------

def _trainer(method: str, data: TrainingData, tiny_model: str, tmp_path: Path, **settings):
    from transformers import AutoTokenizer

    from editloop.training.finetune import stage_trainer

    cfg = TrainConfig(method=method, base_model=tiny_model, batch_size=4, **settings)
    res = resolve(cfg, method, n_params=100_000, on_gpu=False, bf16_ok=False)
    return stage_trainer(method, config=cfg, res=res, base_path=tiny_model, start=None,
                         tokenizer=AutoTokenizer.from_pretrained(tiny_model), data=data, out_dir=tmp_path / method)


def _epoch_rows(trainer, ids_column: str = "input_ids", batch_key: str = "input_ids", mask_key: str = "attention_mask"):
    """The indices (into the prepared train dataset) of the rows the train dataloader yields in one epoch,
    recognised by their tokens."""
    index = {}
    for i, ids in enumerate(trainer.train_dataset[ids_column]):
        index.setdefault(tuple(ids), []).append(i)
    assert all(len(v) == 1 for v in index.values()), "rows must be distinct"
    loader = trainer.get_train_dataloader()
    out = []
    for batch in loader:
        for ids, mask in zip(batch[batch_key], batch[mask_key]):
            out.append(index[tuple(ids[mask.bool()].tolist())][0])
    return out


def _sft_data(curriculum: bool, weights: list[float] | None = None) -> TrainingData:
    words = tinymodel.WORDS[:16]
    rows = tinymodel.sft_rows(words)
    return TrainingData(sft=Split(rows, tinymodel.sft_rows(tinymodel.WORDS[16:]), weights=weights or []),
                        artifact_type="toy", curriculum=curriculum)


@pytest.mark.slow
def test_sft_dataloader_yields_the_curriculum_order_when_on_and_shuffles_when_off(tiny_model, tmp_path):
    on = _trainer("sft", _sft_data(curriculum=True), tiny_model, tmp_path / "on")
    assert _epoch_rows(on) == list(range(16))  # the dataset's order is curation's easy -> hard
    assert "curriculum order" in on.row_order.describe()

    off = _trainer("sft", _sft_data(curriculum=False), tiny_model, tmp_path / "off")
    assert off.row_order is None  # today's path: rows shuffled once, transformers' length-grouped sampler
    rows = _epoch_rows(off)
    assert sorted(rows) == list(range(16)) and rows != list(range(16))


@pytest.mark.slow
def test_sft_draws_rows_in_proportion_to_their_weight_and_uniformly_when_off(tiny_model, tmp_path):
    weights = [0.25] * 8 + [1.0] * 8  # the last eight weigh four times as much
    on = _trainer("sft", _sft_data(curriculum=False, weights=weights), tiny_model, tmp_path / "on")
    counts = Counter(_epoch_rows(on))
    assert sum(counts.values()) == 16  # the epoch keeps its length
    heavy, light = sum(counts[i] for i in range(8, 16)), sum(counts[i] for i in range(8))
    assert (heavy, light) == (13, 3) or (heavy, light) == (12, 4)  # 16 * 0.8 and 16 * 0.2, within one row
    assert all(counts[i] >= 1 for i in range(8, 16))
    assert on._get_train_sampler().group_size == 4  # no curriculum: batches still grouped by length

    off = _trainer("sft", _sft_data(curriculum=False, weights=weights), tiny_model, tmp_path / "off",
                   reward_weighting=False)
    assert Counter(_epoch_rows(off)) == Counter(range(16))  # every row once

    both = _trainer("sft", _sft_data(curriculum=True, weights=weights), tiny_model, tmp_path / "both")
    drawn = _epoch_rows(both)
    assert drawn == sorted(drawn) and sum(i >= 8 for i in drawn) >= 12


def _seed_rewarded_events(store, n: int = 60) -> None:
    """Toy events whose rewards and sources differ, so curation's weights differ."""
    from editloop.signals.similarity import similarity
    from editloop.store import utcnow_iso

    for i in range(n):
        w = f"{tinymodel.WORDS[i % 20]} {tinymodel.WORDS[(i * 7 + 3) % 20]} {i}"
        region = store.insert_region({"uri": f"file:///w/{i}.toy", "artifact_type": "toy",
                                      "prompt": tinymodel.prompt_text(w), "model": "tiny",
                                      "original": tinymodel.base_style(w)})
        action = ("edit", "accept", "accept", "edit", "reject")[i % 5]
        final = tinymodel.user_style(w) if action == "edit" else tinymodel.base_style(w)
        store.record_outcome(region["id"], {
            "action": action, "source": "implicit" if i % 3 == 0 else "explicit", "prompt": tinymodel.prompt_text(w),
            "original": tinymodel.base_style(w), "final": final, "artifact_type": "toy",
            "similarity": similarity(tinymodel.base_style(w), final),
            "reward": {"edit": 0.5, "accept": 0.6 + (i % 4) / 10, "reject": -1.0}[action],
        }, status={"edit": "edited", "accept": "accepted", "reject": "rejected"}[action], at=utcnow_iso())


@pytest.mark.slow
def test_the_sft_trainer_draws_with_the_weights_curation_recorded(tiny_model, tmp_path):
    from editloop.store import Store
    from editloop.training.data import from_store

    store = Store.open(tmp_path / "data")
    try:
        _seed_rewarded_events(store)
        data = from_store(store, artifact_type="toy", method="sft")
        with store.lock:
            recorded = [w for (w,) in store.db.conn.execute(
                "SELECT weight FROM batch_rows WHERE batch_id = ? AND split = 'train' AND kind = 'sft' ORDER BY rowid",
                (data.batch_id,))]
    finally:
        store.close()
    assert data.curriculum and len(set(data.sft.weights)) > 2
    assert data.sft.weights == recorded  # as curation computed and recorded them, not recomputed
    trainer = _trainer("sft", data, tiny_model, tmp_path)
    assert trainer.row_order.weights == recorded
    sampler = trainer._get_train_sampler()
    assert len(trainer.train_dataset) == len(recorded) and sampler.weights == recorded and sampler.ordered


@pytest.mark.slow
def test_dpo_follows_the_weights_and_kto_keeps_its_sequential_batches(tiny_model, tmp_path):
    from torch.utils.data import SequentialSampler

    words = tinymodel.WORDS[:12]
    dpo = TrainingData(dpo=Split(tinymodel.dpo_rows(words), tinymodel.dpo_rows(tinymodel.WORDS[16:]),
                                 weights=[0.1] * 6 + [1.0] * 6), artifact_type="toy", curriculum=True)
    sampler = _trainer("dpo", dpo, tiny_model, tmp_path / "dpo")._get_train_sampler()
    drawn = list(sampler)
    assert drawn == sorted(drawn) and sum(i >= 6 for i in drawn) >= 10

    # KTO: TRL's sequential sampler (its KL term pairs rows of a fixed batch), curation's class weights;
    # with a curriculum the rows stay in their order, without one they are shuffled once beforehand.
    rows = tinymodel.kto_rows(words)
    for curriculum in (True, False):
        kto = TrainingData(kto=Split(rows, tinymodel.kto_rows(tinymodel.WORDS[16:]), weights=[0.1] * 6 + [1.0] * 6),
                           artifact_type="toy", curriculum=curriculum, kto_weights={"desirable_weight": 1.0,
                                                                                     "undesirable_weight": 1.0})
        trainer = _trainer("kto", kto, tiny_model, tmp_path / f"kto-{curriculum}")
        assert trainer.row_order is None and isinstance(trainer._get_train_sampler(), SequentialSampler)
        order = [c[0]["content"] for c in trainer.train_dataset["completion"]]
        source = [r["completion"][0]["content"] for r in rows]
        assert (order == source) is curriculum and sorted(order) == sorted(source)

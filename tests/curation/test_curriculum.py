"""Curriculum: difficulty ordering, easy -> hard stages, advancing on validation metrics only."""

from __future__ import annotations

from editloop.curation import CurationConfig, Curriculum, build_batch
from editloop.curation.curriculum import difficulties
from editloop.curation.events import load_events

SHORT = "erDiagram\n    A ||--o{ B : has\n"
LONG = "erDiagram\n" + "".join(f"    E{i} ||--o{{ F{i} : has\n" for i in range(40))


def test_difficulty_orders_by_edit_length_and_validity(store, maker):
    easy = maker.event(prompt="p1", original=SHORT, final=SHORT)
    edited = maker.event(prompt="p2", original=SHORT, final=SHORT.replace("A", "alpha").replace("B", "beta"))
    long_edit = maker.event(prompt="p3", original=LONG, final=LONG.replace("E", "entity_"))
    rejected = maker.event(prompt="p4", original=LONG, rejected=True)
    d = difficulties(load_events(store))
    assert d[easy["id"]] < d[edited["id"]] < d[rejected["id"]]
    assert d[easy["id"]] < d[long_edit["id"]]
    assert all(0 <= v <= 1 for v in d.values())


def test_stages_open_on_plateau_not_on_schedule():
    items = list("abcdef")
    c = Curriculum(items, [0.9, 0.1, 0.5, 0.3, 0.7, 0.2], stages=3, patience=2, min_delta=0.01)
    assert c.rows() == ["b", "f"]  # the easiest third
    assert not c.report(1.0) and not c.report(0.8) and not c.report(0.7)  # improving: stay
    assert c.stage == 0
    assert not c.report(0.7)  # one report without progress (patience 2)
    assert c.report(0.699)  # second: the next stage opens
    assert c.stage == 1 and c.rows() == ["b", "f", "d", "c"]
    c.report(0.6)
    c.report(0.6)
    c.report(0.6)
    assert c.stage == 2 and c.rows() == ["b", "f", "d", "c", "e", "a"]
    assert not c.done
    c.report(0.6)
    c.report(0.6)
    c.report(0.6)
    assert c.done and c.stage == 2
    higher = Curriculum(items, [0.0] * 6, stages=2, patience=1, higher_is_better=True)
    higher.report(0.5)
    assert not higher.report(0.6) and higher.stage == 0
    assert higher.report(0.55) and higher.stage == 1


def test_batch_rows_are_ordered_easy_to_hard(store, maker):
    maker.spec_events(80, seed=31)
    batch = build_batch(store, config=CurationConfig(augmentation=False))
    for method in ("sft", "dpo", "kto"):
        d = [m["difficulty"] for m in batch.train_meta[method]]
        assert d == sorted(d)
    cur = batch.curriculum("sft")
    assert cur.n_stages == 3 and len(cur.rows()) < len(batch.train["sft"])
    off = build_batch(store, config=CurationConfig(augmentation=False, curriculum=False)).curriculum("sft")
    assert off.n_stages == 1 and len(off.rows()) == len(off.stages[0])


def test_train_now_receives_the_batchs_order_weights_and_curriculum_switch(store, maker):
    """What training gets from a batch (training.data.from_batch): the rows in curriculum order, each
    with the weight curation computed, and whether the order is a curriculum the trainer must keep."""
    from editloop.training.data import from_batch

    maker.spec_events(60, seed=5)
    for i in range(6):  # outcomes nobody clicked weigh less (implicit_weight)
        maker.event(prompt=f"an implicit spec {i}", original=SHORT, final=SHORT, source="implicit")
    for curriculum in (True, False):
        batch = build_batch(store, config=CurationConfig(augmentation=False, curriculum=curriculum), record=False)
        data = from_batch(batch)
        assert data.curriculum is curriculum
        for method in ("sft", "dpo", "kto"):
            split = data.split(method)
            assert split.train == batch.train[method]
            assert split.weights == batch.weights(method) and len(split.weights) == len(split.train)
        if curriculum:
            d = [m["difficulty"] for m in batch.train_meta["sft"]]
            assert d == sorted(d) and len(set(data.sft.weights)) > 1

"""Active learning: diversity by k-center greedy, the training side's uncertainty, newest when off."""

from __future__ import annotations

from editloop.curation import CurationConfig, build_batch
from editloop.curation.active import prefilter, select
from editloop.curation.events import load_events
from editloop.curation.groups import assign_groups

CFG = CurationConfig()


def _erd(names):
    return "erDiagram\n" + "".join(f"    {a} ||--o{{ {b} : has\n" for a, b in zip(names, names[1:]))


def _two_clusters(maker):
    for i in range(12):  # twelve near-identical outputs about orders
        maker.event(prompt=f"orders and customers variant {i}", original=_erd(["CUSTOMER", "ORDER", "ITEM"]),
                    final=_erd(["customer", "order", "item"]) + f"%% v{i}\n")
    for i in range(3):  # three about a zoo
        maker.event(prompt=f"a zoo with keepers and animals {i}", original=_erd(["ZOO", "KEEPER", "ANIMAL"]),
                    final=_erd(["zoo", "keeper", "animal"]) + f"%% z{i}\n")


def test_k_center_picks_both_clusters(store, maker):
    _two_clusters(maker)
    events = load_events(store)
    assign_groups(events)
    chosen, scores = select(prefilter(events, CFG), 2, CFG.replace(active_uncertainty_weight=0, active_quality_weight=0))
    topics = {"zoo" in ev.prompt for ev in chosen}
    assert topics == {True, False}
    assert set(scores) == {ev.id for ev in chosen}


def test_uncertainty_fn_from_the_training_side(store, maker):
    _two_clusters(maker)
    events = load_events(store)
    assign_groups(events)
    target = events[5].id
    calls = []

    def uncertainty(rows):
        calls.append(len(rows))
        assert all(set(r) == {"prompt", "completion"} for r in rows)
        return [10.0 if "variant 5" in r["prompt"][1]["content"] else 0.0 for r in rows]

    cfg = CFG.replace(active_uncertainty_weight=1.0, active_diversity_weight=0.0, active_quality_weight=0.0)
    batch = build_batch(store, config=cfg.replace(augmentation=False, min_batch_size=1, adaptive_batch=False,
                                                  fixed_batch_size=1, val_min_events=10_000, hard_negatives=False),
                        uncertainty_fn=uncertainty, record=False)
    assert calls and batch.train_meta["sft"][0]["event_id"] == target


def test_newest_when_off(store, maker):
    _two_clusters(maker)
    events = load_events(store)
    assign_groups(events)
    off = CFG.replace(active=False)
    chosen, _ = select(prefilter(events, off), 3, off)
    assert [ev.id for ev in chosen] == sorted((ev.id for ev in events), reverse=True)[:3]

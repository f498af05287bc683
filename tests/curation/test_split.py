"""The train/validation split: grouped, stratified, time-aware, stable, never leaking."""

from __future__ import annotations

import pytest

from editloop.curation import CurationConfig, LeakageError, build_batch
from editloop.curation.dedupe import check_leakage
from editloop.curation.events import load_events, normalize_prompt
from editloop.curation.groups import assign_groups
from editloop.curation.split import assign_splits
from editloop.store.batches import assigned_splits

CFG = CurationConfig(now=None, augmentation=False)


def _val_ids(batch) -> set[int]:
    return {m["event_id"] for metas in batch.val_meta.values() for m in metas}


def _train_ids(batch) -> set[int]:
    return {m["event_id"] for metas in batch.train_meta.values() for m in metas}


def _near_duplicates(maker, n: int = 30) -> None:
    """Prompts repeated with other case, punctuation and one extra word: each family is one group."""
    base = "Each customer places many orders and every order lists products with a price and a quantity"
    for i in range(n):
        prompt = f"{base} in shop number {i % 10}"
        variants = [prompt, prompt.upper() + "!!", prompt.replace(" and ", ", and ") + " please"]
        for j, p in enumerate(variants):
            maker.event(prompt=p, original=f"erDiagram\n    CUSTOMER ||--o{{ ORDER : places\n", final=None if j == 2 else
                        "erDiagram\n    customer ||--o{ order : places\n")


def test_no_validation_leakage_with_near_duplicate_prompts(store, maker):
    maker.spec_events(60, seed=1)
    _near_duplicates(maker)
    batch = build_batch(store, config=CFG.replace(val_fraction=0.3))
    val_meta = [m for metas in batch.val_meta.values() for m in metas]
    train_meta = [m for metas in batch.train_meta.values() for m in metas]
    assert val_meta and train_meta
    assert not {m["group"] for m in val_meta} & {m["group"] for m in train_meta}
    assert not {m["norm_prompt"] for m in val_meta} & {m["norm_prompt"] for m in train_meta}
    # the near-duplicate families were grouped: each family's prompts share one group
    events = load_events(store)
    assign_groups(events)
    fam = {}
    for ev in events:
        if "shop number" in ev.norm_prompt:
            fam.setdefault(ev.norm_prompt.split("shop number ")[1].split()[0], set()).add(ev.group)
    assert fam and all(len(groups) == 1 for groups in fam.values())


def test_split_is_stratified_and_time_aware(store, maker):
    maker.spec_events(120, seed=2)
    batch = build_batch(store, config=CFG)
    events = {ev.id: ev for ev in load_events(store)}
    val = _val_ids(batch)
    by_type = {}
    for eid in val:
        by_type.setdefault(events[eid].artifact_type, 0)
        by_type[events[eid].artifact_type] += 1
    assert set(by_type) == {"mermaid-erd", "sql", "python-dataclass"}
    recorded = assigned_splits(store)
    val_ts = [events[i].ts for i, s in recorded.items() if s == "validation"]
    train_ts = [events[i].ts for i, s in recorded.items() if s == "train"]
    assert min(val_ts) > sorted(train_ts)[len(train_ts) // 2]  # validation = the newest events


def test_split_is_stable_across_builds(store, maker):
    maker.spec_events(90, seed=3)
    first = build_batch(store, config=CFG)
    before = assigned_splits(store)
    assert len(before) == 90
    maker.spec_events(45, seed=4)  # new events arrive
    second = build_batch(store, config=CFG)
    after = assigned_splits(store)
    assert all(after[eid] == side for eid, side in before.items())
    assert len(after) == 135
    assert _val_ids(first) <= {eid for eid, s in after.items() if s == "validation"}
    assert not _val_ids(second) & _train_ids(second)
    # a third build with nothing new records no new assignment
    n_rows = store.db.conn.execute("SELECT COUNT(*) FROM batch_rows WHERE kind = 'assign'").fetchone()[0]
    build_batch(store, config=CFG)
    assert store.db.conn.execute("SELECT COUNT(*) FROM batch_rows WHERE kind = 'assign'").fetchone()[0] == n_rows


def test_synthetic_events_never_validate(store, maker):
    evs = maker.spec_events(90, seed=5)
    synthetic = [e["id"] for e in evs[-30:]]  # the newest: where validation comes from
    store.db.conn.executemany("UPDATE events SET synthetic = 1 WHERE id = ?", [(i,) for i in synthetic])
    batch = build_batch(store, config=CFG)
    assert _val_ids(batch)
    assert not _val_ids(batch) & set(synthetic)
    events = load_events(store)
    assign_groups(events)
    assign_splits(events, {}, CFG)
    assert all(ev.split != "validation" for ev in events if ev.synthetic)


def test_small_types_get_no_validation_yet(store, maker):
    maker.spec_events(5, seed=6, artifact_types=("sql",))
    batch = build_batch(store, config=CFG)
    assert batch.counts()["val"] == 0
    assert batch.counts()["sft"] > 0


def test_leakage_check_fails_loudly():
    row = {"prompt": [{"role": "user", "content": "a b"}], "completion": [{"role": "assistant", "content": "x"}]}
    meta = {"group": "sql|p|a b", "norm_prompt": normalize_prompt("a b"), "artifact_type": "sql", "event_id": 1}
    with pytest.raises(LeakageError):
        check_leakage([(row, meta)], [(row, {**meta, "event_id": 2})])
    with pytest.raises(LeakageError):  # another group, same prompt
        check_leakage([(row, meta)], [(row, {**meta, "group": "other", "event_id": 2})])
    with pytest.raises(LeakageError):  # synthetic rows in validation
        check_leakage([], [(row, {**meta, "synthetic": True})])
    other = {"group": "g2", "norm_prompt": "c d", "artifact_type": "sql", "event_id": 3}
    check_leakage([(row, meta)], [({**row, "prompt": [{"role": "user", "content": "c d"}],
                                    "completion": [{"role": "assistant", "content": "y"}]}, other)])

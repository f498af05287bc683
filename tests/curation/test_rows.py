"""Rows in TRL's column names: pairs only where real edits exist, negatives from rejects, lost regions never."""

from __future__ import annotations

from editloop.curation import CurationConfig, build_batch, export_rows
from editloop.curation.events import load_events
from editloop.curation.rows import build_rows, is_real_edit

CFG = CurationConfig(augmentation=False, val_min_events=10_000)  # everything trains: easier to inspect

ERD = "erDiagram\n    CUSTOMER ||--o{ ORDER : places\n    CUSTOMER {\n        int id PK\n        string name\n    }\n"
ERD_EDIT = "erDiagram\n    customer ||--o{ order : places\n    customer {\n        uuid id PK\n        varchar name\n    }\n"
ERD_WS = ERD.replace("    CUSTOMER {", "  CUSTOMER  {") + "\n\n"


def _rows_by_event(batch, method):
    out = {}
    for row, meta in zip(batch.train[method], batch.train_meta[method]):
        if meta.get("copy"):  # an oversampled hard negative's extra copies
            continue
        out.setdefault(meta["event_id"], []).append((row, meta))
    return out


def test_rows_by_action_and_trl_columns(store, maker):
    acc = maker.event(prompt="customers place orders", original=ERD, final=ERD)
    edit = maker.event(prompt="customers place orders, snake case", original=ERD, final=ERD_EDIT)
    ws = maker.event(prompt="customers place orders, tidy", original=ERD, final=ERD_WS)
    rej = maker.event(prompt="customers place orders, a bad one", original=ERD.replace("||--o{", "||-?"), rejected=True)
    rewrite = maker.event(prompt="customers place orders, rewritten", original=ERD, final=ERD_EDIT, rejected=True)
    assert (acc["action"], edit["action"], ws["action"], rej["action"]) == ("accept", "edit", "edit", "reject")
    batch = build_batch(store, config=CFG.replace(min_batch_size=1))
    sft, dpo, kto = (_rows_by_event(batch, m) for m in ("sft", "dpo", "kto"))

    assert all(set(r) == {"prompt", "completion"} for r in batch.train["sft"])
    assert all(set(r) == {"prompt", "chosen", "rejected"} for r in batch.train["dpo"])
    assert all(set(r) == {"prompt", "completion", "label"} for r in batch.train["kto"])
    for r in batch.train["sft"]:
        assert [m["role"] for m in r["prompt"]] == ["system", "user"]
        assert r["completion"][0]["role"] == "assistant"

    # accept: SFT + KTO true, no pair
    assert sft[acc["id"]][0][0]["completion"][0]["content"] == ERD
    assert acc["id"] not in dpo and [r["label"] for r, _ in kto[acc["id"]]] == [True]
    # real edit: chosen = final, rejected = original
    (pair, _), = dpo[edit["id"]]
    assert pair["chosen"][0]["content"] == ERD_EDIT and pair["rejected"][0]["content"] == ERD
    assert sorted(r["label"] for r, _ in kto[edit["id"]]) == [False, True]
    # whitespace-only fix: a positive, never a pair or a negative
    assert ws["id"] in sft and ws["id"] not in dpo
    assert [r["label"] for r, _ in kto[ws["id"]]] == [True]
    # reject without final text: only a negative
    assert rej["id"] not in sft and [r["label"] for r, _ in kto[rej["id"]]] == [False]
    # reject with the user's rewrite: the rewrite is a positive
    assert sft[rewrite["id"]][0][0]["completion"][0]["content"] == ERD_EDIT


def test_cross_event_pairs_for_near_identical_prompts(store, maker):
    good = maker.event(prompt="Customers place orders.", original=ERD, final=ERD)
    bad = maker.event(prompt="customers place orders", original=ERD.replace("CUSTOMER", "CLIENT"), rejected=True)
    maker.event(prompt="something else entirely: a zoo with animals", original=ERD, rejected=True)
    batch = build_batch(store, config=CFG.replace(min_batch_size=1))
    cross = [(r, m) for r, m in zip(batch.train["dpo"], batch.train_meta["dpo"])
             if m["kind"] == "dpo_cross" and not m.get("copy")]
    assert len(cross) == 1
    row, meta = cross[0]
    assert (meta["event_id"], meta["rejected_event_id"]) == (good["id"], bad["id"])
    assert row["chosen"][0]["content"] == ERD and "CLIENT" in row["rejected"][0]["content"]
    off = build_batch(store, config=CFG.replace(min_batch_size=1, cross_pairs=False))
    assert all(m["kind"] != "dpo_cross" for m in off.train_meta["dpo"])


def test_lost_regions_never_enter_training(store, maker):
    evs = maker.spec_events(30, seed=11)
    lost = evs[3]
    store.db.conn.execute("UPDATE regions SET status = 'lost' WHERE id = ?", [lost["region_id"]])
    assert lost["id"] not in {ev.id for ev in load_events(store)}
    batch = build_batch(store, config=CFG)
    used = {m["event_id"] for metas in (*batch.train_meta.values(), *batch.val_meta.values()) for m in metas}
    assert used and lost["id"] not in used
    prompts = {r["prompt"][1]["content"] for r in export_rows(store, "sft")}
    assert lost["prompt"] not in prompts or sum(1 for e in evs if e["prompt"] == lost["prompt"]) > 1


def test_weights_decay_and_kto_class_balance(store, maker):
    old = maker.event(prompt="an old prompt about shops", original=ERD, final=ERD_EDIT)
    maker.clock += 60 * 86400  # two half-lives later
    new = maker.event(prompt="a new prompt about shops and staff", original=ERD, final=ERD_EDIT)
    for i in range(3):
        maker.event(prompt=f"rejected prompt number {i} about warehouses", original=ERD, rejected=True)
    batch = build_batch(store, config=CFG.replace(min_batch_size=1, hard_negatives=False))
    w = {m["event_id"]: m["weight"] for m in batch.train_meta["sft"]}
    assert abs(w[old["id"]] / w[new["id"]] - 0.25) < 0.01
    flat = build_batch(store, config=CFG.replace(min_batch_size=1, weights=False, hard_negatives=False))
    assert set(flat.weights("sft")) == {1.0}
    labels = [r["label"] for r in batch.train["kto"]]
    n_pos, n_neg = labels.count(True), labels.count(False)
    kw = batch.kto_weights
    assert 1.0 <= (kw["desirable_weight"] * n_pos) / (kw["undesirable_weight"] * n_neg) <= 4 / 3


def test_min_edit_size():
    default = CurationConfig().min_edit_chars
    assert is_real_edit("A ||--o{ B", "A ||--o{ b", default)  # a one-character fix is a real edit
    assert not is_real_edit("a b c", "a  b\n c", default)  # whitespace never is
    assert not is_real_edit("a b c", "a  b\n c", 3)
    assert not is_real_edit("abcdef", "abcdeg", 3)
    assert is_real_edit("int id", "uuid id", 3)


def test_build_rows_without_meta_matches(store, maker):
    maker.spec_events(20, seed=12)
    events = load_events(store)
    for ev in events:
        ev.group = ev.norm_prompt
    a = build_rows(events, CFG, 0.0)
    b = build_rows(events, CFG, 0.0, with_meta=False)
    for method in a:
        assert [r for r, _ in a[method]] == [r for r, _ in b[method]]
        assert all(m is None for _, m in b[method])

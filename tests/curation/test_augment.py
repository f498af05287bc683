"""Augmentation keeps every variant valid and consistent with its prompt; variants never validate."""

from __future__ import annotations

import random
import re

from editloop.curation import CurationConfig, build_batch
from editloop.curation.augment import variants
from editloop.curation.rename import mentions
from editloop.curation.reorder import sql_statements
from editloop.curation.validate import validator_for
from editloop.synth import BASE_STYLE, generate_specs, get_artifact, get_user


def _words(text):
    return set(re.findall(r"[a-z]+", text.lower()))


def test_mermaid_rename_is_valid_and_consistent():
    spec = generate_specs(1, seed=7)[0]
    prompt = spec.prompt()
    out = get_user("snake-purist").final_text(spec, "mermaid-erd")
    vs = variants("mermaid-erd", prompt, [out], random.Random(0), n=4, kinds=("rename",))
    assert vs
    check = validator_for("mermaid-erd")
    for v in vs:
        assert check(v.texts[0]) is None
        old, new = v.kind.split(":")[1].split("->")
        assert new in _words(v.prompt) and new in _words(v.texts[0])
        assert not mentions(v.prompt, old.split("_")) and not mentions(v.texts[0], old.split("_"))
        # nothing else changed: same number of lines, same relationship structure
        assert len(v.texts[0].splitlines()) == len(out.splitlines())


def test_reorder_keeps_the_same_statements():
    spec = generate_specs(3, seed=8)[2]
    out = get_artifact("mermaid-erd").render(spec, BASE_STYLE)
    vs = variants("mermaid-erd", spec.prompt(), [out], random.Random(1), n=1, kinds=("reorder",))
    assert vs and vs[0].texts[0] != out and vs[0].prompt == spec.prompt()
    assert sorted(vs[0].texts[0].splitlines()) == sorted(out.splitlines())
    assert validator_for("mermaid-erd")(vs[0].texts[0]) is None


def test_sql_reorder_respects_foreign_keys():
    sql = ("CREATE TABLE a (id INT PRIMARY KEY);\n\nCREATE TABLE b (id INT PRIMARY KEY, a_id INT REFERENCES a (id));\n\n"
           "CREATE TABLE c (id INT PRIMARY KEY);\n\nCREATE TABLE d (id INT PRIMARY KEY, c_id INT REFERENCES c (id));\n")
    seen = set()
    for seed in range(20):
        for v in variants("sql", "tables a b c d", [sql], random.Random(seed), n=1, kinds=("reorder",)):
            order = [re.search(r"TABLE (\w)", s).group(1) for s in sql_statements(v.texts[0])[0]]
            assert order.index("a") < order.index("b") and order.index("c") < order.index("d")
            assert validator_for("sql")(v.texts[0]) is None
            seen.add(tuple(order))
    assert len(seen) > 1


def test_python_rename_through_tree_sitter():
    code = ('from dataclasses import dataclass\n\n\n@dataclass\nclass Venue:\n    id: int\n    name: str = "Venue hall"\n\n\n'
            "@dataclass\nclass Event:\n    venue_id: int\n    # each Venue hosts events\n")
    prompt = "Each venue hosts many events. A venue has a name."
    vs = variants("python-dataclass", prompt, [code], random.Random(3), n=3, kinds=("rename",))
    for v in vs:
        assert validator_for("python-dataclass")(v.texts[0]) is None
    # "Venue" also appears inside a string literal: renaming it would change data, so venue is refused
    assert all(not v.kind.startswith("rename:venue") for v in vs)
    renamed = [v for v in vs if v.kind.startswith("rename:event")]
    assert renamed
    new = renamed[0].kind.split("->")[1]
    assert f"class {new.capitalize()}:" in renamed[0].texts[0] and f"many {new}s" in renamed[0].prompt


def test_invalid_output_gets_no_variants():
    broken = "erDiagram\n    CUSTOMER ||--o{ : places\n"
    assert variants("mermaid-erd", "customers place orders", [broken], random.Random(0), n=3) == []
    assert variants("markdown", "anything", ["# title"], random.Random(0), n=3) == []


def test_dpo_rename_renames_both_sides_consistently():
    spec = generate_specs(1, seed=9)[0]
    chosen = get_user("snake-purist").final_text(spec, "sql")
    rejected = get_artifact("sql").render(spec, BASE_STYLE)
    vs = variants("sql", spec.prompt(), [chosen, rejected], random.Random(2), n=2)
    assert vs and all(v.kind.startswith("rename") for v in vs)  # pairs are never reordered
    for v in vs:
        new = v.kind.split("->")[1]
        assert new in v.texts[0].lower() and new in v.texts[1].lower() and new in v.prompt.lower()


def test_augmented_rows_are_synthetic_train_only(store, maker):
    maker.spec_events(90, seed=51)
    batch = build_batch(store, config=CurationConfig(augment_max_fraction=1.0, augment_max_rows=40))
    syn = [m for m in batch.train_meta["sft"] if m.get("synthetic")]
    assert syn and batch.info["augmented"] >= len(syn)
    assert all(m.get("augmentation") for m in syn)
    assert not any(m.get("synthetic") for metas in batch.val_meta.values() for m in metas)
    kto_syn = [r for r, m in zip(batch.train["kto"], batch.train_meta["kto"]) if m.get("synthetic")]
    assert kto_syn and all(r["label"] is True for r in kto_syn)
    rows = store.db.conn.execute("SELECT COUNT(*) FROM batch_rows WHERE batch_id = ? AND synthetic = 1 AND split = 'train'",
                                 [batch.id]).fetchone()[0]
    assert rows >= len(syn)
    off = build_batch(store, config=CurationConfig(augmentation=False))
    assert not any(m.get("synthetic") for m in off.train_meta["sft"])

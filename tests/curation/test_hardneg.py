"""Hard negatives: failures clustered by validator message and edit category, oversampled in batches."""

from __future__ import annotations

import json

from editloop.curation import CurationConfig, build_batch, failure_clusters
from editloop.curation.hardneg import edit_categories, hard_negative_ids

ERD = "erDiagram\n    CUSTOMER ||--o{ ORDER : places\n    CUSTOMER {\n        int id PK\n    }\n"


def test_edit_categories():
    assert edit_categories("a\nCustomerId int\n", "a\ncustomer_id int\n") == "naming-style"
    assert edit_categories("a\nFOO bar\n", "a\nfoo bar\n") == "naming-case"
    assert edit_categories("a\nb\n", "a\nb\nc\n") == "added-lines"
    assert edit_categories("a\nint x\n", "a\nuuid y\n") == "changed-lines"


def test_hard_negative_ids_take_the_top_clusters_of_each_type():
    clusters = [  # cluster_failures' order: largest first
        {"artifactType": "sql", "kind": "naming-style", "count": 3, "eventIds": [5, 6, 7]},
        {"artifactType": "mermaid-erd", "kind": "invalid: x", "count": 2, "eventIds": [1, 2]},
        {"artifactType": "sql", "kind": "added-lines", "count": 2, "eventIds": [8, 9]},
        {"artifactType": "mermaid-erd", "kind": "whitespace", "count": 1, "eventIds": [3]},
        {"artifactType": "sql", "kind": "rejected", "count": 1, "eventIds": [10]},
    ]
    assert hard_negative_ids(clusters, 1) == {1, 2, 5, 6, 7}
    assert hard_negative_ids(clusters, 2) == {1, 2, 3, 5, 6, 7, 8, 9}
    assert hard_negative_ids(clusters, 0) == set()


def test_clusters_for_stats(store, maker):
    for i in range(4):  # invalid output rejected: the validator's message, numbers masked
        ev = maker.event(prompt=f"bad diagram {i}", original=ERD.replace("||--o{", "||--"), rejected=True)
        store.db.conn.execute("UPDATE events SET validation = 0, validation_messages = ? WHERE id = ?",
                              [json.dumps([{"line": i, "message": f"Diagram parse error (er): Unexpected character at {10 + i}"}]), ev["id"]])
    for i in range(2):  # renamed to snake case: a naming-style edit, low reward
        maker.event(prompt=f"rename {i}", original="CREATE TABLE CustomerOrder (\n  OrderId INT\n);\n",
                    final="CREATE TABLE customer_order (\n  order_id INT\n);\n", artifact_type="sql")
    maker.event(prompt="fine", original=ERD, final=ERD)
    clusters = failure_clusters(store, failure_reward=0.99)
    top = clusters[0]
    assert top["artifactType"] == "mermaid-erd" and top["count"] == 4
    assert top["kind"] == "invalid: diagram parse error (er): unexpected character at #"
    assert any(c["artifactType"] == "sql" and c["kind"] == "naming-style" and c["count"] == 2 for c in clusters)
    assert failure_clusters(store, "sql", failure_reward=0.99)[0]["artifactType"] == "sql"


def test_batch_oversamples_hard_negatives(store, maker):
    maker.spec_events(60, seed=41)
    cfg = CurationConfig(augmentation=False, hard_negative_oversample=3)
    batch = build_batch(store, config=cfg)
    hard = [m for m in batch.train_meta["kto"] if m.get("hard_negative")]
    assert hard and all(m["kind"] == "kto_neg" for m in hard)
    copies = {}
    for m in hard:
        copies[m["event_id"]] = copies.get(m["event_id"], 0) + 1
    assert set(copies.values()) == {3}
    assert batch.info["clusters"]
    off = build_batch(store, config=cfg.replace(hard_negatives=False))
    assert not any(m.get("hard_negative") for m in off.train_meta["kto"])

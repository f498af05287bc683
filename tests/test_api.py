from __future__ import annotations

import pytest

from editloop import Editloop
from editloop.errors import EditloopError


def test_api_records_generation_and_outcomes_like_the_server(tmp_path):
    el = Editloop(tmp_path)
    a = el.record_generation("customers place orders", "erDiagram\n  A ||--o{ B : places", artifact_type="mermaid-erd", model="m1")
    b = el.record_generation("a users table", "CREATE TABLE users (id int);", artifact_type="sql", model="m1")
    c = el.record_generation("x", "print(1)", artifact_type="python")
    ev_a = el.record_outcome(a, final="erDiagram\n  A ||--o{ B : \"places\"")
    ev_b = el.record_outcome(b, accepted_unchanged=True)
    ev_c = el.record_outcome(c, rejected=True)
    assert (ev_a["action"], ev_b["action"], ev_c["action"]) == ("edit", "accept", "reject")
    assert ev_b["similarity"] == 1.0 and ev_b["reward"] > ev_a["reward"] > ev_c["reward"]
    s = el.stats()
    assert s["counts"] == {"accept": 1, "edit": 1, "reject": 1}
    assert s["byArtifactType"]["sql"]["acceptRate"] == 1.0
    # One edit, one unchanged accept, one reject: two of three outputs were kept, one unchanged.
    assert (s["keptRate"], s["unchangedRate"]) == (round(2 / 3, 4), round(1 / 3, 4))
    assert s["byArtifactType"]["mermaid-erd"]["keptRate"] == 1.0 and s["byArtifactType"]["mermaid-erd"]["acceptRate"] == 0.0
    with pytest.raises(EditloopError, match="already"):
        el.record_outcome(a, final="x")
    # The same database the server and the CLI read.
    assert (tmp_path / "feedback.db").exists()


@pytest.mark.parametrize("redact", [True, False])
def test_lone_surrogates_are_stored_as_replacement_characters(tmp_path, redact):
    """The store cleans every text column, whatever the caller (SQLite refuses lone surrogates)."""
    el = Editloop(tmp_path, redact_secrets=redact)
    rid = el.record_generation("orders \ud800", "erDiagram\n  A ||--o{ B : has\udc00", artifact_type="mermaid-erd", model="m\udbff")
    ev = el.record_outcome(rid, final="erDiagram\n  A ||--o{ B : owns\ud800")
    assert ev["action"] == "edit"
    import sqlite3

    row = sqlite3.connect(tmp_path / "feedback.db").execute("SELECT prompt, original, final, model FROM events").fetchone()
    assert row == ("orders \ufffd", "erDiagram\n  A ||--o{ B : has\ufffd", "erDiagram\n  A ||--o{ B : owns\ufffd", "m\ufffd")

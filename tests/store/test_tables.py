"""The typed table modules of store/ (events, runs, batches, embeddings) on a real feedback.db."""

from __future__ import annotations

import dataclasses
import json

import pytest

from editloop.capture.outcomes import record_outcome
from editloop.errors import EditloopError, NotFound
from editloop.store import Store, batches, embeddings, events, runs
from editloop.store.stats import RollupRow


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path)
    yield s
    s.close()


def _event(store: Store, i: int, *, final: str | None = "", artifact: str = "sql", prompt: str | None = None) -> dict:
    region = store.insert_region({"uri": f"file:///{i}", "artifact_type": artifact, "prompt": f"table {i}" if prompt is None else prompt,
                                  "original": f"CREATE TABLE t{i} (id int);"})
    text = region["original"].replace("int", "bigint") if final == "" else final
    event, _ = record_outcome(store, region, final=text, rejected=final is None, now=1_780_000_000.0 + i)
    return event


def _columns(store: Store, table: str) -> list[str]:
    return [r[1] for r in store.db.conn.execute(f"PRAGMA table_info({table})")]


def test_records_name_every_column_of_their_table(store):
    # A new migration that adds a column must add it to the record that reads whole rows.
    assert [f.name for f in dataclasses.fields(runs.Run)] == _columns(store, "runs")
    assert [f.name for f in dataclasses.fields(batches.NewBatch)] == _columns(store, "batches")
    assert list(batches.BatchRow._fields) == _columns(store, "batch_rows")
    assert list(embeddings.CachedVector._fields) == _columns(store, "embeddings")
    assert list(RollupRow._fields) == _columns(store, "stats_rollup")


def test_runs_insert_read_update_and_promote(store):
    runs.insert_queued(store, "a", method="sft", artifact_type="sql", base_model="m", params='{"x":1}', created_at="2026-01-01T00:00:00.000Z")
    runs.insert_queued(store, "b", method="dpo", artifact_type=None, base_model="m", params="{}", created_at="2026-01-02T00:00:00.000Z")
    run = runs.get(store, "a")
    assert isinstance(run, runs.Run) and run.status == "queued" and run.promoted is False and run.to_json()["params"] == {"x": 1}
    with pytest.raises(NotFound):
        runs.get(store, "nope")
    assert runs.find(store, "nope") is None
    assert not runs.update(store, "a", {"status": "running"}, only_if=("succeeded",))  # guarded: nothing changed
    assert runs.update(store, "a", {"status": "succeeded", "metrics": json.dumps({"eval_loss": 1.5})}, only_if=("queued",))
    assert runs.get(store, "a").decoded_metrics() == {"valLoss": 1.5}  # older names read under the current one
    with pytest.raises(ValueError):
        runs.update(store, "a", {"status = 'failed' --": 1})  # a column name is never SQL from a caller
    runs.set_pid_if_unset(store, "a", 11)
    runs.set_pid_if_unset(store, "a", 22)
    assert runs.get(store, "a").pid == 11
    assert [r.id for r in runs.recent(store)] == ["b", "a"]
    assert [r.id for r in runs.recent(store, artifact_type="sql")] == ["a"]
    assert [r.id for r in runs.recent(store, artifact_type="sql", with_untyped=True)] == ["b", "a"]
    assert [r.id for r in runs.active(store)] == ["b"]
    assert runs.last_created_at(store) == "2026-01-02T00:00:00.000Z"
    assert runs.succeeded_metrics(store, "sql") == [json.dumps({"eval_loss": 1.5})]
    runs.set_promoted(store, "a", "sql")
    assert runs.promoted(store, "sql").id == "a" and runs.promoted(store, None) is None
    runs.set_promoted(store, None, "sql")
    assert runs.promoted(store, "sql") is None


def test_event_reads_build_the_callers_subclass(store):
    # Curation extends EventRow with its own fields (curation.events.Ev); the store builds it directly.
    @dataclasses.dataclass(slots=True)
    class Tagged(events.EventRow):
        tag: str = "new"

    _event(store, 1)
    _event(store, 2, final=None)  # a reject: a failure
    rows = events.for_training(store, make=Tagged)
    assert [(type(r), r.id, r.tag, r.rewritten) for r in rows] == [(Tagged, 1, "new", True), (Tagged, 2, "new", False)]
    assert [(type(r), r.id) for r in events.failures(store, failure_reward=0.3, limit=5, make=Tagged)] == [(Tagged, 2)]


def test_events_reads_for_each_caller(store):
    kept = _event(store, 1)
    _event(store, 2, final=None)  # a reject
    _event(store, 3, prompt="")  # no prompt: never an example
    region = store.insert_region({"uri": "file:///lost", "artifact_type": "sql", "prompt": "p", "original": "x"})
    store.mark_lost(region["id"])
    rows = events.for_training(store)
    assert [r.id for r in rows] == [1, 2, 3] and isinstance(rows[0], events.EventRow)
    assert rows[0].final == kept["final"] and rows[0].rewritten is True and rows[0].synthetic is False
    assert rows[0].ts == 1_780_000_001.0  # created_at's milliseconds, without julianday's float noise
    bare = events.for_training(store, "sql", texts=False)
    assert [(r.original, r.final) for r in bare] == [("", ""), ("", ""), ("CREATE TABLE t3 (id int);", "")]
    assert events.for_training(store, "python") == []
    assert [r.id for r in events.failures(store, failure_reward=0.3, limit=10)] == [2]
    assert events.texts(store, [1, 99]) == {1: events.EventTexts(1, kept["original"], kept["final"])}
    assert events.kinds(store, [2]) == {2: events.EventKind("reject", None, "sql")}
    assert events.count(store) == 3
    assert events.since(store, None) == events.Activity(3, pytest.approx(sum(r.reward for r in rows) / 3))
    assert events.since(store, "2999-01-01T00:00:00.000Z") == events.Activity(0, None)
    assert events.kept_examples(store, "sql") == [events.Example("table 1", kept["final"])]
    assert [e.id for e in events.latest(store, 2)] == [3, 2]


def test_event_bulk_writes_are_one_transaction(store):
    good = events.NewEvent("accept", "explicit", "p", "o", "o", "sql", 1.0, 1.0, 0, "2026-01-01T00:00:00.000Z")
    events.insert_many(store, [good, good])
    assert events.count(store) == 2
    bad = dataclasses.replace(good, action="maybe")  # refused by the table's CHECK
    with pytest.raises(EditloopError):
        events.insert_many(store, [good, bad])
    assert events.count(store) == 2  # the good row before it was rolled back too
    assert [e.id for e in events.lacking_embedding_similarity(store, 10)] == [1, 2]
    events.set_embedding_similarity(store, [(1, 0.5)])
    assert [e.id for e in events.lacking_embedding_similarity(store, 10)] == [2]


def test_batches_record_atomically_and_answer_splits_and_trained_events(store):
    for i in (1, 2, 3):
        _event(store, i)
    batch = batches.NewBatch("b1", "sql", "sft", "[]", "{}", "{}", "2026-01-01T00:00:00.000Z")
    batches.record(store, batch, [batches.BatchRow("b1", 1, "train", "assign", 1.0, False),
                                  batches.BatchRow("b1", 2, "validation", "assign", 1.0, False),
                                  batches.BatchRow("b1", 1, "train", "sft", 1.0, False)])
    with pytest.raises(EditloopError):  # event 99 does not exist: the foreign key refuses the row
        batches.record(store, dataclasses.replace(batch, id="b2"), [batches.BatchRow("b2", 3, "train", "assign", 1.0, False),
                                                                    batches.BatchRow("b2", 99, "train", "sft", 1.0, False)])
    assert store.db.conn.execute("SELECT COUNT(*) FROM batches WHERE id = 'b2'").fetchone()[0] == 0
    assert batches.assigned_splits(store) == {1: "train", 2: "validation"}
    assert batches.trained_event_ids(store) == set()  # no succeeded run used b1 yet
    runs.insert_queued(store, "r", method="sft", artifact_type=None, base_model="", params="{}", created_at="2026-01-01T00:00:00.000Z")
    runs.update(store, "r", {"status": "succeeded", "batch_id": "b1"})
    assert batches.trained_event_ids(store) == {1}


def test_embeddings_cache_round_trip(store):
    assert embeddings.cached(store, "m", ["h1"]) == {}
    embeddings.save(store, [embeddings.CachedVector("h1", "m", 2, b"\0" * 8), embeddings.CachedVector("h2", "other", 1, b"\0" * 4)])
    embeddings.save(store, [embeddings.CachedVector("h1", "m", 1, b"\1" * 4)])  # replaced, not duplicated
    assert embeddings.cached(store, "m", ["h1", "h2"]) == {"h1": embeddings.CachedVector("h1", "m", 1, b"\1" * 4)}
    many = [f"x{i}" for i in range(1200)]  # more than one IN (...) chunk
    embeddings.save(store, [embeddings.CachedVector(h, "m", 1, b"\0" * 4) for h in many])
    assert len(embeddings.cached(store, "m", many)) == 1200


def test_event_of_region(store):
    event = _event(store, 1)
    assert store.event_of_region(event["region_id"])["id"] == event["id"]
    assert store.event_of_region("r-none") is None


def test_a_rejects_rewrite_replaces_its_final_text_and_nothing_else(store):
    kept = _event(store, 1)
    rejected = _event(store, 2, final=None)
    assert events.kinds(store, [2])[2].rewritten is False
    mine = "CREATE TABLE mine (id integer primary key);"
    out = store.record_rewrite(rejected["id"], {"final": mine, "reason": "reject, rewritten", "similarity": 0.4})
    assert (out["action"], out["final"], out["similarity"], out["original"]) == ("reject", mine, 0.4, rejected["original"])
    assert events.kinds(store, [2]) == {2: events.EventKind("reject", None, "sql", True)}
    assert store.record_rewrite(kept["id"], {"final": mine}) is None  # only a reject has a rewrite
    assert store.get_event(kept["id"])["final"] == kept["final"]
    with pytest.raises(ValueError, match="not a rewrite column: action"):
        store.record_rewrite(rejected["id"], {"action": "accept"})

"""A reject's rewrite: what the user writes where a rejected region was becomes that reject's final
text (curation then trains on it as the user's own version: ``Ev.rewritten``)."""

from __future__ import annotations

import pytest

from editloop.capture.clock import ManualClock
from editloop.capture.document import Pos
from editloop.capture.regions import move_range, move_watch
from editloop.capture.service import CaptureService
from editloop.curation.events import load_events
from editloop.settings import Settings
from editloop.store import Store

URI = "file:///w/schema.sql"
AI = "CREATE TABLE a (id int);\n"
MINE = "CREATE TABLE accounts (\n  id INTEGER PRIMARY KEY\n);\n"


@pytest.fixture
def svc(tmp_path):
    store = Store.open(tmp_path)
    s = CaptureService(store, Settings(), clock=ManualClock(1_000_000.0))
    yield s
    store.close()


def _open_tracked(svc: CaptureService) -> str:
    svc.open(URI, "-- top\n" + AI + "-- end\n")
    return svc.track(URI, (1, 0, 2, 0), artifact_type="sql")["id"]


def _type(svc: CaptureService, line: int, col: int, text: str) -> None:
    """Type ``text`` one character at a time, as an editor sends it."""
    for ch in text:
        svc.change(URI, [((line, col, line, col), ch)])
        line, col = (line + 1, 0) if ch == "\n" else (line, col + 1)


def test_an_insertion_into_an_empty_watched_place_fills_it_where_a_region_would_stay_outside():
    p, end = Pos(3, 4), Pos(3, 9)
    assert move_watch(p, p, p, p, end) == (p, end)
    assert move_range(p, p, p, p, end) == (end, end)
    # a non-empty place moves exactly like a region
    a, b = Pos(1, 0), Pos(2, 0)
    for s, e, E in [(Pos(0, 0), Pos(0, 0), Pos(0, 3)), (Pos(1, 2), Pos(1, 5), Pos(1, 2)), (Pos(2, 0), Pos(2, 0), Pos(2, 4))]:
        assert move_watch(a, b, s, e, E) == move_range(a, b, s, e, E)


def test_text_typed_where_an_explicitly_rejected_region_was_becomes_its_rewrite(svc):
    rid = _open_tracked(svc)
    ev = svc.reject(rid)
    assert (ev["action"], ev["final"]) == ("reject", AI)
    svc.change(URI, [((1, 0, 2, 0), "")])  # the extension removes a rejected region's text
    _type(svc, 1, 0, MINE)
    result = svc.close(URI)
    [rewritten] = result.events
    assert (rewritten["action"], rewritten["final"], rewritten["reason"]) == ("reject", MINE, "reject, rewritten")
    assert rewritten["edit_distance"] > 0 and rewritten["similarity"] < 1
    stored = svc.store.event_of_region(rid)
    assert stored["final"] == MINE and stored["original"] == AI
    # curation reads it as a rewrite: the user's own text is a positive example
    [loaded] = load_events(svc.store)
    assert loaded.rewritten and loaded.final == MINE


def test_deleting_a_region_then_writing_there_is_a_rewrite_too(svc):
    rid = _open_tracked(svc)
    svc.change(URI, [((1, 0, 2, 0), "")])  # deleted without a click: an implicit reject
    assert svc.store.event_of_region(rid)["final"] == ""
    _type(svc, 1, 0, MINE)
    svc.close(URI)
    assert svc.store.event_of_region(rid)["final"] == MINE


def test_the_rewrite_is_recorded_when_the_last_survival_check_is_due_without_closing(svc):
    rid = _open_tracked(svc)
    svc.reject(rid)
    svc.change(URI, [((1, 0, 2, 0), MINE)])  # the rejected text replaced at once (a paste)
    assert svc.next_check_at() == svc.clock() + svc.settings.survival_seconds[-1]
    svc.clock.advance(svc.settings.survival_seconds[-1] - 1)
    assert svc.tick().events == []
    svc.clock.advance(1)
    assert [e["final"] for e in svc.tick().events] == [MINE]
    assert svc.next_check_at() is None
    svc.change(URI, [((1, 0, 1, 0), "-- later\n")])
    assert svc.close(URI).events == []  # recorded once
    assert svc.store.event_of_region(rid)["final"] == MINE


@pytest.mark.parametrize("case", ["untouched", "retyped the same", "only blank lines", "new AI output there"])
def test_nothing_that_is_not_the_users_own_text_counts_as_a_rewrite(svc, case):
    rid = _open_tracked(svc)
    svc.reject(rid)
    if case == "retyped the same":
        svc.change(URI, [((1, 0, 2, 0), "")])
        _type(svc, 1, 0, AI)
    elif case == "only blank lines":
        svc.change(URI, [((1, 0, 2, 0), "\n\n")])
    elif case == "new AI output there":
        svc.change(URI, [((1, 0, 2, 0), MINE)])
        svc.track(URI, (1, 0, 4, 0), artifact_type="sql")  # a second generation, not the user's text
    before = svc.store.event_of_region(rid)
    svc.close(URI)
    after = svc.store.event_of_region(rid)
    assert (after["final"], after["reason"]) == (before["final"], before["reason"])


def test_a_rewrite_is_redacted_like_every_stored_text(svc):
    rid = _open_tracked(svc)
    svc.reject(rid)
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    svc.change(URI, [((1, 0, 2, 0), f"-- token {secret}\nCREATE TABLE t (id int);\n")])
    svc.close(URI)
    ev = svc.store.event_of_region(rid)
    assert secret not in ev["final"] and "CREATE TABLE t" in ev["final"] and ev["redactions"] >= 1


def test_forgetting_a_document_stops_watching_it(svc):
    rid = _open_tracked(svc)
    svc.reject(rid)
    svc.forget(uri=URI)
    svc.change(URI, [((1, 0, 2, 0), MINE)])
    assert svc.close(URI).events == [] and svc.store.event_of_region(rid) is None


def test_deferred_rewrites_go_through_the_outbox_like_every_outcome(svc):
    rid = _open_tracked(svc)
    svc.reject(rid)
    svc.deferred = True
    svc.change(URI, [((1, 0, 2, 0), MINE)])
    assert svc.close(URI).events == []
    [outcome] = svc.take_outbox()
    assert outcome.rewrite and svc.store.event_of_region(rid)["final"] == AI
    assert svc.commit(outcome)["final"] == MINE

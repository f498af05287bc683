"""The typed command layer without a server: parsing names the bad field, results serialise to the
JSON the extension reads, handlers keep their sync/async nature, and inline-completion state."""

from __future__ import annotations

import inspect

import pytest

from editloop.capture.clock import ManualClock
from editloop.capture.service import CaptureService
from editloop.errors import InvalidArgument
from editloop.lsp import commands
from editloop.lsp.dispatch import ROUTES, Route, _endpoint, resolve
from editloop.lsp.inline import DISMISS_AFTER, InlineSuggestions, Shown
from editloop.lsp.params import COMMANDS, EventResult, ForgetParams, Range, RegionResult, StatsResult, TrackParams, TrainParams
from editloop.lsp.wire import parse, to_json
from editloop.settings import Settings
from editloop.store import Store

from .helpers import events

RANGE = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 2}}


@pytest.mark.parametrize(
    "cls, arg, message",
    [
        (TrackParams, {"range": RANGE, "artifactType": "code"}, "missing argument 'uri'"),
        (TrackParams, {"uri": 3, "range": RANGE, "artifactType": "code"}, "argument 'uri' must be a string, not int"),
        (TrackParams, {"uri": "u", "range": [], "artifactType": "code"}, "argument 'range' must be an object, not list"),
        (TrackParams, {"uri": "u", "range": {"start": {}}, "artifactType": "code"}, "argument 'range' must be an LSP range"),
        (TrackParams, {"uri": "u", "range": {"start": {"line": True, "character": 0}, "end": {"line": 0, "character": 0}},
                       "artifactType": "code"}, "argument 'range' must hold integer lines and characters"),
        (TrainParams, {"search": True}, "argument 'search' must be an integer"),
        (TrainParams, {"method": "ppo"}, "method must be one of auto, sft, dpo, kto"),
        (TrainParams, {"settings": "epochs=2"}, "argument 'settings' must be an object, not str"),
        (ForgetParams, {}, "missing argument 'uri'"),
        (ForgetParams, {"all": 1}, "argument 'all' must be true or false, not int"),
    ],
)
def test_a_bad_argument_is_refused_naming_its_field(cls, arg, message):
    with pytest.raises(InvalidArgument) as err:
        parse(cls, [arg], "editloop.x")
    assert str(err.value).startswith(message)


def test_arguments_are_one_object_null_is_absent_and_strings_are_cleaned():
    with pytest.raises(InvalidArgument, match="editloop.x takes one object argument"):
        parse(TrainParams, [{}, {}], "editloop.x")
    p = parse(TrackParams, [{"uri": "file:///a\udcff", "range": RANGE, "artifactType": "code", "prompt": None, "extra": 1}], "editloop.x")
    assert p.uri == "file:///a\ufffd" and p.prompt == "" and p.range.as_tuple() == (0, 0, 1, 2)
    assert parse(TrainParams, [], "editloop.x") == TrainParams()


def test_results_serialise_to_camel_case_with_omitted_and_flattened_fields():
    event = EventResult(7, "r1", "edit", "explicit", 0.5, 0.25, None)
    assert to_json(event) == {"eventId": 7, "regionId": "r1", "action": "edit", "source": "explicit",
                              "similarity": 0.5, "reward": 0.25, "validation": None}
    region = RegionResult("r1", "u", "pending", "p", "m", "code", None, "a", "b", "t", 0.5)
    assert "range" not in to_json(region)
    tracked = to_json(RegionResult("r1", "u", "pending", "p", "m", "code", None, "a", "b", "t", 0.5, Range.from_tuple((0, 0, 1, 2))))
    assert tracked["range"] == RANGE and tracked["artifactType"] == "code" and tracked["createdAt"] == "t"
    assert to_json(StatsResult({"total": 3, "counts": {"accept": 3}}, "off", "/d")) == {
        "total": 3, "counts": {"accept": 3}, "embeddings": "off", "dataDir": "/d"}


def test_every_command_has_a_handler_and_sync_handlers_stay_sync():
    assert set(ROUTES) == set(COMMANDS)
    for name, route in ROUTES.items():
        bound = resolve(name, route)  # imports the handler; refuses a sync flag that does not match it
        assert (bound.params_cls, bound.result_cls) == COMMANDS[name]
        assert inspect.iscoroutinefunction(_endpoint(name, route)) == inspect.iscoroutinefunction(bound.fn), name
    # track must run before the next didChange is read: a coroutine would run after it
    assert not inspect.iscoroutinefunction(commands.track) and ROUTES["editloop.track"].synchronous
    with pytest.raises(TypeError, match="is async"):
        resolve("editloop.accept", Route("commands", "accept", True))


def test_the_server_starts_without_importing_the_command_handlers_or_their_params():
    import json
    import subprocess
    import sys

    code = ("import json, sys; from editloop.lsp.server import create_server; create_server(); "
            "print(json.dumps([m for m in sys.modules if m.startswith('editloop.lsp.')]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(out))
    assert not loaded & {"editloop.lsp.params", "editloop.lsp.commands", "editloop.lsp.training"}, loaded
    assert "editloop.lsp.dispatch" in loaded


def test_inline_suggestions_dismiss_the_documents_and_the_stale_ones_as_implicit_rejects(tmp_path):
    store = Store.open(tmp_path / "feedback.db", redact_secrets=False)
    capture = CaptureService(store, Settings(exclude=()), clock=ManualClock(1_000.0))
    shown = InlineSuggestions()

    def show(uri: str, at: float) -> str:
        return shown.add(Shown(uri, 0, 0, "SELECT 1;", "-- q", "m", None, "sql", at))

    a, b, old = show("file:///a.sql", 100.0), show("file:///b.sql", 100.0), show("file:///c.sql", 0.0)
    assert shown.dismiss(capture, uri="file:///a.sql", now=100.0 + DISMISS_AFTER - 1) == 2  # a, and c (stale)
    assert shown.take(a) is None and shown.take(old) is None
    assert shown.take(b).uri == "file:///b.sql" and shown.take(b) is None  # taken once
    store.close()
    assert sorted((e["uri"], e["action"], e["source"]) for e in events(tmp_path)) == [
        ("file:///a.sql", "reject", "implicit"), ("file:///c.sql", "reject", "implicit")]

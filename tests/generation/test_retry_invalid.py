"""editloop.generation.retryInvalid: an output the validator (tree-sitter SQL here) rejects is
generated again with beam search, then by the base model; the first valid text wins."""

from __future__ import annotations

import pytest

from editloop.generation import service
from editloop.settings import parse_settings
from editloop.signals.validate import validate
from editloop.store import Store

from .helpers import promoted_record

VALID = "CREATE TABLE customer (id INT PRIMARY KEY);"
BROKEN = "CREATE TABLE customer (id INT PRIMARY KEY"


class ScriptedWorker:
    """Answers each (adapter, num_beams) attempt from a script: prompt -> text."""

    def __init__(self, script: dict[tuple[str | None, int], dict[str, str]]) -> None:
        self.script = script
        self.calls: list[tuple[str | None, int, list[str]]] = []

    def generate_batch(self, conversations, *, base, adapter, max_new_tokens=512, num_beams=1):
        prompts = [m[-1]["content"] for m in conversations]
        self.calls.append((adapter, num_beams, prompts))
        return [self.script[(adapter, num_beams)][p] for p in prompts]

    def close(self) -> None:
        pass


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


def _generator(store, worker, monkeypatch, *, promoted: bool, **settings):
    run = promoted_record("run-1", "/runs/run-1/adapter", "/base") if promoted else None
    monkeypatch.setattr(service, "promoted_run", lambda store, artifact_type: run)
    gen = service.Generator(store, parse_settings({"training": {"baseModel": "/base"}, **settings}))
    gen._local = worker
    return gen


def test_the_validator_agrees_with_the_fixtures():
    assert validate(VALID, "sql").valid is True and validate(BROKEN, "sql").valid is False


def test_invalid_outputs_are_retried_with_beams_then_the_base(store, monkeypatch):
    prompts = ["fine", "beam fixes it", "base fixes it", "nothing fixes it"]
    adapter = "/runs/run-1/adapter"
    worker = ScriptedWorker({
        (adapter, 1): {"fine": VALID, "beam fixes it": BROKEN, "base fixes it": BROKEN, "nothing fixes it": BROKEN},
        (adapter, service.RETRY_BEAMS): {"beam fixes it": VALID + " -- beam", "base fixes it": BROKEN, "nothing fixes it": BROKEN},
        (None, 1): {"base fixes it": VALID + " -- base", "nothing fixes it": BROKEN + " -- base"},
    })
    out = _generator(store, worker, monkeypatch, promoted=True).generate_many(prompts, "sql")
    assert [g.text for g in out] == [VALID, VALID + " -- beam", VALID + " -- base", BROKEN]
    assert [g.retry for g in out] == ["", "beam", "base", ""]
    # the base's text is the base's: the region records the model that wrote it
    assert [g.model_version for g in out] == ["run-1", "run-1", "base", "run-1"]
    # each attempt asks only for what is still invalid
    assert worker.calls == [(adapter, 1, prompts), (adapter, service.RETRY_BEAMS, prompts[1:]), (None, 1, prompts[2:])]


def test_with_the_base_in_use_only_beam_search_is_tried(store, monkeypatch):
    worker = ScriptedWorker({(None, 1): {"p": BROKEN}, (None, service.RETRY_BEAMS): {"p": BROKEN}})
    out = _generator(store, worker, monkeypatch, promoted=False).generate("p", "sql")
    assert (out.text, out.retry, out.model_version) == (BROKEN, "", "base")
    assert [(a, b) for a, b, _ in worker.calls] == [(None, 1), (None, service.RETRY_BEAMS)]


def test_no_retry_when_the_setting_is_off_for_fragments_or_without_a_validator(store, monkeypatch):
    worker = ScriptedWorker({("/runs/run-1/adapter", 1): {"p": BROKEN}})
    off = _generator(store, worker, monkeypatch, promoted=True, generation={"retryInvalid": False})
    assert off.generate("p", "sql").text == BROKEN
    on = _generator(store, worker, monkeypatch, promoted=True)
    assert on.generate("p", "sql", retry_invalid=False).text == BROKEN  # an inline completion is a fragment
    assert on.generate("p", "plaintext").text == BROKEN  # no validator: validity unknown, nothing to retry
    assert len(worker.calls) == 3

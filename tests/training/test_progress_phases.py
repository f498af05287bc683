"""A real run (tiny model, in this process) reports every phase: the base measurement output by
output, each stage's final step before the next phase, validation, interpolation, then the end."""

from __future__ import annotations

import pytest

from editloop.training import jobs

from test_jobs import _run_in_process  # tests/training is on sys.path (conftest)

pytestmark = pytest.mark.slow


def test_every_phase_reports_and_each_ends_where_the_next_begins(home, tiny_model, toy_data):
    status = _run_in_process(home, tiny_model, toy_data)
    assert status["status"] == "succeeded", status
    events = jobs.read_progress(home, status["id"])
    phases = [e.get("phase") for e in events if e["type"] != "finished"]
    order = list(dict.fromkeys(phases))
    assert order[:4] == ["preparing", "measuring the base model", "training", "validating"], order
    assert "interpolating" in order and order.index("interpolating") > order.index("validating")

    base = [e for e in events if e.get("phase") == "measuring the base model"]
    assert base[0]["done"] == 0 and base[-1]["done"] == base[-1]["total"] == len(toy_data.sft.val)
    # the training phase's last event is its final step, at the end of its span
    last_step = [e for e in events if e.get("phase") == "training"][-1]
    assert last_step["step"] > 0 and last_step["stoppedEarly"] == (last_step["step"] < last_step["maxSteps"])
    assert last_step["percentage"] == 95
    interp = [e for e in events if e.get("phase") == "interpolating"]
    assert interp[-1]["done"] == interp[-1]["total"] > 0
    percentages = [e["percentage"] for e in events if e.get("percentage") is not None]
    assert percentages == sorted(percentages) and percentages[-1] == 100  # never backwards; the end is 100
    assert all("runId" in e for e in events)


def test_generation_progress_does_not_change_the_outputs(tiny_model):
    import tinymodel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from editloop.training.greedy import generate_greedy

    model, tok = AutoModelForCausalLM.from_pretrained(tiny_model), AutoTokenizer.from_pretrained(tiny_model)
    prompts = [tinymodel.messages(w) for w in tinymodel.WORDS[:6]]
    calls: list[tuple[int, int]] = []
    with_progress = generate_greedy(model, tok, prompts, max_new_tokens=24, batch_size=4, on_progress=lambda d, t: calls.append((d, t)))
    assert with_progress == generate_greedy(model, tok, prompts, max_new_tokens=24, batch_size=4)
    assert calls[-1] == (6, 6) and all(t == 6 for _, t in calls) and [d for d, _ in calls] == sorted(d for d, _ in calls)

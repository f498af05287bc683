"""The local generation worker's batch request: a real worker process, the texts one request per
prompt would give, in the order asked; a malformed batch is an error and the worker keeps serving."""

from __future__ import annotations

import pytest

import tinymodel
from editloop.errors import EditloopError
from editloop.generation.local import LocalWorker

pytestmark = pytest.mark.slow  # builds and runs the tiny model


def test_batch_matches_single_requests_in_order(tiny_model):
    words = ["customer", "order", "product", "invoice", "payment"]
    # prompts of different lengths, so the batch is padded and reordered by length inside the worker
    conversations = [tinymodel.messages(w * (1 + i % 3)) for i, w in enumerate(words)]
    worker = LocalWorker(threads=1)
    try:
        single = [worker.generate(m, base=tiny_model, adapter=None, max_new_tokens=32) for m in conversations]
        batch = worker.generate_batch(conversations, base=tiny_model, adapter=None, max_new_tokens=32)
        assert worker.generate_batch([], base=tiny_model, adapter=None) == []
        with pytest.raises(EditloopError, match="batch must be a list of message lists"):
            worker._ask({"batch": "not a list", "base": tiny_model, "adapter": None})
        again = worker.generate(conversations[0], base=tiny_model, adapter=None, max_new_tokens=32)
    finally:
        worker.close()
    assert len(set(single)) > 1  # the prompts give different texts, so the order is checked
    assert batch == single
    assert again == single[0]


def test_heldout_outputs_use_one_batch(tiny_model, tmp_path, monkeypatch):
    from editloop.simulate.loop import LoopConfig, heldout_outputs

    calls = []
    original = LocalWorker.generate_batch

    def spy(self, conversations, **kw):
        calls.append(len(conversations))
        return original(self, conversations, **kw)

    monkeypatch.setattr(LocalWorker, "generate_batch", spy)
    cfg = LoopConfig(user="snake-purist", artifacts=("mermaid-erd", "sql"), heldout=3,
                     server_settings={"training": {"baseModel": tiny_model}})
    out = heldout_outputs(tmp_path, cfg, {"generation": {"retryInvalid": False}})
    assert calls == [3, 3]
    assert [len(out.texts[a]) for a in ("mermaid-erd", "sql")] == [3, 3]
    assert out.retried == {a: {"beam": 0, "base": 0} for a in ("mermaid-erd", "sql")}
    # With retries on (the default), the tiny model's invalid ERDs and SQL are retried in one more batch
    # each (beam search; no trained model is in use, so no base fallback), and only those.
    calls.clear()
    heldout_outputs(tmp_path, cfg)
    assert calls[0] == 3 and len(calls) in (3, 4) and all(1 <= n <= 3 for n in calls[1:])


def test_beam_search_requests_and_the_base_of_a_lora_adapter(tiny_model, tmp_path):
    """``num_beams`` is beam search (1: the greedy texts); ``adapter: null`` on a worker holding a LoRA
    adapter gives the base's texts (the adapter disabled), and the adapter's afterwards."""
    from peft import LoraConfig, get_peft_model

    from editloop.training.artifacts import load_base

    model, tok = load_base(tiny_model)
    lora = get_peft_model(model, LoraConfig(r=4, target_modules="all-linear", task_type="CAUSAL_LM",
                                            init_lora_weights=False))  # random B: the adapter changes the texts
    lora.save_pretrained(tmp_path / "adapter")
    conversations = [tinymodel.messages(w) for w in ("customer", "order product", "invoice")]
    worker = LocalWorker(threads=1)
    try:
        adapted = worker.generate_batch(conversations, base=tiny_model, adapter=str(tmp_path / "adapter"), max_new_tokens=24)
        base = worker.generate_batch(conversations, base=tiny_model, adapter=None, max_new_tokens=24)
        again = worker.generate_batch(conversations, base=tiny_model, adapter=str(tmp_path / "adapter"), max_new_tokens=24)
        greedy = worker.generate_batch(conversations, base=tiny_model, adapter=None, max_new_tokens=24, num_beams=1)
        beams = worker.generate_batch(conversations, base=tiny_model, adapter=None, max_new_tokens=24, num_beams=3)
        with pytest.raises(EditloopError, match="num_beams"):
            worker._ask({"batch": conversations, "base": tiny_model, "adapter": None, "num_beams": 0})
        after_error = worker.generate_batch(conversations[:1], base=tiny_model, adapter=None, max_new_tokens=24)
    finally:
        worker.close()
    fresh = LocalWorker(threads=1)
    try:
        plain = fresh.generate_batch(conversations, base=tiny_model, adapter=None, max_new_tokens=24)
    finally:
        fresh.close()
    assert adapted != plain and again == adapted
    assert base == plain == greedy
    assert len(beams) == 3 and all(isinstance(t, str) for t in beams)
    assert after_error == plain[:1]


def test_generate_greedy_batches_like_single_calls_and_restores_training_mode(tiny_model):
    """The helper the worker, validation and the base model's evaluation share, in-process."""
    from editloop.training.artifacts import load_base
    from editloop.training.greedy import generate_greedy

    model, tok = load_base(tiny_model)
    model.train()
    conversations = [tinymodel.messages(w * n) for w, n in (("customer", 3), ("order", 1), ("product", 2))]
    single = [generate_greedy(model, tok, [m], max_new_tokens=24)[0] for m in conversations]
    batched = generate_greedy(model, tok, conversations, max_new_tokens=24, batch_size=2)
    assert batched == single
    assert model.training and tok.padding_side == "right"  # restored for training
    # A prompt that leaves 16 of the model's 256 positions is capped there (16 tokens at least).
    def width(words: int) -> int:
        prompt = tok.apply_chat_template(tinymodel.messages("customer " * words), tokenize=False,
                                         add_generation_prompt=True)
        return len(tok(prompt, add_special_tokens=False)["input_ids"])

    words = 1
    while width(words) < 240:
        words += 1
    assert width(words) < 250
    text = generate_greedy(model, tok, [tinymodel.messages("customer " * words)], max_new_tokens=512)[0]
    assert len(tok(text, add_special_tokens=False)["input_ids"]) <= 16

"""The local generation worker's batch request: a real worker process, the texts one request per
prompt would give, in the order asked; a malformed batch is an error and the worker keeps serving."""

from __future__ import annotations

import pytest

import tinymodel
from editloop.errors import EditloopError
from editloop.generation.local import LocalWorker


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
            worker._ask({"batch": "not a list", "base": tiny_model, "adapter": None}, 60)
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
    out = heldout_outputs(tmp_path, cfg)
    assert calls == [3, 3]
    assert [len(out.texts[a]) for a in ("mermaid-erd", "sql")] == [3, 3]


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

"""Greedy generation for a batch of chat conversations: the one loop the generation worker,
validation during training and the base model's own evaluation share.

Prompts of similar length go together (fewer padding tokens), left-padded so that every row's new
tokens start at the same column; a single prompt has no padding at all, so it gets the tokens an
unbatched call would. Answers come back in the order asked, not stripped.
"""

from __future__ import annotations

import time
from typing import Any, Callable

BATCH_SIZE = 32
HEARTBEAT_S = 5.0  # on_progress is called at least this often while tokens are generated


def stop_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """The ids that end an answer: the tokenizer's eos and every eos id the model's generation
    config lists. A chat model's end of turn is not always its tokenizer's eos (ChatML models such
    as SmolLM2 end with ``<|im_end|>``, which is their eos; Llama 3 ends a turn with ``<|eot_id|>``
    while its eos is ``<|end_of_text|>``), and a GGUF states its end-of-turn id separately
    (``base_source`` adds it to the converted model's generation config)."""
    ids: list[int] = []
    config = getattr(model, "generation_config", None)
    for value in (tokenizer.eos_token_id, getattr(config, "eos_token_id", None)):
        for i in value if isinstance(value, (list, tuple)) else [value]:
            if i is not None and int(i) not in ids:
                ids.append(int(i))
    return ids


def _progress_criterion(on_progress: Callable[[int, int], None], done_before: int, total: int, eos: list[int]):
    """A stopping criterion that never stops: it counts finished outputs (an end-of-sequence token
    generated) and calls ``on_progress(done, total)`` when that count changes, and every
    ``HEARTBEAT_S`` seconds otherwise, so a long generation still shows that it is alive."""
    import torch
    from transformers import StoppingCriteria

    class Progress(StoppingCriteria):
        def __init__(self) -> None:
            self.finished: torch.Tensor | None = None
            self.reported = (done_before, time.monotonic())
            self.checked = 0.0

        def __call__(self, input_ids, scores, **kwargs):
            if eos:
                last = torch.isin(input_ids[:, -1], torch.tensor(eos, device=input_ids.device))
                self.finished = last if self.finished is None or self.finished.shape != last.shape else self.finished | last
            now = time.monotonic()
            if now - self.checked >= 0.5:  # counting syncs a GPU: at most twice a second
                self.checked = now
                done = done_before + (int(self.finished.sum()) if self.finished is not None else 0)
                if done != self.reported[0] or now - self.reported[1] >= HEARTBEAT_S:
                    self.reported = (done, now)
                    on_progress(done, total)
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    return Progress()


def generate_greedy(model: Any, tokenizer: Any, conversations: list[list[dict]], *, max_new_tokens: int,
                    batch_size: int = BATCH_SIZE, num_beams: int = 1,
                    on_progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Greedy completions of ``conversations`` (lists of chat messages), at most ``max_new_tokens``
    each and never past the model's ``max_position_embeddings``; ``num_beams`` > 1: deterministic
    beam search instead (the generation service's retry of an invalid output).

    ``on_progress(done, total)``: outputs finished so far, called as they finish (and every few
    seconds while none does)."""
    import torch

    # the base's own chat template (ChatML, Llama 3, Gemma ... whatever its tokenizer carries)
    texts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in conversations]
    stops = stop_token_ids(model, tokenizer)
    limit = getattr(model.config, "max_position_embeddings", None) or 2048
    out = [""] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    was_training = model.training
    model.eval()
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        device = next(model.parameters()).device
        for start in range(0, len(order), max(1, batch_size)):
            idx = order[start : start + max(1, batch_size)]
            enc = tokenizer([texts[i] for i in idx], return_tensors="pt", padding=True,
                            add_special_tokens=False).to(device)
            width = enc["input_ids"].shape[1]
            new = min(int(max_new_tokens), max(16, limit - width))
            extra: dict[str, Any] = {}
            if on_progress is not None:  # beam search: heartbeats only (its rows are beams, not outputs)
                from transformers import StoppingCriteriaList

                extra["stopping_criteria"] = StoppingCriteriaList(
                    [_progress_criterion(on_progress, start, len(texts), stops if num_beams == 1 else [])])
            with torch.no_grad():
                gen = model.generate(**enc, max_new_tokens=new, do_sample=False, num_beams=num_beams,
                                     pad_token_id=tokenizer.pad_token_id, eos_token_id=stops or None,
                                     **extra)
            for i, row in zip(idx, gen[:, width:]):
                out[i] = tokenizer.decode(row, skip_special_tokens=True)
            if on_progress is not None:
                on_progress(min(start + len(idx), len(texts)), len(texts))
    finally:
        tokenizer.padding_side = side
        if was_training:
            model.train()
    return out


__all__ = ["BATCH_SIZE", "generate_greedy", "stop_token_ids"]

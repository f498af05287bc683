"""Greedy generation for a batch of chat conversations: the one loop the generation worker,
validation during training and the base model's own evaluation share.

Prompts of similar length go together (fewer padding tokens), left-padded so that every row's new
tokens start at the same column; a single prompt has no padding at all, so it gets the tokens an
unbatched call would. Answers come back in the order asked, not stripped.
"""

from __future__ import annotations

from typing import Any

BATCH_SIZE = 32


def generate_greedy(model: Any, tokenizer: Any, conversations: list[list[dict]], *, max_new_tokens: int,
                    batch_size: int = BATCH_SIZE, num_beams: int = 1) -> list[str]:
    """Greedy completions of ``conversations`` (lists of chat messages), at most ``max_new_tokens``
    each and never past the model's ``max_position_embeddings``; ``num_beams`` > 1: deterministic
    beam search instead (the generation service's retry of an invalid output)."""
    import torch

    texts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in conversations]
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
            with torch.no_grad():
                gen = model.generate(**enc, max_new_tokens=new, do_sample=False, num_beams=num_beams,
                                     pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
            for i, row in zip(idx, gen[:, width:]):
                out[i] = tokenizer.decode(row, skip_special_tokens=True)
    finally:
        tokenizer.padding_side = side
        if was_training:
            model.train()
    return out


__all__ = ["BATCH_SIZE", "generate_greedy"]

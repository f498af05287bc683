"""TRL's fused LM head, scoring only the positions that have a label, on the CPU too.

Every TRL 1.16 trainer (SFT, DPO, KTO) replaces the model's forward with a fused LM head
(``trl.trainer.utils.add_fused_lm_head``) that computes per-token log-probabilities without
materialising the ``(batch, seq, vocab)`` logits. On a Triton device it projects only the
positions whose label is not ``-100``; elsewhere it projects every position (prompt and padding
included) and masks the result afterwards, because on Neuron-like devices a varying number of
positions would recompile the kernel on every batch. The CPU runs eagerly and recompiles
nothing, so that reason does not hold here, and the wasted work does: for Editloop's tiny
bases the LM head is about half a step's compute, and the prompt about half the tokens.

:func:`compact_lm_head` makes the choice "compact" for CPU tensors while a trainer runs. The
loss and gradients are the same (same tiles, same values; ``tests/training/test_fused_head.py``
checks both); the steps are faster (measured in docs/training.md, "What we found with TRL").
If TRL no longer has the hook this relies on, nothing is changed and training runs as TRL does.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

log = logging.getLogger(__name__)


@contextlib.contextmanager
def compact_lm_head() -> Iterator[bool]:
    """While active, TRL's fused LM head projects only labelled positions on the CPU as well.

    Yields whether the hook was found (False: TRL's own behaviour, unchanged)."""
    try:
        from trl.trainer import utils as trl_utils
    except ImportError:
        yield False
        return
    original = getattr(trl_utils, "_use_triton", None)
    if not callable(original):
        log.info("TRL has no fused-LM-head device check (trl.trainer.utils._use_triton): training as TRL does")
        yield False
        return

    def compact(device) -> bool:
        return getattr(device, "type", None) == "cpu" or original(device)

    trl_utils._use_triton = compact
    try:
        yield True
    finally:
        trl_utils._use_triton = original


__all__ = ["compact_lm_head"]

"""The llama.cpp backend: a GGUF base (plus the promoted adapter in GGUF form) served by
llama-cpp-python in a worker process (:mod:`.llamacpp_worker`), started on first use and kept warm,
one request at a time, restarted after a crash. Same calls as :class:`.local.LocalWorker`, without
beam search (``beams`` is False: the service's retry of an invalid output goes straight to the base).
"""

from __future__ import annotations

import importlib.util

from ..errors import EditloopError
from .local import LocalWorker

INSTALL = "pip install llama-cpp-python (it builds llama.cpp from source: 12-17 min on 2 cores)"


def available() -> bool:
    """llama-cpp-python is installed (checked without importing it: the server stays light)."""
    try:
        return importlib.util.find_spec("llama_cpp") is not None
    except (ImportError, ValueError):
        return False


class LlamaCppWorker(LocalWorker):
    module = "editloop.generation.llamacpp_worker"
    label = "the llama.cpp worker"
    beams = False

    def generate_batch(self, conversations: list[list[dict[str, str]]], *, base: str, adapter: str | None,
                       max_new_tokens: int = 512, num_beams: int = 1) -> list[str]:
        """Each conversation's greedy answer, in order (generated one after another)."""
        if num_beams != 1:
            raise EditloopError("beam search is not available with llama.cpp (editloop.generation.backend llamacpp)")
        if not conversations:
            return []
        request = {"batch": conversations, "base": base, "adapter": adapter, "max_new_tokens": max_new_tokens}
        return list(self._ask(request)["texts"])

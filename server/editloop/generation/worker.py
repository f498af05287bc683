"""The local generation worker: a separate process that holds the model, so the language server
never imports torch. One JSON request per stdin line, one JSON answer per stdout line:

    {"id": 1, "messages": [...], "base": "<folder or id>", "adapter": "<folder>|null", "max_new_tokens": 512}
    {"id": 1, "text": "..."}   or   {"id": 1, "error": "..."}

A request with ``"batch": [[...messages], ...]`` instead of ``"messages"`` generates them all
(:func:`editloop.training.greedy.generate_greedy`: greedy, left-padded batches of 32, prompts of
similar length together) and is answered with ``{"id": 1, "texts": [...]}`` in the order asked.
Evaluations use it (the learning benchmark's held-out specs): a batch of 24 takes about the time
of two single requests.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


class _Models:
    def __init__(self) -> None:
        self.key: tuple[str, str | None] | None = None
        self.model: Any = None
        self.tokenizer: Any = None

    def get(self, base: str, adapter: str | None) -> tuple[Any, Any]:
        if self.key != (base, adapter):
            from ..training.artifacts import load_base, load_model

            self.model, self.tokenizer = load_model(adapter, base) if adapter else load_base(base)
            self.model.eval()
            self.key = (base, adapter)
        return self.model, self.tokenizer


def generate(models: _Models, req: dict[str, Any]) -> str:
    return _generate(models, req, [req["messages"]])[0]


def generate_batch(models: _Models, req: dict[str, Any]) -> list[str]:
    batch = req["batch"]
    if not isinstance(batch, list) or not all(isinstance(m, list) for m in batch):
        raise ValueError("batch must be a list of message lists")
    return _generate(models, req, batch)


def _generate(models: _Models, req: dict[str, Any], conversations: list[list[dict]]) -> list[str]:
    from ..training.greedy import generate_greedy

    model, tok = models.get(req["base"], req.get("adapter"))
    return generate_greedy(model, tok, conversations, max_new_tokens=int(req.get("max_new_tokens", 512)))


def main() -> int:
    import torch

    from ..training.config import auto_threads

    torch.set_num_threads(auto_threads(int(os.environ.get("EDITLOOP_THREADS", "0"))))
    models = _Models()
    out = sys.stdout
    sys.stdout = sys.stderr  # library chatter must not corrupt the protocol
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except json.JSONDecodeError as exc:
            out.write(json.dumps({"id": None, "error": f"bad request: {exc}"}) + "\n")
            out.flush()
            continue
        try:
            if "batch" in req:
                answer = {"id": req.get("id"), "texts": generate_batch(models, req)}
            else:
                answer = {"id": req.get("id"), "text": generate(models, req)}
        except Exception as exc:  # noqa: BLE001 - report it; the worker keeps serving
            answer = {"id": req.get("id"), "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The local generation worker: a separate process that holds the model, so the language server
never imports torch. One JSON request per stdin line, one JSON answer per stdout line:

    {"id": 1, "messages": [...], "base": "<folder or id>", "adapter": "<folder>|null", "max_new_tokens": 512}
    {"id": 1, "text": "..."}   or   {"id": 1, "error": "..."}

Before its answer the worker may write ``{"id": 1, "progress": {"done": d, "total": n}}`` lines
(outputs finished so far; repeated every few seconds while tokens are generated): the server waits as
long as they come (:mod:`.local`).

A request with ``"batch": [[...messages], ...]`` instead of ``"messages"`` generates them all
(:func:`editloop.training.greedy.generate_greedy`: greedy, left-padded batches of 32, prompts of
similar length together) and is answered with ``{"id": 1, "texts": [...]}`` in the order asked;
``"num_beams": 4`` asks for beam search instead of greedy decoding (the generation service retries an
output its validator rejects that way). ``"adapter": null`` on a worker holding a LoRA adapter on the
same base generates with the adapter disabled, without loading a second copy of the base.
Evaluations use it (the learning benchmark's held-out specs): a batch of 24 takes about the time
of two single requests.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable

Report = Callable[[int, int], None]


class _Models:
    def __init__(self) -> None:
        self.key: tuple[str, str | None] | None = None
        self.model: Any = None
        self.tokenizer: Any = None

    def get(self, base: str, adapter: str | None) -> tuple[Any, Any]:
        """The model for (base, adapter); a context manager for using it is :meth:`use`."""
        if self.key != (base, adapter):
            from ..training.artifacts import load_base, load_model

            self.model, self.tokenizer = load_model(adapter, base) if adapter else load_base(base)
            self.model.eval()
            self.key = (base, adapter)
        return self.model, self.tokenizer

    def use(self, base: str, adapter: str | None):
        """(context manager, model, tokenizer): the base of a loaded LoRA adapter is the same model with
        the adapter disabled; anything else is loaded (replacing the model held)."""
        import contextlib

        if adapter is None and self.key is not None and self.key[0] == base and self.key[1] is not None \
                and hasattr(self.model, "disable_adapter"):
            return self.model.disable_adapter(), self.model, self.tokenizer
        model, tok = self.get(base, adapter)
        return contextlib.nullcontext(), model, tok


def generate(models: _Models, req: dict[str, Any], report: Report | None = None) -> str:
    return _generate(models, req, [req["messages"]], report)[0]


def generate_batch(models: _Models, req: dict[str, Any], report: Report | None = None) -> list[str]:
    batch = req["batch"]
    if not isinstance(batch, list) or not all(isinstance(m, list) for m in batch):
        raise ValueError("batch must be a list of message lists")
    return _generate(models, req, batch, report)


def _generate(models: _Models, req: dict[str, Any], conversations: list[list[dict]], report: Report | None) -> list[str]:
    from ..training.greedy import generate_greedy

    beams = req.get("num_beams", 1)
    if isinstance(beams, bool) or not isinstance(beams, int) or not 1 <= beams <= 16:
        raise ValueError("num_beams must be an integer from 1 to 16")
    ctx, model, tok = models.use(req["base"], req.get("adapter"))
    with ctx:
        return generate_greedy(model, tok, conversations, max_new_tokens=int(req.get("max_new_tokens", 512)),
                               num_beams=beams, on_progress=report)


def progress_writer(out: Any, request_id: Any) -> Report:
    """``report(done, total)``: one progress line of request ``request_id`` on the protocol stream."""

    def report(done: int, total: int) -> None:
        out.write(json.dumps({"id": request_id, "progress": {"done": done, "total": total}}) + "\n")
        out.flush()

    return report


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
        report = progress_writer(out, req.get("id"))
        try:
            if "batch" in req:
                answer = {"id": req.get("id"), "texts": generate_batch(models, req, report)}
            else:
                answer = {"id": req.get("id"), "text": generate(models, req, report)}
        except Exception as exc:  # noqa: BLE001 - report it; the worker keeps serving
            answer = {"id": req.get("id"), "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

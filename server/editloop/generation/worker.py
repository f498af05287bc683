"""The local generation worker: a separate process that holds the model, so the language server
never imports torch. One JSON request per stdin line, one JSON answer per stdout line:

    {"id": 1, "messages": [...], "base": "<folder or id>", "adapter": "<folder>|null", "max_new_tokens": 512}
    {"id": 1, "text": "..."}   or   {"id": 1, "error": "..."}
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
    import torch

    model, tok = models.get(req["base"], req.get("adapter"))
    text = tok.apply_chat_template(req["messages"], tokenize=False, add_generation_prompt=True)
    enc = tok(text, return_tensors="pt", add_special_tokens=False)
    limit = getattr(model.config, "max_position_embeddings", 2048)
    new = min(int(req.get("max_new_tokens", 512)), max(16, limit - enc["input_ids"].shape[1]))
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=new, do_sample=False, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    return tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)


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
            answer = {"id": req.get("id"), "text": generate(models, req)}
        except Exception as exc:  # noqa: BLE001 - report it; the worker keeps serving
            answer = {"id": req.get("id"), "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

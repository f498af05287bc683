"""`editloop bench system`, generation backends: the transformers worker's decoding and the llama.cpp
worker's on the same GGUF base (the ``smollm2-135m`` preset), the same ERD prompts and the thread
count both workers take (:func:`editloop.training.config.auto_threads`: the idle cores).

For each backend: the model's load time, then per prompt the time to the first new token (prompt
processing included) and the tokens per second after it, both greedy with the chat template and
stops the workers use. Each side runs the code its worker runs: llama.cpp through
:mod:`editloop.generation.llamacpp_worker`'s functions, once with its prompt cache reset before each
prompt (no prefix reuse, like transformers) and once as the worker serves (the prefix the prompts
share is reused); transformers through ``model.generate`` as
:func:`editloop.training.greedy.generate_greedy` calls it, with a streamer that notes when each
token arrives, and a held-out evaluation's batch through ``generate_greedy`` itself. Both models
stay loaded and their passes alternate, so that load from other processes hits both alike.
Whether the two wrote the same text is reported too (the same GGUF, but transformers dequantizes
it to float32 while llama.cpp computes with the quantized weights).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from .report import table, write_section

PRESET = "smollm2-135m"
HELD_OUT = 24  # the learning benchmark's held-out specs: the batch an evaluation generates
PROMPTS = [
    "customers place orders; each order has line items referencing products",
    "a library: members borrow books; each book has one author and many copies",
    "a blog with users, posts, comments and tags; a post has many tags",
    "employees belong to departments; each department has one manager; employees log timesheets on projects",
]


def skip_reason() -> str:
    """Why the comparison cannot run here ('' when it can)."""
    from ..errors import EditloopError
    from ..generation.llamacpp import INSTALL, available
    from ..training.base_source import describe

    if not available():
        return f"llama-cpp-python is not installed ({INSTALL})"
    try:
        describe(PRESET)
    except EditloopError as exc:
        return str(exc)
    return ""


def _summary(label: str, load_s: float, runs: list[dict[str, Any]]) -> dict[str, Any]:
    tokens = sum(r["tokens"] for r in runs)
    decode_s = sum(r["total"] - r["first"] for r in runs)
    return {
        "backend": label, "load_s": load_s, "first_ms": statistics.median(r["first"] for r in runs) * 1000,
        "first_max_ms": max(r["first"] for r in runs) * 1000, "tokens": tokens,
        "decode_tps": (tokens - len(runs)) / decode_s if decode_s > 0 else float("nan"),
        "overall_tps": tokens / sum(r["total"] for r in runs), "texts": [r["text"] for r in runs],
    }


class LlamaSide:
    """The llama.cpp worker's engine on the GGUF, and its passes over the prompts."""

    label = "llama.cpp (llama-cpp-python, the GGUF's own weights)"

    def __init__(self, gguf: Path, threads: int) -> None:
        from ..generation.llamacpp_worker import Engine, prompt_tokens, stream_tokens

        self.engine = Engine(threads)
        t0 = time.perf_counter()
        self.llm = self.engine.get(str(gguf), None)
        self.load_s = time.perf_counter() - t0
        self.prompt_tokens, self.stream_tokens = prompt_tokens, stream_tokens

    def one(self, messages: list[dict], max_new: int, *, cold: bool) -> dict[str, Any]:
        if cold:
            self.llm.reset()  # no prompt cache from the previous request
        tokens = self.prompt_tokens(self.engine, messages)
        times, out = [], []
        t0 = time.perf_counter()
        for token in self.stream_tokens(self.llm, tokens, max_new):
            times.append(time.perf_counter() - t0)
            out.append(token)
        end = time.perf_counter() - t0
        return {"first": times[0] if times else end, "total": times[-1] if times else end, "tokens": len(out),
                "text": self.llm.detokenize(out).decode("utf-8", errors="replace")}

    def close(self) -> None:
        self.engine.close()


class TransformersSide:
    """The transformers worker's model (the GGUF's cached float32 form) and its passes."""

    label = "transformers (the GGUF dequantized to float32)"

    def __init__(self, spec: str, threads: int) -> None:
        import torch

        from ..training.artifacts import load_base
        from ..training.base_source import resolve
        from ..training.greedy import stop_token_ids

        torch.set_num_threads(threads)
        resolve(spec)  # the one-time float32 conversion is not the load time a warm cache gives
        t0 = time.perf_counter()
        self.model, self.tok = load_base(spec)
        self.model.eval()
        self.load_s = time.perf_counter() - t0
        self.stops = stop_token_ids(self.model, self.tok)

    def one(self, messages: list[dict], max_new: int) -> dict[str, Any]:
        import torch

        tok = self.tok
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        enc = tok(text, return_tensors="pt", add_special_tokens=False)
        clock = _clock_streamer()
        t0 = time.perf_counter()
        with torch.no_grad():
            gen = self.model.generate(**enc, max_new_tokens=max_new, do_sample=False, num_beams=1, streamer=clock,
                                      pad_token_id=tok.pad_token_id, eos_token_id=self.stops or None)
        row = gen[0, enc["input_ids"].shape[1]:]
        ended = len(row) > 0 and int(row[-1]) in self.stops  # the stop token is not part of the answer
        return {"first": clock.times[1] - t0, "total": clock.times[-1 - ended] - t0, "tokens": len(row) - ended,
                "text": tok.decode(row, skip_special_tokens=True)}

    def batch(self, conversations: list[list[dict]], max_new: int) -> dict[str, Any]:
        """The conversations generated together, as the worker's ``generate_batch`` does."""
        from ..training.greedy import generate_greedy

        t0 = time.perf_counter()
        texts = generate_greedy(self.model, self.tok, conversations, max_new_tokens=max_new)
        seconds = time.perf_counter() - t0
        tokens = sum(len(self.tok(t, add_special_tokens=False)["input_ids"]) for t in texts)
        return {"backend": f"... the same, a batch of {len(texts)} (the prompts repeated) generated together",
                "load_s": self.load_s, "first_ms": float("nan"), "first_max_ms": float("nan"), "tokens": tokens,
                "decode_tps": float("nan"), "overall_tps": tokens / seconds, "texts": texts}


def _clock_streamer():
    from transformers.generation.streamers import BaseStreamer

    class Clock(BaseStreamer):
        """Notes when generate hands over each chunk: first the prompt, then one per new token."""

        def __init__(self) -> None:
            self.times: list[float] = []

        def put(self, value) -> None:
            self.times.append(time.perf_counter())

        def end(self) -> None:
            pass

    return Clock()


def measure(gguf: Path, conversations: list[list[dict]], threads: int, max_new: int, *, batch: int
            ) -> list[dict[str, Any]]:
    """The four rows, their passes alternating between the backends."""
    llama, hf = LlamaSide(gguf, threads), TransformersSide(PRESET, threads)
    try:
        llama.one(conversations[0], 4, cold=True)  # warm-ups, not counted
        hf.one(conversations[0], 4)
        cold = [llama.one(m, max_new, cold=True) for m in conversations]
        single = [hf.one(m, max_new) for m in conversations]
        served = [llama.one(m, max_new, cold=False) for m in conversations]
        together = hf.batch((conversations * batch)[:batch], max_new)
    finally:
        llama.close()
    return [_summary(f"{llama.label}, empty cache", llama.load_s, cold),
            _summary("... the same, shared prompt prefix cached (as the worker serves)", llama.load_s, served),
            _summary(hf.label, hf.load_s, single), together]


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def render(results: list[dict[str, Any]], *, threads: int, prompts: int, max_new: int) -> str:
    def ms(r: dict[str, Any]) -> str:
        return "-" if r["first_ms"] != r["first_ms"] else f"{r['first_ms']:.0f} ms (max {r['first_max_ms']:.0f})"

    rows = [[r["backend"], f"{r['load_s']:.2f} s", ms(r), "-" if r["decode_tps"] != r["decode_tps"] else
             f"{r['decode_tps']:.1f}", f"{r['overall_tps']:.1f}", r["tokens"]] for r in results]
    body = table(["backend", "load", "first token, median", "tokens/s after the first", "tokens/s overall",
                  "tokens"], rows)
    ll, served, hf, batch = results
    same = sum(a == b for a, b in zip(hf["texts"], ll["texts"]))
    apart = [f"{_common_prefix(a, b)} of {len(a)}" for a, b in zip(hf["texts"], ll["texts"]) if a != b]
    body += (f"\n\n{PRESET} (Q4_1 GGUF), {prompts} Mermaid ERD prompts, greedy, at most {max_new} new tokens, "
             f"{threads} thread(s) each. llama.cpp (empty cache) / transformers: first token in "
             f"{ll['first_ms'] / hf['first_ms']:.2f}x the time, {ll['decode_tps'] / hf['decode_tps']:.1f}x the "
             f"tokens/s after it, {ll['overall_tps'] / hf['overall_tps']:.1f}x overall; one prompt after another as "
             f"the worker serves them, {served['overall_tps'] / batch['overall_tps']:.2f}x the tokens/s of "
             f"transformers' batch of {len(batch['texts'])}. Same text from both: "
             f"{same} of {prompts} prompts" + (f" (the others agree on their first {', '.join(apart)} characters: "
                                              "quantized vs float32 arithmetic)" if apart else "") + ".")
    return body


def run(*, quick: bool = False, write: bool = True) -> str:
    reason = skip_reason()
    if reason:
        return f"(generation backends: skipped: {reason})"
    from ..generation.prompting import messages_for
    from ..training.base_source import describe
    from ..training.config import auto_threads

    prompts = PROMPTS[:1] if quick else PROMPTS
    max_new = 16 if quick else 160
    threads = auto_threads(0)
    conversations = [messages_for("mermaid-erd", p) for p in prompts]
    gguf = describe(PRESET).path
    results = measure(gguf, conversations, threads, max_new, batch=2 if quick else HELD_OUT)
    body = render(results, threads=threads, prompts=len(prompts), max_new=max_new)
    if quick:
        body += "\n\n(quick mode: one prompt, few tokens; not the reported figures)"
    elif write:
        write_section("generation-backends", body, command="editloop bench system")
    return body


if __name__ == "__main__":
    print(run())

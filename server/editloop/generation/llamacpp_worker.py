"""The llama.cpp generation worker: a process that holds a GGUF model through llama-cpp-python, so
that the language server never loads it. The protocol is :mod:`.worker`'s, one JSON line each way:

    {"id": 1, "messages": [...], "base": "<base .gguf>", "adapter": "<adapter folder or .gguf>|null",
     "max_new_tokens": 512}
    {"id": 1, "text": "..."}   or   {"id": 1, "error": "..."}

Before its answer it writes ``{"id": 1, "progress": {"done": d, "total": n}}`` lines: after each
conversation, and every ``HEARTBEAT_S`` seconds while tokens are generated (the server waits as long
as they come: :mod:`.local`).

``"batch": [[...messages], ...]`` generates the conversations one after another (llama.cpp serves one
sequence at a time here) and is answered with ``{"id": 1, "texts": [...]}``. Beam search does not
exist in llama.cpp: ``"num_beams"`` above 1 is an error (the generation service skips that retry).

Decoding matches the transformers worker's: greedy (temperature 0, ``repeat_penalty`` 1.0: the
llama.cpp server's default of 1.1 changes the text), the prompt rendered with the model's own chat
template from the GGUF metadata and tokenized without an added BOS (as ``generate_greedy`` does), at
most ``max_new_tokens`` new tokens and never past the model's trained context, stopping at any
end-of-generation token (eos, end of turn). Special tokens are left out of the text.

A trained adapter is a PEFT folder: its GGUF form is written once next to it (``adapter.gguf``, or
``model.gguf`` for a fully fine-tuned model) by :mod:`editloop.training.gguf_write`, atomically, and
reused while it is newer than the folder's files.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from .worker import Report, progress_writer

N_CTX = 4096  # the context llama.cpp allocates (KV cache); prompts and answers are far shorter
HEARTBEAT_S = 5.0  # a progress line at least this often while tokens are generated


class Engine:
    """The loaded model (one at a time; loading another frees it) and its chat template."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.key: tuple[str, str | None] | None = None
        self.llm: Any = None
        self.template: Any = None

    def get(self, base: str, adapter: str | None) -> Any:
        if self.key != (base, adapter):
            self.close()
            base_file, lora = served_files(base, adapter)
            self.llm = load(base_file, lora, self.threads)
            self.template = chat_formatter(self.llm, Path(base_file).name)
            self.key = (base, adapter)
        return self.llm

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
        self.llm, self.template, self.key = None, None, None


def load(base: str, lora: str | None, threads: int) -> Any:
    """``llama_cpp.Llama`` for a base GGUF (plus a GGUF LoRA adapter), with a clear error."""
    from llama_cpp import Llama

    for what, path in (("base model", base), ("adapter", lora)):
        if path is not None and not Path(path).is_file():
            raise ValueError(f"{what} file {path} does not exist")
    try:
        return Llama(model_path=base, lora_path=lora, n_ctx=N_CTX, n_threads=threads, n_threads_batch=threads,
                     verbose=False)
    except (ValueError, RuntimeError) as exc:  # llama.cpp reports a bad file only as "failed to load"
        raise ValueError(f"llama.cpp cannot load {Path(base).name}"
                         f"{' with adapter ' + Path(lora).name if lora else ''} ({exc}); "
                         "is the file complete, and an architecture llama.cpp supports?") from None


def chat_formatter(llm: Any, name: str) -> Any:
    """The model's own chat template (GGUF ``tokenizer.chat_template``), rendered as transformers
    renders it (llama-cpp-python's Jinja2ChatFormatter: same Jinja options, bos/eos token texts)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise ValueError(f"{name} has no chat template in its GGUF metadata (Editloop sends chat messages)")

    def text(token: int) -> str:
        return llm.detokenize([token], special=True).decode("utf-8", errors="replace") if token >= 0 else ""

    return Jinja2ChatFormatter(template=template, eos_token=text(llm.token_eos()), bos_token=text(llm.token_bos()))


def prompt_tokens(engine: Engine, messages: list[dict]) -> list[int]:
    prompt = engine.template(messages=messages).prompt
    return engine.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)


def token_budget(llm: Any, width: int, max_new_tokens: int) -> int:
    """New tokens allowed after a prompt of ``width`` tokens: ``generate_greedy``'s rule (at least
    16, never past the trained context when the prompt leaves room) within the allocated context."""
    trained = int(llm.metadata.get(f"{llm.metadata.get('general.architecture', 'llama')}.context_length") or N_CTX)
    room = llm.n_ctx() - width
    if room <= 0:
        raise ValueError(f"the prompt is {width} tokens, more than the context of {llm.n_ctx()}")
    return max(0, min(int(max_new_tokens), max(16, trained - width), room))


def stream_tokens(llm: Any, tokens: list[int], max_new_tokens: int) -> Iterator[int]:
    """Greedy tokens after ``tokens`` (the prompt), up to an end-of-generation token (not yielded)."""
    import llama_cpp

    budget = token_budget(llm, len(tokens), max_new_tokens)
    if budget == 0:
        return
    vocab = llm._model.vocab  # what llama-cpp-python's own completion loop tests for the end
    for n, token in enumerate(llm.generate(tokens, temp=0.0, repeat_penalty=1.0), start=1):
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            return
        yield token
        if n >= budget:
            return


def complete(engine: Engine, req: dict[str, Any], messages: list[dict], heartbeat: Callable[[], None] = lambda: None) -> str:
    """One conversation's answer, special tokens left out; ``heartbeat()`` every ``HEARTBEAT_S``
    seconds while it is generated."""
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise ValueError("messages must be a list of {role, content} objects")
    llm = engine.get(str(req["base"]), req.get("adapter"))
    out, beat = [], time.monotonic()
    for token in stream_tokens(llm, prompt_tokens(engine, messages), int(req.get("max_new_tokens", 512))):
        out.append(token)
        if time.monotonic() - beat >= HEARTBEAT_S:
            beat = time.monotonic()
            heartbeat()
    return llm.detokenize(out).decode("utf-8", errors="replace")


def answer(engine: Engine, req: dict[str, Any], report: Report = lambda done, total: None) -> dict[str, Any]:
    """The answer to one request; ``report(done, total)`` as conversations finish, and as heartbeats."""
    beams = req.get("num_beams", 1)
    if beams != 1:
        raise ValueError(f"beam search is not available with llama.cpp (num_beams {beams!r}; only 1)")
    batch = req["batch"] if "batch" in req else [req["messages"]]
    if not isinstance(batch, list):
        raise ValueError("batch must be a list of message lists")
    texts = []
    for messages in batch:
        texts.append(complete(engine, req, messages, lambda: report(len(texts), len(batch))))
        report(len(texts), len(batch))
    return {"id": req.get("id"), "texts": texts} if "batch" in req else {"id": req.get("id"), "text": texts[0]}


def served_files(base: str, adapter: str | None) -> tuple[str, str | None]:
    """(base .gguf, adapter .gguf or None) for llama.cpp: a PEFT adapter folder is served as its GGUF
    form, a fully fine-tuned model folder as a GGUF model of its own (no adapter)."""
    if adapter is None:
        return base, None
    path = Path(adapter)
    if path.is_file() and path.suffix.lower() == ".gguf":
        return base, str(path)
    from ..training.artifacts import artifact_kind

    if not path.is_dir():
        raise ValueError(f"adapter folder {path} does not exist")
    if artifact_kind(path) == "full":  # a tiny base is fully fine-tuned: float32 keeps its greedy text
        def model(src: Path, out: Path) -> Path:
            return _writer("write_model_gguf")(src, out, dtype="f32")

        return str(cached_gguf(path, "model.gguf", model)), None

    def lora(src: Path, out: Path) -> Path:
        from ..training.base_source import resolve

        # the base's float32 folder (cached since training) gives the head counts
        return _writer("write_lora_gguf")(src, out, base_dir=resolve(base))

    return base, str(cached_gguf(path, "adapter.gguf", lora))


def _writer(name: str) -> Callable[..., Path]:
    try:
        from ..training import gguf_write
    except ImportError as exc:
        raise ValueError(f"serving a trained model through llama.cpp needs its GGUF form, and the GGUF writer "
                         f"is not available ({exc})") from None
    return getattr(gguf_write, name)


def cached_gguf(folder: Path, name: str, write: Callable[[Path, Path], Path]) -> Path:
    """``folder``'s GGUF form next to it, written by ``write(folder, path)`` unless an existing one is
    newer than every file in the folder; a temporary file renamed into place, so that a crash or a
    concurrent writer never leaves a half-written GGUF under the final name."""
    out = folder.parent / name
    newest = max((p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()), default=0)
    if out.is_file() and out.stat().st_mtime_ns >= newest:
        return out
    tmp = folder.parent / f".{name}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)  # left by a crashed worker that had this process id
    try:
        write(folder, tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def main() -> int:
    from ..training.config import auto_threads

    # The protocol gets its own copy of stdout; file descriptor 1 then points at stderr, so that
    # nothing llama.cpp's C code prints can corrupt an answer.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    engine = Engine(auto_threads(int(os.environ.get("EDITLOOP_THREADS", "0"))))
    for line in sys.stdin:
        if not line.strip():
            continue
        req = None
        try:
            req = json.loads(line)
            reply = answer(engine, req, progress_writer(out, req.get("id") if isinstance(req, dict) else None))
        except json.JSONDecodeError as exc:
            reply = {"id": None, "error": f"bad request: {exc}"}
        except Exception as exc:  # noqa: BLE001 - report it; the worker keeps serving
            reply = {"id": req.get("id") if isinstance(req, dict) else None, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

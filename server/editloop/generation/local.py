"""The local backend: the worker process, started on first use and kept warm."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading

from ..errors import EditloopError


class LocalWorker:
    module = "editloop.generation.worker"  # the process started (llamacpp.LlamaCppWorker starts another)
    label = "the local model worker"

    def __init__(self, *, threads: int = 0, timeout: float = 300.0) -> None:
        self.threads = threads
        self.timeout = timeout
        self.proc: subprocess.Popen[str] | None = None
        self.lock = threading.Lock()
        self.ids = itertools.count(1)

    def _ensure(self) -> subprocess.Popen[str]:
        if self.proc is None or self.proc.poll() is not None:
            env = {**os.environ, "EDITLOOP_THREADS": str(self.threads), "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.module],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
            )
        return self.proc

    def generate(self, messages: list[dict[str, str]], *, base: str, adapter: str | None, max_new_tokens: int = 512) -> str:
        return self._ask({"messages": messages, "base": base, "adapter": adapter, "max_new_tokens": max_new_tokens},
                         self.timeout)["text"]

    def generate_batch(self, conversations: list[list[dict[str, str]]], *, base: str, adapter: str | None,
                       max_new_tokens: int = 512, num_beams: int = 1) -> list[str]:
        """Several prompts in one request (batched greedy generation, or beam search with
        ``num_beams`` > 1); the texts in the same order."""
        if not conversations:
            return []
        request = {"batch": conversations, "base": base, "adapter": adapter, "max_new_tokens": max_new_tokens}
        if num_beams > 1:
            request["num_beams"] = num_beams
        answer = self._ask(request, self.timeout * max(1, len(conversations) * num_beams / 8))
        return list(answer["texts"])

    def _ask(self, request: dict, timeout: float) -> dict:
        with self.lock:
            proc = self._ensure()
            rid = next(self.ids)
            assert proc.stdin and proc.stdout
            try:
                proc.stdin.write(json.dumps({"id": rid, **request}) + "\n")
                proc.stdin.flush()
                timer = threading.Timer(timeout, proc.kill)
                timer.start()
                try:
                    line = proc.stdout.readline()
                finally:
                    timer.cancel()
            except (BrokenPipeError, OSError):
                line = ""
            if not line:
                code = _exit_code(proc)
                self.proc = None
                raise EditloopError(f"{self.label} stopped (exit code {code}: out of memory or killed?); "
                                    "it restarts on the next request")
            answer = json.loads(line)
            if answer.get("error"):
                raise EditloopError(f"local generation failed: {answer['error']}")
            return answer

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def _exit_code(proc: subprocess.Popen[str]) -> int | None:
    """The exit code of a worker whose output ended (a signal is negative: -9 killed, -11 crashed)."""
    try:
        return proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()

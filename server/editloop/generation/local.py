"""The local backend: the worker process, started on first use and kept warm.

A request is waited for as long as the worker shows progress: before its answer it writes
``{"id": n, "progress": {...}}`` lines (outputs done, and a heartbeat every few seconds while tokens
are generated). A worker silent for ``silence`` seconds (no progress, no answer) is stopped, and the
error says so; a long batch that keeps progressing is never cut off by a deadline.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any, Callable

from ..errors import EditloopError

SILENCE_S = 300.0  # a worker that writes nothing for this long (loading a model included) is stopped


class LocalWorker:
    module = "editloop.generation.worker"  # the process started (llamacpp.LlamaCppWorker starts another)
    label = "the local model worker"

    def __init__(self, *, threads: int = 0, silence: float = SILENCE_S,
                 on_progress: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.threads = threads
        self.silence = silence
        self.on_progress = on_progress  # each progress line's "progress" object, as it arrives
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
        return self._ask({"messages": messages, "base": base, "adapter": adapter, "max_new_tokens": max_new_tokens})["text"]

    def generate_batch(self, conversations: list[list[dict[str, str]]], *, base: str, adapter: str | None,
                       max_new_tokens: int = 512, num_beams: int = 1) -> list[str]:
        """Several prompts in one request (batched greedy generation, or beam search with
        ``num_beams`` > 1); the texts in the same order."""
        if not conversations:
            return []
        request = {"batch": conversations, "base": base, "adapter": adapter, "max_new_tokens": max_new_tokens}
        if num_beams > 1:
            request["num_beams"] = num_beams
        return list(self._ask(request)["texts"])

    def _ask(self, request: dict) -> dict:
        with self.lock:
            proc = self._ensure()
            rid = next(self.ids)
            assert proc.stdin and proc.stdout
            watchdog = Watchdog(self.silence, proc.kill)
            try:
                proc.stdin.write(json.dumps({"id": rid, **request}) + "\n")
                proc.stdin.flush()
                answer = self._answer(proc, watchdog)
            except (BrokenPipeError, OSError):
                answer = None
            finally:
                watchdog.stop()
            if answer is None:
                code = _exit_code(proc)
                self.proc = None
                why = (f"showed no progress for {self.silence:g} s and was stopped" if watchdog.fired
                       else f"stopped (exit code {code}: out of memory or killed?)")
                raise EditloopError(f"{self.label} {why}; it restarts on the next request")
            if answer.get("error"):
                raise EditloopError(f"local generation failed: {answer['error']}")
            return answer

    def _answer(self, proc: subprocess.Popen[str], watchdog: "Watchdog") -> dict | None:
        """The worker's answer (None when its output ended); each progress line before it restarts
        the watchdog and goes to ``on_progress``."""
        assert proc.stdout
        for line in iter(proc.stdout.readline, ""):
            watchdog.reset()
            message = json.loads(line)
            if "progress" not in message:
                return message
            if self.on_progress is not None:
                self.on_progress(message["progress"])
        return None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class Watchdog:
    """Calls ``on_silence`` once ``seconds`` pass without a :meth:`reset` (from a daemon thread)."""

    def __init__(self, seconds: float, on_silence: Callable[[], Any]) -> None:
        self.seconds, self.on_silence = seconds, on_silence
        self.deadline = time.monotonic() + seconds
        self.fired = False
        self._stopped = threading.Event()
        threading.Thread(target=self._run, name="editloop-worker-watchdog", daemon=True).start()

    def reset(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(max(0.01, self.deadline - time.monotonic())):
            if time.monotonic() >= self.deadline:
                self.fired = True
                self.on_silence()
                return


def _exit_code(proc: subprocess.Popen[str]) -> int | None:
    """The exit code of a worker whose output ended (a signal is negative: -9 killed, -11 crashed)."""
    try:
        return proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()

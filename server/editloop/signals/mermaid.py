"""Mermaid validation through mmdr, isolated in a helper process.

mmdr (Rust) holds the GIL while it parses and lays out a diagram, and some inputs make it loop
forever (found while writing this module: a sequence diagram ending in a line of control characters
and ``{{{``). Run in-process, one such diagram would freeze the language server. So mmdr runs in one
long-lived helper process (``python -m editloop.signals.mermaid``, started on first use, ~0.1 s)
that answers JSON lines on stdin/stdout; a request that takes longer than its timeout kills the
helper (it is restarted on the next request) and yields "validity unknown".

Request ``{"text": ...}`` -> ``{"error": null | "message", "line": int | null, "column": int | null}``.
"""

from __future__ import annotations

import json
import os
import re
import queue
import subprocess
import sys
import threading
import time
from typing import Any

CHECK_TIMEOUT_S = 5.0

_AT_OFFSET = re.compile(r"\bat (?:offset |position )?(\d+)\b")
_AT_LINE = re.compile(r"\bline (\d+)(?:[:, ]+col(?:umn)? (\d+))?", re.I)
# Closes every probe of the bisection: a line no diagram accepts, made of characters that did not
# send mmdr into a loop in any of the four diagram kinds.
_SENTINEL = "\n\x01\x02\n"
# Time allowed for locating the error line (the bisection); past it the line is left unknown.
LOCATE_BUDGET_S = 0.5


# -- the helper process (runs mmdr) -----------------------------------------------------------------
def _mmdr_error(text: str) -> str | None:
    from mmdr import _mmdr

    try:
        _mmdr.render(text, None)
    except Exception as exc:  # mmdr raises ValueError for every parse error
        return str(exc) or type(exc).__name__
    return None


def locate_error(text: str, error: str, check=_mmdr_error, budget_s: float = LOCATE_BUDGET_S) -> tuple[int | None, int | None]:
    """0-based (line, column) of ``error`` in ``text``: from the message when it says, else by bisection.

    The bisection finds the smallest ``k`` such that the first ``k`` lines followed by a sentinel line
    that never parses fail with the same message: every probe fails in the parser (~0.15 ms) rather
    than laying out a valid prefix. The column is then unknown.
    """
    m = _AT_LINE.search(error)
    if m:
        return max(0, int(m.group(1)) - 1), (max(0, int(m.group(2)) - 1) if m.group(2) else None)
    m = _AT_OFFSET.search(error)
    if m and int(m.group(1)) <= len(text):
        offset = int(m.group(1))
        return text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1)
    lines = text.split("\n")
    deadline = time.monotonic() + budget_s
    lo, hi = 1, len(lines)
    while lo < hi:
        if time.monotonic() > deadline:
            return None, None
        mid = (lo + hi) // 2
        if check("\n".join(lines[:mid]) + _SENTINEL) == error:
            hi = mid
        else:
            lo = mid + 1
    return min(lo, len(lines)) - 1, None


def _serve() -> None:
    # Answers go to a private copy of stdout; anything mmdr might print goes to stderr instead.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    for raw in sys.stdin:
        req = json.loads(raw)
        text = req["text"]
        error = _mmdr_error(text)
        line = column = None
        if error is not None:
            line, column = locate_error(text, error)
        out.write(json.dumps({"error": error, "line": line, "column": column}) + "\n")
        out.flush()


# -- the client (runs in the server) --------------------------------------------------------------
class MermaidChecker:
    """One helper process, one request at a time (thread-safe)."""

    def __init__(self, timeout_s: float = CHECK_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._answers: queue.Queue[bytes] = queue.Queue()
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([p for p in sys.path if p] + [env.get("PYTHONPATH", "")])
        proc = subprocess.Popen(
            [sys.executable, "-m", "editloop.signals.mermaid"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._answers = answers = queue.Queue()

        def read() -> None:  # a thread, not select(): pipes cannot be select()ed on Windows
            assert proc.stdout is not None
            for line in proc.stdout:
                answers.put(line)
            answers.put(b"")

        threading.Thread(target=read, name="editloop-mermaid-reader", daemon=True).start()
        return proc

    def check(self, text: str) -> dict[str, Any] | None:
        """mmdr's verdict on ``text``; ``None`` when the helper timed out or died (validity unknown)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            proc = self._proc
            try:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps({"text": text}).encode() + b"\n")
                proc.stdin.flush()
                line = self._answers.get(timeout=self.timeout_s)
                if not line:
                    raise EOFError
                return json.loads(line)
            except (queue.Empty, EOFError, OSError, ValueError):
                self._kill()
                return None

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        with self._lock:
            self._kill()


_checker: MermaidChecker | None = None
_checker_lock = threading.Lock()


def checker() -> MermaidChecker:
    global _checker
    with _checker_lock:
        if _checker is None:
            _checker = MermaidChecker()
        return _checker


def available() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("mmdr") is not None
    except Exception:
        return False


if __name__ == "__main__":
    _serve()

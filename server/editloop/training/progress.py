"""A run's progress as people see it, and how long a wait may last.

Every event a worker appends to ``runs/<id>/progress.jsonl`` carries a ``phase`` (``preparing``,
``measuring the base model``, ``training``, ``validating``, ``interpolating``, ``measuring the
promoted model``) and a ``percentage``; training events add ``stage``, ``step``/``maxSteps`` and
``loss``, generation phases ``done``/``total`` outputs. :func:`describe` turns one into the text
`$/progress` shows; :class:`ProgressLine` adds the bar, the percentage and an ETA for the CLI and
the demo (one renderer for both); :class:`ProgressPrinter` writes it to a terminal or a log.

Waits never end on a fixed deadline: :class:`StallWatch` fails a wait only when no progress event
arrived for ``stall_timeout`` seconds, and says where the run was.

Nothing here imports torch.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, TextIO

from ..errors import EditloopError

DEFAULT_STALL_TIMEOUT = 600.0  # seconds without any progress event before a wait gives up on a run


class RunStalled(EditloopError):
    """No progress from a run for ``stall_timeout`` seconds."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="stalled")


def _phase(event: dict[str, Any]) -> str:
    if event.get("phase"):
        return str(event["phase"])
    if event.get("type") in ("progress", "eval") or event.get("step") is not None:
        return "training"
    return str(event.get("message") or "")


def where(event: dict[str, Any] | None) -> str:
    """Where a run was at ``event``, e.g. ``phase training SFT, step 24/40``."""
    if not event:
        return "no progress event yet"
    parts = [f"phase {describe_phase(event)}"]
    total = event.get("maxSteps", event.get("total") if event.get("step") is not None else None)
    if event.get("step") is not None and total is not None:
        parts.append(f"step {event['step']}/{total}")
    if event.get("done") is not None and event.get("total") is not None and event.get("step") is None:
        parts.append(f"{event['done']}/{event['total']} {event.get('unit') or 'outputs'}")
    return ", ".join(parts)


def describe_phase(event: dict[str, Any]) -> str:
    phase = _phase(event)
    stage = event.get("stage")
    if stage and phase in ("training", "validating") and str(stage) not in ("base", "interpolate"):
        return f"{phase} {str(stage).upper()}"
    return phase


def describe(event: dict[str, Any]) -> str:
    """One line for a progress event, without the run id (the caller's title already names the run)."""
    if event.get("type") == "finished":
        return describe_finished(event)
    parts = [describe_phase(event)]
    message = event.get("message")
    if message and message != parts[0] and not str(message).startswith(parts[0]):
        parts[0] = str(message)
    total = event.get("maxSteps")
    if event.get("step") is not None and total is not None:
        parts.append(f"step {event['step']}/{total}" + (" (stopped early)" if event.get("stoppedEarly") else ""))
    if event.get("done") is not None and event.get("total") is not None:
        parts.append(f"{event['done']}/{event['total']} {event.get('unit') or 'outputs'}")
    if event.get("loss") is not None:
        parts.append(f"loss {float(event['loss']):.3f}")
    if event.get("trial") is not None:  # a search: trial numbers count from 0 in Optuna
        parts.append(f"trial {int(event['trial']) + 1}")
    if event.get("type") == "eval" and event.get("valSimilarity") is not None:
        parts.append(f"val similarity {float(event['valSimilarity']):.3f}")
    return " · ".join(p for p in parts if p)


def describe_finished(event: dict[str, Any]) -> str:
    status = event.get("status") or "finished"
    if status == "succeeded":
        return "succeeded, promoted" if event.get("promoted") else "succeeded, not promoted"
    why = event.get("error") or event.get("reason")
    return f"{status}: {one_line(why)}" if why else str(status)


def one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class ProgressLine:
    """The progress bar text of a run, event by event: bar, percentage, phase, step, loss, ETA.

    The ETA is the current phase's: from the rate of its steps (or outputs) since the phase began.
    A failed or cancelled run's bar stays where the run stopped, with the reason."""

    width = 30

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.percentage = 0.0
        self.last: dict[str, Any] | None = None  # the last event that was not ``finished``
        self._rate_key: tuple | None = None
        self._rate_start: tuple[float, float] | None = None  # (time, count) when the phase began

    def _eta(self, event: dict[str, Any]) -> str:
        if event.get("stoppedEarly") is not None:  # a stage's last word: nothing left of it
            return ""
        if event.get("step") is not None and event.get("maxSteps") is not None:
            key, count, total = ("steps", event.get("stage"), event.get("maxSteps")), event["step"], event["maxSteps"]
        elif event.get("done") is not None and event.get("total") is not None:
            key, count, total = ("done", _phase(event), event["total"]), event["done"], event["total"]
        else:
            return ""
        now = self.clock()
        if key != self._rate_key or self._rate_start is None or count < self._rate_start[1]:
            self._rate_key, self._rate_start = key, (now, float(count))
            return ""
        t0, c0 = self._rate_start
        if count <= c0 or now <= t0:
            return ""
        return "ETA " + _duration((float(total) - count) * (now - t0) / (count - c0))

    def _bar(self, pct: float) -> str:
        done = int(self.width * min(100.0, max(0.0, pct)) / 100)
        return f"[{'#' * done}{'.' * (self.width - done)}] {pct:5.1f}%"

    def update(self, event: dict[str, Any]) -> str:
        if event.get("type") == "finished":
            return self.finish(event)
        if event.get("percentage") is not None:
            self.percentage = float(event["percentage"])
        self.last = event
        eta = self._eta(event) if event.get("type") != "eval" else ""
        text = describe(event) + (f" · {eta}" if eta else "")
        return f"{self._bar(self.percentage)} {text}"

    def finish(self, event: dict[str, Any]) -> str:
        if event.get("status") == "succeeded":
            return f"{self._bar(100.0)} {describe_finished(event)}"
        at = f" at {where(self.last)}" if self.last else ""
        status = event.get("status") or "finished"
        why = event.get("error") or event.get("reason")
        return f"{self._bar(self.percentage)} {status}{at}" + (f": {one_line(why)}" if why else "")


class ProgressPrinter:
    """Writes a run's :class:`ProgressLine` to ``stream``: rewritten in place on a terminal; on
    anything else (a log, a pipe) one line per phase change and at most one every ``every`` s."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None, every: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every = every
        self.clock = clock
        self.line = ProgressLine(clock)
        self._printed_at = float("-inf")
        self._phase: str | None = None
        self._open = False  # a terminal line not yet ended

    def __call__(self, event: dict[str, Any]) -> None:
        text = self.line.update(event)
        if event.get("type") == "finished":
            self._write(text, final=True)
            return
        phase = describe_phase(event)
        now = self.clock()
        if self.tty or phase != self._phase or now - self._printed_at >= self.every:
            self._phase, self._printed_at = phase, now
            self._write(text, final=False)

    def _write(self, text: str, *, final: bool) -> None:
        if self.tty:
            self.stream.write(f"\r{text[:160]:<160}" + ("\n" if final else ""))
            self._open = not final
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End a terminal line left open (an interrupted wait)."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


class StallWatch:
    """Fails a wait only when no progress arrived for ``timeout`` seconds (None or 0: never)."""

    def __init__(self, run_id: str, timeout: float | None = DEFAULT_STALL_TIMEOUT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.run_id = run_id
        self.timeout = timeout or None
        self.clock = clock
        self.last: dict[str, Any] | None = None
        self.last_at = clock()

    def seen(self, event: dict[str, Any] | None = None) -> None:
        self.last_at = self.clock()
        if event is not None and event.get("type") != "finished":
            self.last = event

    def check(self) -> None:
        """Raise :class:`RunStalled` if the run has been silent for too long."""
        if self.timeout is None:
            return
        silent = self.clock() - self.last_at
        if silent >= self.timeout:
            raise RunStalled(f"no progress from run {self.run_id} for {silent:.0f} s (last: {where(self.last)})")


class ProgressFile:
    """Reads the events appended to a run's ``progress.jsonl`` since the last call (a line being
    written is kept for the next call)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self._buf = ""

    def read_new(self) -> list[dict[str, Any]]:
        try:
            with open(self.path) as f:
                f.seek(self.offset)
                chunk = f.read()
                self.offset = f.tell()
        except FileNotFoundError:
            return []
        *lines, self._buf = (self._buf + chunk).split("\n")
        events = []
        for line in lines:
            if line.strip():
                try:
                    events.append(json.loads(line))
                except ValueError:
                    pass
        return events

    def pending(self) -> bool:
        """Bytes written that :meth:`read_new` has not read yet."""
        try:
            return self.path.stat().st_size > self.offset
        except FileNotFoundError:
            return False


__all__ = ["DEFAULT_STALL_TIMEOUT", "RunStalled", "describe", "describe_finished", "where", "ProgressLine",
           "ProgressPrinter", "StallWatch", "ProgressFile"]

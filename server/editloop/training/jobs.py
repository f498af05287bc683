"""Train now as a separate process: start, watch, cancel, recover.

The language server and the CLI never train in-process. :func:`start_run` inserts a ``queued``
run, starts ``python -m editloop.training.worker <run-id>`` in its own session and returns at
once. The worker appends JSON lines to ``runs/<id>/progress.jsonl`` (``status``, ``progress``,
``eval``, and a final ``finished``), which :func:`iter_progress` follows for ``$/progress`` or a
progress bar; its stdout and stderr go to ``runs/<id>/train.log``.

One run at a time per data folder: ``training.lock`` holds the worker's pid and run id; a lock
whose pid is gone is stale and replaced. :func:`recover` turns a ``queued``/``running`` run whose
process is gone (``kill -9``, a crash, a reboot) into ``failed`` with a reason, so the database
never claims a run that nobody is running.

Nothing here imports torch.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from ..errors import EditloopError
from ..paths import ensure_private_dir, runs_dir
from ..store import Store, runs, utcnow_iso
from .config import TrainConfig

LOCK_NAME = "training.lock"
PROGRESS_NAME = "progress.jsonl"
LOG_NAME = "train.log"
METRICS_NAME = "metrics.json"
DATA_NAME = "data.json"
ACTIVE = ("queued", "running")
FINAL = ("succeeded", "failed", "cancelled")
PARTIAL_OUTPUTS = ("adapter", "stages", "checkpoints", "trials")
QUEUED_GRACE_S = 120


def run_dir(home: Path, run_id: str) -> Path:
    return runs_dir(Path(home)) / run_id


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


# -- processes and the lock ----------------------------------------------------------------------

def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)  # reaps our own exited child (else it lingers as a zombie)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


def read_lock(home: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(home) / LOCK_NAME).read_text())
    except (OSError, ValueError):
        return None


def _take_lock(home: Path, pid: int, run_id: str) -> None:
    path = Path(home) / LOCK_NAME
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            held = read_lock(home)
            if held and pid_alive(held.get("pid")):
                raise EditloopError(
                    f"a training run is already in progress (run {held.get('runId')}, pid {held.get('pid')}); "
                    "cancel it or wait for it to finish"
                ) from None
            path.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as f:
            json.dump({"pid": pid, "runId": run_id, "since": utcnow_iso()}, f)
        return
    raise EditloopError(f"cannot take the training lock {path}")


def _set_lock_pid(home: Path, pid: int, run_id: str) -> None:
    tmp = Path(home) / (LOCK_NAME + ".tmp")
    tmp.write_text(json.dumps({"pid": pid, "runId": run_id, "since": utcnow_iso()}))
    os.replace(tmp, Path(home) / LOCK_NAME)


def release_lock(home: Path, run_id: str) -> None:
    held = read_lock(home)
    if held and held.get("runId") == run_id:
        (Path(home) / LOCK_NAME).unlink(missing_ok=True)


# -- runs in the database ------------------------------------------------------------------------

def get_run(store: Store, run_id: str) -> runs.Run:
    """The run's record (what the worker and the exporter read); NotFound if none."""
    return runs.get(store, run_id)


def update_run(store: Store, run_id: str, *, only_if: tuple[str, ...] | None = None, **fields: Any) -> bool:
    """Update a run's columns (JSON-encoding dicts), optionally only while its status is in ``only_if``."""
    for key in ("params", "metrics"):
        if key in fields and not isinstance(fields[key], (str, type(None))):
            fields[key] = Store.dumps(fields[key])
    return runs.update(store, run_id, fields, only_if=only_if)


def remove_partial_outputs(folder: Path) -> None:
    import shutil

    for name in PARTIAL_OUTPUTS:
        shutil.rmtree(folder / name, ignore_errors=True)


def recover(store: Store) -> list[str]:
    """Mark runs whose process is gone as failed; returns their ids. Safe to call any time."""
    failed = []
    from ..store import parse_iso

    for run in runs.active(store):
        if run.pid is None:
            if run.status == "running" or time.time() - parse_iso(run.created_at) > QUEUED_GRACE_S:
                reason = "the training process never started"
            else:
                continue
        elif pid_alive(run.pid):
            continue
        else:
            reason = f"the training process (pid {run.pid}) ended without finishing; see {LOG_NAME}"
        if update_run(store, run.id, only_if=ACTIVE, status="failed", error=reason, reason=reason,
                      finished_at=utcnow_iso()):
            remove_partial_outputs(run_dir(store.home, run.id))
            release_lock(store.home, run.id)
            failed.append(run.id)
    return failed


def list_runs(store: Store, *, artifact_type: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Recent runs, newest first, with ``params`` and ``metrics`` decoded (dead processes recovered first)."""
    recover(store)
    return [run.to_json() for run in runs.recent(store, artifact_type=artifact_type, limit=limit)]


# -- the API for the server and the CLI ----------------------------------------------------------

def create_run(store: Store, *, method: str = "auto", artifact_type: str | None = None, search: int = 0,
               base_model: str = "", settings: Mapping[str, Any] | None = None, data=None) -> str:
    """Validate the settings and insert a ``queued`` run (its folder holds ``data``, if given)."""
    config = TrainConfig.from_dict({**dict(settings or {}), "method": method, "artifact_type": artifact_type,
                                    "base_model": base_model})
    if not 0 <= int(search) <= 200:
        raise EditloopError(f"search must be 0..200 trials (got {search})")
    if base_model:
        from .artifacts import check_base_model

        check_base_model(base_model)
    run_id = new_run_id()
    folder = ensure_private_dir(run_dir(store.home, run_id))
    if data is not None:
        from dataclasses import asdict

        (folder / DATA_NAME).write_text(json.dumps(asdict(data)))
    runs.insert_queued(store, run_id, method=method, artifact_type=artifact_type, base_model=base_model,
                       params=Store.dumps({"config": config.to_dict(), "search": int(search)}), created_at=utcnow_iso())
    return run_id


def start_run(home: str | Path, *, method: str = "auto", artifact_type: str | None = None, search: int = 0,
              base_model: str = "", settings: Mapping[str, Any] | None = None, data=None,
              launcher: list[str] | None = None, env: Mapping[str, str] | None = None) -> str:
    """Queue a run and start its worker process; returns the run id at once.

    ``settings`` are :class:`TrainConfig` fields (``epochs``, ``learning_rate``, ``threads`` ...).
    ``data`` (a :class:`~editloop.training.data.TrainingData`) trains on given rows instead of a
    curation batch built in the worker. ``launcher`` replaces the interpreter, e.g.
    ``["accelerate", "launch", "--config_file", "multi_gpu.yaml"]`` (see docs/training.md).
    Raises EditloopError for bad settings, a missing base model, or a run already in progress.
    """
    home = Path(home)
    ensure_private_dir(home)
    store = Store.open(home)
    try:
        recover(store)
        if data is None:  # a run that cannot succeed is refused here, with its reason, not in a worker
            from .data import preflight

            config = TrainConfig.from_dict({**dict(settings or {}), "method": method, "artifact_type": artifact_type,
                                            "base_model": base_model})
            if base_model:  # the cheaper check first: a missing model says so, whatever the events
                from .artifacts import check_base_model

                check_base_model(base_model)
            preflight(store, artifact_type=artifact_type, method=method, curation=config.curation_config())
        lock_id = "starting-" + uuid.uuid4().hex[:6]
        _take_lock(home, os.getpid(), lock_id)
        run_id = None
        try:
            run_id = create_run(store, method=method, artifact_type=artifact_type, search=search,
                                base_model=base_model, settings=settings, data=data)
            folder = run_dir(home, run_id)
            cmd = [*(launcher or [sys.executable]), "-m", "editloop.training.worker", "--home", str(home), run_id]
            log = open(folder / LOG_NAME, "ab")
            try:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, env={**os.environ, **dict(env or {}),
                                                                     "EDITLOOP_HOME": str(home)})
            except OSError as exc:
                raise EditloopError(f"cannot start the training process: {exc}") from None
            finally:
                log.close()
            _set_lock_pid(home, proc.pid, run_id)
            update_run(store, run_id, pid=proc.pid)
        except BaseException:
            release_lock(home, lock_id)
            if run_id is not None:
                update_run(store, run_id, only_if=("queued",), status="failed", error="could not start",
                           finished_at=utcnow_iso())
            raise
        return run_id
    finally:
        store.close()


def cancel_run(home: str | Path, run_id: str, *, wait: float = 30.0) -> dict[str, Any]:
    """Stop a run: SIGTERM to its process group, then wait for it to mark itself cancelled.

    A queued run that never started is cancelled directly. A worker that ignores SIGTERM past
    ``wait`` seconds is killed, and the run is marked cancelled here. Nothing is promoted.
    """
    store = Store.open(home)
    try:
        run = get_run(store, run_id)
        if run.status in FINAL:
            return {"runId": run_id, "status": run.status}
        pid = run.pid
        if pid and pid_alive(pid):
            _signal(pid, signal.SIGTERM)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and pid_alive(pid):
                time.sleep(0.1)
            if pid_alive(pid):
                _signal(pid, signal.SIGKILL)
                time.sleep(0.2)
        if update_run(store, run_id, only_if=ACTIVE, status="cancelled", reason="cancelled by the user",
                      finished_at=utcnow_iso(), promoted=0):
            remove_partial_outputs(run_dir(Path(home), run_id))
            release_lock(Path(home), run_id)
            _append_progress(run_dir(Path(home), run_id), {"type": "finished", "runId": run_id,
                                                            "status": "cancelled", "metrics": {},
                                                            "reason": "cancelled by the user"})
        return {"runId": run_id, "status": get_run(store, run_id).status}
    finally:
        store.close()


def _signal(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the worker leads its own session (and, under accelerate, its children)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def run_status(home: str | Path, run_id: str) -> dict[str, Any]:
    """The run's row (decoded) plus its latest progress event."""
    store = Store.open(home)
    try:
        recover(store)
        run = runs.get(store, run_id).to_json()
    finally:
        store.close()
    events = read_progress(Path(home), run_id)
    run["progress"] = next((e for e in reversed(events) if "percentage" in e), None)
    return run


def _append_progress(folder: Path, event: dict[str, Any]) -> None:
    with open(folder / PROGRESS_NAME, "a") as f:
        f.write(json.dumps(event, default=str) + "\n")


def read_progress(home: Path, run_id: str) -> list[dict[str, Any]]:
    path = run_dir(home, run_id) / PROGRESS_NAME
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass  # a line being written
    return out


def iter_progress(home: str | Path, run_id: str, *, poll: float = 0.25, stall_timeout: float | None = None,
                  ) -> Iterator[dict[str, Any]]:
    """Follow a run's progress events until its ``finished`` event (or the process is gone).

    No fixed deadline: with ``stall_timeout``, raises :class:`~.progress.RunStalled` only when no
    event arrived for that many seconds (the run is left as it is; the caller decides)."""
    from .progress import ProgressFile, StallWatch

    home = Path(home)
    follower = ProgressFile(run_dir(home, run_id) / PROGRESS_NAME)
    watch = StallWatch(run_id, stall_timeout)
    while True:
        for event in follower.read_new():
            watch.seen(event)
            yield event
            if event.get("type") == "finished":
                return
        status = run_status(home, run_id)
        if status["status"] in FINAL and not follower.pending():
            yield {"type": "finished", "runId": run_id, "status": status["status"], "metrics": status["metrics"],
                   "error": status["error"], "reason": status["reason"], "promoted": status["promoted"]}
            return
        watch.check()
        time.sleep(poll)


def wait_run(home: str | Path, run_id: str, *, stall_timeout: float | None = None,
             callback: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Block until the run ends (calling ``callback`` per progress event); returns its status.

    A run silent for ``stall_timeout`` seconds is cancelled and :class:`~.progress.RunStalled`
    raised, its message ending in "cancelled it"."""
    from .progress import RunStalled

    try:
        for event in iter_progress(home, run_id, stall_timeout=stall_timeout):
            if callback:
                callback(event)
    except RunStalled as exc:
        status = cancel_run(home, run_id)["status"]
        raise RunStalled(f"{exc}; " + ("cancelled it" if status == "cancelled" else f"it ended {status}")) from None
    return run_status(home, run_id)

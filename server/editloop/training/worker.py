"""The training process: ``python -m editloop.training.worker --home DATA RUN_ID``.

Started by :func:`editloop.training.jobs.start_run` (or under ``accelerate launch``). It marks
the run ``running``, trains, writes ``metrics.json`` and the model into ``runs/<id>/``, promotes
it if it beats the promoted model, and marks the run ``succeeded``, ``failed`` or ``cancelled``.
SIGTERM stops training at the next step; the run is then ``cancelled``, its partial outputs are
removed and nothing is promoted. Under several processes only the main one writes the database.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import traceback
from dataclasses import asdict
from pathlib import Path

from ..errors import EditloopError
from ..store import Store, runs, utcnow_iso
from . import jobs

log = logging.getLogger("editloop.training")


class _Stop:
    def __init__(self) -> None:
        self.requested = False

    def __call__(self, *_: object) -> bool:
        return self.requested

    def handle(self, signum, frame) -> None:
        self.requested = True


def _quiet_libraries() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_warning()


def _is_main() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _world_size() -> int:
    """Processes training this run: WORLD_SIZE under `accelerate launch` (torchrun), else 1."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def _processes():
    """accelerate's view of the processes (initializes their group: gloo on the CPU, as the trainer would)."""
    import torch
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())


def _main_process_first():
    """Under several processes, the main one runs the block first and the others after it, so they
    reuse what it prepared (the embedded base model, the run's rows) instead of racing to build it."""
    return contextlib.nullcontext() if _world_size() == 1 else _processes().main_process_first()


def _claimed(store: Store, run_id: str, main: bool) -> bool:
    """The main process claims the run (:func:`_claim`); under several, every one learns whether it did."""
    claimed = _claim(store, run_id) if main else False
    if _world_size() == 1:
        return claimed
    from accelerate.utils import broadcast_object_list

    _processes()
    return bool(broadcast_object_list([claimed], from_process=0)[0])


def _load_data(store: Store, folder: Path, config, method: str, main: bool):
    """The run's rows: the data file written when the run was created, or a curation batch built
    from the feedback database now (recorded by the main process; under several processes written to
    the data file, which the others read after it)."""
    from .data import Split, TrainingData, from_store

    path = folder / jobs.DATA_NAME
    if path.exists():
        raw = json.loads(path.read_text())
        data = TrainingData(**{k: v for k, v in raw.items() if k not in ("sft", "dpo", "kto")})
        for m in ("sft", "dpo", "kto"):
            setattr(data, m, Split(**raw.get(m, {})))
        return data
    if not main:
        raise EditloopError("the main process left no training data for the other processes")
    data = from_store(store, artifact_type=config.artifact_type, method=method, curation=config.curation_config())
    if data.batch_id:
        jobs.update_run(store, folder.name, batch_id=data.batch_id)
    if _world_size() > 1:
        path.write_text(json.dumps(asdict(data)))
    return data


def _incumbent(store: Store, artifact_type: str | None, notes: list[str]) -> str | None:
    from .artifacts import check_artifact
    from .tracker import promoted_run

    run = promoted_run(store, artifact_type)
    if run is None:
        return None
    try:
        check_artifact(run.adapter_path)
    except EditloopError as exc:
        notes.append(f"promoted run {run.id} cannot be loaded ({exc}); compared against the base")
        return None
    return run.adapter_path


MEMORY_SIGNS = ("failed to map segment", "cannot allocate memory", "out of memory", "std::bad_alloc", "defaultcpuallocator")


def describe_failure(exc: BaseException) -> str:
    """One line for the user (the traceback goes to train.log)."""
    text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
    if isinstance(exc, MemoryError) or any(sign in text.lower() for sign in MEMORY_SIGNS):
        return (f"out of memory while training ({text}); close other programs, lower the batch size, "
                "or use a smaller base model")
    return text


class _Progress:
    """The run's progress events, written by the main process only (``progress.jsonl`` and stdout,
    which start_run sends to ``train.log``); remembers the last percentage reached, where a failed
    or cancelled run stopped."""

    def __init__(self, folder: Path, run_id: str, main: bool) -> None:
        self.folder, self.run_id, self.main = folder, run_id, main
        self.reached = 0.0

    def __call__(self, event: dict) -> None:
        if not self.main:
            return
        if event.get("type") != "finished" and event.get("percentage") is not None:
            self.reached = float(event["percentage"])
        event = {"runId": self.run_id, **event}
        jobs._append_progress(self.folder, event)
        print(json.dumps(event, default=str), flush=True)

    def preparing(self, message: str) -> None:
        self({"type": "status", "phase": "preparing", "message": message, "percentage": 0})


def run(home: Path, run_id: str) -> int:
    """Take the queued run ``run_id`` to a final state; 0 when it succeeded.

    The steps: claim (queued -> running), prepare (settings, base model, rows, the promoted model;
    the main process first), train (or search), record the result and promote, finalize (every
    outcome, cancel and crash included). Under several processes only the main one writes."""
    main = _is_main()
    store = Store.open(home)
    folder = jobs.run_dir(home, run_id)
    stop = _Stop()
    progress = _Progress(folder, run_id, main)
    record = jobs.get_run(store, run_id)
    if not _claimed(store, run_id, main):
        store.close()
        return 0
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, stop.handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    status, metrics, error = "failed", {}, None
    try:
        metrics = _train(home, store, folder, record, progress, stop)
        status = "succeeded"
    except BaseException as exc:  # noqa: BLE001 - the run must end in a final state whatever happened
        status, error = _outcome(exc, stop)
    finally:
        if main:
            _finalize(store, home, folder, run_id, status, error, metrics, progress)
        store.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if status == "succeeded" else 1


def _claim(store: Store, run_id: str) -> bool:
    """Mark the queued run ``running`` and record this process; False if it is not queued any more."""
    if not jobs.update_run(store, run_id, only_if=("queued",), status="running", started_at=utcnow_iso()):
        log.warning("run %s is %s; nothing to do", run_id, jobs.get_run(store, run_id).status)
        return False
    runs.set_pid_if_unset(store, run_id, os.getpid())  # start_run records the launcher's; by hand: ours
    return True


def _train(home: Path, store: Store, folder: Path, record: runs.Run, progress: _Progress, stop: _Stop) -> dict:
    """Prepare, train (or search), record the result and promote it if it won: the run's metrics."""
    _quiet_libraries()
    params = record.decoded_params()
    if params.get("search") and _world_size() > 1:
        raise EditloopError("a hyper-parameter search runs in one process; start it without accelerate launch")
    with _main_process_first():
        config, notes = _config(home, store, record.id, params, progress)
        progress.preparing("preparing the training data")
        data = _load_data(store, folder, config, config.method, progress.main)
        incumbent = _incumbent(store, config.artifact_type, notes)
    if params.get("search"):
        from .search import search

        result = search(home, data, config, folder, trials=int(params["search"]), progress=progress,
                        should_stop=stop, incumbent=incumbent)
    else:
        from .finetune import train

        result = train(data, config, folder, progress=progress, should_stop=stop, incumbent=incumbent)
    metrics = {**result.metrics, "reason": result.reason, "promotion": result.promote_reason, "notes": notes}
    if progress.main:
        _record(store, folder, record.id, result, metrics, config.base_model, stop)
    return metrics


def _config(home: Path, store: Store, run_id: str, params: dict, progress: _Progress):
    """The run's TrainConfig (the embedded base model when none is set; the last search's best
    hyper-parameters when asked for) and the notes saying what was chosen."""
    from .config import TrainConfig

    config = TrainConfig.from_dict(params.get("config", {}))
    if not config.base_model:
        from .base_model import default_model_path

        progress.preparing("preparing the embedded base model")
        config.base_model = str(default_model_path(home))
        if progress.main:
            jobs.update_run(store, run_id, base_model=config.base_model)
    notes: list[str] = []
    if config.use_best_params and not params.get("search"):
        from .search import best_params

        found = best_params(home, config.artifact_type, config.method)
        if found:
            config = config.with_params(found)
            notes.append(f"hyper-parameters from the last search: {found}")
    return config, notes


def _record(store: Store, folder: Path, run_id: str, result, metrics: dict, base_model: str, stop: _Stop) -> None:
    """The succeeded run: ``metrics.json``, its row, and its promotion if it beat the promoted model."""
    (folder / jobs.METRICS_NAME).write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    jobs.update_run(store, run_id, only_if=("running",), status="succeeded", method=result.method,
                    adapter_path=str(result.artifact), metrics=metrics, base_model=base_model,
                    reason=f"{result.reason}; {result.promote_reason}",
                    finished_at=utcnow_iso())
    if result.promote and not stop():
        from .tracker import promote

        promote(store, run_id)


def _outcome(exc: BaseException, stop: _Stop) -> tuple[str, str | None]:
    """The final status and error of a run that raised ``exc`` (a cancel is not an error)."""
    if isinstance(exc, EditloopError):
        log.error("%s", exc)
        if exc.code == "cancelled" or stop():
            return "cancelled", None
        return "failed", str(exc)
    traceback.print_exc()
    if stop():
        return "cancelled", None
    return "failed", describe_failure(exc)


def _finalize(store: Store, home: Path, folder: Path, run_id: str, status: str, error: str | None, metrics: dict,
              progress: _Progress) -> None:
    """The run's final state (a run that did not succeed loses its partial outputs and promotes
    nothing), its last progress event, and the run lock released."""
    if status != "succeeded":
        jobs.remove_partial_outputs(folder)
        jobs.update_run(store, run_id, only_if=jobs.ACTIVE, status=status, error=error,
                        reason="cancelled by the user" if status == "cancelled" else error,
                        finished_at=utcnow_iso(), promoted=0)
    final = jobs.get_run(store, run_id)
    progress({"type": "finished", "status": final.status, "error": final.error,
              "reason": final.reason, "promoted": final.promoted,
              "percentage": 100 if final.status == "succeeded" else progress.reached, "metrics": metrics})
    jobs.release_lock(home, run_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m editloop.training.worker")
    parser.add_argument("--home", required=True, help="the data folder")
    parser.add_argument("run_id")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    return run(Path(args.home), args.run_id)


if __name__ == "__main__":
    sys.exit(main())

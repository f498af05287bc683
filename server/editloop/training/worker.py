"""The training process: ``python -m editloop.training.worker --home DATA RUN_ID``.

Started by :func:`editloop.training.jobs.start_run` (or under ``accelerate launch``). It marks
the run ``running``, trains, writes ``metrics.json`` and the model into ``runs/<id>/``, promotes
it if it beats the promoted model, and marks the run ``succeeded``, ``failed`` or ``cancelled``.
SIGTERM stops training at the next step; the run is then ``cancelled``, its partial outputs are
removed and nothing is promoted. Under several processes only the main one writes the database.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from ..errors import EditloopError
from ..store import Store, utcnow_iso
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


def _load_data(store: Store, folder: Path, config, method: str):
    from .data import Split, TrainingData, from_store

    path = folder / jobs.DATA_NAME
    if path.exists():
        raw = json.loads(path.read_text())
        data = TrainingData(**{k: v for k, v in raw.items() if k not in ("sft", "dpo", "kto")})
        for m in ("sft", "dpo", "kto"):
            setattr(data, m, Split(**raw.get(m, {})))
        return data
    data = from_store(store, artifact_type=config.artifact_type, method=method, curation=config.curation_config())
    if data.batch_id:
        jobs.update_run(store, folder.name, batch_id=data.batch_id)
    return data


def _incumbent(store: Store, artifact_type: str | None, notes: list[str]) -> str | None:
    from .artifacts import check_artifact
    from .tracker import promoted_run

    run = promoted_run(store, artifact_type)
    if run is None:
        return None
    try:
        check_artifact(run["adapter_path"])
    except EditloopError as exc:
        notes.append(f"promoted run {run['id']} cannot be loaded ({exc}); compared against the base")
        return None
    return run["adapter_path"]


MEMORY_SIGNS = ("failed to map segment", "cannot allocate memory", "out of memory", "std::bad_alloc", "defaultcpuallocator")


def describe_failure(exc: BaseException) -> str:
    """One line for the user (the traceback goes to train.log)."""
    text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
    if isinstance(exc, MemoryError) or any(sign in text.lower() for sign in MEMORY_SIGNS):
        return (f"out of memory while training ({text}); close other programs, lower the batch size, "
                "or use a smaller base model")
    return text


def run(home: Path, run_id: str) -> int:
    main = _is_main()
    store = Store.open(home)
    folder = jobs.run_dir(home, run_id)
    stop = _Stop()
    reached = [0.0]  # the last percentage reported: where a failed or cancelled run stopped

    def progress(event: dict) -> None:
        if main:
            if event.get("type") != "finished" and event.get("percentage") is not None:
                reached[0] = float(event["percentage"])
            event = {"runId": run_id, **event}
            jobs._append_progress(folder, event)
            print(json.dumps(event, default=str), flush=True)

    run_row = jobs.get_run(store, run_id)
    if main:
        if not jobs.update_run(store, run_id, only_if=("queued",), status="running", started_at=utcnow_iso()):
            log.warning("run %s is %s; nothing to do", run_id, jobs.get_run(store, run_id)["status"])
            store.close()
            return 0
        with store.lock:  # start_run records the launcher's pid; a run started by hand records ours
            store.db.conn.execute("UPDATE runs SET pid = ? WHERE id = ? AND pid IS NULL", [os.getpid(), run_id])
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, stop.handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    status, metrics, error = "failed", {}, None
    try:
        _quiet_libraries()
        from .config import TrainConfig

        params = json.loads(run_row["params"] or "{}")
        config = TrainConfig.from_dict(params.get("config", {}))
        if not config.base_model:
            from .base_model import default_model_path

            progress({"type": "status", "phase": "preparing", "message": "preparing the embedded base model",
                      "percentage": 0})
            config.base_model = str(default_model_path(home))
            if main:
                jobs.update_run(store, run_id, base_model=config.base_model)
        notes: list[str] = []
        if config.use_best_params and not params.get("search"):
            from .search import best_params

            found = best_params(home, config.artifact_type, config.method)
            if found:
                config = config.with_params(found)
                notes.append(f"hyper-parameters from the last search: {found}")
        progress({"type": "status", "phase": "preparing", "message": "preparing the training data", "percentage": 0})
        data = _load_data(store, folder, config, config.method)
        incumbent = _incumbent(store, config.artifact_type, notes)
        if params.get("search"):
            from .search import search

            result = search(home, data, config, folder, trials=int(params["search"]), progress=progress,
                            should_stop=stop, incumbent=incumbent)
        else:
            from .finetune import train

            result = train(data, config, folder, progress=progress, should_stop=stop, incumbent=incumbent)
        metrics = {**result.metrics, "reason": result.reason, "promotion": result.promote_reason, "notes": notes}
        if main:
            (folder / jobs.METRICS_NAME).write_text(json.dumps(metrics, indent=2, default=str) + "\n")
            jobs.update_run(store, run_id, only_if=("running",), status="succeeded", method=result.method,
                            adapter_path=str(result.artifact), metrics=metrics, base_model=config.base_model,
                            reason=f"{result.reason}; {result.promote_reason}",
                            finished_at=utcnow_iso())
            if result.promote and not stop():
                from .tracker import promote

                promote(store, run_id)
        status = "succeeded"
    except EditloopError as exc:
        if exc.code == "cancelled" or stop():
            status, error = "cancelled", None
        else:
            error = str(exc)
        log.error("%s", exc)
    except BaseException as exc:  # noqa: BLE001 - the run must end in a final state whatever happened
        status = "cancelled" if stop() else "failed"
        error = None if stop() else describe_failure(exc)
        traceback.print_exc()
    finally:
        if main:
            if status != "succeeded":
                jobs.remove_partial_outputs(folder)
                jobs.update_run(store, run_id, only_if=jobs.ACTIVE, status=status, error=error,
                                reason="cancelled by the user" if status == "cancelled" else error,
                                finished_at=utcnow_iso(), promoted=0)
            final = jobs.get_run(store, run_id)
            progress({"type": "finished", "status": final["status"], "error": final["error"],
                      "reason": final["reason"], "promoted": bool(final["promoted"]),
                      "percentage": 100 if final["status"] == "succeeded" else reached[0], "metrics": metrics})
            jobs.release_lock(home, run_id)
        store.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if status == "succeeded" else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m editloop.training.worker")
    parser.add_argument("--home", required=True, help="the data folder")
    parser.add_argument("run_id")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    return run(Path(args.home), args.run_id)


if __name__ == "__main__":
    sys.exit(main())

"""Train now from the editor: start a run (a separate process), relay its progress as
`$/progress`, cancel it, and announce `editloop/runFinished`. Also batches and exports."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .params import (
    BuildBatchParams,
    BuildBatchResult,
    CancelParams,
    CancelResult,
    ExportParams,
    ExportResult,
    RunsParams,
    RunsResult,
    TrainParams,
    TrainResult,
)

if TYPE_CHECKING:
    from .server import EditloopServer

log = logging.getLogger(__name__)


async def relay(ls: "EditloopServer", run_id: str, home: str) -> None:
    """Follow the run's progress file and report it to the client until the run finishes."""
    from ..training.jobs import cancel_run, iter_progress
    from ..training.progress import describe

    loop = asyncio.get_running_loop()
    token = f"editloop-train-{run_id}-{uuid.uuid4().hex[:6]}"
    has_progress = False
    try:
        await asyncio.wait_for(ls.work_done_progress.create_async(token), timeout=5)
        ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=f"Editloop: training {run_id}", cancellable=True, message="starting", percentage=0))
        has_progress = True
    except Exception:  # noqa: BLE001 - a client without work-done progress still gets runFinished
        log.info("client did not accept a progress token; relaying runFinished only")
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def follow() -> None:
        try:
            for event in iter_progress(home, run_id):
                loop.call_soon_threadsafe(queue.put_nowait, event)
        except Exception as exc:  # noqa: BLE001
            loop.call_soon_threadsafe(queue.put_nowait, {"type": "finished", "runId": run_id, "status": "failed", "metrics": {}, "error": str(exc)})

    loop.run_in_executor(ls.thread_pool, follow)
    cancel_sent = False
    while True:
        try:
            event = await asyncio.wait_for(queue.get(), timeout=0.5)
        except asyncio.TimeoutError:
            event = None
        fut = ls.protocol.progress.tokens.get(token) if has_progress else None
        if fut is not None and fut.cancelled() and not cancel_sent:
            cancel_sent = True
            await loop.run_in_executor(ls.thread_pool, lambda: cancel_run(home, run_id))
        if event is None:
            continue
        if event.get("type") == "finished":
            if has_progress:
                ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=describe(event)))
            finished = {"runId": run_id, "status": event.get("status"), "promoted": bool(event.get("promoted")), "metrics": event.get("metrics") or {}, "error": event.get("error")}
            ls.protocol.notify("editloop/runFinished", finished)
            from .background import announce_promotion

            announce_promotion(ls, finished)
            return
        if has_progress and event.get("percentage") is not None:
            pct = max(0, min(100, int(event["percentage"])))
            # the title names the run; the message says where it is (phase, step, outputs, loss)
            ls.work_done_progress.report(token, types.WorkDoneProgressReport(message=describe(event), percentage=pct, cancellable=True))


async def train(ls: "EditloopServer", p: TrainParams) -> TrainResult:
    """Start a run (a separate process) and relay its progress; answers at once with its id."""
    from ..training.jobs import start_run
    from ..training.settings_map import run_options

    home = str(ls.capture.store.home)
    # the settings' run (training.settings_map) with this run's TrainConfig fields (epochs, curation
    # overrides ...) on top; start_run validates them
    options = run_options(ls.settings, p.settings)
    loop = asyncio.get_running_loop()
    run_id = await loop.run_in_executor(
        ls.thread_pool, lambda: start_run(home, method=p.method, artifact_type=p.artifact_type, search=p.search, **options))
    loop.create_task(relay(ls, run_id, home))
    return TrainResult(run_id=run_id)


async def cancel(ls: "EditloopServer", p: CancelParams) -> CancelResult:
    from ..training.jobs import cancel_run

    home = str(ls.capture.store.home)
    out = await asyncio.get_running_loop().run_in_executor(ls.thread_pool, lambda: cancel_run(home, p.run_id))
    return CancelResult(run_id=out["runId"], status=out["status"])


def runs(ls: "EditloopServer", p: RunsParams) -> RunsResult:
    """Recent runs, newest first (a run whose worker died is marked failed first)."""
    from ..training.jobs import list_runs, recover

    recover(ls.capture.store)
    return RunsResult(runs=list_runs(ls.capture.store))


async def build_batch(ls: "EditloopServer", p: BuildBatchParams) -> BuildBatchResult:
    from ..curation import build_batch as build

    store = ls.capture.store
    batch = await asyncio.get_running_loop().run_in_executor(
        ls.thread_pool, lambda: build(store, artifact_type=p.artifact_type, method=p.method))
    return BuildBatchResult(batch_id=batch.id, counts=batch.counts())


async def export(ls: "EditloopServer", p: ExportParams) -> ExportResult:
    """Write a dataset file: inside a workspace folder or Editloop's exports folder only."""
    from ..curation.exporter import export_to

    store, roots = ls.capture.store, workspace_roots(ls)
    out, n = await asyncio.get_running_loop().run_in_executor(
        ls.thread_pool,
        lambda: export_to(store, p.format, p.path, roots=roots, overwrite=p.overwrite, overwrite_hint="pass overwrite: true",
                          artifact_type=p.artifact_type),
    )
    return ExportResult(path=str(out), rows=n)


def workspace_roots(ls: Any) -> list[str]:
    """The client's workspace folders as local paths (its root when it sent no folders): where the
    server may write an export besides Editloop's own exports folder."""
    from pygls.uris import to_fs_path

    ws = ls.workspace
    uris = [f.uri for f in ws.folders.values()] or ([ws.root_uri] if ws.root_uri else [])
    return [p for p in (to_fs_path(u) for u in uris) if p]


__all__ = ["relay", "workspace_roots"]

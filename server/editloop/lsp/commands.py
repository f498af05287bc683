"""Capture commands (``workspace/executeCommand``): each handler takes its params object
(:mod:`editloop.lsp.params`), calls the capture core, and returns its result object."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..capture.clock import ManualClock
from ..errors import EditloopError
from .documents import wait_for_insertion
from .params import (
    AdvanceClockParams,
    AdvanceClockResult,
    EventResult,
    ForgetParams,
    ForgetResult,
    GenerateParams,
    GenerateResult,
    Range,
    RegionParams,
    RegionResult,
    StatsParams,
    StatsResult,
    TrackParams,
    TrackResult,
)

if TYPE_CHECKING:
    from .server import EditloopServer


def workspace_of(ls: "EditloopServer", uri: str) -> str | None:
    """The innermost workspace folder holding ``uri`` (the root for a file outside every folder)."""
    try:
        folders = ls.workspace.folders
    except RuntimeError:
        return None
    best = None
    for folder in folders.values():
        root = folder.uri.rstrip("/") + "/"
        if uri.startswith(root) and (best is None or len(root) > len(best)):
            best = root
    return best.rstrip("/") if best else (ls.workspace.root_uri if uri.startswith("file:") else None)


def track(ls: "EditloopServer", p: TrackParams) -> TrackResult:
    """Track AI output already in the document (synchronous: it runs before the next didChange)."""
    from ..signals import artifacts

    rng = p.range.as_tuple()
    text = ls.capture.text_at(p.uri, rng) if artifacts.canonical(p.artifact_type) == "mermaid" else ""
    row = ls.capture.track(
        p.uri, rng, prompt=p.prompt, model=p.model, artifact_type=artifacts.canonical(p.artifact_type, text),
        language=p.language, workspace=workspace_of(ls, p.uri), model_version=p.model_version,
    )
    ls.publish_uri(p.uri)
    return TrackResult(region_id=row["id"], artifact_type=row["artifact_type"])


async def _resolve(ls: "EditloopServer", region_id: str, *, rejected: bool) -> EventResult:
    """Accept or reject: the region stops moving at once; its outcome is stored on the writer thread."""
    cap = ls.capture
    if cap.tracked_uri(region_id) is None:
        await ls.settle()  # an implicit outcome (deleted, closed) may still be on its way to the database
    uri = cap.tracked_uri(region_id)
    prepared = cap.prepare_explicit(region_id, rejected=rejected)
    if uri:
        ls.publish_uri(uri)
    if isinstance(prepared, dict):  # already resolved: its event
        return EventResult.from_row(prepared)
    ev = await ls.run_writer(cap.commit, prepared)
    ls.background.note_event()
    ls.stats_changed()
    return EventResult.from_row(ev or cap.recorded_event(region_id))


async def accept(ls: "EditloopServer", p: RegionParams) -> EventResult:
    """``accept`` if the region's text is unchanged, ``edit`` otherwise (idempotent)."""
    return await _resolve(ls, p.region_id, rejected=False)


async def reject(ls: "EditloopServer", p: RegionParams) -> EventResult:
    return await _resolve(ls, p.region_id, rejected=True)


async def region(ls: "EditloopServer", p: RegionParams) -> RegionResult:
    """The stored region with its text and similarity now (the diff view and the hover read it)."""
    await ls.settle()
    d = ls.capture.describe(p.region_id)
    return RegionResult(
        id=d.id, uri=d.uri, status=d.status, prompt=d.prompt, model=d.model, artifact_type=d.artifact_type,
        language=d.language, original=d.original, current=d.current, created_at=d.created_at,
        similarity=d.similarity, range=Range.from_tuple(d.client_range) if d.client_range else None,
    )


async def stats(ls: "EditloopServer", p: StatsParams) -> StatsResult:
    from ..store.stats import stats as compute

    store = ls.capture.store

    def read() -> dict:
        with store.lock:
            return compute(store.db, artifact_type=p.artifact_type)

    summary = await ls.run_writer(read)
    embeddings = "on" if ls.settings.embeddings and _embeddings_installed() else "off"
    return StatsResult(summary=summary, embeddings=embeddings, data_dir=str(store.home))


def _embeddings_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("sentence_transformers") is not None


async def forget(ls: "EditloopServer", p: ForgetParams) -> ForgetResult:
    """Delete what was captured from one document (or everything); the editor drops its regions."""
    uris = ls.capture.uris_with_regions() if p.all else [p.uri]
    await ls.settle()
    deleted = ls.capture.forget(uri=p.uri, everything=p.all)
    for uri in uris:
        ls.publish_uri(uri)
    return ForgetResult(deleted=deleted)


async def advance_clock(ls: "EditloopServer", p: AdvanceClockParams) -> AdvanceClockResult:
    """Test facility (``editloop serve --manual-clock``): move time forward and run due checks."""
    if not isinstance(ls.clock, ManualClock):
        raise EditloopError("editloop.advanceClock needs a server started with --manual-clock")
    now = ls.clock.advance(p.seconds)
    ls.run_checks()
    events = await ls.settle()
    return AdvanceClockResult(now=now, events=[EventResult.from_row(e) for e in events])


async def generate(ls: "EditloopServer", p: GenerateParams) -> GenerateResult:
    """Ask the configured model, insert its text with ``workspace/applyEdit``, track what arrived."""
    from ..signals import artifacts

    doc = ls.capture.document(p.uri)
    artifact_type = artifacts.canonical(p.artifact_type) if p.artifact_type else artifacts.infer(doc.head(), doc.language_id, p.uri)
    line, character = p.position.line, p.position.character
    doc.to_pos(line, character)  # validates the position before any work
    gen = await asyncio.get_running_loop().run_in_executor(
        ls.thread_pool, lambda: ls.generator().generate(p.prompt, artifact_type, language=doc.language_id))
    text = gen.text.strip("\n") + "\n"
    await _insert(ls, p.uri, line, character, text)
    rng = await wait_for_insertion(ls, p.uri, line, character, text, missing="the inserted text never arrived through didChange; it was not tracked")
    row = ls.capture.track(p.uri, rng, prompt=p.prompt, model=gen.model, model_version=gen.model_version,
                           artifact_type=artifact_type, workspace=workspace_of(ls, p.uri))
    ls.publish_uri(p.uri)
    return GenerateResult(region_id=row["id"], text=text, model=gen.model, model_version=gen.model_version, retry=gen.retry)


async def _insert(ls: "EditloopServer", uri: str, line: int, character: int, text: str) -> None:
    """Ask the editor to insert ``text`` at (line, character); raise when it refuses."""
    from lsprotocol import types

    at = types.Position(line, character)
    edit = types.WorkspaceEdit(changes={uri: [types.TextEdit(types.Range(at, at), text)]})
    applied = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label="Editloop: generate"))
    if not applied.applied:
        raise EditloopError(f"the editor did not insert the text ({applied.failure_reason or 'no reason given'})")

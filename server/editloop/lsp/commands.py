"""``workspace/executeCommand`` handlers: unpack one object, call the core, return a JSON object."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..capture.clock import ManualClock
from ..errors import EditloopError, InvalidArgument
from .args import get, get_range, lsp_errors, one_object

if TYPE_CHECKING:
    from .server import EditloopServer


def _workspace_of(ls: "EditloopServer", uri: str) -> str | None:
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


def event_result(ev: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventId": ev["id"],
        "regionId": ev.get("region_id"),
        "action": ev["action"],
        "source": ev["source"],
        "similarity": ev["similarity"],
        "reward": ev["reward"],
        "validation": ev.get("validation"),
    }


def register(server: "EditloopServer") -> None:
    @server.command("editloop.track")
    @lsp_errors
    def track(ls, *args: Any) -> dict[str, Any]:
        from ..signals import artifacts

        a = one_object(args, "editloop.track")
        uri = get(a, "uri", str)
        rng = get_range(a)
        name = get(a, "artifactType", str)
        text = ls.capture.text_at(uri, rng) if artifacts.canonical(name) == "mermaid" else ""
        row = ls.capture.track(
            uri,
            rng,
            prompt=get(a, "prompt", str, required=False, default=""),
            model=get(a, "model", str, required=False, default=""),
            artifact_type=artifacts.canonical(name, text),
            language=get(a, "language", str, required=False),
            workspace=_workspace_of(ls, uri),
            model_version=get(a, "modelVersion", str, required=False),
        )
        ls.publish_uri(uri)
        return {"regionId": row["id"], "artifactType": row["artifact_type"]}

    async def resolve(ls, name: str, args: tuple[Any, ...], *, rejected: bool) -> dict[str, Any]:
        rid = get(one_object(args, name), "regionId", str)
        cap = ls.capture
        if rid not in cap.regions:
            await ls.settle()  # an implicit outcome (deleted, closed) may still be on its way to the database
        uri = cap.regions[rid].uri if rid in cap.regions else None
        prepared = cap.prepare_explicit(rid, rejected=rejected)  # the region stops moving now
        if uri:
            ls.publish_uri(uri)
        if isinstance(prepared, dict):
            return event_result(prepared)
        ev = await ls.run_writer(cap.commit, prepared)
        ls.background.note_event()
        ls.stats_changed()
        return event_result(ev or cap._existing_event(rid))

    @server.command("editloop.accept")
    @lsp_errors
    async def accept(ls, *args: Any) -> dict[str, Any]:
        return await resolve(ls, "editloop.accept", args, rejected=False)

    @server.command("editloop.reject")
    @lsp_errors
    async def reject(ls, *args: Any) -> dict[str, Any]:
        return await resolve(ls, "editloop.reject", args, rejected=True)

    @server.command("editloop.region")
    @lsp_errors
    async def region(ls, *args: Any) -> dict[str, Any]:
        rid = get(one_object(args, "editloop.region"), "regionId", str)
        await ls.settle()
        return ls.capture.describe(rid)

    @server.command("editloop.stats")
    @lsp_errors
    async def stats(ls, *args: Any) -> dict[str, Any]:
        from ..store.stats import stats as compute

        a = one_object(args, "editloop.stats")
        artifact_type = get(a, "artifactType", str, required=False)
        store = ls.capture.store

        def read() -> dict[str, Any]:
            with store.lock:
                return compute(store.db, artifact_type=artifact_type)

        out = await ls.run_writer(read)
        out["embeddings"] = "on" if ls.settings.embeddings and _embeddings_installed() else "off"
        out["dataDir"] = str(store.home)
        return out

    @server.command("editloop.forget")
    @lsp_errors
    async def forget(ls, *args: Any) -> dict[str, Any]:
        a = one_object(args, "editloop.forget")
        everything = get(a, "all", bool, required=False, default=False)
        uri = get(a, "uri", str, required=not everything)
        uris = list(ls.capture.by_uri) if everything else [uri]
        await ls.settle()
        deleted = ls.capture.forget(uri=uri, everything=everything)
        for u in uris:
            ls.publish_uri(u)
        return {"deleted": deleted}

    @server.command("editloop.advanceClock")
    @lsp_errors
    async def advance_clock(ls, *args: Any) -> dict[str, Any]:
        """Test facility (``editloop serve --manual-clock``): move time forward and run due checks."""
        if not isinstance(ls.clock, ManualClock):
            raise EditloopError("editloop.advanceClock needs a server started with --manual-clock")
        seconds = get(one_object(args, "editloop.advanceClock"), "seconds", (int, float))
        if seconds < 0:
            raise InvalidArgument("seconds must be >= 0")
        now = ls.clock.advance(float(seconds))
        ls.run_checks()
        events = await ls.settle()
        return {"now": now, "events": [event_result(e) for e in events]}


def _embeddings_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("sentence_transformers") is not None


def register_generation(server: "EditloopServer") -> None:
    import asyncio

    from lsprotocol import types

    from .args import get_position

    @server.command("editloop.generate")
    @lsp_errors
    async def generate(ls, *args: Any) -> dict[str, Any]:
        a = one_object(args, "editloop.generate")
        uri = get(a, "uri", str)
        line, character = get_position(a)
        prompt = get(a, "prompt", str)
        cap = ls.capture
        doc = cap.document(uri)
        from ..signals import artifacts

        given = get(a, "artifactType", str, required=False)
        artifact_type = artifacts.canonical(given) if given else artifacts.infer(doc.head(), doc.language_id, uri)
        doc.to_pos(line, character)  # validates the position before any work
        loop = asyncio.get_running_loop()
        gen = await loop.run_in_executor(ls.thread_pool, lambda: ls.generator().generate(prompt, artifact_type, language=doc.language_id))
        text = gen.text.strip("\n") + "\n"
        edit = types.WorkspaceEdit(changes={uri: [types.TextEdit(types.Range(types.Position(line, character), types.Position(line, character)), text)]})
        applied = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label="Editloop: generate"))
        if not applied.applied:
            raise EditloopError(f"the editor did not insert the text ({applied.failure_reason or 'no reason given'})")
        # The client reports the insertion with didChange; wait until our copy holds it.
        rng = None
        for _ in range(500):
            rng = cap.inserted_range(uri, line, character, text)
            if rng is not None:
                break
            await asyncio.sleep(0.01)
        if rng is None:
            raise EditloopError("the inserted text never arrived through didChange; it was not tracked")
        row = cap.track(uri, rng, prompt=prompt, model=gen.model, model_version=gen.model_version, artifact_type=artifact_type, workspace=_workspace_of(ls, uri))
        ls.publish_uri(uri)
        return {"regionId": row["id"], "text": text, "model": gen.model, "modelVersion": gen.model_version, "retry": gen.retry}

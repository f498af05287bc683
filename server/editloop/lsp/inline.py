"""Inline completions (ghost text) from the configured model, recorded like Copilot and Cursor Tab do:
an accepted completion becomes a tracked region (the item's command reports the acceptance), and one
that was shown but not accepted is recorded as an implicit `reject` when the next completion is asked
for in that document or after DISMISS_AFTER seconds. Off unless `editloop.generation.inline` is on."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .args import get, lsp_errors, one_object

if TYPE_CHECKING:
    from .server import EditloopServer

CONTEXT_LINES = 30
DISMISS_AFTER = 30.0
MAX_NEW_TOKENS = 128


def register(server: "EditloopServer") -> None:
    shown: dict[str, dict[str, Any]] = {}

    def dismiss(ls: "EditloopServer", *, uri: str | None = None) -> None:
        now = time.monotonic()
        for sid, item in list(shown.items()):
            if (uri is not None and item["uri"] == uri) or now - item["at"] > DISMISS_AFTER:
                del shown[sid]
                ls.capture.record_dismissed(
                    uri=item["uri"], text=item["text"], prompt=item["prompt"], model=item["model"],
                    model_version=item["modelVersion"], artifact_type=item["artifactType"],
                )
        ls.commit_outbox()

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION)
    async def inline_completion(ls, params: types.InlineCompletionParams) -> types.InlineCompletionList | None:
        if ls._capture is None or not ls.settings.generation_inline:
            return None
        from ..signals import artifacts

        cap = ls.capture
        uri = params.text_document.uri
        doc = cap.docs.get(uri)
        if doc is None:
            return None
        dismiss(ls, uri=uri)  # asking again means the previous suggestion was not taken
        pos = doc.to_pos(params.position.line, params.position.character, strict=False)
        first = max(0, pos.line - CONTEXT_LINES)
        from ..capture.document import Pos

        prompt = doc.slice(Pos(first, 0), pos)
        if not prompt.strip():
            return None
        artifact_type = artifacts.infer(doc.head(), doc.language_id, uri)
        loop = asyncio.get_running_loop()
        gen = await loop.run_in_executor(ls.thread_pool, lambda: ls.generator().generate(prompt, artifact_type, max_new_tokens=MAX_NEW_TOKENS,
                                                                                    retry_invalid=False))
        if not gen.text.strip():
            return None
        sid = uuid.uuid4().hex[:12]
        shown[sid] = {"uri": uri, "line": params.position.line, "character": params.position.character, "text": gen.text, "prompt": prompt,
                      "model": gen.model, "modelVersion": gen.model_version, "artifactType": artifact_type, "at": time.monotonic()}
        here = types.Range(params.position, params.position)
        cmd = types.Command("Editloop: inline completion accepted", "editloop.inlineAccepted", arguments=[{"shownId": sid}])
        return types.InlineCompletionList(items=[types.InlineCompletionItem(insert_text=gen.text, range=here, command=cmd)])

    @server.command("editloop.inlineAccepted")
    @lsp_errors
    async def inline_accepted(ls, *args: Any) -> dict[str, Any]:
        from ..errors import EditloopError

        sid = get(one_object(args, "editloop.inlineAccepted"), "shownId", str)
        item = shown.pop(sid, None)
        if item is None:
            raise EditloopError(f"unknown or expired inline completion {sid!r}")
        cap = ls.capture
        rng = None
        for _ in range(200):  # the editor reports the insertion with didChange
            rng = cap.inserted_range(item["uri"], item["line"], item["character"], item["text"])
            if rng is not None:
                break
            await asyncio.sleep(0.01)
        if rng is None:
            raise EditloopError("the accepted completion is not in the document; it was not tracked")
        row = cap.track(item["uri"], rng, prompt=item["prompt"], model=item["model"], model_version=item["modelVersion"], artifact_type=item["artifactType"])
        ls.publish_uri(item["uri"])
        return {"regionId": row["id"]}

    server.dismiss_inline = dismiss  # type: ignore[attr-defined]

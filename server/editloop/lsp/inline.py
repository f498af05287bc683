"""Inline completions (ghost text) from the configured model, recorded like Copilot and Cursor Tab do:
an accepted completion becomes a tracked region (the item's command reports the acceptance), and one
that was shown but not accepted is recorded as an implicit `reject` when the next completion is asked
for in that document or after DISMISS_AFTER seconds. Off unless `editloop.generation.inline` is on."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

from ..capture.document import Pos
from ..errors import EditloopError
from .documents import wait_for_insertion

if TYPE_CHECKING:
    from .params import InlineAcceptedParams, InlineAcceptedResult
    from ..capture.service import CaptureService
    from .server import EditloopServer

CONTEXT_LINES = 30
DISMISS_AFTER = 30.0
MAX_NEW_TOKENS = 128


@dataclass(frozen=True)
class Shown:
    """A completion the editor was given and may still accept."""

    uri: str
    line: int
    character: int
    text: str
    prompt: str
    model: str
    model_version: str | None
    artifact_type: str
    at: float  # time.monotonic() when it was shown


class InlineSuggestions:
    """The completions shown and not yet accepted or dismissed (the server owns one)."""

    def __init__(self) -> None:
        self._shown: dict[str, Shown] = {}

    def add(self, item: Shown) -> str:
        """Remember a shown completion; returns the id its accept command carries."""
        sid = uuid.uuid4().hex[:12]
        self._shown[sid] = item
        return sid

    def take(self, sid: str) -> Shown | None:
        """The completion with this id, forgotten from now on (None when unknown or dismissed)."""
        return self._shown.pop(sid, None)

    def dismiss(self, capture: "CaptureService", *, uri: str | None = None, now: float | None = None) -> int:
        """Record as implicit rejects the completions shown in ``uri`` and those older than
        DISMISS_AFTER; returns how many (their outcomes are queued in ``capture``'s outbox)."""
        now = time.monotonic() if now is None else now
        gone = [sid for sid, s in self._shown.items() if s.uri == uri or now - s.at > DISMISS_AFTER]
        for sid in gone:
            s = self._shown.pop(sid)
            capture.record_dismissed(uri=s.uri, text=s.text, prompt=s.prompt, model=s.model,
                                     model_version=s.model_version, artifact_type=s.artifact_type)
        return len(gone)


async def inline_completion(ls: "EditloopServer", params: types.InlineCompletionParams) -> types.InlineCompletionList | None:
    """One completion at the cursor from the last CONTEXT_LINES lines; the previous one is dismissed."""
    cap = ls.capture_if_ready
    if cap is None or not ls.settings.generation_inline:
        return None
    from ..signals import artifacts

    uri = params.text_document.uri
    doc = cap.find_document(uri)
    if doc is None:
        return None
    ls.dismiss_inline(uri=uri)  # asking again means the previous suggestion was not taken
    pos = doc.to_pos(params.position.line, params.position.character, strict=False)
    prompt = doc.slice(Pos(max(0, pos.line - CONTEXT_LINES), 0), pos)
    if not prompt.strip():
        return None
    artifact_type = artifacts.infer(doc.head(), doc.language_id, uri)
    gen = await asyncio.get_running_loop().run_in_executor(
        ls.thread_pool, lambda: ls.generator().generate(prompt, artifact_type, max_new_tokens=MAX_NEW_TOKENS,
                                                            language=doc.language_id, retry_invalid=False))
    if not gen.text.strip():
        return None
    sid = ls.inline.add(Shown(uri, params.position.line, params.position.character, gen.text, prompt, gen.model,
                              gen.model_version, artifact_type, time.monotonic()))
    cmd = types.Command("Editloop: inline completion accepted", "editloop.inlineAccepted", arguments=[{"shownId": sid}])
    here = types.Range(params.position, params.position)
    return types.InlineCompletionList(items=[types.InlineCompletionItem(insert_text=gen.text, range=here, command=cmd)])


async def inline_accepted(ls: "EditloopServer", p: InlineAcceptedParams) -> InlineAcceptedResult:
    """The editor inserted a completion: track it once its didChange has arrived."""
    s = ls.inline.take(p.shown_id)
    if s is None:
        raise EditloopError(f"unknown or expired inline completion {p.shown_id!r}")
    rng = await wait_for_insertion(ls, s.uri, s.line, s.character, s.text,
                                   missing="the accepted completion is not in the document; it was not tracked")
    row = ls.capture.track(s.uri, rng, prompt=s.prompt, model=s.model, model_version=s.model_version, artifact_type=s.artifact_type)
    ls.publish_uri(s.uri)
    from .params import InlineAcceptedResult  # the params classes load on the first command, not at start

    return InlineAcceptedResult(region_id=row["id"])


def register(server: "EditloopServer") -> None:
    server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION)(inline_completion)

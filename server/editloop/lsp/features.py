"""Read-only editor features over tracked regions: CodeLenses (Accept | Reject) and hovers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from .server import EditloopServer


def _range(rng: tuple[int, int, int, int]) -> types.Range:
    return types.Range(types.Position(rng[0], rng[1]), types.Position(rng[2], rng[3]))


def written_by(model: str | None, version: str | None) -> str:
    """A short readable name for what wrote a region: ``model `m` (run 12-03 14:05, …eb4e90)``."""
    name = f"`{(model or 'an unknown model').replace('`', chr(39))}`"
    if not version:
        return name
    if version == "base":
        return f"{name} (the base model)"
    parts = version.split("-")
    if len(parts) == 3 and len(parts[0]) == 8 and len(parts[1]) == 6 and parts[0].isdigit():
        d, t = parts[0], parts[1]
        return f"{name} (run of {d[4:6]}-{d[6:8]} {t[:2]}:{t[2:4]}, …{parts[2]})"
    return f"{name} ({version[:40]})"


def code_lens(ls: "EditloopServer", params: types.CodeLensParams) -> list[types.CodeLens]:
    """Accept | Reject above each tracked region. No switch of its own: VS Code's editor.codeLens
    (per language too) and other editors' lens settings already hide them."""
    cap = ls.capture_if_ready
    if cap is None:
        return []
    lenses = []
    for span in cap.spans(params.text_document.uri):
        head = _range((*span.client_range[:2], *span.client_range[:2]))
        arg = [{"regionId": span.id}]
        lenses.append(types.CodeLens(head, types.Command("Accept", "editloop.accept", arguments=arg)))
        lenses.append(types.CodeLens(head, types.Command("Reject", "editloop.reject", arguments=arg)))
    return lenses


def hover(ls: "EditloopServer", params: types.HoverParams) -> types.Hover | None:
    """What wrote the region under the cursor, from which prompt, and how much of it is left."""
    cap = ls.capture_if_ready
    doc = cap.find_document(params.text_document.uri) if cap is not None else None
    if doc is None:
        return None
    try:
        at = doc.to_pos(params.position.line, params.position.character, strict=False)
    except Exception:  # noqa: BLE001
        return None
    span = next((s for s in cap.spans(doc.uri) if s.start <= at <= s.end), None)
    if span is None:
        return None
    from ..signals.similarity import similarity

    row = cap.store.get_region(span.id)
    sim = similarity(row["original"], cap.comparable(cap.current_text(span.id) or ""))
    prompt = (row["prompt"] or "").replace("`", "'")
    if len(prompt) > 300:
        prompt = prompt[:300] + "…"
    text = (
        f"**Editloop** · {row['artifact_type']} · written by {written_by(row['model'], row.get('model_version'))}\n\n"
        f"similarity to the original so far: **{sim:.0%}**\n\n"
        + (f"prompt: `{prompt}`" if prompt else "")
    )
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text), _range(span.client_range))


def register(server: "EditloopServer") -> None:
    server.feature(types.TEXT_DOCUMENT_CODE_LENS)(code_lens)
    server.feature(types.TEXT_DOCUMENT_HOVER)(hover)

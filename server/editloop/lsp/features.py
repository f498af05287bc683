"""Read-only editor features over tracked regions: CodeLenses (Accept | Reject) and hovers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..capture.document import Pos

if TYPE_CHECKING:
    from .server import EditloopServer


def _range(doc, start: Pos, end: Pos) -> types.Range:
    sl, sc = doc.to_client(start)
    el, ec = doc.to_client(end)
    return types.Range(types.Position(sl, sc), types.Position(el, ec))


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


def register(server: "EditloopServer") -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: "EditloopServer", params: types.CodeLensParams) -> list[types.CodeLens]:
        # No switch of its own: VS Code's editor.codeLens (per language too) and other editors' lens
        # settings already hide them.
        if ls._capture is None:
            return []
        cap = ls.capture
        doc = cap.docs.get(params.text_document.uri)
        if doc is None:
            return []
        lenses = []
        for rid in cap.by_uri.get(doc.uri, []):
            t = cap.regions[rid]
            head = _range(doc, t.start, t.start)
            arg = [{"regionId": rid}]
            lenses.append(types.CodeLens(head, types.Command("Accept", "editloop.accept", arguments=arg)))
            lenses.append(types.CodeLens(head, types.Command("Reject", "editloop.reject", arguments=arg)))
        return lenses

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: "EditloopServer", params: types.HoverParams) -> types.Hover | None:
        if ls._capture is None:
            return None
        cap = ls.capture
        doc = cap.docs.get(params.text_document.uri)
        if doc is None:
            return None
        try:
            at = doc.to_pos(params.position.line, params.position.character, strict=False)
        except Exception:  # noqa: BLE001
            return None
        for rid in cap.by_uri.get(doc.uri, []):
            t = cap.regions[rid]
            if t.start <= at <= t.end:
                from ..signals.similarity import similarity

                row = cap.store.get_region(rid)
                sim = similarity(t.original, cap._comparable(doc.slice(t.start, t.end)))
                prompt = (row["prompt"] or "").replace("`", "'")
                if len(prompt) > 300:
                    prompt = prompt[:300] + "…"
                text = (
                    f"**Editloop** · {row['artifact_type']} · written by {written_by(row['model'], row.get('model_version'))}\n\n"
                    f"similarity to the original so far: **{sim:.0%}**\n\n"
                    + (f"prompt: `{prompt}`" if prompt else "")
                )
                return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text), _range(doc, t.start, t.end))
        return None

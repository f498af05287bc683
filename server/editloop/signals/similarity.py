"""Edit-distance similarity between what the model wrote and what the user kept, and the edited spans.

All functions are pure and cheap (rapidfuzz, C++): a 2 KB pair costs ~0.1 ms for :func:`similarity`.

Edited spans (:func:`edit_spans`) are computed in two passes: a line-level alignment
(``Levenshtein.opcodes`` over the lists of lines, which is cheap) and, inside each replaced block
of lines, a character-level alignment. Their JSON form, stored in ``events.edit_spans``, is::

    {"lines": [[tag, a0, a1, b0, b1], ...],            # line ranges: original[a0:a1] -> final[b0:b1]
     "chars": [[tag, a0, a1, b0, b1, "old", "new"], ...], # code point offsets in the whole texts
     "truncated": 3}                                     # only when spans were left out

``tag`` is ``replace``, ``delete`` or ``insert``; ``old``/``new`` are the removed and inserted text,
each cut to :data:`MAX_SPAN_TEXT` characters (with a trailing ``…``). At most :data:`MAX_SPANS` spans
of each kind are kept, and the JSON never exceeds :data:`MAX_SPANS_JSON` characters.
"""

from __future__ import annotations

import json
from typing import Any

from rapidfuzz.distance import Indel, Levenshtein

MAX_SPANS = 40
MAX_SPAN_TEXT = 80
MAX_SPANS_JSON = 8_000
# Character-level alignment of one replaced block is skipped above this size (cost grows as n*m/64).
MAX_CHAR_DIFF = 20_000


def similarity(original: str, final: str) -> float:
    """Normalized Levenshtein similarity in 0..1 (1 = unchanged); the ``events.similarity`` column."""
    if original == final:
        return 1.0
    return float(Levenshtein.normalized_similarity(original, final))


def indel_similarity(original: str, final: str) -> float:
    """Normalized Indel similarity (insertions and deletions only), 0..1."""
    if original == final:
        return 1.0
    return float(Indel.normalized_similarity(original, final))


def split_lines(text: str) -> list[str]:
    """Lines with their ``\\n`` kept, so that ``"".join(split_lines(t)) == t``."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def line_opcodes(a_lines: list[str], b_lines: list[str]) -> list[tuple[str, int, int, int, int]]:
    """Line-level alignment: ``(tag, a0, a1, b0, b1)`` including ``equal`` blocks."""
    if a_lines == b_lines:
        return [("equal", 0, len(a_lines), 0, len(b_lines))] if a_lines else []
    return [(op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end) for op in Levenshtein.opcodes(a_lines, b_lines)]


def _cut(text: str) -> str:
    return text if len(text) <= MAX_SPAN_TEXT else text[: MAX_SPAN_TEXT - 1] + "…"


def edit_spans(original: str, final: str) -> dict[str, Any]:
    """What changed between ``original`` and ``final``: line ranges and character spans (see module doc)."""
    if original == final:
        return {"lines": [], "chars": []}
    a_lines, b_lines = split_lines(original), split_lines(final)
    a_off = [0]
    for line in a_lines:
        a_off.append(a_off[-1] + len(line))
    b_off = [0]
    for line in b_lines:
        b_off.append(b_off[-1] + len(line))
    lines: list[list[Any]] = []
    chars: list[list[Any]] = []
    left_out = 0
    for tag, a0, a1, b0, b1 in line_opcodes(a_lines, b_lines):
        if tag == "equal":
            continue
        if len(lines) < MAX_SPANS:
            lines.append([tag, a0, a1, b0, b1])
        else:
            left_out += 1
        ca0, ca1, cb0, cb1 = a_off[a0], a_off[a1], b_off[b0], b_off[b1]
        old, new = original[ca0:ca1], final[cb0:cb1]
        if tag != "replace" or len(old) + len(new) > MAX_CHAR_DIFF:
            spans = [(tag if tag != "replace" else "replace", 0, len(old), 0, len(new))]
        else:
            spans = [
                (op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end)
                for op in Levenshtein.opcodes(old, new)
                if op.tag != "equal"
            ]
            spans = _merge_close(spans)
        for t, s0, s1, d0, d1 in spans:
            if len(chars) < MAX_SPANS:
                chars.append([t, ca0 + s0, ca0 + s1, cb0 + d0, cb0 + d1, _cut(old[s0:s1]), _cut(new[d0:d1])])
            else:
                left_out += 1
    out: dict[str, Any] = {"lines": lines, "chars": chars}
    if left_out:
        out["truncated"] = left_out
    return out


def _merge_close(spans: list[tuple[str, int, int, int, int]], gap: int = 2) -> list[tuple[str, int, int, int, int]]:
    """Join character spans separated by at most ``gap`` unchanged characters (one readable span per word)."""
    merged: list[tuple[str, int, int, int, int]] = []
    for span in spans:
        if merged:
            t, s0, s1, d0, d1 = merged[-1]
            if span[1] - s1 <= gap and span[3] - d1 <= gap:
                merged[-1] = ("replace", s0, span[2], d0, span[4])
                continue
        merged.append(span)
    return merged


def edit_spans_json(original: str, final: str) -> str | None:
    """:func:`edit_spans` as compact JSON (``None`` when nothing changed), at most :data:`MAX_SPANS_JSON` chars."""
    if original == final:
        return None
    spans = edit_spans(original, final)
    text = json.dumps(spans, ensure_ascii=False, separators=(",", ":"))
    while len(text) > MAX_SPANS_JSON and spans["chars"]:
        drop = max(1, len(spans["chars"]) // 4)
        del spans["chars"][-drop:]
        spans["truncated"] = spans.get("truncated", 0) + drop
        text = json.dumps(spans, ensure_ascii=False, separators=(",", ":"))
    return text

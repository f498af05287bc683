"""Consistent renaming of one entity in a prompt and its outputs.

An entity's name (``LineItem``, ``line_items``, ``LINE_ITEM``) is split into words; every
identifier whose words contain that sequence (also ``line_item_id``, ``lineItems``) gets the new
word in the same casing and separators, and the prompt's plain-words mention ("line items") is
rewritten too, plural kept. Python code is rewritten through tree-sitter: only ``identifier``
nodes and comments change, never string contents or keywords.

A rename is refused (``None``) when the entity is not named in the prompt or when any form of
the old name survives anywhere afterwards: prompt and output must stay consistent.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

REPLACEMENTS = (
    "widget", "gadget", "ledger", "voucher", "parcel", "tenant", "beacon", "kiosk", "lantern", "harbor",
    "meadow", "quiver", "saddle", "turbine", "pylon", "zephyr", "falcon", "garnet", "hammock", "jigsaw",
)  # regular nouns: the plural is the word + "s"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def words_of(identifier: str) -> list[str]:
    return [m.group(0).lower() for m in _PART.finditer(identifier)]


def plural_forms(word: str) -> tuple[str, ...]:
    forms = [word + "s", word + "es"]
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        forms.append(word[:-1] + "ies")
    return tuple(forms)


def _cased(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word.capitalize()
    return word


def rename_identifier(token: str, old: list[str], new: str) -> str:
    """``token`` with the word sequence ``old`` (last word maybe plural) replaced by ``new``."""
    parts = list(_PART.finditer(token))
    low = [p.group(0).lower() for p in parts]
    n = len(old)
    i = 0
    out: list[str] = []
    pos = 0
    while i < len(parts):
        seq = low[i:i + n]
        if len(seq) == n and seq[:-1] == old[:-1] and (seq[-1] == old[-1] or seq[-1] in plural_forms(old[-1])):
            plural = seq[-1] != old[-1]
            first, last = parts[i], parts[i + n - 1]
            out.append(token[pos:first.start()])
            word = new + ("s" if plural else "")
            out.append(_cased(last.group(0) if plural and last.group(0).isupper() else first.group(0), word))
            pos = last.end()
            i += n
        else:
            i += 1
    out.append(token[pos:])
    return "".join(out)


def _phrase_pattern(old: list[str]) -> re.Pattern[str]:
    head = r"[\s_-]+".join(re.escape(w) for w in old[:-1])
    last = "|".join(re.escape(f) for f in sorted((old[-1],) + plural_forms(old[-1]), key=len, reverse=True))
    body = (head + r"[\s_-]+" if head else "") + f"(?:{last})"
    return re.compile(rf"\b{body}\b", re.IGNORECASE)


def rename_prose(text: str, old: list[str], new: str) -> str:
    """Rename in prose: multi-word mentions ("line items") and identifier-like tokens."""
    pattern = _phrase_pattern(old)

    def repl(m: re.Match[str]) -> str:
        found = m.group(0)
        last = re.split(r"[\s_-]+", found)[-1].lower()
        plural = last != old[-1]
        return _cased(found, new + ("s" if plural else ""))

    text = pattern.sub(repl, text)
    return _IDENT.sub(lambda m: rename_identifier(m.group(0), old, new), text)


def rename_python(code: str, old: list[str], new: str) -> str:
    """Rename through tree-sitter: identifiers and comments only."""
    from .validate import parser

    data = code.encode("utf-8")
    tree = parser("python").parse(data)
    edits: list[tuple[int, int, bytes]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "identifier":
            text = node.text.decode("utf-8")
            new_text = rename_identifier(text, old, new)
            if new_text != text:
                edits.append((node.start_byte, node.end_byte, new_text.encode("utf-8")))
        elif node.type == "comment":
            text = node.text.decode("utf-8")
            new_text = rename_prose(text, old, new)
            if new_text != text:
                edits.append((node.start_byte, node.end_byte, new_text.encode("utf-8")))
        else:
            stack.extend(node.children)
    for start, end, repl in sorted(edits, reverse=True):
        data = data[:start] + repl + data[end:]
    return data.decode("utf-8")


def mentions(text: str, old: list[str]) -> bool:
    if _phrase_pattern(old).search(text):
        return True
    return any(rename_identifier(m.group(0), old, "x") != m.group(0) for m in _IDENT.finditer(text))


def pick_replacement(texts: Iterable[str], choose: Callable[[list[str]], str]) -> str | None:
    blob = " ".join(texts).lower()
    free = [w for w in REPLACEMENTS if w not in blob]
    return choose(free) if free else None


def rename(prompt: str, texts: list[str], old: list[str], new: str, *, python: bool) -> tuple[str, list[str]] | None:
    """The renamed prompt and texts, or None if the result would be inconsistent."""
    if not old or not mentions(prompt, old):
        return None
    new_prompt = rename_prose(prompt, old, new)
    new_texts = [rename_python(t, old, new) if python else rename_prose(t, old, new) for t in texts]
    if mentions(new_prompt, old) or any(mentions(t, old) for t in new_texts):
        return None
    if new_texts == texts or new_prompt == prompt:
        return None
    return new_prompt, new_texts

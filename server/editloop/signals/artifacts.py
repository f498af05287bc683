"""Artifact types: one canonical name per kind, common aliases, and inference from the text.

Canonical names are what validation, curation and the database use: ``mermaid-erd``,
``mermaid-flowchart``, ``mermaid-sequence``, ``mermaid-class``, ``mermaid`` (another diagram),
and code types by language (``python``, ``sql``, ``python-dataclass``, ...). Editors and users
say ``erd``, ``er``, ``flowchart`` or ``mermaid``: :func:`canonical` maps those, looking at the
text when the name leaves the kind open. Pure functions, no imports beyond the standard library.
"""

from __future__ import annotations

import re

ALIASES = {
    "erd": "mermaid-erd",
    "er": "mermaid-erd",
    "er-diagram": "mermaid-erd",
    "erdiagram": "mermaid-erd",
    "mermaid-er": "mermaid-erd",
    "mermaid-erdiagram": "mermaid-erd",
    "flowchart": "mermaid-flowchart",
    "flow": "mermaid-flowchart",
    "graph": "mermaid-flowchart",
    "mermaid-graph": "mermaid-flowchart",
    "sequence": "mermaid-sequence",
    "sequencediagram": "mermaid-sequence",
    "sequence-diagram": "mermaid-sequence",
    "class": "mermaid-class",
    "classdiagram": "mermaid-class",
    "class-diagram": "mermaid-class",
    "mmd": "mermaid",
    "py": "python",
    "python3": "python",
    "dataclass": "python-dataclass",
    "dataclasses": "python-dataclass",
    "ts": "typescript",
    "js": "javascript",
    "postgres": "sql",
    "postgresql": "sql",
    "mysql": "sql",
    "sqlite": "sql",
}
# The diagram keyword on a Mermaid text's first line -> its canonical type.
MERMAID_KEYWORDS = {
    "erdiagram": "mermaid-erd",
    "flowchart": "mermaid-flowchart",
    "flowchart-elk": "mermaid-flowchart",
    "graph": "mermaid-flowchart",
    "sequencediagram": "mermaid-sequence",
    "classdiagram": "mermaid-class",
    "classdiagram-v2": "mermaid-class",
}
LANGUAGE_TYPES = {
    "mermaid": "mermaid",
    "sql": "sql",
    "python": "python",
    "typescript": "typescript",
    "javascript": "javascript",
    "typescriptreact": "typescript",
    "javascriptreact": "javascript",
}
_FENCE = re.compile(r"^\s*(```|~~~)\s*mermaid\b", re.MULTILINE)
SCAN_CHARS = 4_000  # only the head of a text is looked at: bounded work on any input


def mermaid_kind(text: str) -> str | None:
    """The canonical type named by a Mermaid text's first diagram line (front matter, comments and
    ``%%{init}%%`` directives skipped), or None."""
    from .validate import diagram_keyword

    word = diagram_keyword(text[:SCAN_CHARS])
    return MERMAID_KEYWORDS.get(word.lower()) if word else None


def canonical(name: str | None, text: str = "") -> str:
    """The canonical artifact type for ``name`` (an alias or a canonical name), refined by ``text``."""
    at = (name or "").strip().lower()
    at = ALIASES.get(at, at)
    if at == "mermaid" and text:
        return mermaid_kind(text) or "mermaid"
    return at


def infer(text: str, language_id: str = "", uri: str = "") -> str:
    """A best guess from the document: its Mermaid keyword, a ```mermaid fence, the language."""
    lang = (language_id or "").lower()
    path = uri.lower().split("?", 1)[0]
    if path.endswith((".mmd", ".mermaid")) or lang == "mermaid":
        return mermaid_kind(text) or "mermaid"
    if lang == "markdown" or path.endswith((".md", ".markdown")):
        m = _FENCE.search(text[: SCAN_CHARS * 4])
        if m is not None:
            return mermaid_kind(text[m.end() : m.end() + SCAN_CHARS].split("\n", 1)[-1]) or "mermaid"
        return "code"
    return LANGUAGE_TYPES.get(lang, "code")

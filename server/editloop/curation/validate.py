"""Validators for augmented variants: a variant that does not parse is never emitted.

The verdict is :func:`editloop.signals.validate.validate`'s (one validator across the product:
Mermaid through ``mmdr`` in its helper process, SQL / Python through tree-sitter). Artifact types
with no known validator get ``None`` from :func:`validator_for`, and augmentation leaves them alone.
:func:`parser` is the tree-sitter parser augmentation and renaming use to read a text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

Validator = Callable[[str], "str | None"]  # None when valid, else the problem


def kind_of(artifact_type: str, language: str | None = None) -> str | None:
    """``"mermaid"``, ``"sql"``, ``"python"`` or None for an artifact type / language."""
    names = f"{artifact_type} {language or ''}".lower()
    if "mermaid" in names or "erd" in names.split("-"):
        return "mermaid"
    if "sql" in names:
        return "sql"
    if "python" in names or names.split()[0] in ("py", "dataclass"):
        return "python"
    return None


@lru_cache(maxsize=4)
def parser(kind: str):
    import tree_sitter

    if kind == "sql":
        import tree_sitter_sql as grammar
    else:
        import tree_sitter_python as grammar
    return tree_sitter.Parser(tree_sitter.Language(grammar.language()))


def validator_for(artifact_type: str, language: str | None = None) -> Validator | None:
    """A validator for this artifact type, from ``editloop.signals.validate`` (Mermaid in a helper
    process with a timeout; a timeout, validity unknown, counts as invalid here)."""
    kind = kind_of(artifact_type, language)
    if kind is None:
        return None
    from ..signals.validate import validate

    lang = language or kind

    def check(text: str) -> str | None:
        v = validate(text, artifact_type, lang)
        if v.parser == "none":  # a type and language signals does not read (``orm-python`` in ``plaintext``): check it as its kind
            v = validate(text, kind)
        if v.valid:
            return None
        return (v.messages[0].get("message") if v.messages else None) or "invalid"

    return check

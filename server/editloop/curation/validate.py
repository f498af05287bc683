"""Validators for augmented variants: a variant that does not parse is never emitted.

``editloop.signals.validate`` is used when it knows the type (one validator across the product);
otherwise Mermaid goes through ``mmdr`` and SQL / Python through tree-sitter: any ERROR or MISSING
node is a failure. Artifact types with
no known validator get ``None`` from :func:`validator_for`, and augmentation leaves them alone.
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


@lru_cache(maxsize=4096)
def mermaid_problem(text: str) -> str | None:
    import mmdr

    try:
        mmdr.render(text).svg()
    except ValueError as exc:
        return str(exc)
    return None


@lru_cache(maxsize=4)
def parser(kind: str):
    import tree_sitter

    if kind == "sql":
        import tree_sitter_sql as grammar
    else:
        import tree_sitter_python as grammar
    return tree_sitter.Parser(tree_sitter.Language(grammar.language()))


def tree_problem(kind: str, text: str) -> str | None:
    root = parser(kind).parse(text.encode("utf-8")).root_node
    if not root.children:
        return "empty"
    if not root.has_error:
        return None
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return f"{'missing' if node.is_missing else 'syntax error'} at line {node.start_point[0] + 1}"
        stack.extend(c for c in node.children if c.has_error or c.is_missing or c.is_error)
    return "syntax error"


def validator_for(artifact_type: str, language: str | None = None) -> Validator | None:
    """A validator for this artifact type: ``editloop.signals.validate`` (Mermaid in a helper
    process with a timeout; a timeout counts as invalid), else the local parsers above."""
    kind = kind_of(artifact_type, language)
    if kind is None:
        return None
    try:
        from ..signals.validate import validate
    except ImportError:
        validate = None
    if validate is not None:
        lang = language or kind

        def check(text: str) -> str | None:
            v = validate(text, artifact_type, lang)
            if v.parser == "none":
                return _local(kind, text)
            if v.score is not None and v.score >= 100.0:
                return None
            return (v.messages[0].get("message") if v.messages else None) or "invalid"

        return check
    return lambda text: _local(kind, text)


def _local(kind: str, text: str) -> str | None:
    return mermaid_problem(text) if kind == "mermaid" else tree_problem(kind, text)

"""Validators for augmented variants: a variant that does not parse is never emitted.

Mermaid goes through ``mmdr`` (the Rust port of mermaid's parsers, agreeing with mermaid.js);
SQL and Python through tree-sitter: any ERROR or MISSING node is a failure. Artifact types with
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
    kind = kind_of(artifact_type, language)
    if kind == "mermaid":
        return mermaid_problem
    if kind in ("sql", "python"):
        return lambda text: tree_problem(kind, text)
    return None

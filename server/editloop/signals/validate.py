"""Validity of an artifact, 0..100, from a real parser; ``None`` when no parser applies.

``validate(text, artifact_type, language) -> Validation(score, messages, parser)``

- **Mermaid** (``mermaid-erd``, ``mermaid-flowchart``, ``mermaid-sequence``, ``mermaid-class``,
  ``mermaid``): parsed by ``mmdr`` (Rust port of mermaid's parsers, no Node; it agreed with mermaid.js
  on every sample we compared), in a helper process with a timeout (``mermaid.py``: some inputs
  make mmdr loop forever). A diagram that parses scores 100, one that does not scores 0, as
  does a valid diagram of another kind than the artifact type asks for (a flowchart for
  ``mermaid-erd``). mmdr's errors carry no position except sometimes a character offset
  (``... at 53``), which becomes line/column; otherwise the line is found by bisection
  (``mermaid.locate_error``) and the column is unknown (``None``). A timeout gives score ``None``.
  Cost: mmdr lays out a valid diagram (there is no parse-only call): ~1-7 ms for 10-30 lines,
  ~40-120 ms for 180 lines; results are cached (LRU by content hash).
- **Code** (``python``, ``javascript``, ``typescript``, ``sql``, a type starting with one of them
  such as ``python-dataclass``, or ``code`` with ``language``):
  tree-sitter. The score is ``100 * (1 - covered / total)`` where ``covered`` is the bytes inside
  ERROR nodes plus, for each MISSING node, its whole line; any error caps the score at 99, so
  ``score == 100`` means "parses cleanly". Messages give each error's line and column (0-based,
  code points). Other languages use a ``tree_sitter_<language>`` wheel when one is installed.
- Anything else: ``Validation(None, [], "none")``: validity unknown, never a made-up score.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

MAX_MESSAGES = 20
CACHE_SIZE = 512

MERMAID_KINDS = {
    "mermaid-erd": ("erDiagram",),
    "mermaid-flowchart": ("flowchart", "graph", "flowchart-elk"),
    "mermaid-sequence": ("sequenceDiagram",),
    "mermaid-class": ("classDiagram", "classDiagram-v2"),
    "mermaid": (),
}
# VS Code language ids and common aliases -> tree-sitter grammar
LANGUAGE_ALIASES = {
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "jsx": "javascript",
    "javascriptreact": "javascript",
    "mjs": "javascript",
    "cjs": "javascript",
    "ts": "typescript",
    "tsx": "tsx",
    "typescriptreact": "tsx",
    "postgres": "sql",
    "postgresql": "sql",
    "mysql": "sql",
    "sqlite": "sql",
    "plsql": "sql",
    "pgsql": "sql",
}
CODE_TYPES = {"python", "javascript", "typescript", "sql", "tsx"}


@dataclass(frozen=True)
class Validation:
    score: float | None  # 0..100, None = unknown
    messages: list[dict[str, Any]] = field(default_factory=list)  # [{line, column, message}], 0-based
    parser: str = "none"

    @property
    def valid(self) -> bool | None:
        return None if self.score is None else self.score >= 100.0


def validate(text: str, artifact_type: str = "", language: str | None = None) -> Validation:
    """Validity of ``text`` as ``artifact_type`` (``language`` picks the grammar for ``code``)."""
    kind = _resolve(artifact_type or "", language)
    if kind is None:
        return Validation(None, [], "none")
    key = (kind, hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest())
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    result = _validate_mermaid(text, kind[1]) if kind[0] == "mermaid" else _validate_code(text, kind[1])
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


_cache: OrderedDict[tuple[Any, bytes], Validation] = OrderedDict()
_cache_lock = threading.Lock()


def _resolve(artifact_type: str, language: str | None) -> tuple[str, Any] | None:
    at = artifact_type.strip().lower()
    lang = (language or "").strip().lower()
    if at.startswith("mermaid"):
        return ("mermaid", MERMAID_KINDS.get(at, ()))
    if at in CODE_TYPES:
        return ("code", at)
    head = at.split("-", 1)[0]  # "python-dataclass", "sql-migration": the language comes first
    if head in CODE_TYPES:
        return ("code", head)
    lang = LANGUAGE_ALIASES.get(lang, lang)
    if lang == "mermaid":
        return ("mermaid", ())
    if lang and _grammar(lang) is not None:
        return ("code", lang)
    return None


# -- code: tree-sitter ----------------------------------------------------------------------------
_GRAMMARS: dict[str, Callable[[], Any]] = {
    "python": lambda: importlib.import_module("tree_sitter_python").language(),
    "javascript": lambda: importlib.import_module("tree_sitter_javascript").language(),
    "typescript": lambda: importlib.import_module("tree_sitter_typescript").language_typescript(),
    "tsx": lambda: importlib.import_module("tree_sitter_typescript").language_tsx(),
    "sql": lambda: importlib.import_module("tree_sitter_sql").language(),
}
_languages: dict[str, Any] = {}
_local = threading.local()  # tree-sitter parsers are not shared between threads


def _grammar(lang: str) -> Any | None:
    if lang in _languages:
        return _languages[lang]
    language = None
    if re.fullmatch(r"[a-z0-9_]+", lang):
        try:
            import tree_sitter

            loader = _GRAMMARS.get(lang) or (lambda: importlib.import_module(f"tree_sitter_{lang}").language())
            language = tree_sitter.Language(loader())
        except Exception:  # no wheel for it, or an incompatible one: validity unknown
            language = None
    _languages[lang] = language
    return language


def _parser(lang: str) -> Any | None:
    parsers = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    if lang not in parsers:
        language = _grammar(lang)
        if language is None:
            parsers[lang] = None
        else:
            import tree_sitter

            parsers[lang] = tree_sitter.Parser(language)
    return parsers[lang]


def _validate_code(text: str, lang: str) -> Validation:
    parser = _parser(lang)
    name = f"tree-sitter-{'typescript' if lang == 'tsx' else lang}"
    if parser is None:
        return Validation(None, [], "none")
    data = text.encode("utf-8", "surrogatepass")
    if not data.strip():
        return Validation(0.0, [{"line": 0, "column": 0, "message": "empty text"}], name)
    tree = parser.parse(data)
    root = tree.root_node
    if not root.has_error:
        return Validation(100.0, [], name)
    errors: list[Any] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            errors.append(node)
            if node.is_error:
                stack.extend(c for c in node.children if c.is_missing)
            continue
        if node.has_error:
            stack.extend(reversed(node.children))
    line_starts = [0] + [m.end() for m in re.finditer(rb"\n", data)]
    ranges = []
    for node in errors:
        if node.is_missing:
            row = node.start_point[0]
            s = line_starts[row]
            e = line_starts[row + 1] if row + 1 < len(line_starts) else len(data)
            ranges.append((s, max(e, s + 1)))
        else:
            ranges.append((node.start_byte, node.end_byte))
    covered = _union_length(ranges)
    score = 100.0 * (1.0 - min(covered, len(data)) / len(data))
    score = round(min(99.0, max(0.0, score)), 1)
    errors.sort(key=lambda n: n.start_byte)
    messages = []
    for node in errors[:MAX_MESSAGES]:
        row, col_bytes = node.start_point
        line_bytes = data[line_starts[row] : line_starts[row] + col_bytes]
        column = len(line_bytes.decode("utf-8", "replace"))
        if node.is_missing:
            message = f"missing {node.type!r}"
        else:
            snippet = data[node.start_byte : node.end_byte].decode("utf-8", "replace").strip().splitlines()
            first = snippet[0][:40] if snippet else ""
            message = f"syntax error at {first!r}" if first else "syntax error"
        messages.append({"line": row, "column": column, "message": message})
    if len(errors) > MAX_MESSAGES:
        messages.append({"line": messages[-1]["line"], "column": None, "message": f"{len(errors) - MAX_MESSAGES} more errors"})
    return Validation(score, messages, name)


def _union_length(ranges: list[tuple[int, int]]) -> int:
    total, end = 0, -1
    for s, e in sorted(ranges):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


# -- mermaid: mmdr in a helper process (see mermaid.py) -------------------------------------------
_FENCE = re.compile(r"\A\s*(```+|~~~+)[ \t]*(?:mermaid)?[ \t]*\n(.*?)\n[ \t]*\1[ \t]*\s*\Z", re.S)


# Every Mermaid diagram type's first word: anything else on the first line is a fragment.
DIAGRAM_KEYWORDS = frozenset(
    k for kinds in MERMAID_KINDS.values() for k in kinds
) | {
    "stateDiagram", "stateDiagram-v2", "gantt", "pie", "journey", "gitGraph", "mindmap", "timeline",
    "quadrantChart", "requirementDiagram", "C4Context", "C4Container", "C4Component", "C4Dynamic",
    "C4Deployment", "sankey-beta", "xychart-beta", "block-beta", "packet-beta", "architecture-beta",
    "kanban", "radar-beta", "zenuml", "info",
}


def diagram_keyword(text: str) -> str | None:
    """The diagram's type keyword (``erDiagram``, ``flowchart``...) after front matter and ``%%`` comments."""
    in_front = False
    for i, raw in enumerate(text.splitlines()):
        line = raw.strip()
        if i == 0 and line == "---":
            in_front = True
            continue
        if in_front:
            if line == "---":
                in_front = False
            continue
        if not line or line.startswith("%%"):
            continue
        return re.split(r"[\s;:]", line, maxsplit=1)[0]
    return None


def _validate_mermaid(text: str, expected: tuple[str, ...]) -> Validation:
    from . import mermaid

    if not mermaid.available():
        return Validation(None, [], "none")
    line_offset = 0
    fenced = _FENCE.match(text)
    if fenced:  # a ```mermaid fence around the diagram, as chat models write it
        line_offset = text[: fenced.start(2)].count("\n")
        text = fenced.group(2)
    keyword = diagram_keyword(text)
    if expected and keyword is not None and keyword not in DIAGRAM_KEYWORDS:
        # A fragment of a diagram (an entity block marked as AI output): check it under its header.
        text = f"{expected[0]}\n{text}"
        line_offset -= 1
        keyword = expected[0]
    if expected and keyword is not None and keyword not in expected:
        msg = f"expected {expected[0]}, found {keyword!r}"
        return Validation(0.0, [{"line": line_offset, "column": 0, "message": msg}], "mmdr")
    answer = mermaid.checker().check(text)
    if answer is None:
        return Validation(None, [{"line": None, "column": None, "message": "mmdr timed out: validity unknown"}], "mmdr")
    if answer["error"] is None:
        return Validation(100.0, [], "mmdr")
    line = answer["line"] + line_offset if answer["line"] is not None else None
    return Validation(0.0, [{"line": line, "column": answer["column"], "message": answer["error"]}], "mmdr")

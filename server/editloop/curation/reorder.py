"""Reordering of independent statements, and where to find entity names.

- Mermaid ``erDiagram``: relationship lines are permuted among themselves and entity blocks
  among themselves; each keeps its slots (so "relationships first" stays so) and the comment
  lines just above a statement move with it. Attribute order inside a block never changes
  (it can be a user's convention).
- SQL: ``CREATE TABLE`` statements are put in another order that still creates every referenced
  table before the tables referencing it. Any other kind of statement disables reordering.
"""

from __future__ import annotations

import random
import re

REL = re.compile(r"^\s*(\"[^\"]+\"|[\w-]+)\s*[|}o][|o]?(?:--|\.\.)[|o]?[|{o]\s*(\"[^\"]+\"|[\w-]+)\s*:")
BLOCK = re.compile(r"^\s*(\"[^\"]+\"|[\w-]+)\s*(?:\[[^\]]*\])?\s*\{\s*$")
CREATE = re.compile(r"create\s+table\s+(?:if\s+not\s+exists\s+)?([`\"\[]?[\w.]+[`\"\]]?)", re.IGNORECASE)
REFERENCES = re.compile(r"references\s+([`\"\[]?[\w.]+[`\"\]]?)", re.IGNORECASE)


def _bare(name: str) -> str:
    return name.strip('`"[]').lower()


# -- Mermaid ----------------------------------------------------------------------------------
def erd_statements(text: str) -> tuple[list[str], list[tuple[str, list[str]]], list[str]] | None:
    """``(header lines, [(kind, lines)], trailing lines)`` with kind ``rel``, ``block`` or ``other``."""
    lines = text.split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or not lines[i].strip().startswith("erDiagram"):
        return None
    header, stmts, pending = lines[: i + 1], [], []
    i += 1
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("%%"):
            pending.append(line)
        elif REL.match(line):
            stmts.append(("rel", pending + [line]))
            pending = []
        elif BLOCK.match(line):
            block = pending + [line]
            pending = []
            i += 1
            while i < len(lines) and lines[i].strip() != "}":
                block.append(lines[i])
                i += 1
            if i >= len(lines):
                return None
            block.append(lines[i])
            stmts.append(("block", block))
        elif s:
            stmts.append(("other", pending + [line]))
            pending = []
        else:
            stmts.append(("other", pending + [line]))
            pending = []
        i += 1
    return header, stmts, pending


def erd_entities(text: str) -> list[str]:
    parsed = erd_statements(text)
    if parsed is None:
        return []
    names: list[str] = []
    for kind, lines in parsed[1]:
        if kind == "rel":
            m = REL.match(lines[-1])
        elif kind == "block":
            m = next((BLOCK.match(l) for l in lines if BLOCK.match(l)), None)
        else:
            continue
        for g in m.groups() if m else ():
            name = g.strip('"')
            if name not in names:
                names.append(name)
    return names


def reorder_erd(text: str, rng: random.Random) -> str | None:
    parsed = erd_statements(text)
    if parsed is None:
        return None
    header, stmts, trailing = parsed
    new = list(stmts)
    for kind in ("rel", "block"):
        slots = [i for i, (k, _) in enumerate(stmts) if k == kind]
        if len(slots) < 2:
            continue
        moved = slots[:]
        for _ in range(5):
            rng.shuffle(moved)
            if moved != slots:
                break
        for slot, src in zip(slots, moved):
            new[slot] = stmts[src]
    if new == stmts:
        return None
    return "\n".join(header + [l for _, lines in new for l in lines] + trailing)


# -- SQL --------------------------------------------------------------------------------------
def sql_statements(text: str) -> tuple[list[str], str] | None:
    """CREATE TABLE statements (each with the comments above it) and the trailing text."""
    chunks = text.split(";")
    trailing = chunks.pop()
    if trailing.strip() and not all(l.strip().startswith("--") or not l.strip() for l in trailing.split("\n")):
        return None
    stmts = []
    for c in chunks:
        body = "\n".join(l for l in c.split("\n") if not l.strip().startswith("--"))
        if not CREATE.search(body) or not body.strip().lower().startswith("create"):
            return None
        stmts.append(c + ";")
    return stmts, trailing


def sql_tables(text: str) -> list[str]:
    return [m.group(1).strip('`"[]') for m in CREATE.finditer(text)]


def reorder_sql(text: str, rng: random.Random) -> str | None:
    parsed = sql_statements(text)
    if parsed is None or len(parsed[0]) < 2:
        return None
    stmts, trailing = parsed
    names = [_bare(CREATE.search(s).group(1)) for s in stmts]
    if len(set(names)) != len(names):
        return None
    deps = [{_bare(r) for r in REFERENCES.findall(s)} & (set(names) - {names[i]}) for i, s in enumerate(stmts)]
    for _ in range(5):
        done: set[str] = set()
        order: list[int] = []
        left = list(range(len(stmts)))
        while left:
            ready = [i for i in left if deps[i] <= done]
            if not ready:
                return None  # a cycle: leave it alone
            pick = rng.choice(ready)
            order.append(pick)
            done.add(names[pick])
            left.remove(pick)
        if order != list(range(len(stmts))):
            break
    else:
        return None
    # keep the separation between statements as in the original: re-join stripped statements
    parts = [stmts[i].strip("\n") for i in order]
    lead = len(stmts[0]) - len(stmts[0].lstrip("\n"))
    return "\n" * lead + "\n\n".join(p.strip("\n") for p in parts) + trailing

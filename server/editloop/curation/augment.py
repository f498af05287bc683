"""Augmentation: semantics-preserving variants of a (prompt, outputs) example.

Two transforms, both keeping prompt and output consistent:

- ``rename``: one entity named in the prompt and defined in the output (an erDiagram entity, a
  ``CREATE TABLE`` name, a Python class or function) gets a new neutral name everywhere it
  occurs - prompt, every output (chosen and rejected alike), derived names like ``venue_id``;
- ``reorder``: independent statements change order (erDiagram relationship lines / entity
  blocks; SQL ``CREATE TABLE`` statements without a foreign-key ordering dependency). Only for a
  single output (SFT / KTO rows): a DPO pair is never reordered on one side only.

The first output (the positive) must validate after the transform, and every other output
that was valid before must still validate (mmdr for Mermaid, tree-sitter for SQL and Python);
otherwise no variant. A Mermaid render costs 5-30 ms, so each variant costs one validation. Artifact
types without a validator are never augmented. Variants are rows marked ``synthetic``: they go to
train only, never to validation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from .rename import pick_replacement, rename, words_of
from .reorder import erd_entities, reorder_erd, reorder_sql, sql_tables
from .validate import kind_of, validator_for

KINDS = ("rename", "reorder")


@dataclass(frozen=True)
class Variant:
    prompt: str
    texts: tuple[str, ...]
    kind: str


def python_definitions(code: str) -> list[str]:
    from .validate import parser

    root = parser("python").parse(code.encode("utf-8")).root_node
    names = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in ("class_definition", "function_definition"):
            name = node.child_by_field_name("name")
            if name is not None:
                names.append(name.text.decode("utf-8"))
        stack.extend(reversed(node.children))
    return names


def entity_names(kind: str, text: str) -> list[str]:
    if kind == "mermaid":
        return erd_entities(text)
    if kind == "sql":
        return sql_tables(text)
    if kind == "python":
        return python_definitions(text)
    return []


def _rename_variant(kind: str, prompt: str, texts: list[str], rng: random.Random) -> Variant | None:
    names = entity_names(kind, texts[0])
    rng.shuffle(names)
    for name in names:
        old = words_of(name)
        new = pick_replacement([prompt, *texts], rng.choice)
        if not old or new is None:
            return None
        done = rename(prompt, texts, old, new, python=kind == "python")
        if done is not None:
            return Variant(done[0], tuple(done[1]), f"rename:{'_'.join(old)}->{new}")
    return None


def _reorder_variant(kind: str, prompt: str, texts: list[str], rng: random.Random) -> Variant | None:
    if len(texts) != 1:
        return None
    fn = {"mermaid": reorder_erd, "sql": reorder_sql}.get(kind)
    out = fn(texts[0], rng) if fn else None
    return Variant(prompt, (out,), "reorder") if out and out != texts[0] else None


def variants(
    artifact_type: str,
    prompt: str,
    texts: Sequence[str],
    rng: random.Random,
    *,
    language: str | None = None,
    n: int = 1,
    kinds: Sequence[str] = KINDS,
) -> list[Variant]:
    """Up to ``n`` validated variants of ``(prompt, texts)``; ``texts[0]`` is the positive output."""
    kind = kind_of(artifact_type, language)
    check = validator_for(artifact_type, language)
    texts = list(texts)
    if kind is None or check is None or not texts:
        return []
    makers = [k for k in kinds if k in KINDS]
    out: list[Variant] = []
    seen = {(prompt, tuple(texts))}
    for attempt in range(n * 3):
        if len(out) >= n or not makers:
            break
        maker = makers[attempt % len(makers)]
        v = (_rename_variant if maker == "rename" else _reorder_variant)(kind, prompt, texts, rng)
        if v is None or (v.prompt, v.texts) in seen:
            continue
        if check(v.texts[0]) is not None:  # the positive must validate (so its source did too)
            continue
        if any(check(new) is not None and check(old) is None for old, new in zip(texts[1:], v.texts[1:])):
            continue  # a negative that was valid must stay valid
        seen.add((v.prompt, v.texts))
        out.append(v)
    return out

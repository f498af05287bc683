"""Conventions an artifact can be written in, and how to name things under them.

A :class:`Style` is a set of independent conventions (naming case, key type and name, attribute
order, type vocabulary, audit columns, relationship labels, SQL constraints, ...). ``BASE_STYLE``
is what the default model is pretrained on; simulated users each prefer a different style.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields, replace

from .spec import Attribute, Entity

CASES = ("snake", "camel", "pascal", "upper")


@dataclass(frozen=True)
class Style:
    entity_case: str = "pascal"          # snake | camel | pascal | upper
    attribute_case: str = "camel"        # snake | camel | pascal | upper
    plural_entities: bool = False        # "customers" instead of "customer"
    key_type: str = "int"                # int | uuid
    key_name: str = "id"                 # id | entity_id ("customer_id")
    attribute_order: str = "spec"        # spec | alpha | keys-first
    types: str = "basic"                 # basic | sql | precise (see each artifact's type table)
    audit: str = "none"                  # none | created | created-updated
    rel_label: str = "plain"             # plain (places) | quoted ("places") | phrase ("places orders")
    erd_relationships_first: bool = True
    erd_fk_attributes: bool = False      # list foreign-key attributes inside erDiagram entity blocks
    sql_keywords: str = "upper"          # upper | lower
    sql_constraints: str = "inline"      # inline | table (PRIMARY KEY / FOREIGN KEY at the end)
    sql_not_null: bool = False
    sql_references: bool = True
    sql_comments: bool = False           # a "-- source verb target" comment per relationship
    sql_quote_identifiers: bool = False
    indent: int = 4


BASE_STYLE = Style()

CHOICES: dict[str, tuple] = {
    "entity_case": CASES,
    "attribute_case": CASES,
    "plural_entities": (False, True),
    "key_type": ("int", "uuid"),
    "key_name": ("id", "entity_id"),
    "attribute_order": ("spec", "alpha", "keys-first"),
    "types": ("basic", "sql", "precise"),
    "audit": ("none", "created", "created-updated"),
    "rel_label": ("plain", "quoted", "phrase"),
    "erd_relationships_first": (True, False),
    "erd_fk_attributes": (False, True),
    "sql_keywords": ("upper", "lower"),
    "sql_constraints": ("inline", "table"),
    "sql_not_null": (False, True),
    "sql_references": (True, False),
    "sql_comments": (False, True),
    "sql_quote_identifiers": (False, True),
    "indent": (4, 2),
}


def random_style(rng: random.Random, change: float = 0.35, base: Style = BASE_STYLE) -> Style:
    """A style where each convention departs from ``base`` with probability ``change``."""
    updates = {}
    for f in fields(Style):
        if rng.random() < change:
            options = [o for o in CHOICES[f.name] if o != getattr(base, f.name)]
            updates[f.name] = rng.choice(options)
    return replace(base, **updates)


def case_words(words: tuple[str, ...] | list[str], case: str) -> str:
    if case == "snake":
        return "_".join(words)
    if case == "upper":
        return "_".join(words).upper()
    if case == "pascal":
        return "".join(w.capitalize() for w in words)
    if case == "camel":
        return words[0] + "".join(w.capitalize() for w in words[1:])
    raise ValueError(f"unknown case {case!r}")


def entity_name(entity: Entity, style: Style) -> str:
    words = entity.plural_words if style.plural_entities else entity.words
    return case_words(words, style.entity_case)


def attribute_name(attr: Attribute, style: Style) -> str:
    return case_words(attr.words, style.attribute_case)


def key_attribute(entity: Entity, style: Style) -> Attribute:
    words = entity.words + ("id",) if style.key_name == "entity_id" else ("id",)
    return Attribute(words, "id")


def audit_attributes(style: Style) -> tuple[Attribute, ...]:
    created = Attribute(("created", "at"), "date")
    if style.audit == "created":
        return (created,)
    if style.audit == "created-updated":
        return (created, Attribute(("updated", "at"), "date"))
    return ()


def ordered_attributes(entity: Entity, style: Style, *, with_fks: bool = True) -> list[Attribute]:
    """Key first, then the other attributes in the style's order (audit columns included)."""
    own = list(entity.own_attributes)
    fks = list(entity.foreign_keys) if with_fks else []
    audit = list(audit_attributes(style))
    if style.attribute_order == "alpha":
        rest = sorted(own + fks + audit, key=lambda a: attribute_name(a, style).lower())
    elif style.attribute_order == "keys-first":
        rest = fks + own + audit
    else:
        rest = own + fks + audit
    return [key_attribute(entity, style)] + rest


_CASE_WORDS = {"snake": "snake_case", "camel": "camelCase", "pascal": "PascalCase", "upper": "UPPER_CASE"}


def describe_style(style: Style, artifact: str, base: Style = BASE_STYLE) -> str:
    """The conventions of ``style`` that differ from ``base``, in words (empty when none)."""
    out: list[str] = []
    d = {f.name for f in fields(Style) if getattr(style, f.name) != getattr(base, f.name)}
    if "entity_case" in d:
        out.append(f"{_CASE_WORDS[style.entity_case]} entity names")
    if "plural_entities" in d:
        out.append("plural entity names" if style.plural_entities else "singular entity names")
    if "attribute_case" in d:
        out.append(f"{_CASE_WORDS[style.attribute_case]} attributes")
    if "key_type" in d:
        out.append(f"{style.key_type} keys")
    if "key_name" in d:
        out.append("keys named customer_id" if style.key_name == "entity_id" else "keys named id")
    if "attribute_order" in d:
        out.append({"alpha": "alphabetical attributes", "keys-first": "foreign keys first",
                    "spec": "attributes in the given order"}[style.attribute_order])
    if "types" in d:
        out.append({"basic": "basic types", "sql": "SQL types: varchar, decimal, timestamp",
                    "precise": "precise types: varchar(255), numeric, timestamptz"}[style.types])
    if "audit" in d:
        out.append({"none": "no audit columns", "created": "a created_at column",
                    "created-updated": "created_at and updated_at columns"}[style.audit])
    if artifact == "mermaid-erd":
        if "rel_label" in d:
            out.append({"plain": "plain labels", "quoted": 'quoted labels like "places"',
                        "phrase": 'labels like "places orders"'}[style.rel_label])
        if "erd_relationships_first" in d:
            out.append("relationships first" if style.erd_relationships_first else "relationships last")
        if "erd_fk_attributes" in d:
            out.append("FK attributes listed" if style.erd_fk_attributes else "no FK attributes")
    if artifact == "sql":
        if "sql_keywords" in d:
            out.append(f"{style.sql_keywords}case keywords")
        if "sql_constraints" in d:
            out.append("table-level PRIMARY KEY and FOREIGN KEY" if style.sql_constraints == "table"
                       else "inline constraints")
        if "sql_not_null" in d:
            out.append("NOT NULL columns" if style.sql_not_null else "nullable columns")
        if "sql_references" in d:
            out.append("REFERENCES on foreign keys" if style.sql_references else "no REFERENCES")
        if "sql_comments" in d:
            out.append("-- comments per relationship" if style.sql_comments else "no comments")
        if "sql_quote_identifiers" in d:
            out.append('"quoted" identifiers' if style.sql_quote_identifiers else "unquoted identifiers")
    if "indent" in d:
        out.append(f"{style.indent}-space indent")
    return "; ".join(out)

"""Simulated users: each prefers a style the base model does not write, and behaves like a person.

A user's *final text* for a spec is their own rendering of it. :meth:`SimulatedUser.respond`
plays one round: given the model's output it decides to accept it (exactly right, or lazily
when merely imperfect), edit it into the final text, or reject invalid output and rewrite it,
sometimes adding an incidental edit that has nothing to do with their preferences.
Adding a user is one subclass with a ``name`` and a ``style``; it registers itself in ``USERS``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar

from .artifacts import get_artifact
from .spec import Spec
from .style import Style

USERS: dict[str, "SimulatedUser"] = {}

ACCEPT, LAZY_ACCEPT, EDIT, REWRITE = "accept", "lazy-accept", "edit", "rewrite"

_NOTES = ("reviewed", "todo: check indexes", "v2", "ok", "see ticket", "draft", "checked with team")


@dataclass(frozen=True)
class Response:
    action: str  # accept | lazy-accept | edit | rewrite
    final_text: str
    incidental: bool = False


class SimulatedUser:
    name: ClassVar[str]
    description: ClassVar[str]
    style: ClassVar[Style]
    lazy_accept_rate: ClassVar[float] = 0.1      # share of valid-but-imperfect outputs kept as they are
    rewrite_invalid_rate: ClassVar[float] = 0.7  # share of invalid outputs deleted and rewritten
    incidental_edit_rate: ClassVar[float] = 0.1  # share of edits with an unrelated extra change

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        USERS[cls.name] = cls()

    def final_text(self, spec: Spec, artifact: str) -> str:
        return get_artifact(artifact).render(spec, self.style)

    def incidental_edit(self, text: str, artifact: str, rng: random.Random) -> str:
        """Insert a comment line somewhere after the first line (stays valid)."""
        lines = text.rstrip("\n").split("\n")
        at = rng.randint(1, len(lines))
        prev = lines[at - 1]
        indent = prev[: len(prev) - len(prev.lstrip())] if at < len(lines) else ""
        if artifact == "python-dataclass" and at < len(lines) and prev.rstrip().endswith(":"):
            indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        prefix = get_artifact(artifact).comment_prefix
        lines.insert(at, f"{indent}{prefix} {rng.choice(_NOTES)}")
        return "\n".join(lines) + "\n"

    def respond(self, spec: Spec, artifact: str, output: str, rng: random.Random) -> Response:
        target = self.final_text(spec, artifact)
        if output == target:
            return Response(ACCEPT, output)
        valid = get_artifact(artifact).is_valid(output)
        if valid and rng.random() < self.lazy_accept_rate:
            return Response(LAZY_ACCEPT, output)
        action = REWRITE if not valid and rng.random() < self.rewrite_invalid_rate else EDIT
        if rng.random() < self.incidental_edit_rate:
            return Response(action, self.incidental_edit(target, artifact, rng), incidental=True)
        return Response(action, target)


def get_user(name: str) -> SimulatedUser:
    try:
        return USERS[name]
    except KeyError:
        raise ValueError(f"unknown simulated user {name!r}; known: {', '.join(sorted(USERS))}") from None


class SnakePurist(SimulatedUser):
    name = "snake-purist"
    description = "snake_case singular names, uuid keys, alphabetical attributes, SQL types, created_at, quoted labels"
    style = Style(entity_case="snake", attribute_case="snake", key_type="uuid", attribute_order="alpha",
                  types="sql", audit="created", rel_label="quoted", sql_keywords="lower", sql_not_null=True)


class RailsVeteran(SimulatedUser):
    name = "rails-veteran"
    description = "snake_case plural tables, customer_id keys, foreign keys first, created_at/updated_at, phrase labels"
    style = Style(entity_case="snake", attribute_case="snake", plural_entities=True, key_name="entity_id",
                  attribute_order="keys-first", types="precise", audit="created-updated", rel_label="phrase",
                  erd_fk_attributes=True, sql_constraints="table", sql_comments=True)
    lazy_accept_rate = 0.05
    incidental_edit_rate = 0.2


class EnterpriseArchitect(SimulatedUser):
    name = "enterprise-architect"
    description = "UPPER_CASE everything, uuid CUSTOMER_ID keys, relationships last, quoted identifiers, NOT NULL"
    style = Style(entity_case="upper", attribute_case="upper", key_type="uuid", key_name="entity_id",
                  types="precise", rel_label="quoted", erd_relationships_first=False, erd_fk_attributes=True,
                  sql_not_null=True, sql_quote_identifiers=True, indent=2)
    lazy_accept_rate = 0.15
    rewrite_invalid_rate = 0.9

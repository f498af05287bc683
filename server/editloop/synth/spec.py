"""Seeded domain specs and their natural-language prompts.

A :class:`Spec` is a small data model ("customers place orders; orders contain line items"):
entities with typed attributes and the relationships between them. Names are kept as word
tuples so that every style can case them its own way; the prompt names every entity, attribute
and verb in plain words, so a model can copy them.

Specs fall deterministically into a ``train`` or ``heldout`` split by a hash of their content,
so a held-out spec can never appear in a training stream, whatever the seed.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Iterator

from .vocab import CARDINALITIES, DOMAINS, ONE_OR_MORE, ONE_TO_MANY, ONE_TO_ONE, attribute_kind, pluralize

SPLITS = ("train", "heldout")
HELDOUT_PERCENT = 15


@dataclass(frozen=True)
class Attribute:
    words: tuple[str, ...]
    kind: str
    ref: str | None = None  # for kind "fk": the referenced entity's name (space-joined words)

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Entity:
    words: tuple[str, ...]
    attributes: tuple[Attribute, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def plural_words(self) -> tuple[str, ...]:
        return self.words[:-1] + (pluralize(self.words[-1]),)

    @property
    def own_attributes(self) -> tuple[Attribute, ...]:
        return tuple(a for a in self.attributes if a.kind != "fk")

    @property
    def foreign_keys(self) -> tuple[Attribute, ...]:
        return tuple(a for a in self.attributes if a.kind == "fk")


@dataclass(frozen=True)
class Relationship:
    source: str  # entity text
    target: str
    cardinality: str
    verb: str


@dataclass(frozen=True)
class Spec:
    domain: str
    title: str
    entities: tuple[Entity, ...]
    relationships: tuple[Relationship, ...]
    phrasing: int = 0

    def entity(self, text: str) -> Entity:
        for e in self.entities:
            if e.text == text:
                return e
        raise KeyError(text)

    @property
    def canonical(self) -> str:
        """A stable text identity of the content (not the phrasing)."""
        ents = ";".join(f"{e.text}:{','.join(a.text for a in e.attributes)}" for e in self.entities)
        rels = ";".join(f"{r.source}>{r.verb}>{r.target}>{r.cardinality}" for r in self.relationships)
        return f"{self.domain}|{ents}|{rels}"

    @property
    def split(self) -> str:
        digest = hashlib.sha1(self.canonical.encode()).digest()
        return "heldout" if int.from_bytes(digest[:4], "big") % 100 < HELDOUT_PERCENT else "train"

    def prompt(self) -> str:
        return render_prompt(self)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _relationship_sentence(spec: Spec, rel: Relationship) -> str:
    src, dst = spec.entity(rel.source), spec.entity(rel.target)
    if rel.cardinality == ONE_TO_ONE:
        obj = f"exactly one {dst.text}"
    elif rel.cardinality == ONE_OR_MORE:
        obj = f"one or more {' '.join(dst.plural_words)}"
    else:
        obj = f"many {' '.join(dst.plural_words)}"
    return f"Each {src.text} {rel.verb} {obj}."


def render_prompt(spec: Spec) -> str:
    """The user's request in plain words. Every entity, attribute and verb is named."""
    lines = [f"Data model for {spec.title}."]
    lines += [_relationship_sentence(spec, r) for r in spec.relationships]
    for e in spec.entities:
        names = [a.text for a in e.own_attributes]
        if spec.phrasing == 0:
            lines.append(f"{e.text.capitalize()} fields: {', '.join(names)}.")
        elif spec.phrasing == 1:
            lines.append(f"{_article(e.text).capitalize()} {e.text} has {_join(names)}.")
        else:
            lines.append(f"{e.text.capitalize()}: {', '.join(names)}.")
    return "\n".join(lines)


def _parse_attr(raw: str) -> Attribute:
    raw = raw.strip()
    if ":" in raw:
        text, kind = raw.split(":", 1)
        words = tuple(text.split())
        return Attribute(words, kind)
    words = tuple(raw.split())
    return Attribute(words, attribute_kind(words))


def random_spec(rng: random.Random, *, min_entities: int = 2, max_entities: int = 3,
                min_attributes: int = 2, max_attributes: int = 4) -> Spec:
    """Draw one spec: a domain, a connected set of entities, a few attributes each."""
    domain = rng.choice(sorted(DOMAINS))
    title, pools, rels = DOMAINS[domain]
    n = rng.randint(min_entities, max_entities)
    chosen = [rng.choice(sorted({r[0] for r in rels} | {r[2] for r in rels}))]
    picked: list[tuple[str, str, str, str]] = []
    while len(chosen) < n:
        frontier = [r for r in rels if (r[0] in chosen) != (r[2] in chosen)]
        if not frontier:
            break
        r = rng.choice(frontier)
        picked.append(r)
        chosen.append(r[2] if r[0] in chosen else r[0])
    fks: dict[str, list[Attribute]] = {c: [] for c in chosen}
    relationships = []
    for src, verb, dst, card in picked:
        relationships.append(Relationship(src, dst, card, verb))
        fks[dst].append(Attribute(tuple(src.split()) + ("id",), "fk", ref=src))
    # referenced entities first: the prompt, the diagram and the SQL then all list them in one order
    placed: list[str] = []
    while len(placed) < len(chosen):
        placed.append(next(c for c in chosen if c not in placed
                           and all(r[0] in placed for r in picked if r[2] == c)))
    entities = []
    for name in placed:
        pool = [_parse_attr(a) for a in pools[name].split(",")]
        k = rng.randint(min_attributes, min(max_attributes, len(pool)))
        own = rng.sample(pool, k)
        entities.append(Entity(tuple(name.split()), tuple(own) + tuple(fks[name])))
    spec = Spec(domain, title, tuple(entities), tuple(relationships), phrasing=rng.randrange(3))
    return spec


def iter_specs(seed: int = 0, split: str = "train", **sizes: int) -> Iterator[Spec]:
    """An endless deterministic stream of specs of one split (train or heldout)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    rng = random.Random(f"editloop-synth:{split}:{seed}")
    while True:
        spec = random_spec(rng, **sizes)
        if spec.split == split:
            yield spec


def generate_specs(n: int, seed: int = 0, split: str = "train", **sizes: int) -> list[Spec]:
    """``n`` specs of ``split`` for ``seed`` (the same list every time)."""
    stream = iter_specs(seed, split, **sizes)
    return [next(stream) for _ in range(n)]


__all__ = ["Attribute", "Entity", "Relationship", "Spec", "SPLITS", "CARDINALITIES", "ONE_TO_MANY",
           "ONE_TO_ONE", "ONE_OR_MORE", "generate_specs", "iter_specs", "random_spec", "render_prompt"]

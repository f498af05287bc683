"""Prompt-entity recall: does an output name the entities its prompt asked for, in any case style."""

from __future__ import annotations

from editloop.simulate.loop import entity_recall
from editloop.synth.spec import Attribute, Entity, Spec, generate_specs


def _spec(*names: str) -> Spec:
    spec = generate_specs(1, seed=3, split="heldout")[0]
    entities = tuple(Entity(tuple(n.split()), (Attribute(("name",), "string"),)) for n in names)
    return Spec(**{**spec.__dict__, "entities": entities, "relationships": ()})


def test_every_case_style_and_the_plural_count():
    spec = _spec("fuel card", "category")
    for text in ("erDiagram\n  FUEL_CARD {\n  }\n  CATEGORY {\n  }", "class FuelCard:\n    pass\nclass Category:",
                 "CREATE TABLE fuel_cards (id int);\nCREATE TABLE categories (id int);", "fuel-card and Categories"):
        assert entity_recall(text, spec) == 1.0, text


def test_missing_entities_lower_the_share():
    spec = _spec("fuel card", "driver", "category")
    assert entity_recall("erDiagram\n  Product ||--o{ LineItem : has", spec) == 0.0
    assert abs(entity_recall("erDiagram\n  DRIVER {\n  }\n  fuel card", spec) - 2 / 3) < 1e-9
    # a word of a two-word entity alone is not the entity
    assert entity_recall("card", _spec("fuel card")) == 0.0


def test_the_synthetic_users_own_text_names_every_entity():
    from editloop.synth import get_artifact, get_user

    user = get_user("snake-purist")
    for spec in generate_specs(6, seed=1, split="heldout"):
        for artifact in ("mermaid-erd", "sql", "python-dataclass"):
            get_artifact(artifact)
            assert entity_recall(user.final_text(spec, artifact), spec) == 1.0, (artifact, spec.prompt())

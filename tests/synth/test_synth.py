"""The task generator: deterministic, valid under every style, users unlike the base, split disjoint."""

from __future__ import annotations

import random
from dataclasses import fields

import pytest
from rapidfuzz.distance import Levenshtein

from editloop.synth import (
    ARTIFACTS, BASE_STYLE, SYSTEM_PROMPTS, USERS, Style, build_messages, describe_style, generate_specs,
    get_artifact, get_user, random_style,
)
from editloop.synth.style import CHOICES
from editloop.synth.users import ACCEPT, EDIT, LAZY_ACCEPT, REWRITE


def test_same_seed_same_specs_and_texts():
    a = generate_specs(30, seed=7)
    b = generate_specs(30, seed=7)
    assert a == b
    assert [s.prompt() for s in a] == [s.prompt() for s in b]
    assert generate_specs(30, seed=8) != a
    for name, art in ARTIFACTS.items():
        assert [art.render(s, BASE_STYLE) for s in a] == [art.render(s, BASE_STYLE) for s in b], name


def test_heldout_split_is_disjoint_from_train():
    train = {s.canonical for seed in range(3) for s in generate_specs(300, seed=seed, split="train")}
    heldout = {s.canonical for s in generate_specs(200, seed=0, split="heldout")}
    assert len(heldout) > 150  # mostly distinct specs
    assert not train & heldout
    assert all(s.split == "heldout" for s in generate_specs(50, seed=3, split="heldout"))
    with pytest.raises(ValueError):
        generate_specs(1, split="test")


def test_specs_are_varied_and_prompts_name_everything():
    specs = generate_specs(200, seed=1)
    assert len({s.domain for s in specs}) >= 15
    assert len({a.text for s in specs for e in s.entities for a in e.attributes}) > 150
    for s in specs:
        prompt = s.prompt().lower()
        for e in s.entities:
            assert e.text in prompt
            for a in e.own_attributes:
                assert a.text in prompt
        for r in s.relationships:
            assert f" {r.verb} " in prompt
        assert 2 <= len(s.entities) <= 3


def _styles(n: int) -> list[Style]:
    rng = random.Random(0)
    styles = [BASE_STYLE] + [u.style for u in USERS.values()] + [random_style(rng, change=0.6) for _ in range(n)]
    # every option of every convention appears at least once
    for f in fields(Style):
        for option in CHOICES[f.name]:
            styles.append(Style(**{f.name: option}))
    return styles


@pytest.mark.parametrize("artifact", sorted(ARTIFACTS))
def test_every_style_renders_valid_artifacts(artifact):
    art = get_artifact(artifact)
    styles = _styles(25)
    specs = generate_specs(40, seed=2) + generate_specs(20, seed=2, split="heldout")
    big = generate_specs(10, seed=5, max_entities=4, max_attributes=5)
    checked = 0
    for i, spec in enumerate(specs + big):
        for style in styles[i % 4:: 4] + [BASE_STYLE]:
            text = art.render(spec, style)
            assert art.validate(text) is None, (style, text, art.validate(text))
            checked += 1
    assert checked > 500


@pytest.mark.parametrize("artifact", sorted(ARTIFACTS))
def test_validators_reject_broken_text(artifact):
    art = get_artifact(artifact)
    spec = generate_specs(1, seed=4)[0]
    good = art.render(spec, BASE_STYLE)
    assert art.is_valid(good)
    truncated = good[: len(good) * 2 // 3].rstrip()
    assert not art.is_valid(truncated)
    assert not art.is_valid("hello world")


def test_names_follow_the_style():
    spec = generate_specs(1, seed=11)[0]
    attr = spec.entities[0].own_attributes[0]
    sql = get_artifact("sql")
    snake = sql.render(spec, Style(attribute_case="snake"))
    camel = sql.render(spec, Style(attribute_case="camel"))
    if len(attr.words) > 1:
        assert "_".join(attr.words) in snake and "_".join(attr.words) not in camel
    assert "uuid" in sql.render(spec, Style(key_type="uuid", sql_keywords="lower"))
    assert "created_at" in get_artifact("mermaid-erd").render(spec, Style(audit="created", attribute_case="snake"))


@pytest.mark.parametrize("user", sorted(USERS))
@pytest.mark.parametrize("artifact", ["mermaid-erd", "sql"])
def test_users_differ_from_base_and_from_each_other(user, artifact):
    art = get_artifact(artifact)
    specs = generate_specs(20, seed=3, split="heldout")
    u = get_user(user)
    for s in specs:
        base = art.render(s, BASE_STYLE)
        mine = u.final_text(s, artifact)
        assert art.is_valid(mine)
        assert Levenshtein.distance(base, mine) > 0.15 * len(base)
        for other in USERS.values():
            if other is not u:
                assert other.final_text(s, artifact) != mine
    assert len(describe_style(u.style, artifact).split(";")) >= 4


def test_user_responses():
    user = get_user("snake-purist")
    spec = generate_specs(1, seed=9)[0]
    target = user.final_text(spec, "sql")
    rng = random.Random(0)
    assert user.respond(spec, "sql", target, rng).action == ACCEPT
    base = get_artifact("sql").render(spec, BASE_STYLE)
    actions = [user.respond(spec, "sql", base, rng) for _ in range(300)]
    kinds = {r.action for r in actions}
    assert kinds == {LAZY_ACCEPT, EDIT}
    for r in actions:
        assert get_artifact("sql").is_valid(r.final_text)
        assert r.final_text == (base if r.action == LAZY_ACCEPT else target) or r.incidental
    invalid = [user.respond(spec, "sql", "CREATE TABLE (", rng) for _ in range(100)]
    assert {r.action for r in invalid} == {EDIT, REWRITE}
    assert any(r.incidental for r in actions + invalid)


@pytest.mark.parametrize("artifact", sorted(ARTIFACTS))
def test_incidental_edits_stay_valid(artifact):
    rng = random.Random(1)
    art = get_artifact(artifact)
    for spec in generate_specs(30, seed=6):
        for user in USERS.values():
            edited = user.incidental_edit(user.final_text(spec, artifact), artifact, rng)
            assert art.validate(edited) is None, edited


def test_chat_messages():
    for artifact in ("mermaid-erd", "sql"):
        assert artifact in SYSTEM_PROMPTS
        messages = build_messages(artifact, "Each customer places many orders.")
        assert [m["role"] for m in messages] == ["system", "user"]
        assert messages[1]["content"] == "Each customer places many orders."
    with pytest.raises(ValueError):
        build_messages("cobol", "x")

import math

import pytest

from editloop.signals.reward import decay, difficulty, reward, reward_score, sigmoid


def test_corners():
    accept = reward("accept", 1.0)
    tiny_edit = reward("edit", 0.98)
    rewrite = reward("edit", 0.02)
    reject = reward("reject", 0.0)
    assert accept > 0.98
    assert accept > tiny_edit > 0.8
    assert rewrite < 0.06 and rewrite - reject < 0.04  # a total rewrite is close to a reject
    assert reject < rewrite and reject < 0.02


def test_reject_is_lowest_whatever_else():
    reject = reward("reject", 1.0, validity=100, retention=[1, 1, 1, 1])
    worst_edit = reward("edit", 0.0, validity=0, seconds_to_resolve=36_000, retention=[0, 0, 0, 0])
    assert reject < worst_edit


def test_cursor_reference_point():
    # reward - 0.25 ~ Cursor Tab's +0.75 accept / -0.25 reject
    assert abs(reward("accept", 1.0) - 0.25 - 0.75) < 0.02
    assert abs(reward("reject", 0.0) - 0.25 + 0.25) < 0.02


def test_monotone_in_similarity():
    for kwargs in ({}, {"validity": 100}, {"validity": 0}, {"seconds_to_resolve": 120, "retention": [0.9, 0.8]}):
        values = [reward("edit", s / 50, **kwargs) for s in range(51)]
        assert all(b >= a for a, b in zip(values, values[1:]))
        assert values[-1] > values[0]


def test_validity_retention_and_effort_move_the_reward():
    base = reward("edit", 0.7)
    assert reward("edit", 0.7, validity=100) > base > reward("edit", 0.7, validity=0)
    assert reward("edit", 0.7, retention=[1, 1, 1]) > reward("edit", 0.7, retention=[0.2, 0.1])
    assert reward("edit", 0.7, seconds_to_resolve=5) > reward("edit", 0.7, seconds_to_resolve=900)
    assert reward("accept", 1.0, seconds_to_resolve=600) == reward("accept", 1.0)  # implicit accepts are not penalized


def test_worked_example_of_the_docs():
    # docs/reward.md: an edit keeping 80% of a valid output, fixed in 2 minutes, retention 0.9/0.85/0.8
    z = reward_score("edit", 0.8, validity=100, seconds_to_resolve=120, retention=[0.9, 0.85, 0.8])
    effort = 0.5 * math.log1p(2) / math.log1p(10)
    assert z == pytest.approx(-0.5 + 1.5 + 0.5 - effort + 0.35)
    assert reward("edit", 0.8, validity=100, seconds_to_resolve=120, retention=[0.9, 0.85, 0.8]) == pytest.approx(sigmoid(z), abs=1e-6)


def test_decay_halves_at_the_half_life():
    assert decay(0.8, 30, 30) == pytest.approx(0.4)
    assert decay(1.0, 60, 30) == pytest.approx(0.25)
    assert decay(1.0, 0, 30) == 1.0
    assert decay(1.0, -5, 30) == 1.0  # clock skew
    assert decay(0.7, 100, 0) == 0.7  # no decay


def test_difficulty():
    easy = difficulty(50, similarity=1.0, accept_rate=0.95)
    hard = difficulty(4000, similarity=0.1, accept_rate=0.1)
    assert 0.5 <= easy < 0.8 and 1.7 < hard <= 2.0
    assert difficulty(500, similarity=0.5) > difficulty(500, similarity=0.9)
    assert difficulty(500, accept_rate=0.2) > difficulty(500, accept_rate=0.8)
    assert difficulty(2000) > difficulty(100)


def test_unknown_action():
    with pytest.raises(ValueError):
        reward("maybe", 0.5)

"""Real feedback databases for curation tests: regions and events created through the store's API."""

from __future__ import annotations

import random

import pytest

from editloop.capture.outcomes import record_outcome
from editloop.store import Store, utcnow_iso
from editloop.synth import BASE_STYLE, generate_specs, get_artifact, get_user

T0 = 1_780_000_000.0  # a fixed "now" so decay and ordering are reproducible
ARTIFACTS = ("mermaid-erd", "sql", "python-dataclass")


class Maker:
    """Creates regions and resolves them with ``record_outcome``, one second apart."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.clock = T0

    def event(self, *, prompt: str, original: str, final: str | None = None, rejected: bool = False,
              artifact_type: str = "mermaid-erd", source: str = "explicit", language: str | None = None) -> dict:
        self.clock += 1.0
        region = self.store.insert_region({
            "uri": f"file:///work/f{int(self.clock) % 7}.md", "artifact_type": artifact_type, "language": language,
            "prompt": prompt, "model": "tiny", "original": original, "created_at": utcnow_iso(self.clock - 0.5),
        })
        ev, created = record_outcome(self.store, region, final=final, rejected=rejected, source=source, now=self.clock)
        assert created
        return ev

    def spec_events(self, n: int, *, seed: int = 0, artifact_types=ARTIFACTS, user: str = "snake-purist") -> list[dict]:
        """``n`` realistic events: base-style output, the user's edit / accept / reject."""
        rng = random.Random(seed)
        specs = generate_specs(n, seed=seed)
        out = []
        for i, spec in enumerate(specs):
            at = artifact_types[i % len(artifact_types)]
            original = get_artifact(at).render(spec, BASE_STYLE)
            target = get_user(user).final_text(spec, at)
            r = rng.random()
            if r < 0.25:
                out.append(self.event(prompt=spec.prompt(), original=original, final=original, artifact_type=at))
            elif r < 0.8:
                out.append(self.event(prompt=spec.prompt(), original=original, final=target, artifact_type=at))
            else:
                out.append(self.event(prompt=spec.prompt(), original=original, rejected=True, artifact_type=at,
                                      final=target if rng.random() < 0.5 else None))
        return out


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "feedback.db")
    yield s
    s.close()


@pytest.fixture
def maker(store) -> Maker:
    return Maker(store)

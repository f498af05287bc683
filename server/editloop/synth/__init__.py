"""Synthetic tasks: domain specs, artifact renderers, styles and simulated users (no torch).

Shared by the default model's pretraining corpus, the demo and the learning benchmark::

    from editloop.synth import generate_specs, get_artifact, get_user, BASE_STYLE, build_messages
    spec = generate_specs(1, seed=0, split="heldout")[0]
    messages = build_messages("sql", spec.prompt())
    reference = get_artifact("sql").render(spec, BASE_STYLE)
    target = get_user("snake-purist").final_text(spec, "sql")
"""

from .artifacts import ARTIFACTS, ArtifactType, get_artifact
from ..curation.format import SYSTEM_PROMPTS, build_messages, with_conventions  # the core's chat format
from .spec import SPLITS, Attribute, Entity, Relationship, Spec, generate_specs, iter_specs, random_spec
from .style import BASE_STYLE, Style, describe_style, random_style
from .users import USERS, Response, SimulatedUser, get_user

__all__ = [
    "ARTIFACTS", "ArtifactType", "get_artifact", "SYSTEM_PROMPTS", "build_messages", "with_conventions",
    "SPLITS", "Attribute", "Entity", "Relationship", "Spec", "generate_specs", "iter_specs", "random_spec",
    "BASE_STYLE", "Style", "describe_style", "random_style", "USERS", "Response", "SimulatedUser", "get_user",
]

"""Settings: one name per setting, from package.json through the LSP to this parser.

Editors send the ``editloop.*`` settings as ``initializationOptions`` and in
``workspace/didChangeConfiguration``, either nested (``{"generation": {"model": ...}}``) or
dotted (``{"generation.model": ...}``), with or without the leading ``editloop``. The CLI and
the Python API read the same names from keyword arguments. ``SETTINGS`` below is the single table
of names, types and defaults; ``tests/test_settings.py`` checks it against package.json.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import InvalidArgument

DEFAULT_SURVIVAL_SECONDS = (30, 120, 300, 600)
DEFAULT_EXCLUDE = (
    "**/.env",
    "**/.env.*",
    "**/*.pem",
    "**/*.key",
    "**/id_rsa*",
    "**/secrets/**",
    "**/.git/**",
)


@dataclass(frozen=True)
class Settings:
    data_dir: str | None = None
    survival_seconds: tuple[int, ...] = DEFAULT_SURVIVAL_SECONDS
    redact_secrets: bool = True
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    generation_endpoint: str = "http://localhost:11434/v1"
    generation_model: str = ""
    generation_backend: str = "auto"
    generation_retrieval: int = 0
    generation_inline: bool = False
    generation_retry_invalid: bool = True
    training_base_model: str = ""
    training_auto: bool = False
    training_threads: int = 0  # 0: every core, at most 4 (training.config.auto_threads)
    embeddings: bool = True
    reward_half_life_days: float = 30.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)


# setting name (as in package.json, without "editloop.") -> (attribute, converter)
def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false", "1", "0", "on", "off"):
        return v.lower() in ("true", "1", "on")
    raise ValueError("expected true or false")


def _str(v: Any) -> str:
    if v is None:
        return ""
    if not isinstance(v, str):
        raise ValueError("expected a string")
    return v


def _opt_str(v: Any) -> str | None:
    return _str(v) or None


def _seconds(v: Any) -> tuple[int, ...]:
    if isinstance(v, (int, float)):
        v = [v]
    if not isinstance(v, (list, tuple)) or not v:
        raise ValueError("expected a non-empty list of seconds")
    out = sorted({int(x) for x in v})
    if out[0] < 0:
        raise ValueError("seconds must be >= 0")
    return tuple(out)


def _globs(v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
        raise ValueError("expected a list of glob strings")
    return tuple(v)


def _int(lo: int, hi: int):
    def conv(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise ValueError("expected a number")
        n = int(v)
        if not lo <= n <= hi:
            raise ValueError(f"expected {lo}..{hi}")
        return n

    return conv


def _pos_float(v: Any) -> float:
    x = float(v)
    if x <= 0:
        raise ValueError("expected a positive number")
    return x


SETTINGS: dict[str, tuple[str, Any]] = {
    "dataDir": ("data_dir", _opt_str),
    "survivalSeconds": ("survival_seconds", _seconds),
    "redactSecrets": ("redact_secrets", _bool),
    "exclude": ("exclude", _globs),
    "generation.endpoint": ("generation_endpoint", _str),
    "generation.model": ("generation_model", _str),
    "generation.backend": ("generation_backend", _str),
    "generation.retrieval": ("generation_retrieval", _int(0, 20)),
    "generation.inline": ("generation_inline", _bool),
    "generation.retryInvalid": ("generation_retry_invalid", _bool),
    "training.baseModel": ("training_base_model", _str),
    "training.auto": ("training_auto", _bool),
    "training.threads": ("training_threads", _int(0, 256)),
    "embeddings": ("embeddings", _bool),
    "reward.halfLifeDays": ("reward_half_life_days", _pos_float),
}
# Settings only the editor uses; accepted and ignored here so one object can carry them all.
EDITOR_ONLY = {"python", "trace.server"}


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and name not in SETTINGS:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def parse_settings(raw: Mapping[str, Any] | None, base: Settings | None = None) -> Settings:
    """Build Settings from an editor's settings object; unknown keys are kept in ``extra``."""
    base = base or Settings()
    if not raw:
        return base
    if not isinstance(raw, Mapping):
        raise InvalidArgument("editloop settings must be an object")
    if "editloop" in raw and isinstance(raw["editloop"], Mapping):
        raw = raw["editloop"]
    changes: dict[str, Any] = {}
    extra = dict(base.extra)
    for name, value in _flatten(raw).items():
        name = name.removeprefix("editloop.")
        if name in SETTINGS:
            attr, conv = SETTINGS[name]
            if value is None:
                continue
            try:
                changes[attr] = conv(value)
            except (ValueError, TypeError) as exc:
                raise InvalidArgument(f"setting editloop.{name}: {exc} (got {value!r})") from None
        elif name not in EDITOR_ONLY:
            extra[name] = value
    changes["extra"] = extra
    return base.replace(**changes)

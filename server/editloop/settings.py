"""Settings: one name per setting, from package.json through the LSP to this parser.

Editors send the ``editloop.*`` settings as ``initializationOptions`` and in
``workspace/didChangeConfiguration``, either nested (``{"generation": {"model": ...}}``) or
dotted (``{"generation.model": ...}``), with or without the leading ``editloop``. The CLI and
the Python API read the same names from keyword arguments. ``SETTINGS`` below is the single table
of names, types and defaults; ``tests/test_settings.py`` checks it against package.json.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import InvalidArgument

DEFAULT_SURVIVAL_SECONDS = (30, 120, 300, 600)
# Bounds on the exclude globs a settings file can make the server match (capture/exclude.py).
MAX_GLOBS = 100
MAX_GLOB_CHARS = 512
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


def _number(v: Any) -> float:
    """A finite number (JSON numbers, or strings that hold one); NaN, infinities and bools are refused."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ValueError("expected a number")
    try:
        x = float(v)
    except (ValueError, OverflowError):
        raise ValueError("expected a number") from None
    if not math.isfinite(x):
        raise ValueError("expected a finite number")
    return x


# Survival checks: at most this many, each within a day (a region pending longer is resolved on close).
MAX_SURVIVAL_CHECKS = 10
MAX_SURVIVAL_SECONDS = 86_400


def _seconds(v: Any) -> tuple[int, ...]:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = [v]
    if not isinstance(v, (list, tuple)) or not v:
        raise ValueError("expected a non-empty list of seconds")
    if len(v) > MAX_SURVIVAL_CHECKS:
        raise ValueError(f"expected at most {MAX_SURVIVAL_CHECKS} checks")
    out = sorted({int(_number(x)) for x in v})
    if out[0] < 1 or out[-1] > MAX_SURVIVAL_SECONDS:
        raise ValueError(f"each check must be 1..{MAX_SURVIVAL_SECONDS} seconds")
    return tuple(out)


def _globs(v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
        raise ValueError("expected a list of glob strings")
    if len(v) > MAX_GLOBS:
        raise ValueError(f"expected at most {MAX_GLOBS} globs")
    long = [x for x in v if len(x) > MAX_GLOB_CHARS]
    if long:
        raise ValueError(f"a glob may have at most {MAX_GLOB_CHARS} characters ({len(long[0]):,} given)")
    return tuple(v)


def _int(lo: int, hi: int):
    def conv(v: Any) -> int:
        x = _number(v)
        if x != int(x):
            raise ValueError("expected a whole number")
        n = int(x)
        if not lo <= n <= hi:
            raise ValueError(f"expected {lo}..{hi}")
        return n

    return conv


def _float(lo: float, hi: float):
    def conv(v: Any) -> float:
        x = _number(v)
        if not lo <= x <= hi:
            raise ValueError(f"expected {lo:g}..{hi:g}")
        return x

    return conv


def _choice(*choices: str):
    def conv(v: Any) -> str:
        if v not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return v

    return conv


def _endpoint(v: Any) -> str:
    text = _str(v).strip()
    if text and not (text.startswith(("http://", "https://")) and len(text) > 8):
        raise ValueError("expected an http:// or https:// URL")
    if len(text) > 2048:
        raise ValueError("expected a URL of at most 2,048 characters")
    return text


SETTINGS: dict[str, tuple[str, Any]] = {
    "dataDir": ("data_dir", _opt_str),
    "survivalSeconds": ("survival_seconds", _seconds),
    "redactSecrets": ("redact_secrets", _bool),
    "exclude": ("exclude", _globs),
    "generation.endpoint": ("generation_endpoint", _endpoint),
    "generation.model": ("generation_model", _str),
    "generation.backend": ("generation_backend", _choice("auto", "openai", "local", "llamacpp")),
    "generation.retrieval": ("generation_retrieval", _int(0, 20)),
    "generation.inline": ("generation_inline", _bool),
    "generation.retryInvalid": ("generation_retry_invalid", _bool),
    "training.baseModel": ("training_base_model", _str),
    "training.auto": ("training_auto", _bool),
    "training.threads": ("training_threads", _int(0, 256)),
    "embeddings": ("embeddings", _bool),
    "reward.halfLifeDays": ("reward_half_life_days", _float(0.01, 36_500)),
}
# Settings only the editor uses; accepted and ignored here so one object can carry them all.
EDITOR_ONLY = {"python", "trace.server", "rejectRemovesText"}


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and name not in SETTINGS:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def parse_settings(raw: Mapping[str, Any] | None, base: Settings | None = None, *, problems: list[str] | None = None) -> Settings:
    """Build Settings from an editor's settings object; unknown keys are kept in ``extra``.

    Every value is checked (type, finite, in range). Without ``problems`` a bad value raises one
    :class:`InvalidArgument` naming every bad setting; with a list, each problem is appended to it
    and that setting keeps its default, so one bad value never disables the rest."""
    base = base or Settings()
    if not raw:
        return base
    if not isinstance(raw, Mapping):
        raise InvalidArgument("editloop settings must be an object")
    if "editloop" in raw and isinstance(raw["editloop"], Mapping):
        raw = raw["editloop"]
    defaults = Settings()
    changes: dict[str, Any] = {}
    extra = dict(base.extra)
    found: list[str] = []
    for name, value in _flatten(raw).items():
        name = name.removeprefix("editloop.")
        if name in SETTINGS:
            attr, conv = SETTINGS[name]
            if value is None:
                continue
            try:
                changes[attr] = conv(value)
            except (ValueError, TypeError, OverflowError) as exc:
                shown = repr(value)
                shown = shown if len(shown) <= 80 else shown[:77] + "..."
                found.append(f"setting editloop.{name}: {exc} (got {shown}); using the default {_shown_default(getattr(defaults, attr))}")
                changes[attr] = getattr(defaults, attr)
        elif name not in EDITOR_ONLY:
            extra[name] = value
    if found and problems is None:
        raise InvalidArgument("; ".join(found))
    if problems is not None:
        problems.extend(found)
    changes["extra"] = extra
    return base.replace(**changes)


def _shown_default(value: Any) -> str:
    if value is None or value == "":
        return "(unset)"
    if isinstance(value, tuple):
        return json_list(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def json_list(values: tuple[Any, ...]) -> str:
    import json

    return json.dumps(list(values))

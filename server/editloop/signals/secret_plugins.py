"""detect-secrets' line plugins, as rule 5 of ``redact`` uses them.

Its high-entropy plugins are left out (they flag every lockfile hash and git SHA), and so is its
private-key plugin (``redact`` replaces the whole block itself). Each value a plugin finds goes
through detect-secrets' own false-positive heuristics (sequential strings, UUIDs, id strings,
templates, ``$VAR`` and indirect references). detect-secrets (~0.2 s to import, it pulls
``requests``) is imported on first use.
"""

from __future__ import annotations

import re
import threading
from typing import Any

_lock = threading.Lock()
_ds: dict[str, Any] = {}

_SKIPPED_PLUGINS = {"Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector", "PrivateKeyDetector"}


def _load_detect_secrets() -> dict[str, Any]:
    if not _ds:
        with _lock:
            if not _ds:
                from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
                from detect_secrets.filters import heuristic

                plugins = [cls() for cls in get_mapping_from_secret_type_to_class().values() if cls.__name__ not in _SKIPPED_PLUGINS]
                _ds["heuristic"] = heuristic
                _ds["plugins"] = plugins
                _ds["keyword"] = [p for p in plugins if type(p).__name__ == "KeywordDetector"]
    return _ds


def _slug(secret_type: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-")


def detect_secrets_line(line: str, *, keyword_only: bool = False) -> list[tuple[str, str]]:
    """(type, value) of each secret detect-secrets' line plugins find, after its heuristic filters."""
    ds = _load_detect_secrets()
    h = ds["heuristic"]
    if h.is_indirect_reference(line):
        return []
    found = []
    for plugin in ds["keyword"] if keyword_only else ds["plugins"]:
        try:
            values = list(plugin.analyze_string(line))  # KeywordDetector: quoted values only
        except Exception:  # a plugin bug must never stop capture
            continue
        for value in values:
            if not value or len(value) < 4:
                continue
            if (
                h.is_sequential_string(value)
                or h.is_potential_uuid(value)
                or h.is_likely_id_string(value, line, plugin)
                or h.is_templated_secret(value)
                or h.is_prefixed_with_dollar_sign(value)
            ):
                continue
            found.append((_slug(plugin.secret_type), value))
    return found


def warm_up() -> None:
    """Import detect-secrets now (call from a worker thread at start-up to keep the first event fast)."""
    _load_detect_secrets()

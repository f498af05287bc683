"""Secret redaction, applied before any captured text is stored or exported."""

from __future__ import annotations

import re

_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----.*?(?:-----END \1-----|\Z)", re.S
)
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b")),
]


def redact(text: str) -> tuple[str, int]:
    """Replace secrets by ``[SECRET:<type>]``; return the new text and how many were replaced."""
    count = 0

    def sub(kind: str):
        def repl(_m: re.Match[str]) -> str:
            nonlocal count
            count += 1
            return f"[SECRET:{kind}]"

        return repl

    text = _PRIVATE_KEY.sub(sub("private-key"), text)
    for kind, pattern in _PATTERNS:
        text = pattern.sub(sub(kind), text)
    return text, count

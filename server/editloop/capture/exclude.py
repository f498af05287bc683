"""The ``editloop.exclude`` globs: files that are never captured."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote, urlparse


@lru_cache(maxsize=256)
def _compile(glob: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        out.append("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def uri_path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path or parsed.netloc or uri)


def is_excluded(uri: str, globs: tuple[str, ...] | list[str]) -> bool:
    """True when the document's path matches one of the globs (``**`` spans folders)."""
    path = uri_path(uri)
    parts = path.lstrip("/")
    for glob in globs:
        pattern = _compile(glob.lstrip("/") if glob.startswith("/") else glob)
        if pattern.match(parts) or pattern.match(path):
            return True
        if not glob.startswith(("**", "/")):  # a relative glob matches at any depth below a folder
            if any(pattern.match(parts[m.end():]) for m in re.finditer("/", parts)):
                return True
    return False

"""The ``editloop.exclude`` globs: files that are never captured.

The globs come from settings, which a repository's ``.vscode/settings.json`` can set: they are
untrusted. A regular expression built from a glob can backtrack for a very long time
(``"**" * 14 + "Q"`` froze the server), so globs are matched by a bit-parallel NFA instead:
one pass over the path, a few integer operations per character, whatever the pattern.

Syntax (VS Code's, without braces and character classes): ``*`` any run of characters within
a folder name, ``?`` one such character, ``**`` any run including ``/``, ``**/`` zero or more
whole folders. A glob that does not start with ``/`` or ``**`` matches at any depth.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import unquote, urlparse

from ..settings import MAX_GLOB_CHARS, MAX_GLOBS  # settings.py refuses more with a message

_LIT, _ANY, _STAR, _DSTAR, _DSLASH = range(5)


class Glob:
    """A compiled glob: per-token bit masks for the NFA (bit i: "the first i tokens matched")."""

    __slots__ = ("n", "lit", "any", "star", "dstar", "entry", "eps", "skip3")

    def __init__(self, glob: str) -> None:
        tokens: list[tuple[int, str]] = []
        i = 0
        while i < len(glob):
            if glob.startswith("**/", i):
                tok = (_DSLASH, "")
                i += 3
            elif glob.startswith("**", i):
                tok = (_DSTAR, "")
                i += 2
            elif glob[i] == "*":
                tok = (_STAR, "")
                i += 1
            elif glob[i] == "?":
                tok = (_ANY, "")
                i += 1
            else:
                tok = (_LIT, glob[i])
                i += 1
            # Runs of stars collapse into the widest one: they match the same paths.
            if tokens and tok[0] in (_STAR, _DSTAR) and tokens[-1][0] in (_STAR, _DSTAR):
                tokens[-1] = (max(tokens[-1][0], tok[0]), "")
                continue
            if tokens and tok[0] == _DSLASH and tokens[-1][0] == _DSLASH:
                continue
            tokens.append(tok)
        self.lit: dict[str, int] = {}
        self.any = self.star = self.dstar = self.skip3 = self.entry = 0
        k = 0
        for kind, ch in tokens:
            if kind == _DSLASH:  # (?:.*/)? : an entry that skips it all, or a "**" loop, then "/"
                self.entry |= 1 << k
                self.skip3 |= 1 << k
                self.dstar |= 1 << (k + 1)
                self.lit["/"] = self.lit.get("/", 0) | 1 << (k + 2)
                k += 3
                continue
            bit = 1 << k
            if kind == _LIT:
                self.lit[ch] = self.lit.get(ch, 0) | bit
            elif kind == _ANY:
                self.any |= bit
            elif kind == _STAR:
                self.star |= bit
            else:
                self.dstar |= bit
            k += 1
        self.n = k
        # Stars may match nothing: their state also counts as the next one.
        self.eps = self.star | self.dstar | self.entry

    def _closure(self, states: int) -> int:
        while True:
            more = states | ((states & self.eps) << 1) | ((states & self.skip3) << 3)
            if more == states:
                return states
            states = more

    def match(self, path: str) -> bool:
        states = self._closure(1)
        for ch in path:
            if ch == "/":
                advance = self.lit.get("/", 0)
                stay = self.dstar
            else:
                advance = self.lit.get(ch, 0) | self.any
                stay = self.star | self.dstar
            states = self._closure(((states & advance) << 1) | (states & stay))
            if not states:
                return False
        return bool(states >> self.n & 1)


@lru_cache(maxsize=512)
def compile_glob(glob: str) -> Glob:
    if glob.startswith("/"):
        return Glob(glob.lstrip("/"))
    if glob.startswith("**"):
        return Glob(glob)
    return Glob("**/" + glob)  # a relative glob matches at any depth


def uri_path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path or parsed.netloc or uri)


def is_excluded(uri: str, globs: tuple[str, ...] | list[str]) -> bool:
    """True when the document's path matches one of the globs (``**`` spans folders)."""
    path = uri_path(uri).lstrip("/")
    return any(compile_glob(g).match(path) for g in list(globs)[:MAX_GLOBS] if len(g) <= MAX_GLOB_CHARS)

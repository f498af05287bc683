"""A text document as a list of lines, edited in place, with LSP position encodings.

Positions inside Editloop are ``(line, character)`` with ``character`` counted in code points
(Python ``str`` indices). Clients speak UTF-16 code units by default (or UTF-8 / UTF-32 when
negotiated); :func:`to_codepoints` and :func:`from_codepoints` convert one line's column.
Line breaks are ``\\n``, ``\\r\\n`` and ``\\r`` exactly as LSP defines them.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..errors import InvalidArgument
from ..unicode import clean_text

_BREAK = re.compile(r"\r\n|\r|\n")


class Pos(NamedTuple):
    line: int
    character: int


def split_lines(text: str) -> list[str]:
    """Split keeping line ends; the result always ends with the (possibly empty) last line."""
    lines: list[str] = []
    start = 0
    for m in _BREAK.finditer(text):
        lines.append(text[start : m.end()])
        start = m.end()
    lines.append(text[start:])
    return lines


def _content_len(line: str) -> int:
    if line.endswith("\r\n"):
        return len(line) - 2
    if line.endswith(("\n", "\r")):
        return len(line) - 1
    return len(line)


def to_codepoints(line: str, column: int, encoding: str = "utf-16") -> int:
    """Convert a client column on ``line`` to a code point index (clamped to the line's content)."""
    limit = _content_len(line)
    if column <= 0:
        return 0
    if encoding == "utf-32" or line.isascii():
        return min(column, limit)
    units = 0
    for i, ch in enumerate(line[:limit]):
        if units >= column:
            return i
        o = ord(ch)
        if encoding == "utf-16":
            units += 2 if o > 0xFFFF else 1
        else:  # utf-8
            units += 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
        if units > column:  # column points inside a character: LSP says use the character's start
            return i
    return limit


def from_codepoints(line: str, character: int, encoding: str = "utf-16") -> int:
    """Convert a code point index on ``line`` to the client's column units."""
    if encoding == "utf-32" or line.isascii():
        return character
    head = line[:character]
    if encoding == "utf-16":
        return character + sum(1 for ch in head if ord(ch) > 0xFFFF)
    return len(head.encode("utf-8", "surrogatepass"))


class Document:
    """The server's copy of one open document."""

    __slots__ = ("uri", "lines", "version", "language_id", "encoding")

    def __init__(self, uri: str, text: str, *, version: int = 0, language_id: str = "", encoding: str = "utf-16") -> None:
        self.uri = uri
        self.lines = split_lines(clean_text(text))
        self.version = version
        self.language_id = language_id
        self.encoding = encoding

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def head(self, lines: int = 400) -> str:
        """The first lines of the text (what artifact-type inference looks at)."""
        return "".join(self.lines[:lines])

    def __len__(self) -> int:
        return sum(len(line) for line in self.lines)

    # -- positions ---------------------------------------------------------------------------
    def to_pos(self, line: int, character: int, *, strict: bool = True) -> Pos:
        """Client position -> code point position. Out-of-range positions raise (strict) or clamp."""
        if not isinstance(line, int) or not isinstance(character, int) or isinstance(line, bool):
            raise InvalidArgument("a position needs integer line and character")
        n = len(self.lines)
        if line < 0 or character < 0:
            raise InvalidArgument(f"position {line}:{character} is negative")
        if line >= n:
            if strict:
                raise InvalidArgument(f"position {line}:{character} is outside the document ({n} lines)")
            return Pos(n - 1, _content_len(self.lines[-1]))
        # LSP: a character past the line's end means the end of the line.
        cp = to_codepoints(self.lines[line], character, self.encoding)
        return Pos(line, cp)

    def to_client(self, pos: Pos) -> tuple[int, int]:
        return pos.line, from_codepoints(self.lines[pos.line], pos.character, self.encoding)

    def end(self) -> Pos:
        return Pos(len(self.lines) - 1, _content_len(self.lines[-1]))

    def slice(self, start: Pos, end: Pos) -> str:
        if start.line == end.line:
            return self.lines[start.line][start.character : end.character]
        parts = [self.lines[start.line][start.character :]]
        parts.extend(self.lines[start.line + 1 : end.line])
        parts.append(self.lines[end.line][: end.character])
        return "".join(parts)

    # -- edits -------------------------------------------------------------------------------
    def replace(self, start: Pos, end: Pos, text: str) -> None:
        """Replace the text between two code point positions (start <= end)."""
        text = clean_text(text)
        first, last = start.line, end.line
        # A "\r" ending the previous line and a "\n" starting the new text form one break: re-split both.
        if first > 0 and text.startswith("\n") and start.character == 0 and self.lines[first - 1].endswith("\r"):
            first -= 1
            prefix = self.lines[first]
        else:
            prefix = self.lines[first][: start.character]
        suffix = self.lines[last][end.character :]
        joined = prefix + text + suffix
        if last + 1 < len(self.lines) and joined.endswith("\r") and self.lines[last + 1].startswith("\n"):
            last += 1
            joined += self.lines[last]
        new = split_lines(joined)
        if new[-1] == "" and last + 1 < len(self.lines):
            new.pop()
        self.lines[first : last + 1] = new

"""How a tracked region's range moves through one edit.

A region is the half-open range ``[start, end)`` of code point positions. An edit replaces
``[s, e)`` with new text whose end lands at ``E``. The rules (also in the README):

* an edit entirely before the region shifts it; entirely after leaves it alone;
* an edit inside the region grows or shrinks it;
* an insertion exactly at the region's start stays outside (the region moves right);
* an insertion exactly at the region's end joins it (the user extends the AI output);
* an edit straddling the start removes the overlapped head; its new text stays outside;
* an edit straddling the end removes the overlapped tail; its new text joins the region
  (it started inside);
* an edit covering the whole region leaves it empty: all its text is deleted, which is an
  implicit reject. Replacing exactly the region's text with new text keeps the new text as the
  region (a total rewrite is an edit, not a delete).

The place a rejected region was is watched by the same rules (:func:`move_watch`), except that an
insertion into an empty place joins it: the user types their own version where the output was.

``tests/capture/test_tracker_property.py`` checks these rules against a naive offset-based
reference on random edit sequences.
"""

from __future__ import annotations

import re

from .document import Pos

_BREAK = re.compile(r"\r\n|\r|\n")


def inserted_end(start: Pos, text: str) -> Pos:
    """Where text inserted at ``start`` ends."""
    last = None
    n = 0
    for m in _BREAK.finditer(text):
        n += 1
        last = m.end()
    if n == 0:
        return Pos(start.line, start.character + len(text))
    return Pos(start.line + n, len(text) - last)


def _shift(p: Pos, e: Pos, E: Pos) -> Pos:
    if p.line == e.line:
        return Pos(E.line, E.character + p.character - e.character)
    return Pos(p.line + E.line - e.line, p.character)


def move_range(a: Pos, b: Pos, s: Pos, e: Pos, E: Pos) -> tuple[Pos, Pos]:
    """The region ``[a, b)`` after ``[s, e)`` was replaced by text ending at ``E``."""
    # start
    if a < s:
        na = a
    elif a > e:
        na = _shift(a, e, E)
    elif s < a or e == a:  # edit starts before the region, or a pure insertion at its start
        na = E
    else:  # s == a < e: the edit replaces the region's head; its text is inside
        na = s
    # end
    if b < s:
        nb = b
    elif b > e:
        nb = _shift(b, e, E)
    elif s == b and e > b:  # the edit starts where the region ends: outside
        nb = b
    else:  # s < b <= e, or a pure insertion at the end: new text joins the region
        nb = E
    if nb < na:
        nb = na
    return na, nb


def move_watch(a: Pos, b: Pos, s: Pos, e: Pos, E: Pos) -> tuple[Pos, Pos]:
    """The watched place ``[a, b)`` of a rejected region after ``[s, e)`` was replaced by text ending
    at ``E``: as :func:`move_range`, but text inserted into an empty place fills it."""
    if a == b == s == e:
        return a, E
    return move_range(a, b, s, e, E)

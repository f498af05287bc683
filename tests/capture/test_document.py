from __future__ import annotations

import pytest

from editloop.capture.document import Document, Pos, from_codepoints, split_lines, to_codepoints
from editloop.capture.exclude import is_excluded
from editloop.errors import InvalidArgument


def test_split_lines_follows_lsp_line_breaks():
    assert split_lines("a\nb\r\nc\rd") == ["a\n", "b\r\n", "c\r", "d"]
    assert split_lines("a\n") == ["a\n", ""]
    assert split_lines("") == [""]
    assert split_lines("x\x0by\u2028z") == ["x\x0by\u2028z"]  # not line breaks in LSP


@pytest.mark.parametrize("enc, col, cp", [("utf-16", 2, 1), ("utf-16", 3, 2), ("utf-8", 4, 1), ("utf-8", 6, 2), ("utf-32", 2, 2)])
def test_columns_convert_per_encoding(enc, col, cp):
    line = "😀éz\n"
    assert to_codepoints(line, col, enc) == cp
    assert from_codepoints(line, cp, enc) == col


def test_positions_outside_the_document_raise_and_long_columns_clamp():
    doc = Document("u", "ab\ncd")
    with pytest.raises(InvalidArgument, match="outside"):
        doc.to_pos(5, 0)
    assert doc.to_pos(0, 99) == Pos(0, 2)
    assert doc.to_pos(5, 0, strict=False) == Pos(1, 2)


def test_exclude_globs():
    globs = ("**/.env", "**/.env.*", "**/*.pem", "**/secrets/**", "build/*.sql")
    assert is_excluded("file:///home/u/proj/.env", globs)
    assert is_excluded("file:///home/u/proj/.env.local", globs)
    assert is_excluded("file:///home/u/proj/certs/server.pem", globs)
    assert is_excluded("file:///home/u/proj/secrets/a/b.txt", globs)
    assert is_excluded("file:///home/u/proj/build/x.sql", globs)
    assert not is_excluded("file:///home/u/proj/src/env.py", globs)
    assert not is_excluded("untitled:Untitled-1", globs)

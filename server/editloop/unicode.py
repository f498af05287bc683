"""Text that every layer can store: lone UTF-16 surrogates become U+FFFD.

JSON allows ``"\\ud800"``, so an LSP client can send a lone surrogate; Python keeps it in a
``str``, but SQLite, UTF-8 files and JSON encoders refuse it. A surrogate and U+FFFD are both
one UTF-16 code unit and one code point, so client positions are unchanged by the swap. The
language server cleans text on the way in (documents, command arguments); the store cleans
every text column again, for the Python API and any other caller.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)

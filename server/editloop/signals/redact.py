"""Secret redaction, applied before any captured text is stored or exported.

``redact(text) -> (text, count)`` replaces each secret by ``[SECRET:<type>]``. It runs for every
captured text (prompt, original, final, current), so it is built to be cheap (~20-60 us per 2 KB of
ordinary code) and only does expensive work on the few lines that could hold a secret:

1. **Private keys**: a ``-----BEGIN ... PRIVATE KEY-----`` block through its ``END`` line (or, when
   the END is missing, the base64 body that follows) is replaced whole, also inside a string with
   escaped ``\\n``.
2. **Known token formats**, found by regex over the whole text: AWS access key ids, GitHub tokens.
3. **Candidate lines**, picked by cheap prefilter regexes (a long letters-and-digits run that is not
   a hex digest or ``sha512-`` value, ``://user:pass@``, a provider hint), go through detect-secrets' line plugins
   (AWS, Azure, Slack, Stripe, Twilio, JWT, npm, PyPI, OpenAI, SendGrid, basic auth, ... and the
   quoted ``password = "..."`` keyword rule) with detect-secrets' own false-positive heuristics
   (sequential strings, UUIDs, id strings, templates, ``$VAR`` and indirect references). Its
   high-entropy plugins are left out: they flag every lockfile hash and git SHA.
4. **Secret-named assignments** on those lines: ``.env`` lines (``DB_PASSWORD=...``,
   ``export API_TOKEN=...``), YAML/JSON/code (``api_key: ...``, ``"client_secret": "..."``,
   ``apiKey = "..."``): the value is replaced when the name says password/secret (and the value is
   not a reference, placeholder or version), or when the name says key/token/auth/credential and
   the value looks random (a run of >= 16 letters-and-digits, Shannon entropy >= 3 bits/char, or a
   UUID).

Ordinary hashes (``sha512-...`` integrity strings, git SHAs), UUIDs in code and identifiers are left
alone unless assigned to a secret-sounding name. Text already redacted is left as it is (count 0).
detect-secrets (~0.2 s to import, it pulls ``requests``) is imported on the first candidate line.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, OrderedDict
from typing import Any

PLACEHOLDER = "[SECRET:{}]"

_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----"
    r"(?:.*?-----END \1-----|(?:\\n|\\r|[\sA-Za-z0-9+/=:,\-])*)",
    re.S,
)
_KNOWN: list[tuple[str, re.Pattern[str]]] = [
    # No look-behind: a pattern that starts with a literal is searched for that literal first (~1 us
    # per 2 KB instead of ~35 us); the boundary before the match is checked in Python.
    ("aws-access-key", re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("github-token", re.compile(r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})")),
]
_SECRET_WORDS = r"passw|pwd|secret|token|api_?key|apikey|access_?key|private_?key|auth|credential|key"
# Lines worth a closer look. Secret-sounding words send a line to the assignment rule (and, for
# password/secret, to detect-secrets' keyword plugin); a long run of letters and digits or a provider
# hint sends it to detect-secrets' format plugins.
# Searched with str.find in the lower-cased text: a case-insensitive alternation costs ~170 us per 2 KB.
_WORDS = ("passw", "pwd", "secret", "token", "key", "auth", "credential")
_HINT_WORDS_LOWER = ("cloudant", "softlayer", "ibm", "accountkey", "aws")
_HINT_WORDS = ("AKC", "sq0", "xox", "SG.", "eyJ")
_URL_CREDENTIALS = re.compile(r"://[^\s/:@]+:[^\s/@]+@")
_RUN = re.compile(r"[A-Za-z0-9_\-+/=]{20,}")
_HASH_PREFIX = re.compile(r"(?:sha(?:1|256|384|512)|md5)-")
_ASSIGN = re.compile(
    r"""(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)["']?[ \t]*(?P<op>=|:=|:|=>)[ \t]*"""
    r"""(?P<q>["'`]?)(?P<value>[^\s"'`,;#]+)(?P=q)(?=[\s,;#)}\]]|$)"""
)
_SECRET_NAME = re.compile(r"(?i)(?:" + _SECRET_WORDS + r")")
_STRONG_NAME = re.compile(r"(?i)passw|pwd|secret|token|api_?key|apikey|access_?key|private_?key|credential")
_PASSWORD_NAME = re.compile(r"(?i)passw|pwd|secret")
_NOT_A_NAME = re.compile(r"(?i)(?:^|[_.\-])(?:id|ids|type|name|names|length|len|size|url|uri|path|file|dir|header|field|prefix|count|format|min|max|policy|hint)$")
_REFERENCE = re.compile(r"^(?:\$|%\(|\{\{|<|process\.env|os\.environ|env\(|getenv|None$|null$|nil$|true$|false$|undefined$)", re.I)
_PLACEHOLDER_VALUE = re.compile(r"(?i)^(?:x+|\*+|\.+|-+|changeme|change_me|password|secret|example|test|dummy|todo|placeholder|your[_-].*|<.*>|\[SECRET:.*)$")
_VERSION = re.compile(r"^[\^~<>=v]*\d+(?:\.\d+)*(?:[-+.][0-9A-Za-z.]+)?$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CODE_EXPR = re.compile(r"[()\[\]{}]|^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
_ALREADY = re.compile(r"\[SECRET:[a-z0-9\-]+\]")

_lock = threading.Lock()
_ds: dict[str, Any] = {}


# The same texts come back again and again (a region's original at insert, then with its event; a
# redacted text is redacted again on the next write): remember the last results.
CACHE_SIZE = 256
CACHE_MAX_CHARS = 20_000
_cache: OrderedDict[str, tuple[str, int]] = OrderedDict()
_cache_lock = threading.Lock()


def redact(text: str) -> tuple[str, int]:
    """Replace secrets by ``[SECRET:<type>]``; return the new text and how many were replaced."""
    if not text:
        return text, 0
    if len(text) > CACHE_MAX_CHARS:
        return _redact(text)
    with _cache_lock:
        hit = _cache.get(text)
        if hit is not None:
            _cache.move_to_end(text)
            return hit
    result = _redact(text)
    with _cache_lock:
        _cache[text] = result
        if result[1]:
            _cache[result[0]] = (result[0], 0)  # redacting the output again finds nothing
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def _redact(text: str) -> tuple[str, int]:
    spans: list[tuple[int, int, str]] = []
    for m in _PRIVATE_KEY.finditer(text):
        spans.append((m.start(), m.end(), "private-key"))
    for kind, pattern in _KNOWN:
        for m in pattern.finditer(text):
            if m.start() == 0 or not (text[m.start() - 1].isalnum() or text[m.start() - 1] == "_"):
                spans.append((m.start(), m.end(), kind))
    lines: dict[int, int] = {}  # line start -> flags
    lower = text.lower()
    for word in _WORDS:
        for i in _find_all(lower, word):
            _flag(text, i, lines, _ASSIGNMENTS)
    for word in ("passw", "pwd", "secret"):  # detect-secrets' keyword plugin wants a quoted value
        for i in _find_all(lower, word):
            end = text.find("\n", i)
            if any(q in text[i : len(text) if end == -1 else end] for q in "\"'`"):
                _flag(text, i, lines, _KEYWORD)
    for word in _HINT_WORDS_LOWER:
        for i in _find_all(lower, word):
            _flag(text, i, lines, _FORMATS)
    for word in _HINT_WORDS:
        for i in _find_all(text, word):
            _flag(text, i, lines, _FORMATS)
    for i in _find_all(text, "://"):
        if _URL_CREDENTIALS.match(text, i):
            _flag(text, i, lines, _FORMATS)
    for m in _RUN.finditer(text):
        if _mixed_run(text, m):
            _flag(text, m.start(), lines, _FORMATS)
    for start, flags in lines.items():
        end = text.find("\n", start)
        _scan_line(text[start : len(text) if end == -1 else end], start, flags, spans)
    if not spans:
        return text, 0
    return _apply(text, spans)


def _apply(text: str, spans: list[tuple[int, int, str]]) -> tuple[str, int]:
    spans.sort(key=lambda s: (s[0], -s[1]))
    merged: list[tuple[int, int, str]] = []
    for s, e, kind in spans:
        if merged and s < merged[-1][1]:  # overlapping: keep the earlier, widen it
            ps, pe, pk = merged[-1]
            merged[-1] = (ps, max(pe, e), pk)
            continue
        merged.append((s, e, kind))
    out, pos, count = [], 0, 0
    for s, e, kind in merged:
        if _ALREADY.fullmatch(text, s, e):
            continue
        out.append(text[pos:s])
        out.append(PLACEHOLDER.format(kind))
        pos = e
        count += 1
    out.append(text[pos:])
    return "".join(out), count


_ASSIGNMENTS, _KEYWORD, _FORMATS = 1, 2, 4


def _find_all(hay: str, needle: str):
    i = hay.find(needle)
    while i != -1:
        yield i
        i = hay.find(needle, i + 1)


def _flag(text: str, pos: int, lines: dict[int, int], flag: int) -> None:
    start = text.rfind("\n", 0, pos) + 1
    lines[start] = lines.get(start, 0) | flag


def _mixed_run(text: str, m: re.Match[str]) -> bool:
    """A run with letters and digits that is not a plain hex digest or a ``sha512-`` integrity value."""
    run = m.group()
    if not any(c.isdigit() for c in run) or not any(c.isalpha() for c in run):
        return False
    if all(c in "0123456789abcdef" for c in run):
        return False
    return not _HASH_PREFIX.match(run) and not _HASH_PREFIX.match(text, max(0, m.start() - 7), m.start())


def _scan_line(line: str, offset: int, flags: int, spans: list[tuple[int, int, str]]) -> None:
    if len(line) > 4000:  # minified code or data: only the whole-text rules apply
        return
    if flags & _ASSIGNMENTS:
        for m in _ASSIGN.finditer(line):
            kind = _assignment_secret(m)
            if kind:
                spans.append((offset + m.start("value"), offset + m.end("value"), kind))
    if not flags & (_KEYWORD | _FORMATS):
        return
    for kind, value in _detect_secrets_line(line, keyword_only=not flags & _FORMATS):
        if _ALREADY.search(value):
            continue
        i = line.find(value)
        while i != -1:
            spans.append((offset + i, offset + i + len(value), kind))
            i = line.find(value, i + len(value))


def _assignment_secret(m: re.Match[str]) -> str | None:
    name, value, quoted = m.group("name"), m.group("value"), bool(m.group("q"))
    if not _SECRET_NAME.search(name) or _NOT_A_NAME.search(name):
        return None
    if _ALREADY.search(value) or _REFERENCE.match(value) or _PLACEHOLDER_VALUE.match(value):
        return None
    if not quoted and _CODE_EXPR.search(value):
        return None
    if _PASSWORD_NAME.search(name):
        env_style = m.group("op") == "=" and not quoted and name.upper() == name
        if (quoted or env_style or m.group("op") == ":") and len(value) >= 4 and not _VERSION.match(value):
            return "password" if re.search(r"(?i)passw|pwd", name) else "secret"
    if _looks_random(value) or (_UUID.match(value) and _STRONG_NAME.search(name)):
        return "secret-value"
    return None


def _looks_random(value: str) -> bool:
    """At least 16 characters with a run of >= 16 letters-and-digits and >= 3 bits/char of entropy."""
    if len(value) < 16:
        return False
    run = max(re.findall(r"[A-Za-z0-9+/=]+", value), key=len, default="")
    if len(run) < 16 or not any(c.isdigit() for c in run) or not any(c.isalpha() for c in run):
        return False
    return shannon_entropy(value) >= 3.0


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value`` (random base64 ~5-6, hex ~4, English words ~3-4)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


# -- detect-secrets -----------------------------------------------------------------------------
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


def _detect_secrets_line(line: str, *, keyword_only: bool = False) -> list[tuple[str, str]]:
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

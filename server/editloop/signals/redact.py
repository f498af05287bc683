"""Secret redaction, applied before any captured text is stored or exported.

``redact(text) -> (text, count)`` replaces each secret by ``[SECRET:<type>]``. It runs for every
stored text (prompt, original, final, current, model, validation messages), so it is built to be
cheap on ordinary code (one pass of two regexes and a few ``str.find`` calls; its cost per 2 KB is in
docs/benchmarks.md) and only does expensive work near
the few places that could hold a secret. Every rule is linear in the text: patterns are possessive
or bounded, work is anchored at hits found by ``str.find`` and each hit looks at most a few hundred
characters ahead, so no line is too long to be looked at and 200 KB of hostile input (one huge line,
thousands of ``BEGIN`` headers without an ``END``) takes well under a second.

1. **Private keys**: a ``-----BEGIN ... PRIVATE KEY-----`` block through its ``END`` line (or, when
   the END is missing, the base64 body that follows) is replaced whole, also inside a string with
   escaped ``\\n``.
2. **Known token formats** (``secret_formats.py``), found wherever they are (call arguments, URLs,
   prose) by their prefix and replaced whole: AWS key ids, GitHub/GitLab/npm/PyPI/Hugging Face/
   Slack/Stripe/OpenAI/Anthropic/Google/SendGrid/DigitalOcean/Shopify/Groq/... tokens, JWTs
   (signature included). A prefix only counts before enough random-looking characters
   (``sk_live_mode`` is kept).
3. **Credentials in URLs** (``scheme://user:pass@``, the user may be empty, the password may hold
   ``/``; a port is not a password), **command lines** (``docker login -p``, ``--password x``,
   ``curl -u user:pass``, ``mysql -pX``) and **Authorization headers** (``Bearer``/``Basic``).
4. **Secret-named assignments**, anchored at a secret-sounding word: ``.env``/shell
   (``DB_PASSWORD=...``), properties (``spring.datasource.password=...``), INI, YAML (``pass: ...``),
   JSON and code (``apiKey = "..."``, ``token="..."`` keyword arguments), and string literals passed
   to a secret-named call or tuple (``auth=("user", "pw")``, ``set_password(..., "pw")``). The value
   is replaced when the name says password/secret (and the value is not a reference, placeholder,
   version, type annotation or plain variable name), or when the name says key/token/auth/credential
   and the value looks random (a run of >= 16 letters-and-digits, Shannon entropy >= 3 bits/char, or
   a UUID).
5. **detect-secrets' line plugins** (``secret_plugins.py``: Azure, Twilio, Mailchimp, Square,
   Discord, IBM, ... and the quoted ``password = "..."`` keyword rule) on candidate lines picked by
   cheap prefilters (a secret-sounding word before a quote, a provider hint, a long run of letters
   and digits that is not a hex digest or ``sha512-`` value), with its own false-positive
   heuristics; its high-entropy plugins are left out (they flag every lockfile hash and git SHA). A
   line over 4,000 characters is looked at in overlapping 2,560-character windows around the hits,
   so the plugins' regexes never see more than that.

Ordinary hashes (``sha512-...`` integrity strings, git SHAs), UUIDs in code and identifiers are left
alone unless assigned to a secret-sounding name. Text already redacted is left as it is (count 0),
and a placeholder is never rewritten.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections import Counter, OrderedDict

from .secret_formats import find_tokens, mixed_classes
from .secret_plugins import detect_secrets_line, warm_up

__all__ = ["PLACEHOLDER", "redact", "shannon_entropy", "warm_up"]

PLACEHOLDER = "[SECRET:{}]"
_MARK = "[SECRET:"
_ALREADY = re.compile(r"\[SECRET:[a-z0-9\-]+\]")

# -- 1. private keys ------------------------------------------------------------------------------
_KEY_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?)-----")
_KEY_BODY = re.compile(r"(?:\\n|\\r|[\sA-Za-z0-9+/=:,\-])*+")

# -- 2. known token formats: secret_formats.py

# -- 3. URLs, command lines, Authorization headers -------------------------------------------------
_URL_CREDENTIALS = re.compile(r"://[^\s/:@\"'<>]{0,128}+:(?P<v>[^\s@\"'<>]{1,256}+)@")
_PORT = re.compile(r"\d{1,5}(?:/|$)")
_V = r"""(?:"(?P<v1>[^"\n]{1,256}+)"|'(?P<v2>[^'\n]{1,256}+)'|(?P<v3>[^\s"'`;|&]{1,256}+))"""
_CLI_PASSWORD = re.compile(r"(?:^|[ \t])-p(?:[ \t]+|=)" + _V)  # ``--password x`` anywhere: _CLI_PASSWORD_FLAG
_CLI_PASSWORD_FLAG = re.compile(r"--pass(?:word|wd)?(?:[ \t]+|=)" + _V)
_CLI_USER = re.compile(r"""(?:^|[ \t])(?:-u|--user|--proxy-user)(?:[ \t]+|=)(?P<q>["']?)[^\s:"'@]{0,128}+:(?P<v>[^\s"']{1,256}+)(?P=q)""")
_MYSQL_PASSWORD = re.compile(r"""[ \t]-p(?P<v>[^\s"'`;|&\-][^\s"'`;|&]{0,255}+)""")
_CLI_WORDS = (("login", _CLI_PASSWORD), ("sshpass", _CLI_PASSWORD), ("curl", _CLI_USER), ("wget", _CLI_USER), ("mysql", _MYSQL_PASSWORD))
_AUTH_HEADER = re.compile(
    r"""(?i)authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:basic|bearer|token|digest)[ \t]+)?(?P<v>[A-Za-z0-9._~+/\-]{12,2048}+=*)"""
)
_BEARER = re.compile(r"(?i)bearer[ \t]+(?P<v>[A-Za-z0-9._~+/\-]{16,2048}+=*)")

# -- 4. secret-named assignments -------------------------------------------------------------------
_WORDS = ("pass", "pw", "secret", "token", "key", "auth", "credential")
_NAME_RUN = re.compile(r"[A-Za-z0-9_.\-]{0,129}")
_ASSIGN_TAIL = re.compile(
    r"""["']?[ \t]*(?P<op>:=|=>|=(?!=)|:(?![:=/]))[ \t]*"""
    r"""(?:"(?P<v1>[^"\n]{1,256}+)"|'(?P<v2>[^'\n]{1,256}+)'|`(?P<v3>[^`\n]{1,256}+)`"""
    r"""|(?P<v4>[^\s"'`,;#]{1,256}+)(?=[\s,;#)}\]]|$))"""
)
_CALL_TAIL = re.compile(r"""["']?[ \t]*(?:=|:|=>)?[ \t]*[(\[{]""")
_CALL_ARGS = re.compile(r"[^)\]}\n]{0,512}+")
_STRING = re.compile(r""""(?P<v1>[^"\\\n]{1,256}+)"|'(?P<v2>[^'\\\n]{1,256}+)'""")
# ``pass``/``pw`` only as a whole word or a camel-case end: ``db_pass``, ``dbPw``, not ``compass``.
_PASSWORD_WORDS = r"(?i:passw|pwd|secret|passphrase|(?:^|[_.\-])(?:pass|pw)$)|[a-z](?:PASS|Pass|PW|Pw)$"
_PASSWORD_NAME = re.compile(_PASSWORD_WORDS)
_STRONG_NAME = re.compile(r"(?i)passw|pwd|secret|token|api_?key|apikey|access_?key|private_?key|credential")
_SECRET_NAME = re.compile(_PASSWORD_WORDS + r"|(?i:token|key|auth|credential)")
_PASSWORD_CALL = re.compile(_PASSWORD_WORDS + r"|(?i:(?:^|[_.\-])auth$)|[a-z]Auth$")  # ``auth=(...)``, ``BasicAuth(...)``
_NOT_A_NAME = re.compile(
    r"(?i)(?:^|[_.\-])(?:id|ids|type|name|names|length|len|size|url|uri|path|file|dir|header|field|fields|prefix|count|"
    r"format|min|max|policy|hint|env|var|label|message|msg|error|text|pattern|regex|template|column|param|help|"
    r"description|title|placeholder|prompt|mode|enabled|required|algorithm)$"
)
_REFERENCE = re.compile(r"^(?:\$|%\(|%s|\{|<|process\.env|os\.environ|env\(|getenv|None$|null$|nil$|true$|false$|undefined$)", re.I)
_PLACEHOLDER_VALUE = re.compile(
    r"(?i)^(?:x+|\*+|\.+|-+|changeme|change_me|password|passwd|secret|example|test|dummy|todo|placeholder|your[_-].*|<.*>|\[SECRET:.*)$"
)
_VERSION = re.compile(r"^[\^~<>=v]*\d+(?:\.\d+)*(?:[-+.][0-9A-Za-z.]+)?$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CODE_EXPR = re.compile(r"[()\[\]{}]|^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL_TYPE = re.compile(r"[A-Z][a-z0-9]+[A-Z]")
_TYPE_NAMES = frozenset("str string bool boolean int integer float number bytes any dict list object optional secretstr".split())
_ANNOTATION_END = re.compile(r"[ \t]*[=,;)|]")
_FILE_PATH = re.compile(r"^[\w./~-]*\.(?:js|cjs|mjs|ts|py|json|ya?ml|toml|ini|txt|sh|pem|key|crt|p12|pfx|jks|env)$")

# -- 5. candidate lines for detect-secrets (secret_plugins.py) -----------------------------------
_HINT_WORDS_LOWER = ("cloudant", "softlayer", "ibm", "accountkey", "aws")
_HINT_WORDS = ("AKC", "sq0", "xox", "SG.", "eyJ")
_RUN = re.compile(r"[A-Za-z0-9_\-+/=]{20,}")
_HASH_PREFIX = re.compile(r"(?:sha(?:1|256|384|512)|md5)-")
LONG_LINE, WINDOW_STEP, WINDOW_OVERLAP = 4000, 2048, 512

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


Spans = list[tuple[int, int, str]]


def _redact(text: str) -> tuple[str, int]:
    spans: Spans = []
    lower = text.lower()
    # Shared by the rules below: where the secret-sounding words are, and the long letters-and-digits
    # runs (every known token format holds one of >= 20 characters).
    hits = {word: list(_find_all(lower, word)) for word in _WORDS}
    runs = list(_RUN.finditer(text))
    _private_keys(text, spans)
    find_tokens(text, runs, spans)
    _urls_commands_headers(text, lower, hits, spans)
    _named_values(text, hits, spans)
    _detect_secrets_candidates(text, lower, hits, runs, spans)
    if not spans:
        return text, 0
    return _apply(text, spans)


def _apply(text: str, spans: Spans) -> tuple[str, int]:
    spans.sort(key=lambda s: (s[0], -s[1]))
    merged: Spans = []
    for s, e, kind in spans:
        if merged and s < merged[-1][1]:  # overlapping: keep the earlier, widen it
            ps, pe, pk = merged[-1]
            merged[-1] = (ps, max(pe, e), pk)
            continue
        merged.append((s, e, kind))
    done = [(m.start(), m.end()) for m in _ALREADY.finditer(text)] if _MARK in text else []
    out, pos, count, d = [], 0, 0, 0
    for s, e, kind in merged:
        while d < len(done) and done[d][1] <= s:
            d += 1
        if d < len(done) and done[d][0] < e:  # never rewrite (a part of) a placeholder
            continue
        out.append(text[pos:s])
        out.append(PLACEHOLDER.format(kind))
        pos = e
        count += 1
    out.append(text[pos:])
    return "".join(out), count


def _find_all(hay: str, needle: str, start: int = 0, end: int | None = None):
    end = len(hay) if end is None else end
    i = hay.find(needle, start, end)
    while i != -1:
        yield i
        i = hay.find(needle, i + 1, end)


def _line_end(text: str, i: int, limit: int) -> int:
    end = text.find("\n", i, i + limit)
    return min(len(text), i + limit) if end == -1 else end


# -- 1 ---------------------------------------------------------------------------------------------
def _private_keys(text: str, spans: Spans) -> None:
    if "-----BEGIN " not in text:
        return
    ends: dict[str, int] = {}  # label -> next END at or after the last search (-1: none left)
    covered = 0
    for m in _KEY_BEGIN.finditer(text):
        if m.start() < covered:
            continue
        marker = f"-----END {m.group(1)}-----"
        e = ends.get(marker)
        if e is None or (e != -1 and e < m.end()):
            e = ends[marker] = text.find(marker, m.end())
        end = e + len(marker) if e != -1 else _KEY_BODY.match(text, m.end()).end()
        spans.append((m.start(), end, "private-key"))
        covered = end


# -- 3 ---------------------------------------------------------------------------------------------
def _value_span(m: re.Match[str], groups: tuple[str, ...] = ("v1", "v2", "v3", "v4", "v")) -> tuple[int, int, str] | None:
    for g in groups:
        if g in m.re.groupindex and m.group(g) is not None:
            return m.start(g), m.end(g), m.group(g)
    return None


def _literal_password(value: str) -> bool:
    """Not a reference (``$VAR``, ``{pw}``, ``%s``), placeholder or empty-ish value."""
    return len(value) >= 4 and _MARK not in value and not _REFERENCE.match(value) and not _PLACEHOLDER_VALUE.match(value)


def _urls_commands_headers(text: str, lower: str, hits: dict[str, list[int]], spans: Spans) -> None:
    for i in _find_all(text, "://"):
        m = _URL_CREDENTIALS.match(text, i)
        if m and not _PORT.match(m.group("v")) and _literal_password(m.group("v")) and "{" not in m.group("v"):
            spans.append((m.start("v"), m.end("v"), "url-password"))
    flags = ("-p" in text, "-u" in text)  # every command-line rule needs one
    for word, pattern in _CLI_WORDS:
        if not flags[pattern is _CLI_USER]:
            continue
        covered = 0
        for i in _find_all(lower, word):
            if i < covered:
                continue
            covered = _line_end(text, i, 1024)
            for m in pattern.finditer(text, i, covered):
                found = _value_span(m)
                if found and _literal_password(found[2]):
                    spans.append((found[0], found[1], "password"))
    for i in hits["pass"] if flags[0] else ():
        m = _CLI_PASSWORD_FLAG.match(text, i - 2) if i >= 2 and lower.startswith("--", i - 2) else None
        found = _value_span(m) if m else None
        if found and _literal_password(found[2]):
            spans.append((found[0], found[1], "password"))
    headers = [(i, _AUTH_HEADER) for i in hits["auth"] if lower.startswith("authorization", i)]
    for i, pattern in headers + [(i, _BEARER) for i in _find_all(lower, "bearer")]:
        m = pattern.match(text, i)
        if m and mixed_classes(m.group("v")) and _MARK not in m.group("v"):
            spans.append((m.start("v"), m.end("v"), "authorization"))


# -- 4 ---------------------------------------------------------------------------------------------
def _named_values(text: str, hits: dict[str, list[int]], spans: Spans) -> None:
    positions = sorted(i for found in hits.values() for i in found)
    if not positions:
        return
    rev = text[::-1]
    n, covered, args_seen = len(text), -1, 0
    for i in positions:
        if i < covered:  # inside a name already looked at
            continue
        back = _NAME_RUN.match(rev, n - i).end() - (n - i)
        end = _NAME_RUN.match(text, i).end()
        covered = end
        if back > 128 or end - i > 128:
            continue
        start = i - back
        name = text[start:end].strip(".-")
        if not name or not _SECRET_NAME.search(name) or _NOT_A_NAME.search(name):
            continue
        m = _ASSIGN_TAIL.match(text, end)
        if m:
            found = _value_span(m)
            kind = _assignment_secret(text, name, m, found[2], quoted=m.group("v4") is None) if found else None
            if kind:
                s, e = _strip_scheme(found[0], found[1], found[2])
                spans.append((s, e, kind))
            continue
        c = _CALL_TAIL.match(text, end)
        if c and c.end() >= args_seen:  # (a nested call's arguments are looked at once)
            args_seen = _call_arguments(text, name, c.end(), spans, mapping=text[c.end() - 1] == "{")


def _strip_scheme(s: int, e: int, value: str) -> tuple[int, int]:
    """``Bearer abc...`` -> the span of ``abc...``."""
    head, sep, rest = value.partition(" ")
    if sep and head.lower() in ("bearer", "basic", "token", "digest") and rest:
        return s + len(head) + 1, e
    return s, e


def _assignment_secret(text: str, name: str, m: re.Match[str], value: str, *, quoted: bool) -> str | None:
    if _MARK in value or _REFERENCE.match(value) or _PLACEHOLDER_VALUE.match(value) or _FILE_PATH.match(value):
        return None
    if not quoted and _CODE_EXPR.search(value):
        return None
    if _PASSWORD_NAME.search(name):
        if len(value) >= 4 and not _VERSION.match(value) and value.count(" ") <= 3 and (quoted or _bare_password(text, name, m, value)):
            return "password" if re.search(r"(?i)pass|pw", name) else "secret"
    if _looks_random(value) or (_UUID.match(value) and _STRONG_NAME.search(name)):
        return "secret-value"
    return None


def _bare_password(text: str, name: str, m: re.Match[str], value: str) -> bool:
    """An unquoted value after a password name: a literal password, or code (a variable, a type)?"""
    if not _IDENTIFIER.fullmatch(value) or any(c.isdigit() for c in value):
        return True  # symbols or digits: not a plain name (``Sup3rS3cret!``, ``hunter2hunter2``)
    if value.lower() in _TYPE_NAMES:
        return False
    op = m.group("op")
    if op == ":":  # YAML ``pass: hunter`` vs an annotation ``password: SecretStr = ...``
        return not _CAMEL_TYPE.match(value) and not _ANNOTATION_END.match(text, m.end())
    if name.upper() == name and op == "=":  # .env / shell
        return True
    # properties (``db.password=hunter``), not code (``self.password = hunter``)
    return ("." in name or "-" in name) and text[m.start() : m.start("v4")] == "=" and not name.startswith(("self.", "this."))


def _call_arguments(text: str, name: str, start: int, spans: Spans, *, mapping: bool) -> int:
    """String literals passed to a secret-named call, tuple or list: ``auth=("user", "pw")``.

    A password-named call's last literal is its password; any random-looking literal counts (in a
    ``{...}`` mapping only those: its keys name the other values). Returns where the arguments end.
    """
    end = _CALL_ARGS.match(text, start).end()
    literals = list(_STRING.finditer(text, start, end))
    password = not mapping and _PASSWORD_CALL.search(name)
    for k, m in enumerate(literals):
        s, e, value = _value_span(m)
        if _MARK in value or _REFERENCE.match(value):
            continue
        if password and k == len(literals) - 1 and " " not in value and _literal_password(value) and not _plain_word(value):
            spans.append((s, e, "password"))
        elif _looks_random(value):
            spans.append((s, e, "secret-value"))
    return end


def _plain_word(value: str) -> bool:
    """A name, not a password: letters and ``_`` only (``redact_secrets``), or a file path."""
    return bool(_IDENTIFIER.fullmatch(value) and not any(c.isdigit() for c in value)) or bool(_FILE_PATH.match(value))


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


# -- 5 ---------------------------------------------------------------------------------------------
_KEYWORD, _FORMATS = 2, 4


def _detect_secrets_candidates(text: str, lower: str, hits: dict[str, list[int]], runs: list[re.Match[str]], spans: Spans) -> None:
    newlines: list[int] | None = None
    windows: dict[tuple[int, int], int] = {}

    def flag(pos: int, what: int) -> None:
        nonlocal newlines
        if newlines is None:
            newlines = [i for i in _find_all(text, "\n")]
        k = bisect.bisect_left(newlines, pos)
        start = newlines[k - 1] + 1 if k else 0
        end = newlines[k] if k < len(newlines) else len(text)
        if end - start > LONG_LINE:  # a window of the line around the hit, never the whole line
            start += (pos - start) // WINDOW_STEP * WINDOW_STEP
            end = min(end, start + WINDOW_STEP + WINDOW_OVERLAP)
        windows[(start, end)] = windows.get((start, end), 0) | what

    keyword_hits = [i for i in hits["pass"] if lower.startswith("passw", i)] + [i for i in hits["pw"] if lower.startswith("pwd", i)] + hits["secret"]
    for i in keyword_hits:  # detect-secrets' keyword plugin wants a quoted value
        end = _line_end(text, i, WINDOW_OVERLAP)
        if any(text.find(q, i, end) != -1 for q in "\"'`"):
            flag(i, _KEYWORD)
    for word in _HINT_WORDS_LOWER:
        for i in _find_all(lower, word):
            flag(i, _FORMATS)
    for word in _HINT_WORDS:
        for i in _find_all(text, word):
            flag(i, _FORMATS)
    for m in runs:
        if _mixed_run(text, m):
            flag(m.start(), _FORMATS)
    for (start, end), flags in windows.items():
        _scan_line(text[start:end], start, flags, spans)


def _mixed_run(text: str, m: re.Match[str]) -> bool:
    """A run with letters and digits that is not a plain hex digest or a ``sha512-`` integrity value."""
    run = m.group()
    if not any(c.isdigit() for c in run) or not any(c.isalpha() for c in run):
        return False
    if all(c in "0123456789abcdef" for c in run):
        return False
    return not _HASH_PREFIX.match(run) and not _HASH_PREFIX.match(text, max(0, m.start() - 7), m.start())


def _scan_line(line: str, offset: int, flags: int, spans: Spans) -> None:
    for kind, value in detect_secrets_line(line, keyword_only=not flags & _FORMATS):
        if _MARK in value or _FILE_PATH.match(value):
            continue
        for i in _find_all(line, value):
            spans.append((offset + i, offset + i + len(value), kind))

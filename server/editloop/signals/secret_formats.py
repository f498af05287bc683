"""Known token formats, found by their prefix and taken whole (rule 2 of ``redact``).

Each format is a literal prefix and a pattern matched at it: AWS key ids, GitHub/GitLab/npm/PyPI/
Hugging Face/Slack/Stripe/OpenAI/Anthropic/Google/SendGrid/DigitalOcean/Shopify/Groq/... tokens and
JWTs (signature included). Every body is possessive: a token is taken whole, with no backtracking. A
prefix counts only before enough random-looking characters (``sk_live_mode`` is a name, not a key).
"""

from __future__ import annotations

import re
from typing import Any

# (kind, prefixes, pattern matched at the prefix, needs two of lower/upper/digit after the prefix).
_B = r"[A-Za-z0-9]"
_TOKENS: list[tuple[str, tuple[str, ...], str, bool]] = [
    ("aws-access-key", ("AKIA", "ASIA", "ABIA", "ACCA"), r"A[A-Z]{3}[0-9A-Z]{16}(?![0-9A-Z])", False),
    ("github-token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), r"gh[pousr]_" + _B + "{30,}+", True),
    ("github-token", ("github_pat_",), r"github_pat_[A-Za-z0-9_]{22,}+", True),
    ("gitlab-token", ("glpat-", "glptt-", "gldt-", "glrt-"), r"gl[a-z]{2,3}-[A-Za-z0-9_\-]{20,}+", True),
    ("stripe-key", ("sk_live_", "sk_test_", "rk_live_", "rk_test_"), r"[sr]k_(?:live|test)_" + _B + r"{12,}+(?![_\-])", True),
    ("stripe-key", ("whsec_",), r"whsec_[A-Za-z0-9+/=]{24,}+", True),
    # sk-proj-, sk-svcacct-, sk-admin-, sk-ant-api03-, sk-or-v1-..., and the legacy sk-<48 alnum>.
    ("openai-key", ("sk-",), r"sk-(?:(?:proj|svcacct|admin|None|or-v1|ant-[a-z]+\d\d)-[A-Za-z0-9_\-]{20,}+|" + _B + r"{32,}+(?![_\-]))", True),
    ("slack-token", ("xox",), r"xox[abposre]-[A-Za-z0-9\-]{16,}+", True),
    ("slack-token", ("xapp-",), r"xapp-\d-[A-Za-z0-9\-]{16,}+", True),
    ("slack-webhook", ("hooks.slack.com/services/",), r"hooks\.slack\.com/services/[A-Za-z0-9/]{20,}+", True),
    ("huggingface-token", ("hf_",), r"hf_" + _B + r"{30,}+(?![_\-])", True),
    ("google-api-key", ("AIza",), r"AIza[0-9A-Za-z_\-]{30,}+", True),
    ("google-oauth", ("GOCSPX-",), r"GOCSPX-[A-Za-z0-9_\-]{20,}+", True),
    ("google-oauth", ("ya29.",), r"ya29\.[A-Za-z0-9_\-]{20,}+", True),
    ("npm-token", ("npm_",), r"npm_" + _B + r"{36,}+", True),
    ("pypi-token", ("pypi-AgE",), r"pypi-AgE[A-Za-z0-9_\-]{40,}+", True),
    ("jwt", ("eyJ",), r"eyJ[A-Za-z0-9_\-]{8,}+\.[A-Za-z0-9_\-]{2,}+(?:\.[A-Za-z0-9_\-]*+){0,3}", True),
    ("sendgrid-key", ("SG.",), r"SG\.[A-Za-z0-9_\-]{16,}+\.[A-Za-z0-9_\-]{16,}+", True),
    ("digitalocean-token", ("dop_v1_", "doo_v1_", "dor_v1_"), r"do[opr]_v1_[a-f0-9]{64}", False),
    ("shopify-token", ("shpat_", "shpss_", "shpca_", "shppa_"), r"shp[a-z]{2}_[a-fA-F0-9]{32}", False),
    ("groq-key", ("gsk_",), r"gsk_" + _B + r"{40,}+", True),
    ("replicate-token", ("r8_",), r"r8_" + _B + r"{30,}+", True),
    ("perplexity-key", ("pplx-",), r"pplx-" + _B + r"{40,}+", True),
    ("xai-key", ("xai-",), r"xai-" + _B + r"{60,}+", True),
    ("linear-key", ("lin_api_",), r"lin_api_" + _B + r"{30,}+", True),
    ("atlassian-token", ("ATATT3",), r"ATATT3[A-Za-z0-9_\-=]{50,}+", True),
    ("square-token", ("sq0atp-", "sq0csp-"), r"sq0(?:atp|csp)-[A-Za-z0-9_\-]{22,}+", True),
    ("age-secret-key", ("AGE-SECRET-KEY-",), r"AGE-SECRET-KEY-1[0-9A-Z]{50,}+", False),
]


def _trie(words: list[str]) -> str:
    """One regex for many literal prefixes, factored by shared beginnings (as cheap as one literal)."""
    root: dict[str, Any] = {}
    for w in words:
        node = root
        for c in w:
            node = node.setdefault(c, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = [re.escape(c) + emit(sub) for c, sub in sorted(node.items()) if c]
        if "" in node:  # a shorter prefix ends here: match it (a longer one is not needed to find it)
            return ""
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(root)


_TOKEN_BY_PREFIX = {p: (kind, re.compile(rx), classes) for kind, prefixes, rx, classes in _TOKENS for p in prefixes}
_TOKEN_PREFIX = re.compile(_trie(list(_TOKEN_BY_PREFIX)))


def _word_start(text: str, i: int) -> bool:
    return i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")


def mixed_classes(value: str) -> bool:
    """At least two of lower-case, upper-case and digits: random, not a word or an identifier."""
    return (any(c.islower() for c in value) + any(c.isupper() for c in value) + any(c.isdigit() for c in value)) >= 2


def find_tokens(text: str, runs: list[re.Match[str]], spans: list[tuple[int, int, str]]) -> None:
    """Append ``(start, end, kind)`` for each known token in ``text``.

    Every format holds a run of >= 20 letters, digits and ``_-+/=``; ``runs`` are those of the text
    (a few per 2 KB of code). Prefixes are searched in the runs only, from a little before each
    (``SG.``, ``ya29.``, ``hooks.slack.com/``: the run may start after a dot).
    """
    covered = 0
    for run in runs:
        for m in _TOKEN_PREFIX.finditer(text, max(covered, run.start() - 16), run.end()):
            i = m.start()
            if not _word_start(text, i) and m.group() != "hooks.slack.com/services/":
                continue
            kind, pattern, classes = _TOKEN_BY_PREFIX[m.group()]
            t = pattern.match(text, i)
            if t and (not classes or mixed_classes(t.group()[len(m.group()) :])):
                spans.append((i, t.end(), "anthropic-key" if t.group().startswith("sk-ant-") else kind))
        covered = run.end()

"""Sentence BLEU and chrF of the model's output (hypothesis) against what the user kept (reference).

Scores are sacrebleu's (``sentence_bleu``: 13a tokenizer, ``exp`` smoothing, effective order; ``chrF``:
character 6-grams, beta 2, whitespace removed), 0..100, and the final formulas are sacrebleu's own
(``BLEU.compute_bleu`` and ``CHRF._compute_f_score``). Only the n-gram statistics are computed
here, incrementally: an edit leaves most of a text unchanged, and every n-gram lying entirely inside
an aligned unchanged block occurs identically on both sides, so for n-gram multisets
``hyp = A + X`` and ``ref = A + Y``::

    sum_g min(hyp[g], ref[g]) = |A| + sum_g min(X[g], Y[g])

which holds for *any* alignment of identical blocks. Only the n-grams touching changed text are
counted (X and Y), which makes a 2 KB pair with a few edits much cheaper than ``sentence_score``
(measured in docs/benchmarks.md) while giving the same numbers (``tests/signals/test_overlap.py`` compares them).

sacrebleu is imported on first use (~60 ms), not at module import. sacrebleu's tokenizers keep an
unbounded-looking ``lru_cache`` of 65,536 whole inputs; a long-running server must not, so the 13a
tokenizer is re-implemented here (same tokens: the tests compare it with sacrebleu's on 100k strings).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any

from rapidfuzz.distance import Indel

from .similarity import line_opcodes, split_lines

BLEU_ORDER = 4
CHRF_ORDER = 6

_lock = threading.Lock()
_state: dict[str, Any] = {}


def _sacrebleu() -> dict[str, Any]:
    if not _state:
        with _lock:
            if not _state:
                from sacrebleu.metrics import BLEU, CHRF

                _state["chrf"] = CHRF()
                _state["bleu"] = BLEU(effective_order=True)  # sentence_bleu's settings
    return _state


# sacrebleu's 13a tokenizer (``tokenizers/tokenizer_13a.py`` + ``tokenizer_re.py``), re-written for speed:
# its first rule puts spaces around every character of this set (a regex with a back-reference, slower
# than ``str.translate``: docs/benchmarks.md); spaces themselves need none, since the result is split on whitespace.
_SPACED = {ord(c): f" {c} " for c in '!"#$%&()*+/:;<=>?@[\\]^_`{|}~'}
_PERIOD_AFTER_NON_DIGIT = re.compile(r"([^0-9])([\.,])")
_PERIOD_BEFORE_NON_DIGIT = re.compile(r"([\.,])([^0-9])")
_DASH_AFTER_DIGIT = re.compile(r"([0-9])(-)")


def _tokenize_line(line: str) -> list[str]:
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    line = f" {line} ".translate(_SPACED)
    if "." in line or "," in line:
        line = _PERIOD_AFTER_NON_DIGIT.sub(r"\1 \2 ", line)
        line = _PERIOD_BEFORE_NON_DIGIT.sub(r" \1 \2", line)
    if "-" in line:
        line = _DASH_AFTER_DIGIT.sub(r"\1 \2 ", line)
    return line.split()


def _logical_lines(text: str) -> list[str]:
    """Lines as 13a sees them: ``-\n`` joins a line to the next one."""
    out: list[str] = []
    pending = ""
    lines = text.rstrip().replace("<skipped>", "").split("\n")
    last = len(lines) - 1
    for i, line in enumerate(lines):
        if i < last and line.endswith("-"):
            pending += line[:-1]
        else:
            out.append(pending + line)
            pending = ""
    return out


def tokenize_13a(text: str, cache: dict[str, list[str]] | None = None) -> list[str]:
    """sacrebleu's 13a tokens of ``text`` (as ``BLEU._preprocess_segment``), without its global cache.

    13a turns line breaks into spaces and its rules only look at neighbouring characters, so the
    text is tokenized line by line; ``cache`` lets the lines that the two sides share be tokenized once.
    """
    tokens: list[str] = []
    for line in _logical_lines(text):
        if cache is None:
            tokens.extend(_tokenize_line(line))
            continue
        got = cache.get(line)
        if got is None:
            got = cache[line] = _tokenize_line(line)
        tokens.extend(got)
    return tokens


def _outside_starts(length: int, n: int, equal: list[tuple[int, int]]) -> list[int]:
    """Start offsets of the length-``n`` windows of a sequence that are not inside one ``equal`` interval."""
    last = length - n  # last valid start
    if last < 0:
        return []
    out: list[int] = []
    pos = 0
    for s, e in equal:  # sorted, disjoint
        skip_to = e - n + 1  # starts in [s, e-n] are inside
        if skip_to <= s:
            continue
        out.extend(range(pos, min(s, last + 1)))
        pos = max(pos, skip_to)
    out.extend(range(pos, last + 1))
    return out


def _stats(h: Any, r: Any, h_eq: list[tuple[int, int]], r_eq: list[tuple[int, int]], n: int, join) -> tuple[int, int, int]:
    """(hyp count, ref count, clipped matches) of order-``n`` n-grams, counting only the changed ones."""
    nh, nr = max(0, len(h) - n + 1), max(0, len(r) - n + 1)
    hs = _outside_starts(len(h), n, h_eq)
    rs = _outside_starts(len(r), n, r_eq)
    x = Counter([join(h[i : i + n]) for i in hs])
    y = Counter([join(r[i : i + n]) for i in rs])
    common = nh - len(hs)
    if len(x) > len(y):
        x, y = y, x
    for g, c in x.items():
        d = y.get(g)
        if d:
            common += c if c < d else d
    return nh, nr, common


def _equal_intervals(a_units: list[int], b_units: list[int], opcodes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Map ``equal`` blocks of a line alignment to intervals of unit offsets (cumulative sizes per line)."""
    a_eq, b_eq = [], []
    for tag, a0, a1, b0, b1 in opcodes:
        if tag == "equal" and a_units[a1] > a_units[a0]:
            a_eq.append((a_units[a0], a_units[a1]))
            b_eq.append((b_units[b0], b_units[b1]))
    return a_eq, b_eq


def chrf(hypothesis: str, reference: str) -> float:
    """sacrebleu chrF (0..100) of ``hypothesis`` against one ``reference``."""
    metric = _sacrebleu()["chrf"]
    if hypothesis == reference:
        return 100.0 if "".join(hypothesis.split()) else 0.0
    a_lines, b_lines = split_lines(hypothesis), split_lines(reference)
    a_strip = ["".join(line.split()) for line in a_lines]
    b_strip = ["".join(line.split()) for line in b_lines]
    a_units, b_units = [0], [0]
    for s in a_strip:
        a_units.append(a_units[-1] + len(s))
    for s in b_strip:
        b_units.append(b_units[-1] + len(s))
    h, r = "".join(a_strip), "".join(b_strip)
    a_eq, b_eq = _equal_intervals(a_units, b_units, line_opcodes(a_lines, b_lines))
    stats: list[int] = []
    for n in range(1, CHRF_ORDER + 1):
        nh, nr, m = _stats(h, r, a_eq, b_eq, n, _ident)
        stats.extend([nh if nr else 0, nr, m])  # as CHRF._get_match_statistics
    return float(metric._compute_f_score(stats))


def bleu(hypothesis: str, reference: str) -> float:
    """sacrebleu sentence BLEU (0..100) of ``hypothesis`` against one ``reference``."""
    metric = _sacrebleu()["bleu"]
    lines: dict[str, list[str]] = {}
    h, r = tokenize_13a(hypothesis, lines), tokenize_13a(reference, lines)
    if h == r:
        return 100.0 if h else 0.0
    if h and r:
        eq = [(op.src_start, op.src_end, op.dest_start, op.dest_end) for op in Indel.opcodes(h, r) if op.tag == "equal"]
    else:
        eq = []
    h_eq = [(a0, a1) for a0, a1, _, _ in eq]
    r_eq = [(b0, b1) for _, _, b0, b1 in eq]
    correct, total = [], []
    for n in range(1, BLEU_ORDER + 1):
        nh, _nr, m = _stats(h, r, h_eq, r_eq, n, tuple)
        total.append(nh)
        correct.append(m)
    score = metric.compute_bleu(
        correct=correct,
        total=total,
        sys_len=len(h),
        ref_len=len(r),
        smooth_method=metric.smooth_method,
        smooth_value=metric.smooth_value,
        effective_order=metric.effective_order,
        max_ngram_order=metric.max_ngram_order,
    )
    return float(score.score)


def _ident(x: Any) -> Any:
    return x

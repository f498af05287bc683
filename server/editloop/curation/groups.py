"""Near-duplicate prompt groups: events whose prompts say the same thing never straddle the split.

Prompts are first normalized (lower case, words only): identical normalized prompts are one
group. Distinct normalized prompts are then clustered with MinHash LSH over their word bigrams
(24 hashes in 6 bands of 4, vectorized with numpy: a pair with Jaccard 0.8 collides in some band
with probability 0.96, one with 0.9 with 0.999); a candidate pair is joined when all 24 MinHash
values agree (a pair below 0.8 Jaccard does so with probability < 1%) or else when the exact
Jaccard similarity of the two bigram (hash) sets reaches ``threshold``. Bigrams rather than words:
templated prompts share most of their words but few word pairs. Groups are the connected
components (vectorized label propagation); a group's key is its smallest normalized prompt, so it
does not depend on the order of events. Events without a prompt are grouped by their output text.
"""

from __future__ import annotations

from typing import Callable

from .events import Ev, normalize_text, stable_hash

_BANDS, _ROWS = 6, 4
_HASHES = _BANDS * _ROWS


def _jaccard_ints(a: set[int], b: set[int]) -> float:
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter) if (a or b) else 1.0


def _mix(v):
    """Multiply-xorshift: uint64 multiplication wraps, so this scrambles the order of hashes."""
    import numpy as np

    return v ^ (v >> np.uint64(29))


def cluster_prompts(prompts: list[str], threshold: float = 0.8) -> list[int]:
    """For distinct normalized prompts, the index of each one's cluster representative."""
    n = len(prompts)
    if n < 2 or threshold > 1.0:
        return list(range(n))
    nonempty = [i for i, p in enumerate(prompts) if p]
    if len(nonempty) < 2:
        return list(range(n))
    H, offsets, lens = _bigram_hashes([prompts[i] for i in nonempty])
    sig = _signatures(H, offsets)
    lo, hi = _candidate_pairs(sig)

    def bigrams_of(j: int) -> set[int]:
        start = int(offsets[j])
        return set(H[start:start + int(lens[j]) - 1].tolist())

    u, v = _joined_pairs(sig, lo, hi, bigrams_of, threshold)
    labels = _components(len(nonempty), u, v)
    rep = list(range(n))
    for j, lab in enumerate(labels.tolist()):
        rep[nonempty[j]] = nonempty[lab]
    return rep


def _bigram_hashes(prompts: list[str]):
    """(H, offsets, lens): the 64-bit hash of every word bigram of the (non-empty) prompts, one flat
    array; prompt j's bigrams are ``H[offsets[j]:offsets[j] + lens[j] - 1]``.

    Normalized prompts are words joined by single spaces: one split gives every word of every
    prompt, each prompt preceded by a start marker. Bigram i is (word i, word i + 1); the bigram
    from a prompt's last word to the next prompt's marker is masked out later (:func:`_signatures`)."""
    import numpy as np

    lens = np.fromiter((p.count(" ") + 2 for p in prompts), dtype=np.int64, count=len(prompts))
    flat = " ".join("\x00 " + p for p in prompts).split(" ")
    vocab = {w: stable_hash(w) for w in dict.fromkeys(flat)}
    W = np.fromiter(map(vocab.__getitem__, flat), dtype=np.uint64, count=len(flat))
    H = np.empty_like(W)
    H[:-1] = (W[:-1] * np.uint64(1_000_003)) ^ W[1:]
    offsets = np.concatenate(([0], np.cumsum(lens)[:-1]))
    H[-1] = 0
    return H, offsets, lens


def _signatures(H, offsets):
    """The MinHash signature of each prompt: ``_HASHES`` rows, one column per prompt; the bigrams
    that cross from one prompt into the next are masked out with the largest hash."""
    import numpy as np

    crossing = np.concatenate((offsets[1:] - 1, [len(H) - 1]))
    rng = np.random.default_rng(12345)
    a = rng.integers(1, 2**63, size=_HASHES, dtype=np.uint64) | np.uint64(1)  # odd: a bijection mod 2**64
    b = rng.integers(0, 2**63, size=_HASHES, dtype=np.uint64)
    sig = np.empty((_HASHES, len(offsets)), dtype=np.uint64)
    top = np.iinfo(np.uint64).max
    for k in range(_HASHES):
        values = _mix((H ^ b[k]) * a[k])  # one random-looking permutation of the 64-bit hashes per k
        values[crossing] = top
        sig[k] = np.minimum.reduceat(values, offsets)
    return sig


def _candidate_pairs(sig):
    """(lo, hi): the distinct pairs of prompts (lo < hi) whose signatures agree on some band."""
    import numpy as np

    firsts, others = [], []
    for band in range(_BANDS):
        rows = sig[band * _ROWS:(band + 1) * _ROWS]
        key = rows[0].copy()  # one 64-bit key per prompt and band
        for r in rows[1:]:
            key = key * np.uint64(1_000_003) ^ r
        order = np.argsort(key, kind="stable")
        sk = key[order]
        same = np.nonzero(sk[1:] == sk[:-1])[0]
        firsts.append(order[same])
        others.append(order[same + 1])
    f, o = np.concatenate(firsts), np.concatenate(others)
    lo, hi = np.minimum(f, o), np.maximum(f, o)
    m = sig.shape[1]
    pair = np.unique(lo * np.int64(m) + hi)
    return pair // m, pair % m


def _joined_pairs(sig, lo, hi, bigrams_of: Callable[[int], set[int]], threshold: float):
    """(u, v): the candidate pairs that are joined. All 24 MinHash values equal: Jaccard >= 0.8 with
    near certainty (P < 1e-2 below 0.8); the other candidates are decided by the exact Jaccard of
    their bigram (hash) sets, ``bigrams_of(j)`` computed once per prompt."""
    import numpy as np

    sure = (sig[:, lo] == sig[:, hi]).all(axis=0)
    sets: dict[int, set[int]] = {}

    def bigrams(j: int) -> set[int]:
        if j not in sets:
            sets[j] = bigrams_of(j)
        return sets[j]

    checked = [(x, y) for x, y in zip(lo[~sure].tolist(), hi[~sure].tolist())
               if _jaccard_ints(bigrams(x), bigrams(y)) >= threshold]
    u = np.concatenate((lo[sure], np.asarray([x for x, _ in checked], dtype=np.int64)))
    v = np.concatenate((hi[sure], np.asarray([y for _, y in checked], dtype=np.int64)))
    return u, v


def _components(n: int, u, v):
    """Connected components of an edge list: each node's label is the smallest node of its component
    (min-label propagation with pointer jumping, vectorized)."""
    import numpy as np

    labels = np.arange(n)
    if len(u) == 0:
        return labels
    while True:
        old = labels.copy()
        np.minimum.at(labels, u, labels[v])
        np.minimum.at(labels, v, labels[u])
        labels = labels[labels]
        if np.array_equal(labels, old):
            return labels


def assign_groups(events: list[Ev], threshold: float = 0.8) -> None:
    """Set ``ev.group`` for every event (same artifact type and near-identical prompt = one group)."""
    distinct: dict[str, int] = {}
    for ev in events:
        if ev.norm_prompt and ev.norm_prompt not in distinct:
            distinct[ev.norm_prompt] = len(distinct)
    prompts = sorted(distinct)  # order-independent representatives
    rep = cluster_prompts(prompts, threshold)
    members: dict[int, str] = {}
    for i, r in enumerate(rep):
        members.setdefault(r, prompts[i])  # sorted: the first seen is the smallest
    key_of = {p: members[rep[i]] for i, p in enumerate(prompts)}
    for ev in events:
        if ev.norm_prompt:
            ev.group = f"{ev.artifact_type}|p|{key_of[ev.norm_prompt]}"
        else:
            ev.group = f"{ev.artifact_type}|t|{stable_hash(normalize_text(ev.original)):08x}"

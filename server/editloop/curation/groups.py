"""Near-duplicate prompt groups: events whose prompts say the same thing never straddle the split.

Prompts are first normalized (lower case, words only): identical normalized prompts are one
group. Distinct normalized prompts are then clustered with MinHash LSH over their word sets
(24 hashes in 4 bands of 6, vectorized with numpy: pairs above ~0.8 Jaccard collide in some band
with high probability); a candidate pair is joined when the share of the 24 MinHash values it
shares (an unbiased estimate of the Jaccard similarity of the word sets) reaches ``threshold``. Groups are the
connected components (union-find); a group's key is its smallest normalized prompt, so it does
not depend on the order of events. Events without a prompt are grouped by their output text.
"""

from __future__ import annotations

from .events import Ev, normalize_text, stable_hash

_BANDS, _ROWS = 4, 6
_HASHES = _BANDS * _ROWS
_PRIME = (1 << 61) - 1
_MASK = (1 << 31) - 1


def shingles(norm_prompt: str) -> frozenset[str]:
    """The set of words of a normalized prompt (what near-duplicate similarity compares)."""
    return frozenset(norm_prompt.split())


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        p = self.parent
        while p[i] != i:
            p[i] = p[p[i]]
            i = p[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def cluster_prompts(prompts: list[str], threshold: float = 0.8) -> list[int]:
    """For distinct normalized prompts, the index of each one's cluster representative."""
    n = len(prompts)
    uf = _UnionFind(n)
    if n < 2 or threshold > 1.0:
        return list(range(n))
    import numpy as np

    nonempty = [i for i, p in enumerate(prompts) if p]
    if len(nonempty) < 2:
        return list(range(n))
    # normalized prompts are words joined by single spaces: one split gives every word of every prompt
    lens = np.fromiter((prompts[i].count(" ") + 1 for i in nonempty), dtype=np.int64, count=len(nonempty))
    flat = " ".join(prompts[i] for i in nonempty).split(" ")
    vocab = {w: stable_hash(w) for w in dict.fromkeys(flat)}
    H = np.fromiter(map(vocab.__getitem__, flat), dtype=np.uint64, count=len(flat))
    offsets = np.concatenate(([0], np.cumsum(lens)[:-1]))
    rng = np.random.default_rng(12345)
    a = rng.integers(1, _MASK, size=_HASHES, dtype=np.uint64)
    b = rng.integers(0, _MASK, size=_HASHES, dtype=np.uint64)
    sig = np.empty((_HASHES, len(nonempty)), dtype=np.uint64)
    for k in range(_HASHES):
        sig[k] = np.minimum.reduceat((a[k] * H + b[k]) % np.uint64(_PRIME), offsets)
    idx = np.asarray(nonempty)
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
    if not firsts:
        return list(range(n))
    f, o = np.concatenate(firsts), np.concatenate(others)
    # verify candidates by the share of all signature rows that agree (an unbiased Jaccard estimate)
    agree = (sig[:, f] == sig[:, o]).mean(axis=0)
    keep = agree >= threshold
    for x, y in zip(idx[f[keep]].tolist(), idx[o[keep]].tolist()):
        uf.union(x, y)
    return [uf.find(i) for i in range(n)]


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

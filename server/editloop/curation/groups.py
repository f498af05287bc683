"""Near-duplicate prompt groups: events whose prompts say the same thing never straddle the split.

Prompts are first normalized (lower case, words only): identical normalized prompts are one
group. Distinct normalized prompts are then clustered with MinHash LSH over word bigrams
(15 hashes in 3 bands of 5, vectorized with numpy); a candidate pair found in a band is joined
when the exact Jaccard similarity of their shingle sets reaches ``threshold``. Groups are the
connected components (union-find); a group's key is its smallest normalized prompt, so it does
not depend on the order of events. Events without a prompt are grouped by their output text.
"""

from __future__ import annotations

from .events import Ev, normalize_text, stable_hash

_BANDS, _ROWS = 3, 5
_PRIME = (1 << 61) - 1
_MASK = (1 << 31) - 1


def shingles(norm_prompt: str) -> frozenset[str]:
    words = norm_prompt.split()
    if len(words) < 2:
        return frozenset(words)
    return frozenset(a + " " + b for a, b in zip(words, words[1:]))


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

    sets = [shingles(p) for p in prompts]
    token_ids: dict[str, int] = {}
    flat: list[int] = []
    starts: list[int] = []
    nonempty: list[int] = []
    for i, s in enumerate(sets):
        if not s:
            continue
        starts.append(len(flat))
        nonempty.append(i)
        for tok in s:
            h = token_ids.get(tok)
            if h is None:
                h = token_ids[tok] = stable_hash(tok)
            flat.append(h)
    if len(nonempty) < 2:
        return list(range(n))
    H = np.asarray(flat, dtype=np.uint64)
    offsets = np.asarray(starts, dtype=np.int64)
    rng = np.random.default_rng(12345)
    a = rng.integers(1, _MASK, size=_BANDS * _ROWS, dtype=np.uint64)
    b = rng.integers(0, _MASK, size=_BANDS * _ROWS, dtype=np.uint64)
    sig = np.empty((_BANDS * _ROWS, len(nonempty)), dtype=np.uint64)
    for k in range(_BANDS * _ROWS):
        sig[k] = np.minimum.reduceat((a[k] * H + b[k]) % np.uint64(_PRIME), offsets)
    idx = np.asarray(nonempty)
    for band in range(_BANDS):
        rows = sig[band * _ROWS:(band + 1) * _ROWS]
        # one 64-bit key per prompt and band
        key = rows[0].copy()
        for r in rows[1:]:
            key = key * np.uint64(1_000_003) ^ r
        order = np.argsort(key, kind="stable")
        sk = key[order]
        same = np.nonzero(sk[1:] == sk[:-1])[0]
        for j in same.tolist():
            first = int(idx[order[j]])
            other = int(idx[order[j + 1]])
            if uf.find(first) != uf.find(other) and jaccard(sets[first], sets[other]) >= threshold:
                uf.union(first, other)
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

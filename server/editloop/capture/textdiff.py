"""The edits that turn one text into another, for clients that send the whole document.

LSP allows a ``didChange`` without a range even under incremental sync (Neovim and other
clients do it). Tracked regions must move exactly as if the edit had come with its range, so
the old and new texts are diffed into ranged edits: the common prefix and suffix first (one
edit, the usual case, in linear time), then a line diff of what remains (rapidfuzz's Indel, on
lines), each changed block trimmed to its characters. An insertion that could have happened
at several places (typing "a" after "a") is placed at the latest one, as the prefix allows.
"""

from __future__ import annotations

Edit = tuple[int, int, str]  # [start, end) in the old text, replaced by the new text


def common_prefix(a: str, b: str) -> int:
    """Length of the common prefix (binary search on C-speed slice comparisons)."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while lo < hi:  # invariant: a[:lo] == b[:lo], a[:hi+1] != b[:hi+1]
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common suffix, at most ``limit``."""
    lo, hi = 0, min(len(a), len(b), limit)
    if hi and a[len(a) - hi :] == b[len(b) - hi :]:
        return hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _trimmed(old: str, new: str, offset: int) -> Edit:
    p = common_prefix(old, new)
    q = common_suffix(old, new, min(len(old), len(new)) - p)
    return offset + p, offset + len(old) - q, new[p : len(new) - q]


def text_edits(old: str, new: str) -> list[Edit]:
    """Non-overlapping edits of ``old``, in ascending order, that produce ``new``."""
    if old == new:
        return []
    p = common_prefix(old, new)
    q = common_suffix(old, new, min(len(old), len(new)) - p)
    old_end, new_end = len(old) - q, len(new) - q
    mid_old, mid_new = old[p:old_end], new[p:new_end]
    if not mid_old or not mid_new or ("\n" not in mid_old and "\n" not in mid_new):
        return [(p, old_end, mid_new)]
    # Several places may have changed: diff whole lines, then trim each changed block.
    start = old.rfind("\n", 0, p) + 1
    k = old.find("\n", old_end)
    stop_old = len(old) if k == -1 else k + 1
    stop_new = new_end + (stop_old - old_end)
    a = old[start:stop_old].splitlines(keepends=True)
    b = new[start:stop_new].splitlines(keepends=True)
    from rapidfuzz.distance import Indel

    a_off = [0]
    for line in a:
        a_off.append(a_off[-1] + len(line))
    b_off = [0]
    for line in b:
        b_off.append(b_off[-1] + len(line))
    edits: list[Edit] = []
    pending: list[int] | None = None  # merge adjacent delete/insert blocks into one replacement
    for op in Indel.opcodes(a, b):
        if op.tag == "equal":
            if pending:
                edits.append(_block(old, new, start, a_off, b_off, pending))
                pending = None
            continue
        if pending is None:
            pending = [op.src_start, op.src_end, op.dest_start, op.dest_end]
        else:
            pending[1], pending[3] = op.src_end, op.dest_end
    if pending:
        edits.append(_block(old, new, start, a_off, b_off, pending))
    return [e for e in edits if e[0] != e[1] or e[2]]


def _block(old: str, new: str, start: int, a_off: list[int], b_off: list[int], blk: list[int]) -> Edit:
    i1, i2, j1, j2 = blk
    return _trimmed(old[start + a_off[i1] : start + a_off[i2]], new[start + b_off[j1] : start + b_off[j2]], start + a_off[i1])


# How far a deletion is slid to find a placement that spares tracked regions.
MAX_SLIDE = 4_096


def _disturbance(s: int, e: int, regions: list[tuple[int, int]]) -> int:
    cost = 0
    for a, b in regions:
        if s <= a and b <= e:
            cost += 100  # the whole region deleted: an implicit reject
        elif a < s < b or a < e < b:
            cost += 1  # a region's head or tail cut
    return cost


def spare_regions(old: str, edits: list[Edit], regions: list[tuple[int, int]]) -> list[Edit]:
    """Slide each pure deletion within the span where it is equally valid (deleting one of two
    equal characters gives the same text) to the placement that cuts tracked ``regions``
    (old-text offsets) least, so an ambiguous diff never deletes a region the user kept; ties keep
    the latest placement. Insertions keep theirs: at a region's end they join it, as typed text does."""
    if not regions:
        return edits
    out: list[Edit] = []
    floor = 0
    for s, e, text in edits:
        if text or s == e:
            out.append((s, e, text))
            floor = e
            continue
        seg, n = old[s:e], e - s
        best = (_disturbance(s, e, regions), 0)
        k = 1
        # Sliding left by one keeps the text when the character before equals the span's last one.
        while best[0] and k <= MAX_SLIDE and s - k >= floor and old[s - k] == seg[(n - k) % n]:
            cost = _disturbance(s - k, e - k, regions)
            if cost < best[0]:
                best = (cost, k)
            k += 1
        out.append((s - best[1], e - best[1], ""))
        floor = out[-1][1]
    return out


def apply_edits(old: str, edits: list[Edit]) -> str:
    out, last = [], 0
    for s, e, text in edits:
        out.append(old[last:s])
        out.append(text)
        last = e
    out.append(old[last:])
    return "".join(out)

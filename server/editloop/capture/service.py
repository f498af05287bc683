"""The capture core: open documents, tracked regions, and their outcomes.

Plain Python over a :class:`~editloop.store.Store`; the language server (``editloop.lsp``) only
converts LSP messages into calls here. Positions passed in are *client* positions in the
document's negotiated encoding; everything inside is code points (see ``document.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import EditloopError, InvalidArgument, NotFound
from ..settings import Settings
from ..store import Store, parse_iso, utcnow_iso
from .document import Document, Pos, clean_text
from .exclude import is_excluded
from .regions import inserted_end, move_range, move_watch
from .textdiff import spare_regions, text_edits

log = logging.getLogger(__name__)

# Text longer than this in one tracked region is refused (a whole-file paste is not "AI output").
MAX_REGION_CHARS = 200_000
# Pending regions one document may hold; more is a flood, not AI output a person reviews.
MAX_REGIONS_PER_DOCUMENT = 1_000
# Fuzzy re-anchoring accepts a match at or above this rapidfuzz partial ratio (0..100).
REANCHOR_MIN_SCORE = 85.0
# Places of rejected regions watched for the user's rewrite at once, in all documents (oldest end first).
MAX_WATCHES = 1_000


@dataclass
class Tracked:
    id: str
    uri: str
    start: Pos
    end: Pos
    original: str  # as stored (redacted when redaction is on)
    created: float
    checks_done: set[int] = field(default_factory=set)


@dataclass
class Watch:
    """Where a rejected region was. What the user writes there before the document closes (or the
    last survival check's time passes) is that reject's rewrite: the text they wanted instead."""

    region_id: str
    uri: str
    start: Pos
    end: Pos
    original: str  # as stored
    until: float


@dataclass
class Outcome:
    region: dict[str, Any]
    final: str | None
    rejected: bool
    source: str
    reason: str
    now: float
    rewrite: bool = False  # ``final`` is the rewrite of an already recorded reject


@dataclass
class ChangeResult:
    changed_uris: set[str] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class RegionSpan:
    """Where a tracked region is now: a snapshot for readers (code lenses, hovers, diagnostics)."""

    id: str
    start: Pos  # code points, like ``Document`` positions
    end: Pos
    client_range: tuple[int, int, int, int]  # (l0, c0, l1, c1) in the document's negotiated encoding


@dataclass(frozen=True)
class RegionDescription:
    """A region as stored, with its text and similarity now (what ``editloop.region`` shows)."""

    id: str
    uri: str
    status: str
    prompt: str
    model: str
    artifact_type: str
    language: str | None
    original: str
    current: str | None  # the live text; else the last saved one; None when never saved
    created_at: str
    similarity: float | None  # of ``original`` and ``current``
    client_range: tuple[int, int, int, int] | None  # None once the region is no longer tracked


class CaptureService:
    """Documents, tracked regions and their outcomes, for one data folder.

    The language server uses only the public methods (no leading underscore): document sync
    (``open``, ``change``, ``close``), tracking (``track``, ``inserted_range``, ``record_dismissed``),
    outcomes (``prepare_explicit`` + ``commit``, ``take_outbox``, ``recorded_event``), survival checks
    (``tick``, ``next_check_at``, ``flush_positions``) and read-only views (``find_document``,
    ``spans``, ``describe``, ``comparable``...). The maps behind them are private.

    With ``deferred`` set, outcomes are queued for ``commit`` on a writer thread instead of being
    scored and stored on the caller's thread (the server sets it: scoring must not block the loop).
    """

    def __init__(self, store: Store, settings: Settings | None = None, *, clock: Callable[[], float] | None = None, client: str = "",
                 deferred: bool = False) -> None:
        from .clock import SystemClock

        self.store = store
        self.settings = settings or Settings()
        self.clock = clock or SystemClock()
        self.client = client
        self._docs: dict[str, Document] = {}
        self._regions: dict[str, Tracked] = {}
        self._by_uri: dict[str, list[str]] = {}
        self._dirty: set[str] = set()
        self._watches: dict[str, Watch] = {}
        self.deferred = deferred
        self._outbox: list[Outcome] = []

    # -- documents ---------------------------------------------------------------------------
    def open(self, uri: str, text: str, *, version: int = 0, language_id: str = "", encoding: str = "utf-16") -> ChangeResult:
        doc = Document(uri, text, version=version, language_id=language_id, encoding=encoding)
        self._docs[uri] = doc
        return self._reanchor(doc)

    def document(self, uri: str) -> Document:
        """The open document at ``uri``; raises NotFound when it is not open."""
        doc = self._docs.get(uri)
        if doc is None:
            raise NotFound(f"document {uri} is not open")
        return doc

    def find_document(self, uri: str) -> Document | None:
        """The open document at ``uri``, or None (for readers that quietly skip unknown documents)."""
        return self._docs.get(uri)

    def reopen_documents(self, other: "CaptureService") -> list[str]:
        """Open here every document ``other`` holds (the data folder moved); returns their uris.

        Regions moved to this store with them are found again by re-anchoring, as after a restart."""
        for uri, doc in other._docs.items():
            self.open(uri, doc.text, version=doc.version, language_id=doc.language_id, encoding=doc.encoding)
        return list(other._docs)

    def change(self, uri: str, changes: list[tuple[tuple[int, int, int, int] | None, str]], *, version: int | None = None) -> ChangeResult:
        """Apply content changes in order. Each is ``((l0, c0, l1, c1), text)`` or ``(None, text)``.

        A change without a range replaces the whole document (LSP allows it under incremental
        sync): it is diffed against the current text into ranged edits, so regions move exactly
        as they would had the client sent the ranges (``textdiff.py``)."""
        doc = self.document(uri)
        result = ChangeResult()
        ids = self._by_uri.get(uri, [])
        for rng, text in changes:
            text = clean_text(text)
            if rng is None:
                old = doc.text
                starts = _line_starts(doc)
                spans = [(_pos_offset(starts, self._regions[r].start), _pos_offset(starts, self._regions[r].end)) for r in ids]
                for s_off, e_off, piece in reversed(spare_regions(old, text_edits(old, text), spans)):  # later edits first
                    self._apply(doc, ids, _offset_to_pos(starts, s_off), _offset_to_pos(starts, e_off), piece, result)
                if doc.text != text:  # a line-break subtlety the edits missed: never keep a wrong copy
                    log.warning("full-document change of %s did not reproduce the text; re-anchoring", uri)
                    doc.lines = Document(uri, text).lines
                    self._reanchor(doc, in_memory=True)
                    self._unwatch(uri)  # their places are not known any more
                    result.changed_uris.add(uri)
                continue
            s = doc.to_pos(rng[0], rng[1], strict=False)
            e = doc.to_pos(rng[2], rng[3], strict=False)
            if e < s:
                s, e = e, s
            self._apply(doc, ids, s, e, text, result)
        if version is not None:
            doc.version = version
        # Regions whose text is all gone are implicit rejects.
        for rid in list(ids):
            t = self._regions[rid]
            if t.start == t.end:
                ev = self._resolve(t, final=None, source="implicit", reason="deleted")
                if ev is not None:
                    result.events.append(ev)
                result.changed_uris.add(uri)
        return result

    def _apply(self, doc: Document, ids: list[str], s: Pos, e: Pos, text: str, result: ChangeResult) -> None:
        """Replace ``[s, e)`` with ``text`` and move the document's regions (code point positions)."""
        E = inserted_end(s, text)
        doc.replace(s, e, text)
        for rid in ids:
            t = self._regions[rid]
            if t.end < s:
                continue
            old = (t.start, t.end)
            t.start, t.end = move_range(t.start, t.end, s, e, E)
            if (t.start, t.end) != old:
                result.changed_uris.add(doc.uri)
                self._dirty.add(rid)
            elif t.end >= s:
                self._dirty.add(rid)  # its text may have changed in place
        for w in self._watches.values():
            if w.uri == doc.uri and w.end >= s:
                w.start, w.end = move_watch(w.start, w.end, s, e, E)

    def close(self, uri: str) -> ChangeResult:
        """Closing a document resolves its pending regions with their current text."""
        result = ChangeResult()
        doc = self._docs.get(uri)
        if doc is None:
            return result
        for w in [w for w in self._watches.values() if w.uri == uri]:
            self._end_watch(w, doc, result)
        for rid in list(self._by_uri.get(uri, [])):
            t = self._regions[rid]
            ev = self._resolve(t, final=doc.slice(t.start, t.end), source="implicit", reason="closed")
            if ev is not None:
                result.events.append(ev)
        result.changed_uris.add(uri)
        self._docs.pop(uri, None)
        self._by_uri.pop(uri, None)
        return result

    # -- tracking ----------------------------------------------------------------------------
    def track(
        self,
        uri: str,
        rng: tuple[int, int, int, int],
        *,
        prompt: str = "",
        model: str = "",
        artifact_type: str,
        language: str | None = None,
        workspace: str | None = None,
        model_version: str | None = None,
    ) -> dict[str, Any]:
        if is_excluded(uri, self.settings.exclude):
            raise EditloopError(f"{uri} matches editloop.exclude: it is never captured")
        prompt, model = clean_text(prompt or ""), clean_text(model or "")
        doc = self.document(uri)
        if len(self._by_uri.get(uri, ())) >= MAX_REGIONS_PER_DOCUMENT:
            raise EditloopError(
                f"{uri} already has {MAX_REGIONS_PER_DOCUMENT:,} pending AI regions: accept or reject some before tracking more"
            )
        start = doc.to_pos(rng[0], rng[1])
        end = doc.to_pos(rng[2], rng[3])
        if end < start:
            raise InvalidArgument("range end is before its start")
        text = doc.slice(start, end)
        if not text:
            raise InvalidArgument("the range is empty: select the AI output to track")
        self._unwatch(uri, start, end)  # AI output written where a rejected one was is not the user's rewrite
        if len(text) > MAX_REGION_CHARS:
            raise InvalidArgument(f"the range holds {len(text):,} characters; at most {MAX_REGION_CHARS:,} can be tracked")
        now = self.clock()
        row = self.store.insert_region(
            {
                "uri": uri,
                "workspace": workspace,
                "artifact_type": artifact_type,
                "language": language or doc.language_id or None,
                "prompt": prompt,
                "model": model,
                "model_version": model_version,
                "original": text,
                "start_line": start.line,
                "start_character": start.character,
                "end_line": end.line,
                "end_character": end.character,
                "client": self.client,
                "created_at": utcnow_iso(now),
            }
        )
        self._add(Tracked(row["id"], uri, start, end, row["original"], parse_iso(row["created_at"])))
        return row

    def text_at(self, uri: str, rng: tuple[int, int, int, int]) -> str:
        """The text of a client range of an open document ("" when it is not open or out of range)."""
        doc = self._docs.get(uri)
        if doc is None:
            return ""
        s, e = doc.to_pos(rng[0], rng[1], strict=False), doc.to_pos(rng[2], rng[3], strict=False)
        return doc.slice(min(s, e), max(s, e))

    def record_dismissed(self, *, uri: str, text: str, prompt: str, model: str, model_version: str | None, artifact_type: str) -> None:
        """A suggestion that was shown and not taken: an implicit reject (queued like any outcome)."""
        if is_excluded(uri, self.settings.exclude):
            return
        row = self.store.insert_region(
            {"uri": uri, "artifact_type": artifact_type, "prompt": prompt, "model": model, "model_version": model_version,
             "original": text, "client": self.client, "created_at": utcnow_iso(self.clock())}
        )
        outcome = Outcome(row, None, True, "implicit", "inline dismissed", self.clock())
        if self.deferred:
            self._outbox.append(outcome)
        else:
            self.commit(outcome)

    def inserted_range(self, uri: str, line: int, character: int, text: str) -> tuple[int, int, int, int] | None:
        """The client range of ``text`` if the document holds it at (line, character), else None."""
        doc = self._docs.get(uri)
        if doc is None or line >= len(doc.lines):
            return None
        start = doc.to_pos(line, character, strict=False)
        end = inserted_end(start, text)
        if end.line >= len(doc.lines) or doc.slice(start, end) != text:
            return None
        return (*doc.to_client(start), *doc.to_client(end))

    def _add(self, t: Tracked) -> None:
        self._regions[t.id] = t
        self._by_uri.setdefault(t.uri, []).append(t.id)

    def _drop(self, t: Tracked) -> None:
        self._regions.pop(t.id, None)
        ids = self._by_uri.get(t.uri)
        if ids and t.id in ids:
            ids.remove(t.id)
        self._dirty.discard(t.id)

    # -- read-only views of tracked regions ----------------------------------------------------
    def tracked_ids(self) -> list[str]:
        """Ids of every region tracked now, in every document."""
        return list(self._regions)

    def tracked_uri(self, region_id: str) -> str | None:
        """The document of a region tracked now; None when it is not (resolved, lost or unknown)."""
        t = self._regions.get(region_id)
        return t.uri if t is not None else None

    def has_regions(self, uri: str) -> bool:
        """True when the document holds at least one tracked region."""
        return bool(self._by_uri.get(uri))

    def uris_with_regions(self) -> list[str]:
        """Documents holding tracked regions now."""
        return [uri for uri, ids in self._by_uri.items() if ids]

    def spans(self, uri: str) -> list[RegionSpan]:
        """Where each region tracked in ``uri`` is now, in tracking order ([] for a closed document)."""
        doc = self._docs.get(uri)
        if doc is None:
            return []
        out = []
        for rid in self._by_uri.get(uri, []):
            t = self._regions[rid]
            out.append(RegionSpan(rid, t.start, t.end, (*doc.to_client(t.start), *doc.to_client(t.end))))
        return out

    def current_text(self, region_id: str) -> str | None:
        """The text of a tracked region now; None when it is not tracked in an open document."""
        t = self._regions.get(region_id)
        if t is None or t.uri not in self._docs:
            return None
        return self._docs[t.uri].slice(t.start, t.end)

    # -- outcomes ----------------------------------------------------------------------------
    def accept(self, region_id: str) -> dict[str, Any]:
        """Resolve with the region's current text: ``accept`` if unchanged, ``edit`` otherwise.

        Idempotent: a region that is already resolved answers with its existing event."""
        t = self._tracked(region_id)
        if t is None:
            return self.recorded_event(region_id)
        return self._explicit(t, rejected=False)

    def reject(self, region_id: str) -> dict[str, Any]:
        t = self._tracked(region_id)
        if t is None:
            return self.recorded_event(region_id)
        return self._explicit(t, rejected=True)

    def _explicit(self, t: Tracked, *, rejected: bool) -> dict[str, Any]:
        deferred, self.deferred = self.deferred, False
        try:
            ev = self._resolve(t, final=self._docs[t.uri].slice(t.start, t.end), rejected=rejected, source="explicit", reason="reject" if rejected else "accept")
        finally:
            self.deferred = deferred
        return ev or self.recorded_event(t.id)

    def prepare_explicit(self, region_id: str, *, rejected: bool) -> "Outcome | dict[str, Any]":
        """Stop tracking the region now; returns the outcome to :meth:`commit` (or the existing event)."""
        t = self._tracked(region_id)
        if t is None:
            return self.recorded_event(region_id)
        deferred, self.deferred = self.deferred, True
        try:
            self._resolve(t, final=self._docs[t.uri].slice(t.start, t.end), rejected=rejected, source="explicit", reason="reject" if rejected else "accept")
        finally:
            self.deferred = deferred
        mine = [o.region["id"] == region_id and not o.rewrite for o in self._outbox]
        out = [o for o, m in zip(self._outbox, mine) if m]
        self._outbox = [o for o, m in zip(self._outbox, mine) if not m]
        return out[0] if out else self.recorded_event(region_id)

    def recorded_event(self, region_id: str) -> dict[str, Any]:
        """The event already stored for a resolved region (raises when there is none)."""
        event = self.store.event_of_region(region_id)
        if event is None:
            row = self.store.get_region(region_id)
            raise EditloopError(f"region {region_id} is {row['status']} and has no event")
        return event

    def _tracked(self, region_id: Any) -> Tracked | None:
        """The live region, or None when it is already resolved (unknown ids raise)."""
        if not isinstance(region_id, str) or not region_id:
            raise InvalidArgument("regionId must be a non-empty string")
        t = self._regions.get(region_id)
        if t is not None:
            return t
        row = self.store.get_region(region_id)  # raises NotFound for an unknown id
        if row["status"] == "pending":
            raise EditloopError(f"region {region_id} is pending but its document is not open in this editor")
        if row["status"] == "lost":
            raise EditloopError(f"region {region_id} was lost (its text could not be found again)")
        return None

    def _resolve(self, t: Tracked, *, final: str | None, rejected: bool = False, source: str, reason: str) -> dict[str, Any] | None:
        """Take the region out of tracking and record its outcome.

        With ``deferred`` set (the language server does), the scoring and the write (validation can
        take tens of milliseconds) are queued in ``outbox`` for :meth:`commit` on a worker thread,
        and None is returned; the region has already stopped moving with edits."""
        try:
            region = self.store.get_region(t.id)
        except NotFound:  # forgotten meanwhile
            self._drop(t)
            return None
        self._drop(t)
        if region["status"] != "pending":  # resolved by another window
            return None
        if (rejected or final is None) and t.uri in self._docs:
            self._watch(t)
        outcome = Outcome(region, final, rejected, source, reason, self.clock())
        if self.deferred:
            self._outbox.append(outcome)
            return None
        return self.commit(outcome)

    def commit(self, outcome: "Outcome") -> dict[str, Any] | None:
        """Score and store one outcome (thread-safe: the store serializes writes)."""
        from .outcomes import record_outcome, record_rewrite  # scoring imports stay off the server's start-up path

        if outcome.rewrite:
            return record_rewrite(self.store, outcome.region["id"], outcome.final or "", now=outcome.now)
        event, created = record_outcome(
            self.store, outcome.region, final=outcome.final, rejected=outcome.rejected, source=outcome.source, reason=outcome.reason, now=outcome.now
        )
        return event if created else None

    def take_outbox(self) -> list["Outcome"]:
        """The outcomes queued while ``deferred`` (in order), for :meth:`commit` on a writer thread."""
        out, self._outbox = self._outbox, []
        return out

    # -- rewrites of rejected regions ---------------------------------------------------------
    def _watch(self, t: Tracked) -> None:
        """Watch the place of a region just rejected (explicitly, or by deleting its text)."""
        if len(self._watches) >= MAX_WATCHES:
            self._watches.pop(min(self._watches.values(), key=lambda w: w.until).region_id)
        until = self.clock() + self.settings.survival_seconds[-1]
        self._watches[t.id] = Watch(t.id, t.uri, t.start, t.end, t.original, until)

    def _unwatch(self, uri: str, start: Pos | None = None, end: Pos | None = None) -> None:
        """Stop watching the places in ``uri`` (those overlapping ``[start, end]`` when given)."""
        for w in list(self._watches.values()):
            if w.uri == uri and (start is None or end is None or (w.start <= end and start <= w.end)):
                del self._watches[w.region_id]

    def _end_watch(self, w: Watch, doc: Document, result: ChangeResult) -> None:
        """Record what the user wrote in the watched place, if it is theirs: not empty, not the
        rejected output, not larger than a region may be."""
        del self._watches[w.region_id]
        text = doc.slice(w.start, w.end)
        if not text.strip() or len(text) > MAX_REGION_CHARS or self.comparable(text).strip() == w.original.strip():
            return
        outcome = Outcome({"id": w.region_id}, text, True, "implicit", "rewritten", self.clock(), rewrite=True)
        if self.deferred:
            self._outbox.append(outcome)
            return
        ev = self.commit(outcome)
        if ev is not None:
            result.events.append(ev)

    # -- survival checks ---------------------------------------------------------------------
    def next_check_at(self) -> float | None:
        times = [t.created + s for t in self._regions.values() for s in self.settings.survival_seconds if s not in t.checks_done]
        times += [w.until for w in self._watches.values()]
        return min(times) if times else None

    def tick(self) -> ChangeResult:
        """Run every survival check that is due; the last one resolves the region."""
        now = self.clock()
        result = ChangeResult()
        checks = self.settings.survival_seconds
        for t in list(self._regions.values()):
            doc = self._docs.get(t.uri)
            if doc is None:
                continue
            for after in checks:
                if after in t.checks_done or now < t.created + after:
                    continue
                text = doc.slice(t.start, t.end)
                from ..signals.similarity import similarity

                sim = similarity(t.original, self.comparable(text))
                self.store.add_survival_check(t.id, after, sim, True, utcnow_iso(now))
                t.checks_done.add(after)
                if after == checks[-1]:
                    ev = self._resolve(t, final=text, source="implicit", reason=f"survived {after}s")
                    if ev is not None:
                        result.events.append(ev)
                    result.changed_uris.add(t.uri)
                    break
        for w in [w for w in self._watches.values() if w.until <= now]:
            doc = self._docs.get(w.uri)
            if doc is None:
                self._watches.pop(w.region_id, None)
            else:
                self._end_watch(w, doc, result)
        self.flush_positions()
        return result

    def comparable(self, text: str) -> str:
        """``text`` as it would be stored (secrets redacted when redaction is on): what a region's
        stored original is compared with."""
        if not self.store.redact_secrets:
            return text
        from ..signals.redact import redact

        return redact(text)[0]

    # -- persistence and re-anchoring ----------------------------------------------------------
    def flush_positions(self) -> None:
        """Save the range and text of regions that moved (for re-anchoring after a restart)."""
        updates = []
        for rid in list(self._dirty):
            t = self._regions.get(rid)
            if t is None or t.uri not in self._docs:
                continue
            updates.append(
                {
                    "id": rid,
                    "start_line": t.start.line,
                    "start_character": t.start.character,
                    "end_line": t.end.line,
                    "end_character": t.end.character,
                    "current": self._docs[t.uri].slice(t.start, t.end),
                }
            )
        self._dirty.clear()
        self.store.save_positions(updates)

    def _reanchor(self, doc: Document, *, in_memory: bool = False) -> ChangeResult:
        """Find pending regions of this document again: exact text first, then fuzzy."""
        result = ChangeResult()
        if in_memory:
            candidates = [(rid, None) for rid in list(self._by_uri.get(doc.uri, []))]
        else:
            candidates = [(r["id"], r) for r in self.store.pending_regions(doc.uri) if r["id"] not in self._regions]
        if not candidates:
            return result
        text = doc.text
        line_starts = _line_starts(doc)
        for rid, row in candidates:
            if row is None:
                t = self._regions[rid]
                row = {"id": rid, "current": None, "original": t.original}
                self._drop(t)
                row.update(self.store.get_region(rid))
            hint_line = row.get("start_line") or 0
            found = _locate(text, row.get("current") or row["original"], line_starts, hint_line)
            if found is None and row.get("current") and row["current"] != row["original"]:
                found = _locate(text, row["original"], line_starts, hint_line)
            if found is None:
                self.store.mark_lost(rid)
                log.info("region %s could not be found in %s: marked lost", rid, doc.uri)
                result.changed_uris.add(doc.uri)
                continue
            start, end = (_offset_to_pos(line_starts, o) for o in found)
            created = parse_iso(row["created_at"])
            done = {c["after_seconds"] for c in self.store.survival_curve(rid)}
            self._add(Tracked(rid, doc.uri, start, end, row["original"], created, done))
            result.changed_uris.add(doc.uri)
        return result

    # -- views -------------------------------------------------------------------------------
    def describe(self, region_id: str) -> RegionDescription:
        """The stored region with its current text and similarity (raises NotFound for an unknown id)."""
        row = self.store.get_region(region_id)
        current = self.current_text(region_id)
        if current is None:
            current = row.get("current")
        from ..signals.similarity import similarity

        t = self._regions.get(region_id)
        doc = self._docs.get(t.uri) if t is not None else None
        return RegionDescription(
            id=row["id"],
            uri=row["uri"],
            status=row["status"],
            prompt=row["prompt"],
            model=row["model"],
            artifact_type=row["artifact_type"],
            language=row["language"],
            original=row["original"],
            current=current,
            created_at=row["created_at"],
            similarity=similarity(row["original"], self.comparable(current)) if current is not None else None,
            client_range=(*doc.to_client(t.start), *doc.to_client(t.end)) if t is not None and doc is not None else None,
        )

    def forget(self, uri: str | None = None, everything: bool = False) -> int:
        """Delete what was captured from ``uri`` (or everything) and stop tracking it; returns rows deleted."""
        n = self.store.forget(uri=uri, everything=everything)
        for t in list(self._regions.values()):
            if everything or t.uri == uri:
                self._drop(t)
        if everything:
            self._watches.clear()
        elif uri is not None:
            self._unwatch(uri)
        return n


def _line_starts(doc: Document) -> list[int]:
    starts = [0]
    total = 0
    for line in doc.lines[:-1]:
        total += len(line)
        starts.append(total)
    return starts


def _offset_to_pos(starts: list[int], offset: int) -> Pos:
    import bisect

    line = bisect.bisect_right(starts, offset) - 1
    return Pos(line, offset - starts[line])


def _pos_offset(starts: list[int], pos: Pos) -> int:
    return starts[pos.line] + pos.character


def _locate(text: str, needle: str, starts: list[int], hint_line: int) -> tuple[int, int] | None:
    """Offsets of ``needle`` in ``text``: the exact occurrence nearest the hint, else the best fuzzy match."""
    if not needle:
        return None
    hint = starts[min(max(hint_line, 0), len(starts) - 1)]
    best = None
    i = text.find(needle)
    while i != -1:
        if best is None or abs(i - hint) < abs(best - hint):
            best = i
        i = text.find(needle, i + 1)
    if best is not None:
        return best, best + len(needle)
    from rapidfuzz import fuzz

    if len(text) > 2_000_000:
        return None
    al = fuzz.partial_ratio_alignment(needle, text, score_cutoff=REANCHOR_MIN_SCORE)
    if al is None or al.dest_end <= al.dest_start:
        return None
    return al.dest_start, al.dest_end

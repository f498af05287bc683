"""Turn a region's fate into an event row: the one path used by the server, the CLI and the API."""

from __future__ import annotations

from typing import Any

from ..errors import EditloopError
from ..signals.score import score_event
from ..store import Store, parse_iso, utcnow_iso

STATUS_FOR_ACTION = {"accept": "accepted", "edit": "edited", "reject": "rejected"}


def _stored_text(store: Store, final: str) -> tuple[str, int]:
    """``final`` as it is stored (redacted like the original, so both compare and diff like with
    like), and how many secrets it held."""
    if not (store.redact_secrets and final):
        return final, 0
    from ..signals.redact import redact

    return redact(final)


def _signals(store: Store, original: str, final: str, *, action: str, region: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The event's quality columns (``score_event``) and its edit cost in characters."""
    retention = [c["similarity"] for c in store.survival_curve(region["id"])]
    signals = score_event(original, final, action=action, artifact_type=region["artifact_type"], language=region.get("language"),
                          seconds_to_resolve=seconds, retention=retention)
    # The edit cost in characters (normalized Levenshtein = 1 - distance / longer length).
    signals["edit_distance"] = round((1.0 - signals["similarity"]) * max(len(original), len(final)))
    return signals


def record_rewrite(store: Store, region_id: str, final: str, *, now: float) -> dict[str, Any] | None:
    """The user wrote ``final`` where the rejected output of ``region_id`` was: it becomes that
    reject's final text (curation reads a rejected output with the user's own text after it as a
    rewrite: ``curation.events.Ev.rewritten``). Returns the updated event, or None when the region
    has no reject (forgotten meanwhile, or resolved otherwise by another window)."""
    event = store.event_of_region(region_id)
    if event is None or event["action"] != "reject":
        return None
    final_text, typed_secrets = _stored_text(store, final)
    signals = _signals(store, event["original"], final_text, action="reject", region={**event, "id": region_id},
                       seconds=event.get("seconds_to_resolve") or 0.0)
    reason = f"{event.get('reason') or 'reject'}, rewritten"
    return store.record_rewrite(event["id"], {"final": final_text, "reason": reason, **signals,
                                              "redactions": (event.get("redactions") or 0) + typed_secrets})


def record_outcome(
    store: Store,
    region: dict[str, Any],
    *,
    final: str | None,
    rejected: bool = False,
    source: str = "explicit",
    reason: str | None = None,
    now: float,
) -> tuple[dict[str, Any], bool]:
    """Resolve ``region`` with its final text (``None`` or ``rejected`` = reject).

    The action is ``accept`` when the final text equals the original, ``edit`` otherwise, and
    ``reject`` when rejected or deleted. Returns ``(event, created)``.
    """
    if source not in ("explicit", "implicit"):
        raise EditloopError(f"unknown source {source!r}")
    original = region["original"]
    final_text, typed_secrets = _stored_text(store, final if final is not None else "")
    if rejected or final is None:
        action = "reject"
    else:
        action = "accept" if final_text == original else "edit"
    seconds = max(0.0, now - parse_iso(region["created_at"]))
    signals = _signals(store, original, final_text, action=action, region=region, seconds=seconds)
    at = utcnow_iso(now)
    event = {
        "action": action,
        "source": source,
        "reason": reason,
        "uri": region.get("uri"),
        "workspace": region.get("workspace"),
        "prompt": region.get("prompt") or "",
        "original": original,
        "final": final_text,
        "artifact_type": region["artifact_type"],
        "language": region.get("language"),
        "model": region.get("model") or "",
        "model_version": region.get("model_version"),
        "seconds_to_resolve": round(seconds, 3),
        "redactions": (region.get("redactions") or 0) + typed_secrets,  # secrets typed during the edit count too
        **signals,
    }
    return store.record_outcome(region["id"], event, status=STATUS_FOR_ACTION[action], at=at)

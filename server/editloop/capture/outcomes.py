"""Turn a region's fate into an event row: the one path used by the server, the CLI and the API."""

from __future__ import annotations

from typing import Any

from ..errors import EditloopError
from ..signals.score import score_event
from ..store import Store, parse_iso, utcnow_iso

STATUS_FOR_ACTION = {"accept": "accepted", "edit": "edited", "reject": "rejected"}


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
    final_text = final if final is not None else ""
    typed_secrets = 0
    if store.redact_secrets and final_text:  # the stored original is redacted: compare (and diff) like with like
        from ..signals.redact import redact

        final_text, typed_secrets = redact(final_text)
    if rejected or final is None:
        action = "reject"
    else:
        action = "accept" if final_text == original else "edit"
    created_ts = parse_iso(region["created_at"])
    seconds = max(0.0, now - created_ts)
    retention = [c["similarity"] for c in store.survival_curve(region["id"])]
    signals = score_event(
        original,
        final_text,
        action=action,
        artifact_type=region["artifact_type"],
        language=region.get("language"),
        seconds_to_resolve=seconds,
        retention=retention,
    )
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
    # The edit cost in characters (normalized Levenshtein = 1 - distance / longer length).
    event["edit_distance"] = round((1.0 - signals["similarity"]) * max(len(original), len(final_text)))
    return store.record_outcome(region["id"], event, status=STATUS_FOR_ACTION[action], at=at)

"""A small Python API for tools that are not editors (a web app that writes ERDs, a chat bot).

It goes through the same code path as the language server (``capture.outcomes``), so events
recorded here are scored, redacted and stored exactly like the editor's::

    from editloop import Editloop

    el = Editloop()                        # EDITLOOP_HOME or the platform's data folder
    rid = el.record_generation("customers place orders", diagram, artifact_type="mermaid-erd", model="gpt-x")
    el.record_outcome(rid, final=users_version)  # accept if unchanged, edit otherwise
    el.record_outcome(other_id, rejected=True)   # reject
    print(el.stats()["acceptRate"])
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .capture.outcomes import record_outcome
from .errors import EditloopError, InvalidArgument
from .store import Store, utcnow_iso


class Editloop:
    def __init__(self, data_dir: str | Path | None = None, *, redact_secrets: bool = True, source: str = "api") -> None:
        self.store = Store.open(data_dir, redact_secrets=redact_secrets) if data_dir else Store.open(redact_secrets=redact_secrets)
        self.source = source

    def record_generation(
        self,
        prompt: str,
        output: str,
        *,
        artifact_type: str,
        model: str = "",
        language: str | None = None,
        uri: str | None = None,
        model_version: str | None = None,
    ) -> str:
        """Remember what a model produced; returns the region id to report the outcome with."""
        if not isinstance(output, str) or not output:
            raise InvalidArgument("output must be a non-empty string")
        if not isinstance(artifact_type, str) or not artifact_type:
            raise InvalidArgument("artifact_type must be a non-empty string")
        row = self.store.insert_region(
            {
                "uri": uri or f"{self.source}:",
                "artifact_type": artifact_type,
                "language": language,
                "prompt": prompt or "",
                "model": model,
                "model_version": model_version,
                "original": output,
                "client": self.source,
                "created_at": utcnow_iso(),
            }
        )
        return row["id"]

    def record_outcome(self, region_id: str, *, final: str | None = None, rejected: bool = False, accepted_unchanged: bool = False) -> dict[str, Any]:
        """Report what the user did: ``final`` text (accept or edit), ``rejected=True``, or
        ``accepted_unchanged=True``. Returns the event (id, action, similarity, reward, ...)."""
        region = self.store.get_region(region_id)
        if region["status"] != "pending":
            raise EditloopError(f"region {region_id} is already {region['status']}")
        if accepted_unchanged:
            final = region["original"]
        if final is None and not rejected:
            raise InvalidArgument("pass final=..., rejected=True or accepted_unchanged=True")
        event, _ = record_outcome(self.store, region, final=final, rejected=rejected, source="explicit", reason="api", now=time.time())
        return event

    def stats(self, artifact_type: str | None = None) -> dict[str, Any]:
        from .store.stats import stats

        with self.store.lock:
            return stats(self.store.db, artifact_type=artifact_type)

    def close(self) -> None:
        self.store.close()

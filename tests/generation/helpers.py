"""Shared pieces of the generation tests."""

from __future__ import annotations

from editloop.store.runs import COLUMNS, Run


def promoted_record(run_id: str, adapter_path: str, base_model: str) -> Run:
    """A succeeded, promoted run as ``store.runs`` returns it (what ``service.promoted_run`` yields)."""
    return Run(**{**dict.fromkeys(COLUMNS), "id": run_id, "method": "sft", "status": "succeeded",
                  "adapter_path": adapter_path, "base_model": base_model, "promoted": True,
                  "created_at": "2026-01-01T00:00:00.000Z"})

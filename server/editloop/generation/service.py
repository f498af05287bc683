"""Choose the backend, build the messages, and say which model (and adapter) wrote the text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EditloopError
from ..settings import Settings
from .prompting import messages_for, past_corrections

DEFAULT_MODEL_NAME = "editloop-default"


@dataclass
class Generation:
    text: str
    model: str
    model_version: str
    backend: str


def promoted_run(store: Any, artifact_type: str | None) -> dict[str, Any] | None:
    """The promoted run for this artifact type, else the one promoted for all types."""
    from ..training.tracker import promoted_run as promoted

    return promoted(store, artifact_type) or (promoted(store, None) if artifact_type else None)


class Generator:
    def __init__(self, store: Any, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._local = None

    def backend(self) -> str:
        b = self.settings.generation_backend
        if b == "auto":
            return "openai" if self.settings.generation_model else "local"
        if b not in ("openai", "local"):
            raise EditloopError(f"editloop.generation.backend must be auto, openai or local (got {b!r})")
        return b

    def base_model(self) -> tuple[str, str]:
        """(path or id, display name) of the base model."""
        if self.settings.training_base_model:
            name = self.settings.training_base_model
            return name, Path(name).name or name
        from ..training.base_model import default_model_path

        return str(default_model_path(self.store.home)), DEFAULT_MODEL_NAME

    def generate(self, prompt: str, artifact_type: str, *, max_new_tokens: int = 512) -> Generation:
        return self.generate_many([prompt], artifact_type, max_new_tokens=max_new_tokens)[0]

    def generate_many(self, prompts: list[str], artifact_type: str, *, max_new_tokens: int = 512) -> list[Generation]:
        """Each prompt as :meth:`generate` writes it; the local backend generates them as one batch."""
        conversations = [
            messages_for(artifact_type, p, past_corrections(self.store, artifact_type, p, self.settings.generation_retrieval))
            for p in prompts
        ]
        if self.backend() == "openai":
            from .openai_compat import chat

            return [Generation(chat(self.settings.generation_endpoint, self.settings.generation_model, m, max_tokens=max_new_tokens),
                               self.settings.generation_model, "endpoint", "openai") for m in conversations]
        base, name = self.base_model()
        run = promoted_run(self.store, artifact_type)
        adapter = run["adapter_path"] if run and run.get("adapter_path") else None
        if run and run.get("base_model") and run["base_model"] != base:
            base = run["base_model"]  # an adapter only fits the base it was trained on
        if self._local is None:
            from .local import LocalWorker

            self._local = LocalWorker(threads=self.settings.training_threads)
        # one prompt is a batch of one: no padding, the tokens a single request gives
        texts = self._local.generate_batch(conversations, base=base, adapter=adapter, max_new_tokens=max_new_tokens)
        version = run["id"] if run else "base"
        return [Generation(text, name, version, "local") for text in texts]

    def close(self) -> None:
        if self._local is not None:
            self._local.close()

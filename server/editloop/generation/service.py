"""Choose the backend, build the messages, and say which model (and adapter) wrote the text.

With ``editloop.generation.retryInvalid`` (on by default) the local backend never hands the editor an
output its validator rejects while a valid one can be had: such outputs are generated again with
beam search (:data:`RETRY_BEAMS` beams, same model), then, where a trained model is in use, by the
base model; the first valid text wins, else the original stays. A fine-tuned tiny model that falls
into a repetition loop on one prompt in ten is still the model in use for the other nine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EditloopError
from ..settings import Settings
from .prompting import messages_for, past_corrections

DEFAULT_MODEL_NAME = "editloop-default"
RETRY_BEAMS = 4


@dataclass
class Generation:
    text: str
    model: str
    model_version: str
    backend: str
    retry: str = ""  # how an invalid first output was replaced: "" (it was not), "beam" or "base"


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

    def generate(self, prompt: str, artifact_type: str, *, max_new_tokens: int = 512, language: str | None = None,
                 retry_invalid: bool = True) -> Generation:
        return self.generate_many([prompt], artifact_type, max_new_tokens=max_new_tokens, language=language,
                                  retry_invalid=retry_invalid)[0]

    def generate_many(self, prompts: list[str], artifact_type: str, *, max_new_tokens: int = 512,
                      language: str | None = None, retry_invalid: bool = True) -> list[Generation]:
        """Each prompt as :meth:`generate` writes it; the local backend generates them as one batch
        and retries the invalid ones (see the module docstring) unless the setting is off or
        ``retry_invalid`` is False (a fragment, such as an inline completion, is never valid alone)."""
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
        out = [Generation(text, name, version, "local") for text in texts]
        if retry_invalid and self.settings.generation_retry_invalid:
            self._retry_invalid(out, conversations, artifact_type, language, base, adapter, version, max_new_tokens)
        return out

    def _retry_invalid(self, out: list[Generation], conversations: list, artifact_type: str, language: str | None,
                       base: str, adapter: str | None, version: str, max_new_tokens: int) -> None:
        """Replace, in place, each output the validator rejects by the first valid retry."""
        from ..signals.validate import validate

        def invalid(text: str) -> bool:
            return validate(text.strip(), artifact_type, language).valid is False

        bad = [i for i, g in enumerate(out) if invalid(g.text)]
        attempts = [("beam", adapter, RETRY_BEAMS, version)]
        if adapter is not None:
            attempts.append(("base", None, 1, "base"))
        for how, model, beams, version in attempts:
            if not bad:
                return
            again = self._local.generate_batch([conversations[i] for i in bad], base=base, adapter=model,
                                               max_new_tokens=max_new_tokens, num_beams=beams)
            still = []
            for i, text in zip(bad, again):
                if invalid(text):
                    still.append(i)
                else:
                    out[i] = Generation(text, out[i].model, version, "local", retry=how)
            bad = still

    def close(self) -> None:
        if self._local is not None:
            self._local.close()

"""Choose the backend, build the messages, and say which model (and adapter) wrote the text.

With ``editloop.generation.retryInvalid`` (on by default) the local backend never hands the editor an
output its validator rejects while a valid one can be had: such outputs are generated again with
beam search (:data:`RETRY_BEAMS` beams, same model), then, where a trained model is in use, by the
base model; the first valid text wins, else the original stays. A fine-tuned tiny model that falls
into a repetition loop on one prompt in ten is still the model in use for the other nine.

Two local backends serve the base model and the promoted adapter: the transformers worker
(:mod:`.local`, any base) and llama.cpp (:mod:`.llamacpp`, a GGUF base or preset, with
llama-cpp-python installed). ``editloop.generation.backend`` ``local`` or ``llamacpp`` names one;
``auto`` takes llama.cpp where it applies for requests of up to :data:`AUTO_LLAMACPP_MAX_BATCH`
prompts, and transformers for larger batches, which it generates together (the comparison in
docs/benchmarks.md, "Generation backends": llama.cpp is several times faster on one prompt, the
editor's request; transformers' batch of 24, a held-out evaluation's, is about as fast as
llama.cpp's prompts one after another, or faster under load). It falls back to transformers for a
(base, adapter) that llama.cpp fails on. llama.cpp has no beam search: its retry of an invalid
output goes straight to the base."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EditloopError
from ..settings import Settings
from .prompting import messages_for, past_corrections

if TYPE_CHECKING:
    from ..store.runs import Run

DEFAULT_MODEL_NAME = "editloop-default"
RETRY_BEAMS = 4
BACKENDS = ("auto", "openai", "local", "llamacpp")
# Whether `auto` serves a GGUF base through llama.cpp, and up to how many prompts per request: the
# faster backend on this project's machine (docs/benchmarks.md, "Generation backends").
AUTO_PREFERS_LLAMACPP = True
AUTO_LLAMACPP_MAX_BATCH = 8


@dataclass
class Generation:
    text: str
    model: str
    model_version: str
    backend: str
    retry: str = ""  # how an invalid first output was replaced: "" (it was not), "beam" or "base"


def promoted_run(store: Any, artifact_type: str | None) -> Run | None:
    """The promoted run for this artifact type, else the one promoted for all types."""
    from ..training.tracker import promoted_run as promoted

    return promoted(store, artifact_type) or (promoted(store, None) if artifact_type else None)


@dataclass
class LocalPlan:
    """What a local generation runs: the worker, its backend name, the base (a .gguf file for
    llama.cpp), the adapter (None: the base alone) and the version recorded with the text."""

    worker: Any
    backend: str
    base: str
    adapter: str | None
    version: str


def gguf_file(spec: str) -> Path | None:
    """The GGUF file a ``baseModel`` string names (a path or a preset), else None. Errors in the
    spec are the caller's (:func:`editloop.training.base_source.describe` raises them)."""
    from ..training.base_source import describe

    source = describe(spec)
    return source.path if source.is_gguf else None


class Generator:
    def __init__(self, store: Any, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._local = None  # the transformers worker
        self._llama = None  # the llama.cpp worker
        self._llama_failed: dict[tuple[str, str | None], str] = {}  # auto fell back to transformers for these

    def backend(self) -> str:
        """``openai`` or ``local`` (a local model: transformers or llama.cpp, see :meth:`local_backend`)."""
        b = self.settings.generation_backend
        if b == "auto":
            return "openai" if self.settings.generation_model else "local"
        if b not in BACKENDS:
            raise EditloopError(f"editloop.generation.backend must be one of {', '.join(BACKENDS)} (got {b!r})")
        return "local" if b == "llamacpp" else b

    def local_backend(self, base: str, prompts: int = 1) -> tuple[str, Path | None]:
        """("llamacpp", the base's .gguf) or ("local", None) for this base and a request of this many
        prompts, by the setting."""
        from .llamacpp import INSTALL, available

        wanted = self.settings.generation_backend
        if wanted == "llamacpp":
            path = gguf_file(base)
            if path is None:
                raise EditloopError(f"editloop.generation.backend llamacpp serves GGUF models, and the base model "
                                    f"{base} is not one: set editloop.training.baseModel to a .gguf file or the "
                                    "smollm2-135m preset, or use the local backend")
            if not available():
                raise EditloopError(f"editloop.generation.backend llamacpp needs llama-cpp-python: {INSTALL}")
            return "llamacpp", path
        if wanted == "auto" and AUTO_PREFERS_LLAMACPP and prompts <= AUTO_LLAMACPP_MAX_BATCH and available():
            try:
                path = gguf_file(base)
            except EditloopError:
                path = None  # the transformers worker reports what is wrong with the base
            if path is not None:
                return "llamacpp", path
        return "local", None

    def base_model(self) -> tuple[str, str]:
        """(path or id, display name) of the base model."""
        if self.settings.training_base_model:
            name = self.settings.training_base_model
            return name, Path(name).name or name
        from ..training.base_model import default_model_path

        return str(default_model_path(self.store.home)), DEFAULT_MODEL_NAME

    def plan(self, artifact_type: str, prompts: int = 1) -> tuple[LocalPlan, str]:
        """(the local plan, the base's display name) for this artifact type's promoted run or the base,
        for a request of this many prompts."""
        base, name = self.base_model()
        run = promoted_run(self.store, artifact_type)
        adapter = run.adapter_path if run and run.adapter_path else None
        if run and run.base_model and run.base_model != base:
            base = run.base_model  # an adapter only fits the base it was trained on
        version = run.id if run else "base"
        kind, path = self.local_backend(base, prompts)
        if kind == "llamacpp" and (str(path), adapter) not in self._llama_failed:
            if self._llama is None:
                from .llamacpp import LlamaCppWorker

                self._llama = LlamaCppWorker(threads=self.settings.training_threads)
            return LocalPlan(self._llama, "llamacpp", str(path), adapter, version), name
        if self._local is None:
            from .local import LocalWorker

            self._local = LocalWorker(threads=self.settings.training_threads)
        return LocalPlan(self._local, "local", base, adapter, version), name

    def generate(self, prompt: str, artifact_type: str, *, max_new_tokens: int = 512, language: str | None = None,
                 retry_invalid: bool = True) -> Generation:
        return self.generate_many([prompt], artifact_type, max_new_tokens=max_new_tokens, language=language,
                                  retry_invalid=retry_invalid)[0]

    def generate_many(self, prompts: list[str], artifact_type: str, *, max_new_tokens: int = 512,
                      language: str | None = None, retry_invalid: bool = True) -> list[Generation]:
        """Each prompt as :meth:`generate` writes it; the local backend generates them as one batch
        and retries the invalid ones (see the module docstring) unless the setting is off or
        ``retry_invalid`` is False (a fragment, such as an inline completion, is never valid alone)."""
        conversations = [  # the prompt training rows are built with (the event will record this language)
            messages_for(artifact_type, p, past_corrections(self.store, artifact_type, p, self.settings.generation_retrieval),
                         language=language)
            for p in prompts
        ]
        if self.backend() == "openai":
            from .openai_compat import chat

            return [Generation(chat(self.settings.generation_endpoint, self.settings.generation_model, m, max_tokens=max_new_tokens),
                               self.settings.generation_model, "endpoint", "openai") for m in conversations]
        plan, name = self.plan(artifact_type, len(prompts))
        # one prompt is a batch of one: no padding, the tokens a single request gives
        texts, plan = self._first_pass(plan, artifact_type, conversations, max_new_tokens)
        out = [Generation(text, name, plan.version, plan.backend) for text in texts]
        if retry_invalid and self.settings.generation_retry_invalid:
            self._retry_invalid(out, conversations, artifact_type, language, plan, max_new_tokens)
        return out

    def _first_pass(self, plan: LocalPlan, artifact_type: str, conversations: list, max_new_tokens: int
                    ) -> tuple[list[str], LocalPlan]:
        """The plan's texts; under ``auto``, a llama.cpp failure (an adapter it cannot take, a file it
        cannot read) falls back to transformers, for the rest of the session for that model."""
        try:
            return plan.worker.generate_batch(conversations, base=plan.base, adapter=plan.adapter,
                                              max_new_tokens=max_new_tokens), plan
        except EditloopError as exc:
            if plan.backend != "llamacpp" or self.settings.generation_backend != "auto":
                raise
            self._llama_failed[(plan.base, plan.adapter)] = str(exc)
        plan, _ = self.plan(artifact_type, len(conversations))
        return plan.worker.generate_batch(conversations, base=plan.base, adapter=plan.adapter,
                                          max_new_tokens=max_new_tokens), plan

    def _retry_invalid(self, out: list[Generation], conversations: list, artifact_type: str, language: str | None,
                       plan: LocalPlan, max_new_tokens: int) -> None:
        """Replace, in place, each output the validator rejects by the first valid retry."""
        from ..signals.validate import validate

        def invalid(text: str) -> bool:
            return validate(text.strip(), artifact_type, language).valid is False

        bad = [i for i, g in enumerate(out) if invalid(g.text)]
        attempts = [("beam", plan.adapter, RETRY_BEAMS, plan.version)] if getattr(plan.worker, "beams", True) else []
        if plan.adapter is not None:
            attempts.append(("base", None, 1, "base"))
        for how, model, beams, version in attempts:
            if not bad:
                return
            again = plan.worker.generate_batch([conversations[i] for i in bad], base=plan.base, adapter=model,
                                               max_new_tokens=max_new_tokens, num_beams=beams)
            still = []
            for i, text in zip(bad, again):
                if invalid(text):
                    still.append(i)
                else:
                    out[i] = Generation(text, out[i].model, version, plan.backend, retry=how)
            bad = still

    def close(self) -> None:
        for worker in (self._local, self._llama):
            if worker is not None:
                worker.close()

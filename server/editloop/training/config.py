"""What one training run does: a dataclass per concern, every field with its help text.

Nothing here imports torch: the language server and the CLI build and validate a
:class:`TrainConfig` without paying for the training stack. :func:`resolve` fills the ``"auto"``
fields once the model's size and the device are known (in the worker).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import InvalidArgument

METHODS = ("auto", "sft", "dpo", "kto")
ADAPTATIONS = ("auto", "lora", "full")
TOKEN_POLICIES = ("auto", "data", "none")
DPO_AFTER_SFT = ("auto", "always", "never")

# Below this many parameters a model is "tiny" (a from-scratch base like the embedded default):
# full fine-tuning costs little, trains the embeddings of tokens the base never saw (which LoRA
# cannot), and runs through TRL's trainers unchanged. Measured on the test model (107k params,
# 3 epochs, lr 3e-3): validation loss 0.55 full, 1.02 LoRA + trainable tokens, 1.11 plain LoRA.
FULL_FINETUNE_BELOW = 5_000_000
# Below this size LoRA also trains the embeddings of every token in the training targets (PEFT
# ``trainable_token_indices``); above it a base is assumed to be a real pretrained LLM whose
# embeddings are already trained. The smallest real one Editloop knows, SmolLM2-135M (the
# ``smollm2-135m`` preset, 134.5M parameters, pretrained on 2T tokens), is above it: on its tied
# embeddings trainable tokens would also force the plain ``Trainer`` path (see finetune).
TRAINABLE_TOKENS_BELOW = 100_000_000
# LoRA on a real LLM below this size learns at 2e-3 (DPO/KTO 2e-4); from it on at 2e-4, the usual
# LoRA rate for 7B models. On SmolLM2-135M, 2e-4 taught nothing in a CPU-sized run and 2e-3 the
# most of the rates tried; adapting only the top blocks was faster per step but learned far less,
# so every block is adapted (docs/training.md, "A real pretrained base").
SMALL_LLM_BELOW = 1_000_000_000
# SFT's learning-rate schedule (DPO/KTO: linear decay) and sampler: batches of similar lengths pad
# less (transformers' LengthGroupedSampler, still shuffled).
SFT_SCHEDULE = "cosine"
SFT_SAMPLING = "group_by_length"
# SFT epochs when unset (sft_epochs): 4, raised for a small batch to at least 80 steps, at most 10.
AUTO_EPOCHS, MIN_AUTO_STEPS, MAX_AUTO_EPOCHS = 4.0, 80, 10.0
# But 3, never raised, for LoRA on a real LLM (TRAINABLE_TOKENS_BELOW parameters or more) on the
# CPU, where a step costs seconds, not milliseconds, and 3 epochs already taught SmolLM2-135M the
# user's format (docs/training.md, "A real pretrained base").
CPU_LLM_EPOCHS = 3.0
# An SFT run of at least 3 epochs is first evaluated (validation loss, generation, checkpoint
# selection, early stopping) after its second epoch: no measured SFT stage had its best checkpoint
# after epoch 1, and each evaluation generates the whole validation set (docs/training.md,
# "Measurements behind the defaults").
SFT_FIRST_EVAL_EPOCH, SFT_EVAL_DELAY_FROM = 2, 3.0


@dataclass
class LoraSettings:
    r: int = field(default=16, metadata={"help": "LoRA rank."})
    alpha: int = field(default=32, metadata={"help": "LoRA alpha (scaling is alpha / r)."})
    dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA branch."})
    target_modules: str | list[str] = field(
        default="all-linear", metadata={"help": "Modules LoRA adapts; 'all-linear' is every linear layer but the head."}
    )


@dataclass
class TrainConfig:
    method: str = field(
        default="auto",
        metadata={
            "help": "sft, dpo, kto, or auto: SFT first, DPO on top when there are enough edit pairs and it wins on "
            "validation, KTO when feedback is mostly accept/reject.",
            "choices": list(METHODS),
        },
    )
    artifact_type: str | None = field(
        default=None, metadata={"help": "Train on this artifact type's events only (None: all types)."}
    )
    base_model: str = field(
        default="", metadata={"help": "Hugging Face id or local folder of the base model; empty: the embedded default."}
    )
    adaptation: str = field(
        default="auto",
        metadata={
            "help": f"lora, full, or auto: full fine-tuning below {FULL_FINETUNE_BELOW:,} parameters, LoRA above.",
            "choices": list(ADAPTATIONS),
        },
    )
    trainable_tokens: str = field(
        default="auto",
        metadata={
            "help": "With LoRA: 'data' also trains the embeddings of every token in the training targets (PEFT "
            "trainable_token_indices), 'none' does not, 'auto' is 'data' for bases under "
            f"{TRAINABLE_TOKENS_BELOW:,} parameters.",
            "choices": list(TOKEN_POLICIES),
        },
    )
    lora: LoraSettings = field(default_factory=LoraSettings, metadata={"help": "LoRA settings (adaptation 'lora')."})
    learning_rate: float | None = field(
        default=None,
        metadata={
            "help": "Peak learning rate; None picks one by model size and method (tiny models 4e-3..5e-3, LoRA on "
            "real LLMs under 1B parameters 2e-3, larger ones 2e-4; DPO/KTO ten times lower)."
        },
    )
    epochs: float | None = field(
        default=None,
        metadata={"help": "SFT epochs (a cosine schedule over them; early stopping may end sooner). None: "
                          f"{AUTO_EPOCHS:g}, or more for a small batch so that at least {MIN_AUTO_STEPS} optimizer steps "
                          f"run (at most {MAX_AUTO_EPOCHS:g} epochs). Measured on the embedded base, 198 rows per user, "
                          "3 users: 4 epochs at 4e-3 cosine reached the held-out cost of 10 epochs at 2e-3 constant in "
                          "40% of the time; on 80 events 4 epochs (40 steps) were too few to be promoted."},
    )
    preference_epochs: float = field(
        default=3.0, metadata={"help": "Maximum DPO/KTO epochs (preference pairs are separated fast; more hurts)."}
    )
    batch_size: int = field(default=8, metadata={"help": "Per-device batch size (KTO needs at least 2)."})
    gradient_accumulation_steps: int | None = field(
        default=None, metadata={"help": "None: 1 on the CPU, enough for an effective batch of 16 on a GPU."}
    )
    max_length: int = field(default=512, metadata={"help": "Maximum tokens per example (prompt + completion)."})
    truncation_mode: str = field(
        default="keep_start", metadata={"help": "Which end of an overlong example to keep (TRL's truncation_mode)."}
    )
    bf16: bool | None = field(default=None, metadata={"help": "bf16 mixed precision; None: on for a bf16 GPU, off on the CPU."})
    threads: int = field(
        default=0,
        metadata={"help": "torch CPU threads; 0: the cores other processes leave idle (load average), at least 1, at "
                          "most 4 (more threads train faster on idle cores and much slower on busy ones: measured "
                          "in docs/training.md)."},
    )
    early_stopping_patience: int = field(
        default=2, metadata={"help": "Stop after this many evaluations without a better validation similarity."}
    )
    beta: float = field(default=0.1, metadata={"help": "DPO/KTO beta: higher stays closer to the reference model."})
    min_dpo_pairs: int = field(default=20, metadata={"help": "auto: the fewest edit pairs for which DPO is tried."})
    dpo_after_sft: str = field(
        default="auto",
        metadata={
            "help": "auto: try a DPO stage after SFT only on a GPU and a base of at least "
            f"{FULL_FINETUNE_BELOW:,} parameters (on tiny from-scratch bases it lowered validation similarity and "
            "validity in every measured run: docs/training.md; on the CPU, a real base's DPO stage took 9x its SFT "
            "stage and 18 GB, and was discarded: docs/benchmarks.md); always; never.",
            "choices": list(DPO_AFTER_SFT),
        },
    )
    interpolation: list[float] = field(
        default_factory=lambda: [0.5, 0.75],
        metadata={
            "help": "Full fine-tunes: also measure base + alpha * (tuned - base) for these alphas on validation and "
            "keep the best (WiSE-FT); empty: off."
        },
    )
    validity_tolerance: int = field(
        default=1,
        metadata={
            "help": "Promotion and checkpoint selection: validity may fall by at most this many validation examples "
            "(one flip in a few dozen greedy outputs is noise); similarity must still improve."
        },
    )
    max_new_tokens: int = field(
        default=1024,
        metadata={"help": "Generation cap for the validation metrics (also capped at 1.3x the longest target: a "
                          "user's texts can be several times longer than the base model's, and a truncated output "
                          "counts as invalid)."},
    )
    eval_examples: int = field(default=32, metadata={"help": "At most this many validation rows are generated per evaluation."})
    retry_invalid: bool = field(
        default=True,
        metadata={"help": "Validation measures what generation serves with editloop.generation.retryInvalid (the "
                          "server passes that setting): an output the validator rejects counts as the base model's "
                          "output for the prompt, so checkpoint selection and promotion weigh invalid outputs by their "
                          "edit cost. False: the model's own outputs, with validity ranked first."},
    )
    seed: int = field(default=0, metadata={"help": "Seed for data order, initialisation and search."})
    reward_weighting: bool = field(
        default=True,
        metadata={"help": "SFT and DPO draw each epoch's rows in proportion to curation's sample weights (the reward, "
                          "decayed by age: training/sampling.py), the epoch length unchanged; off: every row once an "
                          "epoch. KTO keeps its sequential batches and curation's class weights."},
    )
    use_best_params: bool = field(
        default=True, metadata={"help": "Start from the best hyper-parameters an earlier search stored for this artifact type."}
    )
    curation: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "Overrides of curation's CurationConfig fields for the batch this run builds from the feedback "
            "database, e.g. {'active': False} (the learning benchmark's ablations); empty: curation's defaults."
        },
    )

    def __post_init__(self) -> None:
        if isinstance(self.lora, Mapping):
            self.lora = LoraSettings(**self.lora)
        for name, allowed in (("method", METHODS), ("adaptation", ADAPTATIONS), ("trainable_tokens", TOKEN_POLICIES),
                              ("dpo_after_sft", DPO_AFTER_SFT)):
            if getattr(self, name) not in allowed:
                raise InvalidArgument(f"{name} must be one of {', '.join(allowed)} (got {getattr(self, name)!r})")
        if self.batch_size < 1 or (self.epochs is not None and self.epochs <= 0) or self.max_length < 16 or self.threads < 0:
            raise InvalidArgument("batch_size and epochs must be positive, threads 0 (auto) or more, max_length at least 16")
        if self.validity_tolerance < 0:
            raise InvalidArgument(f"validity_tolerance must be 0 or more (got {self.validity_tolerance})")
        if self.learning_rate is not None and not 0 < self.learning_rate < 1:
            raise InvalidArgument(f"learning_rate must be in (0, 1) (got {self.learning_rate})")
        self.curation_config()  # unknown or ill-typed overrides fail here, before a run is queued

    def curation_config(self):
        """The :class:`~editloop.curation.CurationConfig` with this run's ``curation`` overrides."""
        from ..curation.config import CurationConfig

        if not isinstance(self.curation, Mapping):
            raise InvalidArgument("curation must be an object of CurationConfig fields")
        names = {f.name: f for f in dataclasses.fields(CurationConfig)}
        unknown = set(self.curation) - set(names)
        if unknown:
            raise InvalidArgument(f"unknown curation setting(s): {', '.join(sorted(unknown))}")
        # JSON has no tuples: a list for a tuple field (augment_kinds) becomes one
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in self.curation.items()}
        for key, value in values.items():
            default = names[key].default
            if isinstance(default, bool) and not isinstance(value, bool):
                raise InvalidArgument(f"curation.{key} must be true or false (got {value!r})")
        return CurationConfig(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise InvalidArgument(f"unknown training setting(s): {', '.join(sorted(unknown))}")
        return cls(**dict(data))

    def with_params(self, params: Mapping[str, Any]) -> "TrainConfig":
        """A copy with searched hyper-parameters applied (``lora_r``, ``lora_alpha`` go into ``lora``)."""
        params = dict(params)
        if "epochs" in params and self.method in ("dpo", "kto"):
            params["preference_epochs"] = params.pop("epochs")
        lora = dataclasses.replace(
            self.lora, r=params.pop("lora_r", self.lora.r), alpha=params.pop("lora_alpha", self.lora.alpha)
        )
        return dataclasses.replace(self, lora=lora, **params)


def sft_epochs(epochs: float | None, steps_per_epoch: int, *, fixed: float | None = None) -> float:
    """``epochs``, or for None ``fixed`` when given (:attr:`Resolved.sft_auto_epochs`), else
    :data:`AUTO_EPOCHS`, raised (up to :data:`MAX_AUTO_EPOCHS`) until at least
    :data:`MIN_AUTO_STEPS` optimizer steps run."""
    if epochs is not None:
        return float(epochs)
    if fixed is not None:
        return float(fixed)
    import math

    return float(min(MAX_AUTO_EPOCHS, max(AUTO_EPOCHS, math.ceil(MIN_AUTO_STEPS / max(1, steps_per_epoch)))))


def auto_threads(threads: int = 0) -> int:
    """``threads``, or for 0 the cores this process may use that other processes leave idle (by the
    1-minute load average, this process's own share discounted), at least 1 and at most 4 (a tiny
    model gains nothing past that; the editor keeps the rest).

    Idle cores only: torch's threads wait for each other whenever a core is taken away from one of
    them, so a thread more than the idle cores trains much slower, not faster (measured in
    docs/training.md, "Measurements behind the defaults")."""
    if threads > 0:
        return threads
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        others = max(0.0, os.getloadavg()[0] - 1.0)
    except (AttributeError, OSError):
        others = 0.0
    return max(1, min(4, cores, int(cores - others + 0.5)))


@dataclass(frozen=True)
class Resolved:
    """The decisions :func:`resolve` took for one model on one device, recorded in the run's params."""

    adaptation: str
    trainable_tokens: bool
    learning_rate: float
    bf16: bool
    gradient_accumulation_steps: int
    n_params: int
    # SFT epochs when ``epochs`` is None: None is the default rule (sft_epochs); CPU_LLM_EPOCHS for
    # LoRA on a real LLM on the CPU
    sft_auto_epochs: float | None = None


def resolve(config: TrainConfig, method: str, *, n_params: int, on_gpu: bool, bf16_ok: bool) -> Resolved:
    adaptation = config.adaptation
    if adaptation == "auto":
        adaptation = "full" if n_params < FULL_FINETUNE_BELOW else "lora"
    tokens = adaptation == "lora" and (
        config.trainable_tokens == "data" or (config.trainable_tokens == "auto" and n_params < TRAINABLE_TOKENS_BELOW)
    )
    lr = config.learning_rate
    if lr is None:
        if adaptation == "full":
            lr = 4e-3 if n_params < FULL_FINETUNE_BELOW else 2e-5
        else:
            lr = 5e-3 if n_params < 100_000_000 else 2e-3 if n_params < SMALL_LLM_BELOW else 2e-4
        if method in ("dpo", "kto"):
            lr /= 10
    bf16 = config.bf16 if config.bf16 is not None else (on_gpu and bf16_ok)
    accum = config.gradient_accumulation_steps
    if accum is None:
        accum = max(1, 16 // config.batch_size) if on_gpu else 1
    real_llm_on_cpu = adaptation == "lora" and n_params >= TRAINABLE_TOKENS_BELOW and not on_gpu
    return Resolved(adaptation, tokens, float(lr), bool(bf16), int(accum), int(n_params),
                    CPU_LLM_EPOCHS if real_llm_on_cpu else None)

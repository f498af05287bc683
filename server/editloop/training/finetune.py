"""SFT, DPO and KTO through TRL's trainers, with LoRA (PEFT) or, for tiny bases, full fine-tuning.

:func:`train` is one Train now: pick the method (``auto``), train each stage with early stopping
on validation similarity, keep the best checkpoint, compare against the promoted model (or the
base) on the same validation set, and leave the result in ``<out_dir>/adapter``.

What we found with TRL 1.16 / PEFT 0.21 (see docs/training.md):
- every TRL trainer patches the LM head with a fused log-prob kernel that reads ``lm_head.bias``;
  with PEFT ``trainable_token_indices`` on a model with tied embeddings, ``lm_head`` is a
  ``TrainableTokensWrapper`` without ``bias`` and training fails at the first step. Untied
  embeddings work. So: tiny bases are fully fine-tuned (TRL unchanged, every embedding trains);
  LoRA + trainable tokens on tied embeddings runs SFT with the transformers ``Trainer`` on the
  data and collator TRL's ``SFTTrainer`` prepared, and DPO/KTO without trainable tokens.
- on the CPU that fused head projects every position, prompt and padding included; while a
  stage trains, :mod:`.fused_head` makes it project only the labelled ones (same loss, faster
  steps: docs/training.md).
- DPO with a full fine-tune and ``ref_model=None`` reloads the reference from the policy's
  ``config._name_or_path`` (the base), so a DPO stage after SFT passes the SFT model as reference.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import EditloopError
from .config import (FULL_FINETUNE_BELOW, SFT_EVAL_DELAY_FROM, SFT_FIRST_EVAL_EPOCH, SFT_SAMPLING, SFT_SCHEDULE,
                     Resolved, TrainConfig, auto_threads, resolve, sft_epochs)
from .data import TrainingData, trl_rows
from .fused_head import compact_lm_head
from .tracker import Curve, GenerationEvaluator, Progress, beats, make_tracker, validity_floor

log = logging.getLogger(__name__)

# auto: KTO when edits are fewer than this share of the accept/reject feedback.
KTO_WHEN_EDIT_SHARE_BELOW = 0.3


class Cancelled(EditloopError):
    def __init__(self) -> None:
        super().__init__("training was cancelled", code="cancelled")


@dataclass
class Plan:
    stages: list[str]
    reason: str


@dataclass
class StageResult:
    method: str
    path: Path
    best: dict[str, Any]
    steps: int
    stopped_early: bool
    notes: list[str] = field(default_factory=list)
    processes: int = 1  # training processes (data parallel under `accelerate launch`)


@dataclass
class RunResult:
    method: str
    reason: str
    artifact: Path
    promote: bool
    promote_reason: str
    metrics: dict[str, Any]


@dataclass
class Baseline:
    """What :func:`train`'s plan step loaded and measured, read by every later step."""
    base_path: str
    tokenizer: Any
    n_params: int
    plan: Plan
    evaluator: GenerationEvaluator
    curve: Curve
    metrics: dict[str, Any]  # the base model's validation metrics
    floor: float | None  # the lowest validity a candidate may have (tracker.validity_floor)
    token_ids: list[int]  # every token of the training targets (LoRA's trainable tokens)

    @property
    def n_val(self) -> int:
        return len(self.evaluator.targets)

    @property
    def by_type(self) -> dict | None:
        return self.metrics.get("byType")


def choose_method(data: TrainingData, method: str, *, min_dpo_pairs: int = 20, dpo_after_sft: bool = True,
                  why_no_dpo: str = "") -> Plan:
    """The stages to train and, for ``auto``, why (in words a user reads in the run list).

    ``dpo_after_sft`` False: ``auto`` never adds a DPO stage after SFT (``why_no_dpo`` says why)."""
    if method != "auto":
        return Plan([method], f"{method.upper()} as requested")
    acts = data.actions
    edits, accepts, rejects, rewrites = (acts.get(a, 0) for a in ("edit", "accept", "reject", "rewrite"))
    n_sft, n_dpo = len(data.sft.train), len(data.dpo.train)
    kto_labels = {bool(r["label"]) for r in data.kto.train}
    feedback = edits + accepts + rejects + rewrites
    written = edits + rewrites  # the user wrote the text to learn: SFT has something to move toward
    if (data.kto.train and data.kto.val and len(kto_labels) == 2 and feedback
            and written < KTO_WHEN_EDIT_SHARE_BELOW * feedback and rejects > 0):
        return Plan(["kto"], f"KTO: feedback is mostly accept/reject ({accepts} accepts, {rejects} rejects, "
                             f"{edits} edits" + (f", {rewrites} rewrites)" if rewrites else ")"))
    if not n_sft and n_dpo >= min_dpo_pairs and data.dpo.val:
        return Plan(["dpo"], f"DPO: {n_dpo} edit pairs and no SFT rows")
    if n_dpo >= min_dpo_pairs and data.dpo.val and not dpo_after_sft:
        return Plan(["sft"], f"SFT on {n_sft} rows ({n_dpo} edit pairs; no DPO stage: {why_no_dpo or 'not requested'})")
    if n_dpo >= min_dpo_pairs and data.dpo.val:
        return Plan(["sft", "dpo"], f"SFT on {n_sft} rows, then DPO on {n_dpo} edit pairs if it wins on validation")
    return Plan(["sft"], f"SFT on {n_sft} rows" + (f" ({n_dpo} edit pairs: too few for DPO, need {min_dpo_pairs})"
                                                     if n_dpo else ""))


def _trl_classes(method: str):
    import trl

    return {
        "sft": (trl.SFTConfig, trl.SFTTrainer),
        "dpo": (trl.DPOConfig, trl.DPOTrainer),
        "kto": (trl.KTOConfig, trl.KTOTrainer),
    }[method]


def _trainer_args(method: str, config: TrainConfig, res: Resolved, out: Path, n_train: int,
                  kto_weights: dict[str, float] | None = None):
    import torch

    config_cls, _ = _trl_classes(method)
    batch = config.batch_size
    if method == "kto":
        batch = max(batch, 2)  # KTO's KL estimate pairs each example with another in its batch
    steps_per_epoch = max(1, -(-n_train // (batch * res.gradient_accumulation_steps)))
    epochs = (sft_epochs(config.epochs, steps_per_epoch, fixed=res.sft_auto_epochs) if method == "sft"
              else config.preference_epochs)
    kwargs: dict[str, Any] = dict(
        output_dir=str(out),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch,
        per_device_eval_batch_size=batch,
        gradient_accumulation_steps=res.gradient_accumulation_steps,
        learning_rate=res.learning_rate,
        lr_scheduler_type=SFT_SCHEDULE if method == "sft" else "linear",
        warmup_steps=min(steps_per_epoch, 10),
        bf16=res.bf16,
        activation_checkpointing=False,
        max_length=config.max_length,
        eval_strategy="epoch",
        # transformers evaluates at the end of an epoch once state.epoch >= eval_delay
        eval_delay=SFT_FIRST_EVAL_EPOCH - 0.5 if method == "sft" and epochs >= SFT_EVAL_DELAY_FROM else 0,
        save_strategy="epoch",
        save_total_limit=1,
        save_only_model=not sharded_launch(),  # transformers refuses it with DeepSpeed/FSDP and a best-model reload
        load_best_model_at_end=True,
        metric_for_best_model="eval_score",  # similarity, validity kept (tracker.selection_score)
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=max(1, steps_per_epoch // 2),
        report_to=[],
        disable_tqdm=True,
        seed=config.seed,
        data_seed=config.seed,
        dataloader_num_workers=0,
        use_cpu=not torch.cuda.is_available(),
    )
    if method == "sft":
        kwargs["train_sampling_strategy"] = SFT_SAMPLING
    if method in ("sft", "dpo"):
        kwargs["truncation_mode"] = config.truncation_mode
    if method in ("dpo", "kto"):
        kwargs["beta"] = config.beta
    if method == "kto":  # curation balances the accepted and rejected classes (TRL's recommended ratio)
        for key in ("desirable_weight", "undesirable_weight"):
            if key in (kto_weights or {}):
                kwargs[key] = float(kto_weights[key])
    return config_cls(**kwargs)


def sharded_launch() -> bool:
    """Started by `accelerate launch` with a DeepSpeed or FSDP config (the variables it sets)."""
    return any(os.environ.get(name, "").lower() in ("1", "true") for name in ("ACCELERATE_USE_DEEPSPEED",
                                                                               "ACCELERATE_USE_FSDP"))


def _lora_config(config: TrainConfig, token_ids: list[int] | None):
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora.r, lora_alpha=config.lora.alpha, lora_dropout=config.lora.dropout,
        target_modules=config.lora.target_modules, task_type="CAUSAL_LM",
        trainable_token_indices=token_ids or None,
    )


def target_token_ids(tokenizer, data: TrainingData) -> list[int]:
    """Ids of every token in the training targets (completions, chosen and rejected texts)."""
    ids: set[int] = set()
    for split in (data.sft, data.dpo, data.kto):
        for row in split.train:
            for col in ("completion", "chosen", "rejected"):
                if col in row:
                    text = "".join(m["content"] for m in row[col]) if isinstance(row[col], list) else row[col]
                    ids.update(tokenizer(text, add_special_tokens=False)["input_ids"])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return sorted(ids)


def _datasets(method: str, data: TrainingData, seed: int, *, keep_order: bool):
    """The train and validation datasets in TRL's columns; the train rows shuffled once unless
    ``keep_order`` (a curriculum, or a :class:`~.sampling.RowOrder` that orders them each epoch)."""
    from datasets import Dataset

    split = data.split(method)
    train = Dataset.from_list(trl_rows(split.train, method))
    if not keep_order:
        train = train.shuffle(seed=seed)
    val = Dataset.from_list(trl_rows(split.val, method))
    return train, val


def _run_stage(method: str, *, config: TrainConfig, res: Resolved, base_path: str, start: Path | None,
               tokenizer, data: TrainingData, evaluator: GenerationEvaluator, curve: Curve, out_dir: Path,
               progress: Progress, should_stop: Callable[[], bool], on_eval, step_offset: int,
               percent_range: tuple[float, float], token_ids: list[int] | None,
               floor: float | None = None, base_by_type: dict | None = None) -> StageResult:
    from transformers import EarlyStoppingCallback, set_seed

    set_seed(config.seed)
    notes: list[str] = []
    tracker = make_tracker(evaluator, curve, stage=method, progress=progress, should_stop=should_stop,
                           step_offset=step_offset, on_eval=on_eval, percent_range=percent_range,
                           validity_floor=floor, base_by_type=base_by_type)
    callbacks = [tracker, EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience)]
    trainer = stage_trainer(method, config=config, res=res, base_path=base_path, start=start, tokenizer=tokenizer,
                            data=data, out_dir=out_dir, callbacks=callbacks, token_ids=token_ids, notes=notes)
    return _finish(trainer, method, out_dir, tracker, should_stop, notes)


def stage_trainer(method: str, *, config: TrainConfig, res: Resolved, base_path: str, start: Path | None,
                  tokenizer, data: TrainingData, out_dir: Path, callbacks: list | None = None,
                  token_ids: list[int] | None = None, notes: list[str] | None = None):
    """The trainer of one stage, ready to train: TRL's (or transformers' ``Trainer`` on TRL-prepared
    data, see the module docstring), its train sampler following curation's weights and curriculum
    order (:mod:`.sampling`). ``notes`` collects what the run's metrics should say about it."""
    from transformers import Trainer

    from .sampling import ordered_trainer, row_order

    notes = notes if notes is not None else []
    order = row_order(method, data.split(method), curriculum=data.curriculum, reward_weighting=config.reward_weighting,
                      seed=config.seed)
    train_ds, val_ds = _datasets(method, data, config.seed, keep_order=data.curriculum or order is not None)
    args = _trainer_args(method, config, res, out_dir / "checkpoints" / method, len(train_ds), data.kto_weights)
    model, peft_config, extra, plain = _stage_model(method, config, res, base_path, start, token_ids, notes)
    trainer_cls = ordered_trainer(_trl_classes(method)[1])
    if plain:  # TRL prepares the data and collator; transformers' Trainer trains
        from peft import get_peft_model

        prep = trainer_cls(model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds,
                           processing_class=tokenizer)
        args.remove_unused_columns = False
        trainer = ordered_trainer(Trainer)(model=get_peft_model(model, peft_config), args=args,
                                           train_dataset=prep.train_dataset, eval_dataset=prep.eval_dataset,
                                           data_collator=prep.data_collator, processing_class=tokenizer,
                                           callbacks=callbacks)
        notes.append("SFT with trainable tokens on tied embeddings: transformers Trainer on TRL-prepared data")
    else:
        trainer = trainer_cls(model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds,
                              processing_class=tokenizer, peft_config=peft_config, callbacks=callbacks, **extra)
    if order is not None:
        order.source, order.notes = train_ds, notes
        trainer.row_order = order
        notes.append(order.describe())
    return trainer


def _stage_model(method: str, config: TrainConfig, res: Resolved, base_path: str, start: Path | None,
                 token_ids: list[int] | None, notes: list[str]):
    """The model a stage trains: ``(model, peft_config, extra trainer kwargs, plain)``; ``plain``:
    LoRA with trainable tokens on tied embeddings, which transformers' ``Trainer`` must train."""
    from transformers import AutoModelForCausalLM

    extra: dict[str, Any] = {}
    if res.adaptation == "full":
        model = AutoModelForCausalLM.from_pretrained(str(start or base_path))
        if start is not None and method in ("dpo", "kto"):
            # The reference is the model this stage starts from, not the base TRL would reload.
            extra["ref_model"] = AutoModelForCausalLM.from_pretrained(str(start))
        return model, None, extra, False
    if start is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_path), str(start),
                                          is_trainable=True)
        return model, None, extra, False
    model = AutoModelForCausalLM.from_pretrained(base_path)
    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    ids = token_ids if res.trainable_tokens else None
    if ids and tied and method != "sft":
        notes.append(f"{method.upper()}: trainable tokens skipped (TRL's fused LM head fails on tied embeddings)")
        ids = None
    return model, _lora_config(config, ids), extra, bool(ids and tied)


def _finish(trainer, method: str, out_dir: Path, tracker, should_stop, notes: list[str]) -> StageResult:
    with compact_lm_head():
        trainer.train()
    if should_stop():
        raise Cancelled()
    state = trainer.state
    stopped_early = state.global_step < state.max_steps
    path = out_dir / "stages" / method
    trainer.save_model(str(path))  # the best checkpoint (load_best_model_at_end); PEFT: the adapter only
    trainer.accelerator.wait_for_everyone()  # the next stage loads it on every rank
    if trainer.accelerator.is_main_process:
        shutil.rmtree(out_dir / "checkpoints" / method, ignore_errors=True)
    if tracker.best is None:
        raise EditloopError(f"{method.upper()} stopped before its first evaluation")
    return StageResult(method, path, tracker.best, state.global_step, stopped_early, notes,
                       processes=trainer.accelerator.num_processes)


def _outputs_progress(progress: Progress, phase: str, lo: float, hi: float) -> Callable[[int, int], None]:
    """``on_progress(done, total)`` for a generation phase: ``done`` of ``total`` outputs, from ``lo``
    to ``hi`` percent of the run."""

    def report(done: int, total: int) -> None:
        pct = lo + (hi - lo) * done / total if total else lo
        progress({"type": "status", "phase": phase, "done": done, "total": total, "percentage": round(pct, 1)})

    return report


def train(data: TrainingData, config: TrainConfig, out_dir: str | Path, *, progress: Progress | None = None,
          should_stop: Callable[[], bool] | None = None, incumbent: str | Path | None = None,
          on_eval: Callable[[dict], bool] | None = None) -> RunResult:
    """One Train now on ``data``; the best model ends up in ``<out_dir>/adapter``.

    ``incumbent`` is the promoted model's folder (None: the base is in use); the result says
    whether the new model beats it on the same validation set. The steps: plan (load and measure
    the base, choose the stages), stages (train each), select (the best stage), interpolate (with
    the base, full fine-tunes), promote (keep the model, compare it with the incumbent), metrics.
    """
    import torch
    from accelerate import PartialState

    progress = progress or (lambda event: None)
    should_stop = should_stop or (lambda: False)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(auto_threads(config.threads))
    base = _plan(data, config, progress)
    stages, resolved = _train_stages(base, data, config, out_dir, progress=progress, should_stop=should_stop,
                                     on_eval=on_eval)
    chosen, reason = _select(stages, base, config)
    artifact = out_dir / "adapter"
    if not PartialState().is_main_process:  # under `accelerate launch`, rank 0 keeps the result
        return RunResult(chosen.method, reason, artifact, False, "not the main process", {})
    if resolved[chosen.method].adaptation == "full" and config.interpolation:
        reason += _interpolate(chosen, base, config.interpolation, sum(s.steps for s in stages), progress=progress)
    promote, promote_reason, incumbent_metrics = _promote(chosen, base, config, out_dir, incumbent, progress)
    metrics = _metrics(chosen, stages, base, resolved[chosen.method], data, incumbent_metrics)
    return RunResult(chosen.method, reason, artifact, promote, promote_reason, metrics)


def _plan(data: TrainingData, config: TrainConfig, progress: Progress) -> Baseline:
    """Step 1: load the base, choose the stages and measure the base on the validation set (the
    figures every stage must beat and the validity floor it must keep)."""
    from .artifacts import load_base

    base_path = _resolve_base(data, config, progress)
    model, tokenizer = load_base(base_path)
    n_params = sum(p.numel() for p in model.parameters())
    plan = _choose_stages(data, config, n_params, gpu=_cuda())
    targets = data.generation_targets()[: config.eval_examples]
    evaluator = GenerationEvaluator(targets, tokenizer, max_new_tokens=config.max_new_tokens)
    curve = Curve()
    # retry_invalid: measure what generation serves (an invalid output is retried, at worst by the base)
    measure_base = _outputs_progress(progress, "measuring the base model", 1, 2)
    measure_base(0, len(targets))
    metrics = evaluator.evaluate(model, as_fallback=config.retry_invalid, on_progress=measure_base)
    curve.add(step=0, stage="base", epoch=0.0, trainLoss=None, valLoss=None,
              valSimilarity=metrics["similarity"], valValidity=metrics["validity"])
    token_ids = target_token_ids(tokenizer, data)
    floor = validity_floor(metrics["validity"], len(targets), config.validity_tolerance)
    return Baseline(base_path, tokenizer, n_params, plan, evaluator, curve, metrics, floor, token_ids)


def _resolve_base(data: TrainingData, config: TrainConfig, progress: Progress) -> str:
    """The base model's folder, after checking that the data can feed the requested stages (the
    cheap checks first): a preset or a GGUF file becomes a cached model folder (converted once)."""
    if not config.base_model:
        raise EditloopError("no base model configured (editloop.training.baseModel)")
    for stage in choose_method(data, config.method, min_dpo_pairs=config.min_dpo_pairs).stages:
        data.check(stage)
    from .base_source import resolve as resolve_base

    base_path = resolve_base(config.base_model, progress=lambda message: progress(
        {"type": "status", "phase": "preparing", "message": message, "percentage": 0}))
    progress({"type": "status", "phase": "preparing", "message": f"loading {base_path}", "percentage": 0})
    return base_path


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _choose_stages(data: TrainingData, config: TrainConfig, n_params: int, *, gpu: bool) -> Plan:
    """:func:`choose_method` knowing the base's size and the device: ``dpo_after_sft: auto`` adds a
    DPO stage after SFT only on a GPU and a base that is not tiny. On a tiny from-scratch base DPO
    lowered validation similarity and validity in every measured run; on the CPU, the DPO stage of a
    real base (SmolLM2-135M) took about 9x its SFT stage and 18 GB, and was discarded
    (docs/benchmarks.md, the real-base tier)."""
    tiny = n_params < FULL_FINETUNE_BELOW
    if config.dpo_after_sft != "auto":
        return choose_method(data, config.method, min_dpo_pairs=config.min_dpo_pairs,
                             dpo_after_sft=config.dpo_after_sft == "always", why_no_dpo="dpo_after_sft is never")
    why = (f"on a {n_params / 1e6:.1f}M-parameter from-scratch base DPO lowered validation similarity and validity "
           "in every measured run" if tiny else
           "on the CPU a DPO stage costs many times the SFT stage and its memory grows with the vocabulary")
    return choose_method(data, config.method, min_dpo_pairs=config.min_dpo_pairs, dpo_after_sft=gpu and not tiny,
                         why_no_dpo=why + " (dpo_after_sft: always tries it)")


def _train_stages(base: Baseline, data: TrainingData, config: TrainConfig, out_dir: Path, *, progress: Progress,
                  should_stop: Callable[[], bool], on_eval) -> tuple[list[StageResult], dict[str, Resolved]]:
    """Step 2: train the planned stages in turn, each from the previous one's best model, each
    over its share (2-95 %) of the progress bar; with each stage's resolved settings."""
    import torch

    on_gpu = torch.cuda.is_available()
    bf16_ok = on_gpu and torch.cuda.is_bf16_supported()
    stages: list[StageResult] = []
    resolved: dict[str, Resolved] = {}
    start: Path | None = None
    step_offset = 0
    n = len(base.plan.stages)
    for i, method in enumerate(base.plan.stages):
        res = resolve(config, method, n_params=base.n_params, on_gpu=on_gpu, bf16_ok=bf16_ok)
        resolved[method] = res
        span = (2 + 93 * i / n, 2 + 93 * (i + 1) / n)
        result = _run_stage(method, config=config, res=res, base_path=base.base_path, start=start,
                            tokenizer=base.tokenizer, data=data, evaluator=base.evaluator, curve=base.curve,
                            out_dir=out_dir, progress=progress, should_stop=should_stop, on_eval=on_eval,
                            step_offset=step_offset, percent_range=span, token_ids=base.token_ids,
                            floor=base.floor, base_by_type=base.by_type)
        stages.append(result)
        step_offset += result.steps
        start = result.path
    return stages, resolved


def _select(stages: list[StageResult], base: Baseline, config: TrainConfig) -> tuple[StageResult, str]:
    """Step 3: the first stage, replaced by a later one only if it beats it on validation; the
    plan's reason with each later stage's verdict."""
    chosen = stages[0]
    reason = base.plan.reason
    for later in stages[1:]:
        won, why = beats({"similarity": later.best["valSimilarity"], "validity": later.best["valValidity"]},
                         {"similarity": chosen.best["valSimilarity"], "validity": chosen.best["valValidity"]},
                         n=base.n_val, tolerance=config.validity_tolerance)
        if won:
            chosen = later
            reason += f"; {later.method.upper()} kept ({why})"
        else:
            reason += f"; {later.method.upper()} discarded ({why})"
    return chosen, reason


def _interpolate(chosen: StageResult, base: Baseline, alphas, step: int, *,
                 progress: Progress = lambda event: None) -> str:
    """Step 4, full fine-tunes: WiSE-FT (Wortsman et al., 2022), weights ``base + alpha * (tuned -
    base)`` for each alpha, measured on the validation set; the best by :func:`selection_score`
    replaces the tuned model. Returns the words added to the run's reason.

    A tiny base fine-tuned on a hundred rows learns the user's conventions but loses some of the
    syntax it learned in pretraining; part-way between the two often keeps both."""
    from transformers import AutoModelForCausalLM

    from .tracker import selection_score

    tuned = AutoModelForCausalLM.from_pretrained(str(chosen.path))
    tuned_sd = {k: v.detach().clone() for k, v in tuned.state_dict().items()}
    base_sd = AutoModelForCausalLM.from_pretrained(base.base_path).state_dict()
    best, best_alpha = chosen.best, 1.0
    best_score = selection_score(best["valSimilarity"], best["valValidity"], base.floor, best.get("byType"),
                                 base.by_type)
    candidates = sorted({float(a) for a in alphas if 0 < float(a) < 1}, reverse=True)
    for alpha, point in _blends(tuned, tuned_sd, base_sd, candidates, base, step, progress):
        score = selection_score(point["valSimilarity"], point["valValidity"], base.floor, point.get("byType"),
                                base.by_type)
        if score > best_score:
            best, best_score, best_alpha = point, score, alpha
    if best_alpha == 1.0:
        return "; interpolation with the base did not help"
    _blend(tuned, tuned_sd, base_sd, best_alpha)
    tuned.save_pretrained(str(chosen.path))
    chosen.best = best
    chosen.notes.append(f"interpolated with the base at alpha {best_alpha}")
    return f"; interpolated with the base (alpha {best_alpha}: similarity {best['valSimilarity']:.3f}, " \
           f"validity {best['valValidity'] if best['valValidity'] is None else format(best['valValidity'], '.0%')})"


def _blends(tuned, tuned_sd: dict, base_sd: dict, alphas: list[float], base: Baseline, step: int,
            progress: Progress):
    """For each alpha, ``tuned`` blended with the base and measured: yields ``(alpha, curve point)``."""
    n = len(base.evaluator.targets)
    report = _outputs_progress(progress, "interpolating", 95, 96)
    report(0, n * len(alphas))
    for k, alpha in enumerate(alphas):
        _blend(tuned, tuned_sd, base_sd, alpha)
        gen = base.evaluator.evaluate(tuned, on_progress=lambda done, total, k=k: report(k * n + done, n * len(alphas)))
        point = base.curve.add(step=step, stage="interpolate", epoch=alpha, trainLoss=None, valLoss=None,
                               valSimilarity=gen["similarity"], valValidity=gen["validity"])
        for key in ("byType", "replaced"):
            if key in gen:
                point[key] = gen[key]
        yield alpha, point


def _blend(model, tuned_sd: dict, base_sd: dict, alpha: float) -> None:
    """Load ``base + alpha * (tuned - base)`` into ``model`` (tensors that are not floats: the tuned ones)."""
    import torch

    with torch.no_grad():
        model.load_state_dict({k: (base_sd[k] + alpha * (v - base_sd[k])) if v.is_floating_point() else v
                               for k, v in tuned_sd.items()})


def _promote(chosen: StageResult, base: Baseline, config: TrainConfig, out_dir: Path,
             incumbent: str | Path | None, progress: Progress) -> tuple[bool, str, dict[str, Any]]:
    """Step 5: keep the chosen model as ``<out_dir>/adapter`` and decide whether it replaces the
    promoted model (the base when ``incumbent`` is None), both measured on the same validation set;
    the stages' and checkpoints' folders go. Returns (promote, why, the incumbent's metrics)."""
    artifact = out_dir / "adapter"
    if artifact.exists():
        shutil.rmtree(artifact)
    shutil.move(str(chosen.path), str(artifact))
    best = {"similarity": chosen.best["valSimilarity"], "validity": chosen.best["valValidity"],
            "byType": chosen.best.get("byType")}
    incumbent_metrics = _incumbent_metrics(base, incumbent, progress)
    promote, promote_reason = beats(best, incumbent_metrics, n=base.n_val, tolerance=config.validity_tolerance)
    shutil.rmtree(out_dir / "stages", ignore_errors=True)
    shutil.rmtree(out_dir / "checkpoints", ignore_errors=True)
    return promote, promote_reason, incumbent_metrics


def _incumbent_metrics(base: Baseline, incumbent: str | Path | None, progress: Progress) -> dict[str, Any]:
    """The promoted model's validation metrics, measured now (the base's, from planning, if none)."""
    if incumbent is None:
        return {"similarity": base.metrics["similarity"], "validity": base.metrics["validity"],
                "model": "base", "byType": base.by_type}
    from .artifacts import load_model

    measured = _outputs_progress(progress, "measuring the promoted model", 96, 99)
    measured(0, base.n_val)
    inc_model, _ = load_model(incumbent, base.base_path)
    inc = base.evaluator.evaluate(inc_model, on_progress=measured)
    return {"similarity": inc["similarity"], "validity": inc["validity"], "model": str(incumbent),
            "byType": inc.get("byType")}


def _metrics(chosen: StageResult, stages: list[StageResult], base: Baseline, res: Resolved, data: TrainingData,
             incumbent_metrics: dict[str, Any]) -> dict[str, Any]:
    """Step 6: the run's ``metrics.json`` (names: :mod:`editloop.store.metrics`)."""
    metrics = {
        "method": chosen.method,
        "stages": [
            {"method": s.method, "steps": s.steps, "stoppedEarly": s.stopped_early, "best": s.best, "notes": s.notes,
             "processes": s.processes}
            for s in stages
        ],
        "curve": base.curve.points,
        "valSimilarity": chosen.best["valSimilarity"],
        "valValidity": chosen.best["valValidity"],
        "base": {"similarity": base.metrics["similarity"], "validity": base.metrics["validity"],
                 "samples": base.metrics["samples"]},
        "incumbent": incumbent_metrics,
        "valLoss": chosen.best.get("valLoss"),
        "counts": data.counts(),
        "valExamples": base.n_val,
        "adaptation": res.adaptation,
        "trainableTokens": len(base.token_ids) if res.trainable_tokens else 0,
        "learningRate": res.learning_rate,
        "params": base.n_params,
        "bf16": res.bf16,
    }
    return metrics

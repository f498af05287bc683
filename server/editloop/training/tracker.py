"""What a run measures while it trains, and which model is promoted.

Per evaluation: train and validation loss (from the trainer) and generation metrics on the
validation set: greedy outputs compared with the text the user kept (normalized Levenshtein
similarity) and, where a validator exists, the share of syntactically valid outputs. The
:class:`RunTracker` callback adds ``eval_similarity`` to the trainer's metrics, so TRL/transformers'
own ``EarlyStoppingCallback`` and ``load_best_model_at_end`` select on it.

Promotion: a run is promoted only if its best model beats the promoted one (or the base) on the
same validation set, measured in the same run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from ..errors import EditloopError

if TYPE_CHECKING:
    from ..store.runs import Run

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]
BASE = "base"
# How far one artifact type's mean validation similarity may fall while the run as a whole improves:
# with ~15 validation examples per type, the mean moves by about this much between checkpoints
# that are equally good on held-out specs (measured in docs/training.md, "Measurements behind the
# defaults").
TYPE_SIMILARITY_TOLERANCE = 0.02
# The tolerated validity flips never exceed this share of the validation set: on 12 examples one
# flip is 8%, and models let through that way were less valid on held-out specs (docs/training.md).
MAX_VALIDITY_DROP = 0.05


def _is_valid(result: Any) -> bool | None:
    """Read whatever the validator returns: a bool, a 0..100 score, a dict or an object with ``valid``."""
    if result is None:
        return None
    if isinstance(result, bool):
        return result
    if isinstance(result, (int, float)):
        return result >= 100
    for key in ("valid", "ok"):
        value = result.get(key) if isinstance(result, dict) else getattr(result, key, None)
        if value is not None:
            return bool(value)
    score = result.get("score") if isinstance(result, dict) else getattr(result, "score", None)
    return None if score is None else score >= 100


class GenerationEvaluator:
    """Greedy generation on validation prompts; similarity to the kept text and validity.

    Once a model was evaluated with ``as_fallback=True`` (the base model, first in a run) the metrics
    are those of what generation would serve with ``editloop.generation.retryInvalid``: an output the
    validator rejects counts as that model's output for the prompt (the last step of the retry, so a
    lower bound of what is served). Checkpoint selection and promotion then weigh a model's invalid
    outputs by what they cost the user, not lexicographically; ``rawSimilarity``/``rawValidity``
    keep the model's own figures."""

    def __init__(self, targets: list, tokenizer, *, max_new_tokens: int = 256, batch_size: int = 32) -> None:
        self.targets = targets  # editloop.training.data.Target
        self.tokenizer = tokenizer
        longest = max((len(tokenizer(t.text, add_special_tokens=False)["input_ids"]) for t in targets), default=0)
        self.max_new_tokens = max(8, min(max_new_tokens, int(longest * 1.3) + 8))
        self.batch_size = batch_size
        from ..signals.validate import validate

        self.validate = validate
        # per validation prompt: the fallback's (output, similarity, verdict), once set (evaluate's as_fallback)
        self.fallback: list[tuple[str, float, bool | None]] | None = None

    def generate(self, model, on_progress: Callable[[int, int], None] | None = None) -> list[str]:
        from .greedy import generate_greedy

        outs = generate_greedy(model, self.tokenizer, [t.prompt for t in self.targets],
                               max_new_tokens=self.max_new_tokens, batch_size=self.batch_size,
                               on_progress=on_progress)
        return [o.strip() for o in outs]

    def _verdicts(self, outputs: list[str]) -> list[bool | None]:
        verdicts: list[bool | None] = []
        for o, t in zip(outputs, self.targets):
            try:
                verdicts.append(_is_valid(self.validate(o, t.artifact_type or "", t.language)))
            except Exception as exc:  # a validator problem must not fail the run
                log.warning("validator failed: %s", exc)
                verdicts.append(None)
        return verdicts

    def evaluate(self, model, *, as_fallback: bool = False,
                 on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Generation metrics of ``model``; ``as_fallback``: its outputs stand in for every later
        model's invalid ones (see the class docstring); ``on_progress(done, total)``: outputs generated."""
        from rapidfuzz.distance import Levenshtein

        def mean(xs: list[float]) -> float:
            return sum(xs) / max(len(xs), 1)

        def validity(vs: list[bool | None]) -> float | None:
            known = [v for v in vs if v is not None]
            return sum(known) / len(known) if known else None

        outputs = self.generate(model, on_progress)
        verdicts = self._verdicts(outputs)
        sims = [Levenshtein.normalized_similarity(o, t.text.strip()) for o, t in zip(outputs, self.targets)]
        metrics: dict[str, Any] = {}
        if self.fallback is not None:
            swap = [v is False for v in verdicts]
            metrics.update(rawSimilarity=mean(sims), rawValidity=validity(verdicts), replaced=sum(swap))
            for i, (o, sim, v) in enumerate(self.fallback):
                if swap[i]:
                    outputs[i], sims[i], verdicts[i] = o, sim, v
        if as_fallback:
            self.fallback = list(zip(outputs, sims, verdicts))
        metrics.update({"similarity": mean(sims), "n": len(sims), "validity": validity(verdicts)})
        types = sorted({t.artifact_type or "" for t in self.targets})
        if len(types) > 1:  # a run on several artifact types: each must improve, not just the mean
            by_type = {}
            for kind in types:
                idx = [i for i, t in enumerate(self.targets) if (t.artifact_type or "") == kind]
                known = [verdicts[i] for i in idx if verdicts[i] is not None]
                by_type[kind] = {"similarity": sum(sims[i] for i in idx) / len(idx), "n": len(idx),
                                 "validity": sum(known) / len(known) if known else None}
            metrics["byType"] = by_type
        metrics["samples"] = outputs[:3]
        return metrics


def _trainer_callback_base():
    from transformers import TrainerCallback

    return TrainerCallback


@dataclass
class Curve:
    points: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **point: Any) -> dict[str, Any]:
        self.points.append(point)
        return point


def selection_score(similarity: float, validity: float | None, validity_floor: float | None,
                    by_type: dict | None = None, base_by_type: dict | None = None) -> float:
    """What checkpoint selection and early stopping maximise: validation similarity, but a
    checkpoint whose validity is below ``validity_floor`` ranks below every one that is not, and
    one that loses similarity on an artifact type (against ``base_by_type``) below every one that
    does not (lexicographic, the promotion rule's order: keep validity, help every type, edit less)."""
    score = similarity
    if validity is not None and validity_floor is not None and validity < validity_floor - 1e-9:
        score -= 2.0
    for kind, base in (base_by_type or {}).items():
        mine = (by_type or {}).get(kind)
        if mine is not None and mine["similarity"] < base["similarity"] - TYPE_SIMILARITY_TOLERANCE:
            score -= 1.0
            break
    return score


class _Tracking:
    """What the run's ``TrainerCallback`` does: record the curve, relay progress, stop on request.

    A plain class so that the tracker module imports no transformers; :func:`make_tracker` puts it
    in front of ``TrainerCallback`` (whose other hooks stay no-ops)."""

    def __init__(self, evaluator: GenerationEvaluator, curve: Curve, *, stage: str, progress: Progress,
                 should_stop: Callable[[], bool], step_offset: int, on_eval: Callable[[dict], bool] | None,
                 percent_range: tuple[float, float], validity_floor: float | None, base_by_type: dict | None) -> None:
        self.evaluator, self.curve, self.stage, self.progress = evaluator, curve, stage, progress
        self.should_stop, self.step_offset, self.on_eval = should_stop, step_offset, on_eval
        self.percent_range, self.validity_floor, self.base_by_type = percent_range, validity_floor, base_by_type
        self.last_train_loss: float | None = None
        self.best: dict[str, Any] | None = None
        self.best_score = float("-inf")

    def _percent(self, state) -> float:
        lo, hi = self.percent_range
        frac = state.global_step / state.max_steps if state.max_steps else 0.0
        return round(lo + (hi - lo) * frac, 1)

    def _where(self, state) -> dict[str, Any]:
        return {"stage": self.stage, "step": state.global_step + self.step_offset,
                "maxSteps": state.max_steps + self.step_offset, "percentage": self._percent(state)}

    def on_log(self, args, state, control, logs=None, **kw):
        if logs and "loss" in logs:
            self.last_train_loss = float(logs["loss"])

    def on_step_end(self, args, state, control, **kw):
        self.progress({"type": "progress", "phase": "training", **self._where(state), "loss": self.last_train_loss})
        if self.should_stop():
            control.should_training_stop = True

    def on_train_end(self, args, state, control, **kw):
        # The stage's last word before the next phase: its final step, at the end of its span
        # (early stopping ends a stage before max_steps).
        if not self.should_stop():
            self.progress({"type": "progress", "phase": "training", **self._where(state),
                           "percentage": self.percent_range[1], "loss": self.last_train_loss,
                           "stoppedEarly": state.global_step < state.max_steps})

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kw):
        gen = self._generate(state, model)
        score = self._add_metrics(metrics, gen)
        point = self._add_point(state, metrics, gen)
        if self.best is None or score > self.best_score:
            self.best, self.best_score = point, score
        self.progress({"type": "eval", "phase": "validating", "percentage": self._percent(state),
                       "maxSteps": state.max_steps + self.step_offset, **point})
        if self.on_eval is not None and self.on_eval(point):
            control.should_training_stop = True
        if self.should_stop():
            control.should_training_stop = True

    def _generate(self, state, model) -> dict[str, Any]:
        """The evaluator's generation metrics of ``model``, relaying how many outputs are done."""
        here = self._where(state)
        total = len(self.evaluator.targets)
        self.progress({"type": "status", "phase": "validating", **here, "done": 0, "total": total})

        def outputs(done: int, total: int) -> None:
            self.progress({"type": "status", "phase": "validating", **here, "done": done, "total": total})

        return self.evaluator.evaluate(model, on_progress=outputs)

    def _add_metrics(self, metrics: dict, gen: dict[str, Any]) -> float:
        """Add similarity, validity and the selection score to the trainer's own metrics dict
        (EarlyStoppingCallback and best-checkpoint selection read them); returns the score."""
        metrics["eval_similarity"] = gen["similarity"]
        if gen["validity"] is not None:
            metrics["eval_validity"] = gen["validity"]
        score = selection_score(gen["similarity"], gen["validity"], self.validity_floor, gen.get("byType"),
                                self.base_by_type)
        metrics["eval_score"] = score
        return score

    def _add_point(self, state, metrics: dict, gen: dict[str, Any]) -> dict[str, Any]:
        """The curve's point for this evaluation."""
        point = self.curve.add(
            step=state.global_step + self.step_offset, stage=self.stage, epoch=round(state.epoch or 0.0, 3),
            trainLoss=self.last_train_loss, valLoss=metrics.get("eval_loss"),
            valSimilarity=gen["similarity"], valValidity=gen["validity"],
        )
        if "byType" in gen:
            point["byType"] = gen["byType"]
        if "replaced" in gen:
            point["replaced"] = gen["replaced"]
        return point


@lru_cache(maxsize=1)
def _tracker_class() -> type:
    """``RunTracker``: :class:`_Tracking` on transformers' ``TrainerCallback`` (imported when a run trains)."""
    return type("RunTracker", (_Tracking, _trainer_callback_base()), {})


def make_tracker(evaluator: GenerationEvaluator, curve: Curve, *, stage: str, progress: Progress,
                 should_stop: Callable[[], bool], step_offset: int = 0, on_eval: Callable[[dict], bool] | None = None,
                 percent_range: tuple[float, float] = (0.0, 100.0), validity_floor: float | None = None,
                 base_by_type: dict | None = None):
    """A transformers ``TrainerCallback`` recording the curve and relaying progress.

    ``on_eval(point)`` (Optuna's pruning) returns True to stop; ``should_stop()`` (cancel) is
    polled after every step. ``eval_score`` (:func:`selection_score`) is added to the trainer's
    metrics for best-checkpoint selection and early stopping.
    """
    return _tracker_class()(evaluator, curve, stage=stage, progress=progress, should_stop=should_stop,
                            step_offset=step_offset, on_eval=on_eval, percent_range=percent_range,
                            validity_floor=validity_floor, base_by_type=base_by_type)


# -- promotion -----------------------------------------------------------------------------------

def validity_floor(validity: float | None, n: int, tolerance: int = 0) -> float | None:
    """The lowest validity a candidate may have against one of ``validity`` on ``n`` examples:
    ``tolerance`` examples fewer (greedy outputs of a few dozen prompts flip one at a time)."""
    if validity is None:
        return None
    allowed = min(tolerance, int(n * MAX_VALIDITY_DROP + 1e-9)) if n else 0
    return validity - allowed / n if n else validity


def beats(candidate: dict[str, Any], incumbent: dict[str, Any], *, n: int = 0, tolerance: int = 0) -> tuple[bool, str]:
    """Does ``candidate`` beat ``incumbent`` (both generation metrics on the same ``n`` validation
    examples)? Its similarity must be higher, and its validity may be lower by at most
    ``tolerance`` examples."""
    c, i = candidate["similarity"], incumbent["similarity"]
    cv, iv = candidate.get("validity"), incumbent.get("validity")
    floor = validity_floor(iv, n, tolerance)
    if cv is not None and floor is not None and cv < floor - 1e-9:
        k = round((iv - floor) * n) if n else 0
        allowed = f" (allowed: {k} of {n} examples)" if n else ""
        return False, f"validity fell from {iv:.0%} to {cv:.0%}{allowed}"
    if c <= i + 1e-9:
        return False, f"validation similarity {c:.3f} did not beat {i:.3f}"
    for kind, inc in (incumbent.get("byType") or {}).items():
        cand = (candidate.get("byType") or {}).get(kind)
        if cand is not None and cand["similarity"] < inc["similarity"] - TYPE_SIMILARITY_TOLERANCE:
            return False, (f"validation similarity {c:.3f} beats {i:.3f} overall but falls on {kind or 'untyped'} "
                           f"({cand['similarity']:.3f} < {inc['similarity']:.3f})")
    return True, f"validation similarity {c:.3f} beats {i:.3f}"


def promoted_run(store, artifact_type: str | None) -> Run | None:
    """The promoted run's record (generation and the worker read it), or None."""
    from ..store import runs

    return runs.promoted(store, artifact_type)


def promote(store, run_id: str | None, *, artifact_type: str | None = None) -> Run | None:
    """Make ``run_id`` the promoted model of its artifact type (rollback: an older run, or ``None``/"base").

    Returns the promoted run's record, or None when the base model is in use again.
    """
    from ..store import runs

    if run_id in (None, BASE):
        runs.set_promoted(store, None, artifact_type)
        return None
    run = runs.get(store, run_id)
    if run.status != "succeeded" or not run.adapter_path:
        raise EditloopError(f"run {run_id} is {run.status} and has no model to promote")
    from .artifacts import check_artifact

    check_artifact(run.adapter_path)
    runs.set_promoted(store, run_id, run.artifact_type)
    return replace(run, promoted=True)

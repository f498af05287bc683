"""Each method trains the tiny model for real: parameters change, validation loss falls."""

from __future__ import annotations

import pytest
import tinymodel

from editloop.errors import EditloopError
from editloop.training.config import TrainConfig
from editloop.training.data import Split, TrainingData
from editloop.training.finetune import choose_method, train

pytestmark = pytest.mark.slow


def _weights(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _eval_losses(metrics: dict, stage: str) -> list[float]:
    return [p["valLoss"] for p in metrics["curve"] if p["stage"] == stage]


def _completion_loss(model, tok, rows: list[dict]) -> float:
    """Mean cross-entropy of the completions given their prompts (the loss TRL's SFT evaluates)."""
    import torch

    total = count = 0.0
    for row in rows:
        prompt = tok.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        ids = tok(tok.apply_chat_template(row["prompt"] + row["completion"], tokenize=False),
                  return_tensors="pt", add_special_tokens=False)["input_ids"]
        labels = ids.clone()
        labels[:, : len(tok(prompt, add_special_tokens=False)["input_ids"])] = -100
        with torch.no_grad():
            loss = model(input_ids=ids, labels=labels).loss.item()
        n = int((labels[:, 1:] != -100).sum())
        total, count = total + loss * n, count + n
    return total / count


def _trained(result, tiny_model):
    from editloop.training.artifacts import load_model

    model, _ = load_model(result.artifact, tiny_model)
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    return model


def _base(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model), AutoTokenizer.from_pretrained(tiny_model)


def test_sft_full_finetune_learns_the_users_style_and_unseen_tokens(tiny_model, toy_data, tmp_path):
    base, tok = _base(tiny_model)
    before = _weights(base)
    cfg = TrainConfig(method="sft", base_model=tiny_model, epochs=4, max_new_tokens=32)
    result = train(toy_data, cfg, tmp_path / "run")

    m = result.metrics
    assert m["adaptation"] == "full"  # 107k parameters: a tiny base
    losses = _eval_losses(m, "sft")
    # The first evaluation comes after epoch 2 (most of the drop is behind it): compare with the base's loss.
    base_loss = _completion_loss(base, tok, toy_data.sft.val)
    assert min(losses) < base_loss * 0.5 and losses[-1] < losses[0]
    assert m["valSimilarity"] > m["base"]["similarity"]
    assert result.promote and "beats" in result.promote_reason
    after = _weights(_trained(result, tiny_model))
    assert any(not (before[k] == after[k]).all() for k in before)
    # "uuid" never occurs in pretraining: its embedding row must have moved.
    uuid = tok.convert_tokens_to_ids("Ġuuid")
    emb = "model.embed_tokens.weight"
    assert (before[emb][uuid] - after[emb][uuid]).abs().max() > 1e-3
    # The curve is what the UI plots.
    assert {"step", "trainLoss", "valLoss", "valSimilarity"} <= set(m["curve"][-1])
    # First evaluated after epoch 2 (SFT_FIRST_EVAL_EPOCH), then after every epoch.
    assert [p["epoch"] for p in m["curve"] if p["stage"] == "sft"] == [2.0, 3.0, 4.0]
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_lora_with_trainable_tokens_on_tied_embeddings(tiny_model, toy_data, tmp_path):
    """TRL's fused LM head fails on PEFT trainable tokens with tied embeddings: the Trainer fallback trains."""
    base, tok = _base(tiny_model)
    before = _weights(base)
    cfg = TrainConfig(method="sft", base_model=tiny_model, adaptation="lora", epochs=3, max_new_tokens=32)
    result = train(toy_data, cfg, tmp_path / "run")

    assert (result.artifact / "adapter_config.json").exists()
    assert result.metrics["trainableTokens"] > 0
    assert "transformers Trainer" in " ".join(result.metrics["stages"][0]["notes"])
    losses = _eval_losses(result.metrics, "sft")
    assert min(losses) < losses[0]
    after = _weights(_trained(result, tiny_model))
    uuid = tok.convert_tokens_to_ids("Ġuuid")
    emb = "model.embed_tokens.weight"
    assert (before[emb][uuid] - after[emb][uuid]).abs().max() > 1e-4
    # Tokens absent from the training targets keep their embeddings.
    unused = tok.convert_tokens_to_ids("<s>")
    assert (before[emb][unused] == after[emb][unused]).all()
    assert any(not (before[k] == after[k]).all() for k in before if "layers" in k)


@pytest.mark.parametrize("method,adaptation", [("dpo", "lora"), ("kto", "full")])
def test_preference_methods_change_parameters_and_lower_their_loss(tiny_model, toy_data, tmp_path, method,
                                                                   adaptation):
    base, _ = _base(tiny_model)
    before = _weights(base)
    cfg = TrainConfig(method=method, base_model=tiny_model, adaptation=adaptation, epochs=3, max_new_tokens=32,
                      early_stopping_patience=5)
    result = train(toy_data, cfg, tmp_path / "run")
    assert result.method == method
    losses = _eval_losses(result.metrics, method)
    assert len(losses) == 3 and losses[-1] < losses[0]
    after = _weights(_trained(result, tiny_model))
    assert any(not (before[k] == after[k]).all() for k in before)


def test_auto_trains_sft_then_keeps_dpo_only_if_it_wins(tiny_model, toy_data, tmp_path):
    cfg = TrainConfig(method="auto", base_model=tiny_model, epochs=3, max_new_tokens=32, min_dpo_pairs=10,
                      dpo_after_sft="always")  # auto skips DPO on a tiny base; this checks the gate
    result = train(toy_data, cfg, tmp_path / "run")
    stages = result.metrics["stages"]
    assert [s["method"] for s in stages] == ["sft", "dpo"]
    sft, dpo = (s["best"]["valSimilarity"] for s in stages)
    assert result.method == ("dpo" if dpo > sft else "sft")
    assert ("DPO kept" if dpo > sft else "DPO discarded") in result.reason


def test_choose_method_explains_its_choice(toy_data):
    plan = choose_method(toy_data, "auto", min_dpo_pairs=20)
    assert plan.stages == ["sft", "dpo"] and "30 edit pairs" in plan.reason
    plan = choose_method(toy_data, "auto", min_dpo_pairs=50)
    assert plan.stages == ["sft"] and "too few for DPO" in plan.reason
    toy_data.actions = {"accept": 40, "reject": 15, "edit": 3}
    plan = choose_method(toy_data, "auto")
    assert plan.stages == ["kto"] and "mostly accept/reject" in plan.reason
    assert choose_method(toy_data, "dpo").stages == ["dpo"]
    # rejects the user rewrote give SFT text to move toward, like edits: no KTO then
    toy_data.actions = {"accept": 2, "reject": 5, "rewrite": 15, "edit": 6}
    assert choose_method(toy_data, "auto").stages[0] == "sft"
    toy_data.actions = {"accept": 40, "reject": 15, "rewrite": 2, "edit": 3}
    assert "2 rewrites" in choose_method(toy_data, "auto").reason
    toy_data.actions = {}
    plan = choose_method(toy_data, "auto", min_dpo_pairs=20, dpo_after_sft=False, why_no_dpo="a tiny base")
    assert plan.stages == ["sft"] and "no DPO stage: a tiny base" in plan.reason


def test_auto_tries_dpo_after_sft_only_on_a_gpu_and_a_base_that_is_not_tiny(toy_data):
    from editloop.training.finetune import _choose_stages

    auto, always = TrainConfig(min_dpo_pairs=20), TrainConfig(min_dpo_pairs=20, dpo_after_sft="always")
    assert _choose_stages(toy_data, auto, 135_000_000, gpu=True).stages == ["sft", "dpo"]
    on_cpu = _choose_stages(toy_data, auto, 135_000_000, gpu=False)
    assert on_cpu.stages == ["sft"] and "on the CPU a DPO stage costs" in on_cpu.reason
    tiny = _choose_stages(toy_data, auto, 1_200_000, gpu=True)
    assert tiny.stages == ["sft"] and "1.2M-parameter from-scratch base" in tiny.reason
    assert _choose_stages(toy_data, always, 1_200_000, gpu=False).stages == ["sft", "dpo"]
    never = _choose_stages(toy_data, TrainConfig(dpo_after_sft="never"), 135_000_000, gpu=True)
    assert never.stages == ["sft"] and "dpo_after_sft is never" in never.reason


def test_promotion_tolerates_one_validity_flip_but_needs_better_similarity():
    from editloop.training.tracker import beats, selection_score, validity_floor

    base = {"similarity": 0.50, "validity": 1.0}
    assert beats({"similarity": 0.60, "validity": 29 / 30}, base, n=30, tolerance=1)[0]
    won, why = beats({"similarity": 0.60, "validity": 28 / 30}, base, n=30, tolerance=1)
    assert not won and "validity fell" in why and "1 of 30" in why
    assert not beats({"similarity": 0.60, "validity": 29 / 30}, base, n=30, tolerance=0)[0]
    assert not beats({"similarity": 0.60, "validity": 11 / 12}, base, n=12, tolerance=1)[0]  # 8% > 5%
    assert not beats({"similarity": 0.50, "validity": 1.0}, base, n=30, tolerance=1)[0]
    # several artifact types: the mean may not hide a loss on one of them
    by = {"sql": {"similarity": 0.4}, "mermaid-erd": {"similarity": 0.6}}
    won, why = beats({"similarity": 0.6, "validity": 1.0, "byType": {"sql": {"similarity": 0.8},
                                                                   "mermaid-erd": {"similarity": 0.55}}},
                     {**base, "byType": by}, n=30, tolerance=1)
    assert not won and "falls on mermaid-erd" in why
    floor = validity_floor(1.0, 30, 1)
    # a checkpoint below the validity floor ranks below every one above it, whatever its similarity
    assert selection_score(0.9, 0.8, floor) < selection_score(0.55, 29 / 30, floor) < selection_score(0.6, 1.0, floor)
    assert selection_score(0.7, None, floor) == 0.7
    assert selection_score(0.7, 1.0, floor, {"sql": {"similarity": 0.3}}, by) < selection_score(0.5, 1.0, floor)


def test_bad_input_gives_clear_errors(tiny_model, toy_data, tmp_path):
    cfg = TrainConfig(method="sft", base_model=tiny_model)
    with pytest.raises(EditloopError, match="no SFT training rows"):
        train(TrainingData(artifact_type="toy"), cfg, tmp_path / "a")
    rows = tinymodel.sft_rows(["customer", "order"])
    with pytest.raises(EditloopError, match="too few events to hold out a validation set"):
        train(TrainingData(sft=Split(rows, [])), cfg, tmp_path / "b")
    missing = TrainConfig(method="sft", base_model=str(tmp_path / "nope"))
    with pytest.raises(EditloopError, match="does not exist"):
        train(toy_data, missing, tmp_path / "c")
    with pytest.raises(EditloopError, match="method must be one of"):
        TrainConfig(method="ppo")


def test_curations_kto_class_weights_reach_trls_kto_config(tmp_path):
    from types import SimpleNamespace

    from editloop.training.config import resolve
    from editloop.training.data import from_batch
    from editloop.training.finetune import _trainer_args

    batch = SimpleNamespace(artifact_type="sql", id="b1", train={}, val={}, train_meta={}, val_meta={},
                            kto_weights={"desirable_weight": 1.0, "undesirable_weight": 3.5})
    data = from_batch(batch)
    assert data.kto_weights == {"desirable_weight": 1.0, "undesirable_weight": 3.5}
    cfg = TrainConfig()
    res = resolve(cfg, "kto", n_params=1_000_000, on_gpu=False, bf16_ok=False)
    kto = _trainer_args("kto", cfg, res, tmp_path / "kto", 10, data.kto_weights)
    assert (kto.desirable_weight, kto.undesirable_weight) == (1.0, 3.5)
    sft = _trainer_args("sft", cfg, resolve(cfg, "sft", n_params=1_000_000, on_gpu=False, bf16_ok=False),
                        tmp_path / "sft", 10, data.kto_weights)
    assert sft.lr_scheduler_type.value == "cosine" and sft.train_sampling_strategy == "group_by_length"


def test_sft_skips_the_first_epochs_evaluation_only_when_it_runs_three_epochs_or_more(tmp_path):
    from editloop.training.config import resolve
    from editloop.training.finetune import _trainer_args

    def delay(method: str, epochs: float | None) -> float:
        cfg = TrainConfig(method=method, epochs=epochs)
        res = resolve(cfg, method, n_params=1_000_000, on_gpu=False, bf16_ok=False)
        return _trainer_args(method, cfg, res, tmp_path / method, 40).eval_delay

    assert delay("sft", None) == delay("sft", 3) == 1.5  # evaluated after epochs 2, 3, ...
    assert delay("sft", 2) == 0  # a short run keeps both evaluations
    assert delay("dpo", None) == delay("kto", None) == 0  # preference stages: every epoch


def test_default_epochs_give_small_batches_enough_steps():
    from editloop.training.config import MIN_AUTO_STEPS, sft_epochs

    assert sft_epochs(None, 22) == 4.0  # 198 events: 88 steps in 4 epochs
    assert sft_epochs(None, 10) * 10 >= MIN_AUTO_STEPS  # 80 events: 8 epochs instead of 4
    assert sft_epochs(None, 1) == 10.0  # capped
    assert sft_epochs(2, 1) == 2.0  # an explicit setting wins


def test_reward_weights_steer_what_sft_learns_and_a_curriculum_run_succeeds(tiny_model, tmp_path):
    """Each prompt has the user's text (weight 1) and the base's (weight 0.05, a reject's): with reward
    weighting the model learns the user's style more than with every row drawn once."""
    train_words, val_words = tinymodel.split_words()
    rows = tinymodel.sft_rows(train_words) + tinymodel.sft_rows(train_words, style=tinymodel.base_style)
    weights = [1.0] * len(train_words) + [0.05] * len(train_words)
    order = sorted(range(len(rows)), key=lambda i: rows[i]["completion"][0]["content"])  # any fixed order

    def run(name: str, **settings):
        data = TrainingData(sft=Split([rows[i] for i in order], tinymodel.sft_rows(val_words),
                                      weights=[weights[i] for i in order]),
                            artifact_type="toy", actions={"edit": 30}, curriculum=True)
        cfg = TrainConfig(method="sft", base_model=tiny_model, epochs=3, max_new_tokens=32, interpolation=[],
                          **settings)
        result = train(data, cfg, tmp_path / name)
        model, tok = _trained(result, tiny_model), _base(tiny_model)[1]
        # how much likelier the user's text is than the base's, on the held-out prompts (nats per token)
        return result, (_completion_loss(model, tok, tinymodel.sft_rows(val_words, style=tinymodel.base_style))
                        - _completion_loss(model, tok, data.sft.val))

    weighted, weighted_margin = run("weighted")
    uniform, uniform_margin = run("uniform", reward_weighting=False)
    notes = " ".join(weighted.metrics["stages"][0]["notes"])
    assert "reward weights" in notes and "curriculum order" in notes
    assert "reward weights" not in " ".join(uniform.metrics["stages"][0]["notes"])
    assert (weighted.artifact / "config.json").exists()
    # without the weights the base's own style, also seen in pretraining, stays the likelier one
    assert weighted_margin > 0 and weighted_margin > uniform_margin + 0.3, (weighted_margin, uniform_margin)

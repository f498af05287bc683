"""compact_lm_head: TRL's fused LM head scores only labelled positions on the CPU, with the same
loss and gradients, and TRL is left as it was afterwards."""

from __future__ import annotations

import pytest

import tinymodel


def _trainer(model_path: str, tmp_path):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    train, _ = tinymodel.split_words()
    args = SFTConfig(output_dir=str(tmp_path / "out"), use_cpu=True, bf16=False, report_to=[], save_strategy="no",
                     disable_tqdm=True, per_device_train_batch_size=4, seed=0)
    return SFTTrainer(model=AutoModelForCausalLM.from_pretrained(model_path), args=args,
                      train_dataset=Dataset.from_list(tinymodel.sft_rows(train)),
                      processing_class=AutoTokenizer.from_pretrained(model_path))


def _loss_and_grads(trainer, batch):
    trainer.model.zero_grad()
    loss = trainer.compute_loss(trainer.model, dict(batch))
    loss.backward()
    return loss.item(), {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}


@pytest.mark.slow  # builds the tiny model
def test_same_loss_and_gradients_fewer_positions(tiny_model, tmp_path, monkeypatch):
    import torch
    from trl.trainer import utils as trl_utils

    from editloop.training.fused_head import compact_lm_head

    trainer = _trainer(tiny_model, tmp_path)
    batch = trainer._prepare_inputs(next(iter(trainer.get_train_dataloader())))
    labelled = int((batch["labels"][:, 1:] != -100).sum())
    assert 0 < labelled < batch["labels"][:, 1:].numel()  # the prompt and padding carry no label

    projected: list[int] = []
    apply = trl_utils._ChunkedLogProbFunction.apply
    monkeypatch.setattr(trl_utils._ChunkedLogProbFunction, "apply",
                        lambda hidden, *rest: (projected.append(hidden.shape[0]), apply(hidden, *rest))[1])

    loss_all, grads_all = _loss_and_grads(trainer, batch)
    with compact_lm_head() as active:
        assert active
        loss_compact, grads_compact = _loss_and_grads(trainer, batch)
    assert projected == [batch["labels"][:, 1:].numel(), labelled]
    assert loss_compact == pytest.approx(loss_all, rel=1e-5)
    assert grads_compact.keys() == grads_all.keys() and grads_all
    for name, grad in grads_all.items():
        torch.testing.assert_close(grads_compact[name], grad, rtol=1e-4, atol=1e-6, msg=name)

    _loss_and_grads(trainer, batch)  # outside the context: TRL's own choice again
    assert projected[-1] == batch["labels"][:, 1:].numel()


def test_without_the_hook_nothing_changes(monkeypatch):
    from trl.trainer import utils as trl_utils

    from editloop.training.fused_head import compact_lm_head

    monkeypatch.delattr(trl_utils, "_use_triton")
    with compact_lm_head() as active:
        assert active is False
        assert not hasattr(trl_utils, "_use_triton")

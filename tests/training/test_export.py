"""Export: the adapter, a merged model that loads on its own, and an Ollama Modelfile."""

from __future__ import annotations

import pytest

from editloop.errors import EditloopError
from editloop.store import Store
from editloop.training import jobs, worker
from editloop.training.export import export_run

pytestmark = pytest.mark.slow


def _logits(model, tok):
    import torch

    ids = tok("table customer {", return_tensors="pt")
    with torch.no_grad():
        return model(**ids).logits


@pytest.mark.parametrize("adaptation", ["lora", "full"])
def test_export_writes_a_loadable_merged_model_and_a_modelfile(home, tiny_model, toy_data, adaptation):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from editloop.training.artifacts import load_model

    store = Store.open(home)
    try:
        run_id = jobs.create_run(store, method="sft", artifact_type="toy", base_model=tiny_model, data=toy_data,
                                 settings={"epochs": 2, "max_new_tokens": 16, "adaptation": adaptation})
        worker.run(home, run_id)
        run = jobs.get_run(store, run_id)
        assert run["status"] == "succeeded", run["error"]
        out = export_run(store, run_id, home / "export")
    finally:
        store.close()

    merged = AutoModelForCausalLM.from_pretrained(out["merged"])
    tok = AutoTokenizer.from_pretrained(out["merged"])
    trained, _ = load_model(run["adapter_path"], tiny_model)
    assert (_logits(merged, tok) - _logits(trained, tok)).abs().max() < 1e-4
    modelfile = (home / "export" / "Modelfile").read_text()
    if adaptation == "lora":
        assert f"FROM {tiny_model}" in modelfile and f"ADAPTER {home / 'export' / 'adapter'}" in modelfile
        assert (home / "export" / "adapter" / "adapter_config.json").exists()
    else:
        assert f"FROM {home / 'export' / 'merged'}" in modelfile
    assert 'PARAMETER stop "<|im_end|>"' in modelfile
    assert not (home / "export.partial").exists()


def test_export_refuses_a_run_without_a_model(home, tiny_model):
    store = Store.open(home)
    try:
        run_id = jobs.create_run(store, method="sft", base_model=tiny_model)
        with pytest.raises(EditloopError, match="nothing to export"):
            export_run(store, run_id, home / "export")
    finally:
        store.close()
    assert not (home / "export").exists()

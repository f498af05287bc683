"""Ship a run's model: the adapter as is, a merged model folder, and an Ollama Modelfile.

``export_run(store, run_id, out)`` writes into ``out``:
- ``adapter/``: the run's output (a PEFT adapter, or the fine-tuned model of a tiny base);
- ``merged/``: a standalone model (``merge_and_unload`` of LoRA into the base; safetensors) with
  its tokenizer, loadable by ``AutoModelForCausalLM.from_pretrained``;
- ``Modelfile``: ``FROM <base>`` + ``ADAPTER <adapter>`` for Llama/Mistral-family bases (Ollama
  imports safetensors adapters of those families), or ``FROM <merged>`` when there is no
  separate adapter. ``ollama create NAME -f Modelfile`` builds it (docs/training.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..errors import EditloopError
from .artifacts import check_artifact

# Model types Ollama can apply a safetensors LoRA adapter to.
OLLAMA_ADAPTER_FAMILIES = ("llama", "mistral", "gemma", "gemma2")


def merge(adapter_path: str | Path, base_model: str, out: str | Path) -> Path:
    """Write a standalone model folder (safetensors + tokenizer) for an adapter or full model."""
    from .artifacts import load_model

    out = Path(out)
    model, tokenizer = load_model(adapter_path, base_model)
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


def modelfile(*, base: str, adapter: Path | None, model_type: str) -> str:
    lines = []
    if adapter is not None and model_type in OLLAMA_ADAPTER_FAMILIES:
        lines += [f"FROM {base}", f"ADAPTER {adapter}"]
    else:
        lines += [f"FROM {base}"]
    lines += [
        'TEMPLATE """{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}'
        '{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}<|im_start|>assistant\n'
        '{{ .Response }}<|im_end|>\n"""',
        'PARAMETER stop "<|im_end|>"',
        "PARAMETER temperature 0",
    ]
    return "\n".join(lines) + "\n"


def export_run(store, run_id: str, out: str | Path) -> dict[str, Any]:
    """Export a succeeded run; returns the paths written. Nothing is half-written on error."""
    from .jobs import get_run

    run = get_run(store, run_id)
    if run["status"] != "succeeded" or not run["adapter_path"]:
        raise EditloopError(f"run {run_id} is {run['status']}: nothing to export")
    adapter = Path(run["adapter_path"])
    kind = check_artifact(adapter)
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        shutil.copytree(adapter, tmp / "adapter")
        merged = merge(adapter, run["base_model"], tmp / "merged")
        model_type = json.loads((merged / "config.json").read_text()).get("model_type", "")
        final = out.resolve()
        if kind == "lora":
            text = modelfile(base=run["base_model"], adapter=final / "adapter", model_type=model_type)
        else:
            text = modelfile(base=str(final / "merged"), adapter=None, model_type=model_type)
        (tmp / "Modelfile").write_text(text)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"runId": run_id, "path": str(out), "adapter": str(out / "adapter"), "merged": str(out / "merged"),
            "modelfile": str(out / "Modelfile"), "kind": kind}

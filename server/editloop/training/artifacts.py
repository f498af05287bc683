"""Load and check what a run leaves in ``runs/<id>/adapter/``.

A LoRA run leaves a PEFT adapter (``adapter_config.json`` + ``adapter_model.safetensors``); a full
fine-tune of a tiny base leaves a whole model folder (``config.json`` + ``model.safetensors``).
Both carry the tokenizer. Anything else is reported as a corrupt folder, never half-loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import EditloopError


def artifact_kind(path: str | Path) -> str:
    p = Path(path)
    if (p / "adapter_config.json").exists():
        return "lora"
    if (p / "config.json").exists():
        return "full"
    raise EditloopError(f"{p} holds neither a LoRA adapter nor a model (corrupt or incomplete run folder)")


def check_artifact(path: str | Path) -> str:
    """Raise a clear EditloopError unless ``path`` is a complete adapter or model folder; return its kind."""
    p = Path(path)
    if not p.is_dir():
        raise EditloopError(f"model folder {p} does not exist")
    kind = artifact_kind(p)
    config = p / ("adapter_config.json" if kind == "lora" else "config.json")
    weights = sorted(p.glob("adapter_model.safetensors" if kind == "lora" else "model*.safetensors"))
    try:
        json.loads(config.read_text())
        if not weights:
            raise ValueError("no safetensors weights")
        from safetensors import safe_open

        for w in weights:
            with safe_open(str(w), framework="pt") as f:
                list(f.keys())
    except Exception as exc:  # json, safetensors and OS errors all mean the same thing to the user
        raise EditloopError(f"the model in {p} is corrupt or incomplete ({exc})") from None
    return kind


def check_base_model(name_or_path: str) -> None:
    """A preset's package, a GGUF file, a folder with config.json, or an id that is not a path
    (looked up in the local Hugging Face cache when loaded): see :mod:`.base_source`."""
    from .base_source import check

    check(name_or_path)


def load_base(name_or_path: str, **kwargs):
    """(model, tokenizer) for a base model (preset, GGUF file, id or folder: :mod:`.base_source`),
    with a clear error when it cannot be loaded."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .base_source import resolve

    path = resolve(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except (OSError, ValueError, EnvironmentError) as exc:
        raise EditloopError(f"cannot load base model {name_or_path}: {str(exc).splitlines()[0]}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if tokenizer.chat_template is None:
        raise EditloopError(f"base model {name_or_path} has no chat template (Editloop trains chat models)")
    return model, tokenizer


def load_model(path: str | Path, base_model: str | None = None):
    """(model, tokenizer) of a run's output: a full model folder, or a LoRA adapter on its base."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kind = check_artifact(path)
    if kind == "full":
        return AutoModelForCausalLM.from_pretrained(str(path)), AutoTokenizer.from_pretrained(str(path))
    from peft import PeftModel

    if base_model is None:
        base_model = json.loads((Path(path) / "adapter_config.json").read_text()).get("base_model_name_or_path")
    if not base_model:
        raise EditloopError(f"adapter {path} does not name its base model")
    model, tokenizer = load_base(base_model)
    if (Path(path) / "tokenizer_config.json").exists():
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    return PeftModel.from_pretrained(model, str(path)), tokenizer

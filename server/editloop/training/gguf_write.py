"""GGUF files for the engines users run (llama.cpp, Ollama, LM Studio), and Ollama's chat template.

* :func:`write_model_gguf`: a Llama-architecture model folder (``save_pretrained``) to a GGUF model:
  llama.cpp's tensor names, the q/k rows permuted into its rotary layout (what
  ``convert_hf_to_gguf.py`` does), the byte-level BPE vocabulary with its token types, merges,
  special ids and chat template. A folder that ``base_source`` converted from a GGUF
  (``editloop_source.json`` names the file) gets the source GGUF's own tokenizer metadata back
  (SmolLM2's ``tokenizer.ggml.pre`` is ``smollm``, which a tokenizer.json alone does not say).
* :func:`write_lora_gguf`: a PEFT LoRA folder to a llama.cpp LoRA adapter (``general.type`` adapter,
  ``adapter.type`` lora, ``adapter.lora.alpha``; ``blk.N.attn_q.weight.lora_a`` / ``.lora_b``), the
  layout of ``convert_lora_to_gguf.py``: A as PEFT saves it, B with the q/k row permutation.
  llama.cpp scales each pair by alpha / rank; a module whose PEFT scale differs (rsLoRA, an
  ``alpha_pattern``) has the difference folded into its B.
* :func:`ollama_template` (from :mod:`.ollama`): the Go TEMPLATE and stop strings for Ollama.

Nothing here imports gguf, numpy or torch until a function runs.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator

from ..errors import EditloopError
from .ollama import ollama_template

ARCH = "llama"
DTYPES = ("f16", "f32")
# HF module under ``model.layers.N.`` -> llama.cpp tensor under ``blk.N.``
LAYER_TENSORS = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
}
TOP_TENSORS = {"model.embed_tokens": "token_embd", "model.norm": "output_norm", "lm_head": "output"}
# llama.cpp's names for the byte-level pre-tokenizers a tokenizer.json can be recognised by.
PRE_TOKENIZERS = {
    (("ByteLevel", True),): "gpt-2",
    (("Digits", True), ("ByteLevel", True)): "smollm",
}


class AdapterNotConvertible(EditloopError):
    """The adapter holds what a llama.cpp LoRA cannot carry (trained token embeddings, whole saved
    modules, DoRA): use the merged model instead."""


# ---------------------------------------------------------------- the model


def write_model_gguf(model_dir: str | Path, out_path: str | Path, *, dtype: str = "f16") -> Path:
    """Write the Llama model in ``model_dir`` as a GGUF llama.cpp loads; ``dtype`` f16 (matrices in
    float16, norms in float32, as llama.cpp's converter writes) or f32. Refuses an existing file."""
    import gguf

    folder = Path(model_dir)
    if dtype not in DTYPES:
        raise EditloopError(f"GGUF dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    hp = _llama_hparams(folder)
    writer = gguf.GGUFWriter(None, ARCH)
    writer.add_type(gguf.GGUFType.MODEL)
    writer.add_name(_model_name(folder))
    _add_hparams(writer, hp, dtype)
    _add_tokenizer(writer, folder, hp["vocab_size"])
    for name, array in _model_tensors(folder, hp, dtype):
        writer.add_tensor(name, array)
    return _write(writer, Path(out_path))


def _llama_hparams(folder: Path) -> dict[str, Any]:
    """The config of a Llama folder, checked for what the writer supports."""
    try:
        cfg = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise EditloopError(f"{folder} has no readable config.json ({exc})") from None
    model_type = cfg.get("model_type")
    if model_type != ARCH:
        raise EditloopError(f"cannot write a GGUF for model_type {model_type!r} ({folder}): Editloop writes "
                            "Llama-architecture models; convert others with llama.cpp's convert_hf_to_gguf.py")
    rope = cfg.get("rope_parameters") or cfg.get("rope_scaling") or {}
    rope_type = rope.get("rope_type", rope.get("type", "default"))
    if rope_type != "default":
        raise EditloopError(f"cannot write a GGUF for {folder}: rope type {rope_type!r} is not supported "
                            "(convert it with llama.cpp's convert_hf_to_gguf.py)")
    if cfg.get("attention_bias") or cfg.get("mlp_bias"):
        raise EditloopError(f"cannot write a GGUF for {folder}: Llama layers with biases are not supported")
    n_head = int(cfg["num_attention_heads"])
    return {
        **cfg, "n_head": n_head, "n_kv": int(cfg.get("num_key_value_heads") or n_head),
        "head_dim": int(cfg.get("head_dim") or cfg["hidden_size"] // n_head),
        "rope_theta": float(rope.get("rope_theta", cfg.get("rope_theta", 10000.0))),
        "tied": bool(cfg.get("tie_word_embeddings", False)),
    }


def _model_name(folder: Path) -> str:
    return folder.resolve().name or "editloop-model"


def _add_hparams(writer, hp: dict[str, Any], dtype: str) -> None:
    import gguf

    writer.add_context_length(int(hp["max_position_embeddings"]))
    writer.add_embedding_length(int(hp["hidden_size"]))
    writer.add_block_count(int(hp["num_hidden_layers"]))
    writer.add_feed_forward_length(int(hp["intermediate_size"]))
    writer.add_head_count(hp["n_head"])
    writer.add_head_count_kv(hp["n_kv"])
    writer.add_rope_freq_base(hp["rope_theta"])
    writer.add_layer_norm_rms_eps(float(hp["rms_norm_eps"]))
    writer.add_vocab_size(int(hp["vocab_size"]))
    writer.add_rope_dimension_count(hp["head_dim"])
    if hp["head_dim"] != hp["hidden_size"] // hp["n_head"]:
        writer.add_key_length(hp["head_dim"])
        writer.add_value_length(hp["head_dim"])
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32)


def _permute(w, n_head: int):
    """llama.cpp's rotary layout: within each head, the two halves of the rows interleaved."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _gguf_name(hf_module: str) -> str | None:
    """llama.cpp's tensor name (without ``.weight``) for an HF Llama module name, or None."""
    m = re.fullmatch(r"model\.layers\.(\d+)\.(.+)", hf_module)
    if m:
        short = LAYER_TENSORS.get(m[2])
        return f"blk.{m[1]}.{short}" if short else None
    return TOP_TENSORS.get(hf_module)


def _model_tensors(folder: Path, hp: dict[str, Any], dtype: str) -> Iterator[tuple[str, Any]]:
    import numpy as np

    files = sorted(folder.glob("model*.safetensors"))
    if not files:
        raise EditloopError(f"{folder} has no model*.safetensors weights")
    expected = {"token_embd", "output_norm"} | {f"blk.{i}.{t}" for i in range(int(hp["num_hidden_layers"]))
                                                 for t in LAYER_TENSORS.values()}
    if not hp["tied"]:
        expected.add("output")
    for path in files:
        with _open_safetensors(path) as st:
            for key in st.keys():
                name = _gguf_name(key.removesuffix(".weight")) if key.endswith(".weight") else None
                if name is None:
                    raise EditloopError(f"unexpected tensor {key} in {path} (not a plain Llama model)")
                if name == "output" and hp["tied"]:
                    continue  # llama.cpp reuses token_embd when output.weight is absent
                array = st.get_tensor(key).float().numpy()
                if name.endswith(".attn_q"):
                    array = _permute(array, hp["n_head"])
                elif name.endswith(".attn_k"):
                    array = _permute(array, hp["n_kv"])
                if dtype == "f16" and array.ndim == 2:
                    array = array.astype(np.float16)
                expected.discard(name)
                yield f"{name}.weight", np.ascontiguousarray(array)
    if expected:
        raise EditloopError(f"the model in {folder} is incomplete: no {', '.join(sorted(expected)[:5])}")


def _open_safetensors(path: Path):
    from safetensors import safe_open

    try:
        return safe_open(str(path), framework="pt")
    except Exception as exc:  # safetensors raises its own error types for a damaged file
        raise EditloopError(f"{path} is corrupt or incomplete ({exc})") from None


# ---------------------------------------------------------------- the tokenizer


def _add_tokenizer(writer, folder: Path, n_vocab: int) -> None:
    """Tokens, types, merges, special ids, pre-tokenizer and chat template: the source GGUF's when the
    folder was converted from one, else from tokenizer.json (byte-level BPE)."""
    import gguf

    vocab = gguf.SpecialVocab(folder, load_merges=True, n_vocab=n_vocab)
    source = _source_gguf(folder)
    if source is None:
        tokens, types, pre = _vocab_from_folder(folder, n_vocab)
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre(pre)
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        vocab.add_to_gguf(writer, quiet=True)  # merges, special ids, add_bos/eos, chat template
        return
    # everything but the chat template, which is the folder's (a fine-tuned tokenizer may carry its own)
    _copy_tokenizer_fields(writer, source, n_vocab, keep_template=not vocab.chat_template)
    if vocab.chat_template:
        writer.add_chat_template(vocab.chat_template)


def _source_gguf(folder: Path) -> Path | None:
    """The GGUF ``base_source`` converted ``folder`` from, when it says so."""
    from .base_source import SOURCE_INFO

    info_path = folder / SOURCE_INFO
    if not info_path.exists():
        return None
    try:
        source = Path(json.loads(info_path.read_text())["gguf"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EditloopError(f"{info_path} is unreadable ({exc})") from None
    if not source.is_file():
        raise EditloopError(f"{folder} was converted from {source}, which is gone: its tokenizer metadata "
                            "(pre-tokenizer, token types) comes from that file; restore it or convert again")
    return source


def _copy_tokenizer_fields(writer, source: Path, n_vocab: int, *, keep_template: bool) -> None:
    from gguf import GGUFReader, GGUFValueType

    reader = GGUFReader(str(source))
    tokens = reader.get_field("tokenizer.ggml.tokens")
    if tokens is None or len(tokens.data) != n_vocab:
        raise EditloopError(f"{source} has no vocabulary of {n_vocab} tokens to reuse")
    for key, field in reader.fields.items():
        if key.startswith("tokenizer.") and (keep_template or key != "tokenizer.chat_template"):
            array = field.types[0] == GGUFValueType.ARRAY
            writer.add_key_value(key, field.contents(), field.types[0], sub_type=field.types[-1] if array else None)


def _vocab_from_folder(folder: Path, n_vocab: int) -> tuple[list[str], list[int], str]:
    import gguf

    try:
        spec = json.loads((folder / "tokenizer.json").read_text())
    except (OSError, ValueError) as exc:
        raise EditloopError(f"{folder} has no readable tokenizer.json ({exc})") from None
    if spec.get("model", {}).get("type") != "BPE":
        raise EditloopError(f"the tokenizer in {folder} is not byte-level BPE: convert it with llama.cpp's "
                            "convert_hf_to_gguf.py")
    pre = _pre_tokenizer_name(spec.get("pre_tokenizer"), folder)
    by_id = {i: t for t, i in spec["model"]["vocab"].items()}
    added = {a["id"]: a for a in spec.get("added_tokens", [])}
    by_id.update({i: a["content"] for i, a in added.items()})
    if by_id and max(by_id) >= n_vocab:
        raise EditloopError(f"the tokenizer in {folder} has ids beyond the model's vocab_size {n_vocab}")
    tokens, types = [], []
    for i in range(n_vocab):
        if i not in by_id:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        else:
            tokens.append(by_id[i])
            kind = gguf.TokenType.NORMAL
            if i in added:
                kind = gguf.TokenType.CONTROL if added[i].get("special") else gguf.TokenType.USER_DEFINED
            types.append(kind)
    return tokens, types, pre


def _pre_tokenizer_name(pre: dict | None, folder: Path) -> str:
    """llama.cpp's ``tokenizer.ggml.pre`` for a tokenizer.json pre-tokenizer it can be recognised by."""
    steps = (pre or {}).get("pretokenizers", [pre]) if (pre or {}).get("type") == "Sequence" else [pre]
    shape = tuple((s.get("type"), bool(s.get("use_regex", s.get("individual_digits", False))))
                  for s in steps if s)
    if shape not in PRE_TOKENIZERS:
        raise EditloopError(f"the pre-tokenizer of {folder} ({', '.join(t for t, _ in shape) or 'none'}) has no "
                            "known llama.cpp name: convert it with llama.cpp's convert_hf_to_gguf.py")
    return PRE_TOKENIZERS[shape]


def _write(writer, out: Path) -> Path:
    """Write ``writer`` to ``out`` through a temporary sibling: ``out`` is complete or absent."""
    if out.exists() or out.is_symlink():
        raise EditloopError(f"{out} exists; not overwritten")
    if not out.parent.is_dir():
        raise EditloopError(f"folder {out.parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer.write_header_to_file(path=tmp)
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(tmp, out)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    return out


# ---------------------------------------------------------------- the LoRA adapter


def write_lora_gguf(adapter_dir: str | Path, out_path: str | Path, *, base_dir: str | Path | None = None) -> Path:
    """Write the PEFT LoRA in ``adapter_dir`` as a llama.cpp LoRA adapter GGUF. ``base_dir``: the base
    model folder (its config gives the head counts); default: the adapter's
    ``base_model_name_or_path``. Raises :class:`AdapterNotConvertible` for what llama.cpp cannot apply."""
    import gguf

    adapter = Path(adapter_dir)
    cfg = _adapter_config(adapter)
    base = Path(base_dir) if base_dir is not None else _adapter_base(cfg, adapter)
    hp = _llama_hparams(base)
    alpha = float(cfg.get("lora_alpha") or 0.0)
    writer = gguf.GGUFWriter(None, ARCH)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    writer.add_name(_model_name(adapter))
    for name, a, b in _lora_pairs(adapter, cfg, hp):
        factor = _peft_scale(cfg, name, a.shape[0]) / (alpha / a.shape[0] if alpha else 1.0)
        writer.add_tensor(f"{_gguf_name(name)}.weight.lora_a", a)
        writer.add_tensor(f"{_gguf_name(name)}.weight.lora_b", b if factor == 1.0 else (b * factor).astype(b.dtype))
    return _write(writer, Path(out_path))


def _adapter_config(adapter: Path) -> dict[str, Any]:
    try:
        cfg = json.loads((adapter / "adapter_config.json").read_text())
    except (OSError, ValueError) as exc:
        raise EditloopError(f"{adapter} has no readable adapter_config.json ({exc})") from None
    if cfg.get("peft_type", "LORA") != "LORA":
        raise EditloopError(f"{adapter} is a {cfg.get('peft_type')} adapter; llama.cpp applies LoRA only")
    if cfg.get("trainable_token_indices"):
        raise AdapterNotConvertible(f"{adapter} also trains token embeddings (trainable_token_indices), which a "
                                    "llama.cpp LoRA cannot carry on a model with tied embeddings")
    for key, what in (("modules_to_save", "whole saved modules"), ("use_dora", "DoRA magnitudes"),
                      ("lora_bias", "LoRA biases")):
        if cfg.get(key):
            raise AdapterNotConvertible(f"{adapter} holds {what} ({key}), which a llama.cpp LoRA cannot carry")
    return cfg


def _adapter_base(cfg: dict[str, Any], adapter: Path) -> Path:
    from .base_source import resolve

    name = cfg.get("base_model_name_or_path")
    if not name:
        raise EditloopError(f"adapter {adapter} does not name its base model: pass its folder")
    folder = Path(resolve(name))
    if not (folder / "config.json").exists():
        raise EditloopError(f"the base model {name} of adapter {adapter} is not a local folder: pass its folder")
    return folder


def _peft_scale(cfg: dict[str, Any], module: str, rank: int) -> float:
    """The scale PEFT applies to ``module``'s B @ A: alpha / r (alpha / sqrt(r) with rsLoRA)."""
    alpha = float(cfg.get("lora_alpha") or 0.0)
    for pattern, value in (cfg.get("alpha_pattern") or {}).items():
        if re.fullmatch(rf"(.*\.)?{pattern}", module):
            alpha = float(value)
            break
    return alpha / (math.sqrt(rank) if cfg.get("use_rslora") else rank)


def _lora_pairs(adapter: Path, cfg: dict[str, Any], hp: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """(HF module name, A, B) per adapted module, float32, B permuted for q and k, shapes checked."""
    import numpy as np

    path = adapter / "adapter_model.safetensors"
    if not path.exists():
        raise EditloopError(f"{adapter} has no adapter_model.safetensors")
    parts: dict[str, dict[str, Any]] = {}
    with _open_safetensors(path) as st:
        for key in st.keys():
            m = re.fullmatch(r"(?:base_model\.model\.)?(.+)\.lora_([AB])\.weight", key)
            if m is None:
                raise AdapterNotConvertible(f"{adapter} holds {key}, which a llama.cpp LoRA cannot carry")
            parts.setdefault(m[1], {})[m[2]] = st.get_tensor(key).float().numpy()
    if not parts:
        raise EditloopError(f"{adapter} holds no LoRA weights")
    for module, ab in sorted(parts.items()):
        name = _gguf_name(module)
        if name is None or (name == "output" and hp["tied"]) or len(ab) != 2:
            raise AdapterNotConvertible(f"{adapter} adapts {module}, which a llama.cpp LoRA on this base cannot carry")
        a, b = ab["A"], ab["B"]
        _check_shape(adapter, module, name, a, b, hp)
        if name.endswith(".attn_q"):
            b = _permute(b, hp["n_head"])
        elif name.endswith(".attn_k"):
            b = _permute(b, hp["n_kv"])
        yield module, np.ascontiguousarray(a), np.ascontiguousarray(b)


def _check_shape(adapter: Path, module: str, name: str, a, b, hp: dict[str, Any]) -> None:
    hidden, inter, hd = int(hp["hidden_size"]), int(hp["intermediate_size"]), hp["head_dim"]
    short = name.rsplit(".", 1)[-1]
    out_in = {"attn_q": (hp["n_head"] * hd, hidden), "attn_k": (hp["n_kv"] * hd, hidden),
              "attn_v": (hp["n_kv"] * hd, hidden), "attn_output": (hidden, hp["n_head"] * hd),
              "ffn_gate": (inter, hidden), "ffn_up": (inter, hidden), "ffn_down": (hidden, inter),
              "output": (int(hp["vocab_size"]), hidden)}.get(short)
    layer = re.match(r"blk\.(\d+)\.", name)
    if (out_in is None or a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]
            or (b.shape[0], a.shape[1]) != out_in or (layer and int(layer[1]) >= int(hp["num_hidden_layers"]))):
        raise EditloopError(f"adapter {adapter} does not fit its base model: {module} has A {tuple(a.shape)}, "
                            f"B {tuple(b.shape)}")


__all__ = ["write_model_gguf", "write_lora_gguf", "ollama_template", "AdapterNotConvertible"]

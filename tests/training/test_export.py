"""Export (``editloop export-model``): the adapter, GGUF files llama.cpp runs, a Modelfile Ollama can
build, and an output folder that never replaces what Editloop did not write.

Ollama itself is not installable here: the Modelfile is checked by parsing it the way Ollama's
parser reads one (commands, unquoted values to the end of the line, "..." and \"\"\"...\"\"\"
values; FROM and ADAPTER paths relative to the Modelfile's folder) and by checking every file it
names. Runs are real (trained by the worker) or fabricated: a run row marked succeeded whose
adapter is a PEFT LoRA with random non-zero B weights.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from editloop.errors import EditloopError
from editloop.store import Store
from editloop.training import jobs, worker
from editloop.training.export import MARKER, export_run

HAS_LLAMA_CPP = importlib.util.find_spec("llama_cpp") is not None
COMMANDS = {"from", "adapter", "template", "system", "parameter", "license", "message", "draft", "renderer",
            "parser", "requires"}


def parse_modelfile(path: Path) -> list[tuple[str, str]]:
    """(command, value) pairs, as Ollama's parser reads them; an AssertionError where it would fail."""
    text, commands, i = path.read_text(), [], 0
    while i < len(text):
        if text[i] in " \t\r\n":
            i += 1
            continue
        if text[i] == "#":
            i = text.find("\n", i) % (len(text) + 1) + 1 if "\n" in text[i:] else len(text)
            continue
        m = re.compile(r"([A-Za-z]+) +").match(text, i)
        assert m and m[1].lower() in COMMANDS, f"invalid command at {text[i:i + 30]!r}"
        name, i = m[1].lower(), m.end()
        if name == "parameter":
            p = re.compile(r"([A-Za-z0-9_]+) +").match(text, i)
            assert p, "PARAMETER without a name"
            name, i = p[1], p.end()
        for quote in ('"""', '"'):
            if text.startswith(quote, i):
                end = re.compile(re.escape(quote) + r"(?=[ \t\r\n]|$)").search(text, i + len(quote))
                assert end, f"unterminated {quote} value for {name}"
                commands.append((name, text[i + len(quote):end.start()]))
                i = end.end()
                break
        else:
            end = text.find("\n", i) if "\n" in text[i:] else len(text)
            commands.append((name, text[i:end].strip()))
            i = end
    assert any(c == "from" for c, _ in commands), "no FROM line"
    return commands


def check_modelfile(folder: Path) -> dict[str, list[str]]:
    """Parse ``folder/Modelfile`` and check that the files it names exist; its commands by name."""
    by_name: dict[str, list[str]] = {}
    for name, value in parse_modelfile(folder / "Modelfile"):
        by_name.setdefault(name, []).append(value)
    for name in ("from", "adapter"):
        for value in by_name.get(name, []):
            assert (folder / value).resolve().is_file(), f"{name.upper()} {value} names no file"
    return by_name


def _logits(model, ids):
    import torch

    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()


def fabricated_run(store: Store, base_model: str) -> str:
    """A succeeded run whose adapter is a PEFT LoRA (random non-zero B) on ``base_model``."""
    import torch
    from peft import LoraConfig, get_peft_model

    from editloop.training.artifacts import load_base

    run_id = jobs.create_run(store, method="sft", base_model=base_model)
    model, tok = load_base(base_model)
    torch.manual_seed(3)
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear"))
    with torch.no_grad():
        for name, p in peft.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.2)
    adapter = jobs.run_dir(store.home, run_id) / "adapter"
    peft.save_pretrained(adapter)
    tok.save_pretrained(adapter)
    jobs.update_run(store, run_id, status="succeeded", adapter_path=str(adapter))
    return run_id


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "xdg-cache"


def test_a_lora_on_a_gguf_base_exports_from_the_base_file_plus_the_adapter(home, tiny_model, tmp_path, cache):
    """What a SmolLM2 user gets: the Modelfile builds from the base's own GGUF and adapter.gguf, and
    llama.cpp runs both (and merged.gguf) as PEFT runs the adapter."""
    from editloop.training.artifacts import load_model
    from editloop.training.gguf_write import ollama_template, write_model_gguf

    base_gguf = write_model_gguf(tiny_model, tmp_path / "base.gguf", dtype="f32")
    store = Store.open(home)
    try:
        run_id = fabricated_run(store, str(base_gguf))
        out = export_run(store, run_id, home / "export")
    finally:
        store.close()
    folder = home / "export"
    assert sorted(p.name for p in folder.iterdir()) == ["Modelfile", "adapter", "adapter.gguf", MARKER, "merged.gguf"]
    assert out["from"] == str(base_gguf) and out["notes"] == [] and out["adapterGguf"] == str(folder / "adapter.gguf")
    commands = check_modelfile(folder)
    assert commands["from"] == [str(base_gguf)] and commands["adapter"] == ["./adapter.gguf"]
    peft, tok = load_model(folder / "adapter", str(base_gguf))
    template, stops = ollama_template(tok.chat_template, bos_token=tok.bos_token, eos_token=tok.eos_token)
    assert commands["template"] == [template] and commands["stop"] == stops == ["<|im_end|>", "<|im_start|>user"]
    assert commands["temperature"] == ["0"]
    if HAS_LLAMA_CPP:
        ids = tok("table order {\n  uuid id PK\n}")["input_ids"]
        want = _logits(peft.eval(), ids)
        assert abs(llama_logits(base_gguf, ids, lora=folder / "adapter.gguf") - want).max() < 1e-2
        assert abs(llama_logits(folder / "merged.gguf", ids) - want).max() < 3e-2  # float16


def llama_logits(model: Path, ids: list[int], *, lora: Path | None = None):
    import numpy as np
    from llama_cpp import Llama

    llm = Llama(model_path=str(model), lora_path=str(lora) if lora else None, n_ctx=128, logits_all=True,
                n_threads=1, verbose=False)
    try:
        llm.eval(ids)
        return np.array(llm.scores[: len(ids)])
    finally:
        llm.close()


def test_an_existing_folder_is_replaced_only_when_editloop_wrote_it_and_force_is_given(home, tiny_model, tmp_path):
    store = Store.open(home)
    try:
        run_id = fabricated_run(store, tiny_model)
        mine = tmp_path / "mine"
        mine.mkdir()
        (mine / "notes.txt").write_text("the user's")
        with pytest.raises(EditloopError, match="is not an Editloop export"):
            export_run(store, run_id, mine, force=True)
        (tmp_path / "file").write_text("x")
        with pytest.raises(EditloopError, match="is not an Editloop export"):
            export_run(store, run_id, tmp_path / "file", force=True)
        with pytest.raises(EditloopError, match="does not exist"):
            export_run(store, run_id, tmp_path / "no" / "such")
        out = tmp_path / "export"
        first = export_run(store, run_id, out)
        assert first["from"] == "./merged.gguf" and first["adapterGguf"]  # a folder base: the merged model
        assert check_modelfile(out)["from"] == ["./merged.gguf"]
        with pytest.raises(EditloopError, match="pass --force"):
            export_run(store, run_id, out)
        (out / "merged.gguf").write_bytes(b"old")
        export_run(store, run_id, out, force=True)
        assert (out / "merged.gguf").read_bytes()[:4] == b"GGUF"  # replaced
        (out / "my-notes.md").write_text("added by the user")
        with pytest.raises(EditloopError, match="also holds files Editloop did not write \\(my-notes.md\\)"):
            export_run(store, run_id, out, force=True)
        assert (out / "my-notes.md").read_text() == "added by the user"
        (out / "my-notes.md").unlink()
        link = tmp_path / "link"
        link.symlink_to(out, target_is_directory=True)
        with pytest.raises(EditloopError, match="is not an Editloop export"):  # never written through a link
            export_run(store, run_id, link, force=True)
        dangling = tmp_path / "dangling"
        dangling.symlink_to(tmp_path / "nowhere")
        with pytest.raises(EditloopError, match="is not an Editloop export"):
            export_run(store, run_id, dangling)
        assert link.is_symlink() and dangling.is_symlink() and not (tmp_path / "nowhere").exists()
    finally:
        store.close()
    assert (mine / "notes.txt").read_text() == "the user's" and (tmp_path / "file").read_text() == "x"
    # no temporary folder left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "data", "export", "file", "link", "mine"]


def test_export_model_cli(home, tiny_model, tmp_path, capsys):
    from editloop.cli import main

    store = Store.open(home)
    try:
        run_id = fabricated_run(store, tiny_model)
    finally:
        store.close()
    out = tmp_path / "out"
    assert main(["export-model", run_id, "-o", str(out), "--data-dir", str(home)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}: Modelfile (FROM ./merged.gguf), merged.gguf, adapter.gguf, adapter/" in printed
    assert main(["export-model", run_id, "-o", str(out), "--data-dir", str(home)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("editloop: ") and "pass --force" in err and len(err.strip().splitlines()) == 1
    assert main(["export-model", run_id, "-o", str(out), "--force", "--data-dir", str(home)]) == 0


@pytest.mark.slow
@pytest.mark.parametrize("adaptation", ["lora", "full"])
def test_a_trained_run_exports_a_merged_gguf_with_the_trained_model(home, tiny_model, toy_data, adaptation):
    """Trained by the worker. The tiny base's LoRA also trains token embeddings (trainable tokens),
    which a llama.cpp LoRA cannot carry: no adapter.gguf, a note, and the Modelfile uses merged.gguf."""
    import torch
    from transformers import AutoModelForCausalLM

    from editloop.training.artifacts import load_model

    store = Store.open(home)
    try:
        run_id = jobs.create_run(store, method="sft", artifact_type="toy", base_model=tiny_model, data=toy_data,
                                 settings={"epochs": 2, "max_new_tokens": 16, "adaptation": adaptation})
        worker.run(home, run_id)
        run = jobs.get_run(store, run_id)
        assert run.status == "succeeded", run.error
        out = export_run(store, run_id, home / "export")
    finally:
        store.close()
    folder = home / "export"
    assert check_modelfile(folder)["from"] == ["./merged.gguf"] and out["from"] == "./merged.gguf"
    if adaptation == "lora":
        assert (folder / "adapter" / "adapter_config.json").exists() and out["adapterGguf"] is None
        assert any("trains token embeddings" in n for n in out["notes"])
    trained, tok = load_model(run.adapter_path, tiny_model)
    merged = AutoModelForCausalLM.from_pretrained(folder, gguf_file="merged.gguf", dtype=torch.float32)
    ids = tok("table customer {")["input_ids"]
    assert abs(_logits(merged.eval(), ids) - _logits(trained.eval(), ids)).max() < 3e-2  # float16 weights
    assert not any(p.name.endswith(".partial") for p in home.iterdir())


def test_export_refuses_a_run_without_a_model(home, tiny_model):
    store = Store.open(home)
    try:
        run_id = jobs.create_run(store, method="sft", base_model=tiny_model)
        with pytest.raises(EditloopError, match="nothing to export"):
            export_run(store, run_id, home / "export")
    finally:
        store.close()
    assert not (home / "export").exists()

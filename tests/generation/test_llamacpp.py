"""The llama.cpp backend: which backend each setting picks (no model), and a real llama.cpp worker
process on the tiny test model's GGUF: the transformers worker's greedy text, clear errors after which
the worker keeps serving, a restart after a crash, and a trained adapter served in GGUF form."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from editloop.errors import EditloopError
from editloop.generation import llamacpp, service
from editloop.generation.local import LocalWorker
from editloop.settings import parse_settings
from editloop.signals.validate import validate
from editloop.store import Store
from editloop.store.runs import Run

from .helpers import promoted_record

VALID = "CREATE TABLE customer (id INT PRIMARY KEY);"
BROKEN = "CREATE TABLE customer (id INT PRIMARY KEY"


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


@pytest.fixture
def gguf_file(tmp_path) -> Path:
    """A file that passes base_source's checks (a .gguf starting with the magic); never loaded."""
    path = tmp_path / "model.Q4_0.gguf"
    path.write_bytes(b"GGUF" + bytes(60))
    return path


def _generator(store, monkeypatch, *, base: str, run: Run | None = None, **settings) -> service.Generator:
    monkeypatch.setattr(service, "promoted_run", lambda store, artifact_type: run)
    return service.Generator(store, parse_settings({"training": {"baseModel": base}, **settings}))


@pytest.mark.parametrize("setting, installed, prefers, expected", [
    ("auto", True, True, "llamacpp"),
    ("auto", False, True, "local"),   # llama-cpp-python not installed
    ("auto", True, False, "local"),   # the benchmark found transformers faster
    ("local", True, True, "local"),
    ("llamacpp", True, True, "llamacpp"),
])
def test_a_gguf_base_is_served_by_the_backend_the_setting_picks(store, monkeypatch, gguf_file, setting, installed,
                                                                 prefers, expected):
    pytest.importorskip("gguf")  # base_source checks it for a GGUF base
    monkeypatch.setattr(llamacpp, "available", lambda: installed)
    monkeypatch.setattr(service, "AUTO_PREFERS_LLAMACPP", prefers)
    gen = _generator(store, monkeypatch, base=str(gguf_file), generation={"backend": setting})
    plan, name = gen.plan("sql")
    assert (plan.backend, name, plan.version, plan.adapter) == (expected, gguf_file.name, "base", None)
    worker = llamacpp.LlamaCppWorker if expected == "llamacpp" else LocalWorker
    assert type(plan.worker) is worker and plan.worker.proc is None  # nothing started yet
    assert plan.base == (str(gguf_file.resolve()) if expected == "llamacpp" else str(gguf_file))
    assert gen.backend() == "local"


def test_auto_generates_a_large_batch_with_transformers(store, monkeypatch, gguf_file):
    """One prompt (the editor's request) is faster through llama.cpp, a held-out evaluation's batch
    through transformers' batched generation (docs/benchmarks.md); asked for by name, llama.cpp
    takes any batch."""
    pytest.importorskip("gguf")
    monkeypatch.setattr(llamacpp, "available", lambda: True)
    most = service.AUTO_LLAMACPP_MAX_BATCH
    auto = _generator(store, monkeypatch, base=str(gguf_file))
    assert [auto.plan("sql", n)[0].backend for n in (1, most, most + 1, 24)] == ["llamacpp", "llamacpp", "local", "local"]
    named = _generator(store, monkeypatch, base=str(gguf_file), generation={"backend": "llamacpp"})
    assert named.plan("sql", 24)[0].backend == "llamacpp"


def test_auto_keeps_transformers_for_a_folder_or_a_base_it_cannot_check(store, monkeypatch, tmp_path):
    monkeypatch.setattr(llamacpp, "available", lambda: True)
    folder = tmp_path / "hf-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    for base in (str(folder), str(tmp_path / "missing-folder")):
        assert _generator(store, monkeypatch, base=base).plan("sql")[0].backend == "local"
    assert _generator(store, monkeypatch, base=str(folder), generation={"model": "llama3"}).backend() == "openai"


def test_the_llamacpp_setting_says_what_it_needs(store, monkeypatch, tmp_path, gguf_file):
    pytest.importorskip("gguf")
    monkeypatch.setattr(llamacpp, "available", lambda: True)
    folder = tmp_path / "hf-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    gen = _generator(store, monkeypatch, base=str(folder), generation={"backend": "llamacpp"})
    with pytest.raises(EditloopError, match=r"serves GGUF models, and the base model .*hf-model is not one"):
        gen.plan("sql")
    monkeypatch.setattr(llamacpp, "available", lambda: False)
    gen = _generator(store, monkeypatch, base=str(gguf_file), generation={"backend": "llamacpp"})
    with pytest.raises(EditloopError, match="needs llama-cpp-python: pip install llama-cpp-python"):
        gen.plan("sql")
    with pytest.raises(EditloopError, match="generation.backend: expected one of auto, openai, local, llamacpp"):
        parse_settings({"generation": {"backend": "ollama"}})


def test_the_promoted_runs_base_and_adapter_go_to_llamacpp(store, monkeypatch, tmp_path, gguf_file):
    pytest.importorskip("gguf")
    monkeypatch.setattr(llamacpp, "available", lambda: True)
    run = promoted_record("run-7", str(tmp_path / "runs/run-7/adapter"), str(gguf_file))
    gen = _generator(store, monkeypatch, base="other-org/other-model", run=run)  # the run's base wins
    plan, _ = gen.plan("sql")
    assert (plan.backend, plan.base, plan.adapter, plan.version) == (
        "llamacpp", str(gguf_file.resolve()), run.adapter_path, "run-7")


class Scripted:
    """A worker answering each (adapter, num_beams) from a script (prompt -> text), or raising."""

    def __init__(self, script, *, beams: bool = True, fail: str | None = None) -> None:
        self.script, self.beams, self.fail, self.calls = script, beams, fail, []

    def generate_batch(self, conversations, *, base, adapter, max_new_tokens=512, num_beams=1):
        prompts = [m[-1]["content"] for m in conversations]
        self.calls.append((base, adapter, num_beams, prompts))
        if self.fail:
            raise EditloopError(self.fail)
        return [self.script[(adapter, num_beams)][p] for p in prompts]

    def close(self) -> None:
        pass


def test_with_llamacpp_an_invalid_output_goes_straight_to_the_base(store, monkeypatch, gguf_file):
    pytest.importorskip("gguf")
    assert validate(BROKEN, "sql").valid is False
    monkeypatch.setattr(llamacpp, "available", lambda: True)
    adapter = "/runs/run-1/adapter"
    run = promoted_record("run-1", adapter, str(gguf_file))
    gen = _generator(store, monkeypatch, base=str(gguf_file), run=run)
    gen._llama = Scripted({(adapter, 1): {"a": VALID, "b": BROKEN}, (None, 1): {"b": VALID + " -- base"}}, beams=False)
    out = gen.generate_many(["a", "b"], "sql")
    assert [(g.text, g.backend, g.retry, g.model_version) for g in out] == [
        (VALID, "llamacpp", "", "run-1"), (VALID + " -- base", "llamacpp", "base", "base")]
    assert [(a, b) for _, a, b, _ in gen._llama.calls] == [(adapter, 1), (None, 1)]  # no beam search asked


def test_auto_falls_back_to_transformers_when_llamacpp_fails(store, monkeypatch, gguf_file):
    pytest.importorskip("gguf")
    monkeypatch.setattr(llamacpp, "available", lambda: True)
    gen = _generator(store, monkeypatch, base=str(gguf_file))
    gen._llama = Scripted({}, beams=False, fail="local generation failed: ValueError: llama.cpp cannot load it")
    gen._local = Scripted({(None, 1): {"a": VALID}})
    out = gen.generate("a", "sql")
    assert (out.text, out.backend) == (VALID, "local")
    assert gen._local.calls[0][0] == str(gguf_file)  # transformers gets the setting's spec, not the resolved path
    assert gen.generate("a", "sql").backend == "local" and len(gen._llama.calls) == 1  # not retried each time
    explicit = _generator(store, monkeypatch, base=str(gguf_file), generation={"backend": "llamacpp"})
    explicit._llama = gen._llama
    with pytest.raises(EditloopError, match="llama.cpp cannot load it"):  # asked for by name: its error
        explicit.generate("a", "sql")


def test_beam_search_is_refused_before_any_process_starts():
    worker = llamacpp.LlamaCppWorker()
    with pytest.raises(EditloopError, match="beam search is not available with llama.cpp"):
        worker.generate_batch([[{"role": "user", "content": "x"}]], base="b.gguf", adapter=None, num_beams=4)
    assert worker.proc is None


# --- a real llama.cpp worker process -----------------------------------------------------------

WORDS = ["customer", "order", "invoice"]


def _conversations():
    import tinymodel

    return [tinymodel.messages(w) for w in WORDS]


@pytest.fixture(scope="module")
def llama_worker():
    pytest.importorskip("llama_cpp")
    worker = llamacpp.LlamaCppWorker(threads=1, silence=120)
    yield worker
    worker.close()


@pytest.mark.slow
def test_llamacpp_writes_the_transformers_workers_greedy_text(llama_worker, tiny_gguf, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the transformers worker's GGUF conversion
    conversations = _conversations()
    ours = llama_worker.generate_batch(conversations, base=str(tiny_gguf), adapter=None, max_new_tokens=40)
    hf = LocalWorker(threads=1, silence=300)
    try:
        theirs = [hf.generate(c, base=str(tiny_gguf), adapter=None, max_new_tokens=40) for c in conversations]
    finally:
        hf.close()
    assert ours == theirs
    assert all("table" in t for t in ours), ours  # the tiny model's pretrained style, not noise


@pytest.mark.slow
def test_a_broken_model_gets_a_clear_error_and_the_worker_keeps_serving(llama_worker, tiny_gguf, tmp_path):
    conv = _conversations()[:1]
    good = llama_worker.generate_batch(conv, base=str(tiny_gguf), adapter=None, max_new_tokens=8)
    pid = llama_worker.proc.pid
    with pytest.raises(EditloopError, match=r"base model file .*missing\.gguf does not exist"):
        llama_worker.generate_batch(conv, base=str(tmp_path / "missing.gguf"), adapter=None)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:4096])  # a download cut short
    with pytest.raises(EditloopError, match=r"llama.cpp cannot load cut\.gguf"):
        llama_worker.generate_batch(conv, base=str(cut), adapter=None)
    no_template = tmp_path / "no-template.gguf"
    _without_chat_template(tiny_gguf, no_template)
    with pytest.raises(EditloopError, match="has no chat template"):
        llama_worker.generate_batch(conv, base=str(no_template), adapter=None)
    with pytest.raises(EditloopError, match=r"adapter folder .*nowhere does not exist"):
        llama_worker.generate_batch(conv, base=str(tiny_gguf), adapter=str(tmp_path / "nowhere"))
    assert llama_worker.generate_batch(conv, base=str(tiny_gguf), adapter=None, max_new_tokens=8) == good
    assert llama_worker.proc.pid == pid


def _without_chat_template(src: Path, out: Path) -> None:
    """A copy of ``src`` whose metadata lacks tokenizer.chat_template (rewritten with the gguf package)."""
    import gguf

    reader = gguf.GGUFReader(str(src))
    writer = gguf.GGUFWriter(str(out), "llama")
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name in ("general.architecture", "tokenizer.chat_template"):
            continue
        value = field.contents()
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            writer.add_key_value(field.name, value, vtype, sub_type=field.types[-1])
        else:
            writer.add_key_value(field.name, value, vtype)
    for t in reader.tensors:
        writer.add_tensor(t.name, t.data, raw_shape=list(reversed([int(d) for d in t.shape])), raw_dtype=t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


@pytest.mark.slow
def test_a_worker_that_dies_says_so_and_restarts(tiny_gguf):
    """Stopped during a request (here for showing no progress for 0.05 s while it loads the model): a
    clear error, and the next request starts a new process; killed between requests: the next
    request just starts a new one."""
    pytest.importorskip("llama_cpp")
    worker = llamacpp.LlamaCppWorker(threads=1, silence=0.05)
    conv = _conversations()[:1]
    try:
        with pytest.raises(EditloopError, match=r"the llama.cpp worker showed no progress for 0.05 s and was stopped; it restarts on the next"):
            worker.generate_batch(conv, base=str(tiny_gguf), adapter=None, max_new_tokens=8)
        assert worker.proc is None
        worker.silence = 120
        first = worker.generate_batch(conv, base=str(tiny_gguf), adapter=None, max_new_tokens=8)
        pid = worker.proc.pid
        os.kill(pid, signal.SIGKILL)
        worker.proc.wait()
        assert worker.generate_batch(conv, base=str(tiny_gguf), adapter=None, max_new_tokens=8) == first
        assert worker.proc.pid != pid
    finally:
        worker.close()
    assert worker.proc is None


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory, tiny_gguf) -> tuple[Path, Path]:
    """(cache folder, runs/<id>/adapter): a LoRA on every linear layer of the tiny GGUF base's float32
    form, with random (non-zero) B so that it changes what the model writes."""
    pytest.importorskip("peft")
    import torch
    from peft import LoraConfig, get_peft_model

    from editloop.training.artifacts import load_base

    cache = tmp_path_factory.mktemp("xdg-cache")
    os.environ["XDG_CACHE_HOME"] = str(cache)  # restored below; the worker processes inherit it
    try:
        model, tok = load_base(str(tiny_gguf))
    finally:
        del os.environ["XDG_CACHE_HOME"]
    torch.manual_seed(1)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.3)
    adapter = tmp_path_factory.mktemp("runs") / "run-1" / "adapter"
    peft_model.save_pretrained(adapter)
    tok.save_pretrained(adapter)
    return cache, adapter


@pytest.mark.slow
def test_a_lora_adapter_is_served_in_gguf_form_with_the_transformers_workers_text(lora_run, tiny_gguf, monkeypatch):
    pytest.importorskip("llama_cpp")
    cache, adapter = lora_run
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    conversations = _conversations()
    worker = llamacpp.LlamaCppWorker(threads=1, silence=120)
    hf = LocalWorker(threads=1, silence=300)
    try:
        base = worker.generate_batch(conversations, base=str(tiny_gguf), adapter=None, max_new_tokens=30)
        tuned = worker.generate_batch(conversations, base=str(tiny_gguf), adapter=str(adapter), max_new_tokens=30)
        written = adapter.parent / "adapter.gguf"
        assert written.is_file() and not list(adapter.parent.glob(".*.tmp"))
        stamp = written.stat().st_mtime_ns
        theirs = [hf.generate(c, base=str(tiny_gguf), adapter=str(adapter), max_new_tokens=30) for c in conversations]
        worker.close()  # a new process loads the cached adapter.gguf
        assert worker.generate_batch(conversations, base=str(tiny_gguf), adapter=str(adapter),
                                     max_new_tokens=30) == tuned
        assert written.stat().st_mtime_ns == stamp
    finally:
        worker.close()
        hf.close()
    assert tuned != base
    assert tuned == theirs


@pytest.mark.slow
def test_a_fully_fine_tuned_model_is_served_as_a_gguf_model_of_its_own(llama_worker, tiny_model, tiny_gguf, tmp_path):
    """A tiny base is fully fine-tuned (its run leaves a model folder, not an adapter): llama.cpp serves
    that folder's float32 GGUF form, written once next to it (here the tiny model itself: same text)."""
    import shutil

    run = tmp_path / "runs" / "run-2"
    shutil.copytree(tiny_model, run / "adapter")
    conv = _conversations()
    base = llama_worker.generate_batch(conv, base=str(tiny_gguf), adapter=None, max_new_tokens=30)
    assert llama_worker.generate_batch(conv, base=str(tiny_gguf), adapter=str(run / "adapter"),
                                       max_new_tokens=30) == base
    assert (run / "model.gguf").is_file() and not (run / "adapter.gguf").exists()


@pytest.mark.slow
def test_the_backend_comparison_of_bench_system_runs(tmp_path, monkeypatch):
    from editloop.bench import backends

    reason = backends.skip_reason()
    if reason:
        assert backends.run(quick=True, write=False) == f"(generation backends: skipped: {reason})"
        pytest.skip(reason)
    monkeypatch.setenv("EDITLOOP_BENCH_DOC", str(tmp_path / "benchmarks.md"))
    out = backends.run(quick=True, write=False)
    for row in ("| transformers (the GGUF dequantized to float32) |", "| llama.cpp (llama-cpp-python", "empty cache",
                "shared prompt prefix cached", "Same text from both:"):
        assert row in out, out
    assert not (tmp_path / "benchmarks.md").exists()


@pytest.mark.slow
def test_a_real_server_generates_through_llamacpp(tmp_path, tiny_gguf, llama_worker):
    """`editloop.generate` in a real language server with the llamacpp backend on a GGUF base: the
    llama.cpp worker's text is inserted and tracked."""
    import asyncio

    from editloop.generation.prompting import messages_for
    from editloop.simulate.session import ServerSession

    prompt = "make a table for order"
    settings = {"training.baseModel": str(tiny_gguf), "generation.backend": "llamacpp"}
    cache = tmp_path / "cache"  # where the transformers worker would have converted the GGUF

    async def session():
        async with ServerSession(tmp_path / "home", settings=settings, env={"XDG_CACHE_HOME": str(cache)}) as s:
            s.open("untitled:gen-1", "", "plaintext")
            out = await s.command("editloop.generate", {"uri": "untitled:gen-1", "position": {"line": 0, "character": 0},
                                                        "prompt": prompt, "artifactType": "toy"})
            return out, s.texts["untitled:gen-1"]

    out, doc_text = asyncio.run(session())
    expected = llama_worker.generate(messages_for("toy", prompt, language="plaintext"), base=str(tiny_gguf), adapter=None)
    assert "table" in expected
    assert out["text"] == expected.strip("\n") + "\n" and doc_text == out["text"]
    assert (out["model"], out["modelVersion"]) == (tiny_gguf.name, "base")
    assert not (cache / "editloop").exists()  # llama.cpp read the GGUF itself

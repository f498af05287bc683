"""Training speed: Editloop's SFT beside a plain TRL SFT script, and one Train now on 200 events.

    .venv/bin/python -m editloop.bench.training_bench [--model DIR] [--events 200] [--epochs 3] [--repeat 3] [--json OUT]

- Model: ``--model`` (a folder), else the embedded default's ``tiny`` preset built into a temp
  folder (seconds). Data: ``--events`` synthetic Mermaid ERD events (a simulated user's edits
  of the base style) recorded through the store, turned into rows by curation's ``build_batch``.
- Throughput: the same SFT rows, the same number of epochs (early stopping off), one torch
  thread each, side by side in this process: Editloop's ``finetune.train`` (everything a run does:
  base measurement, per-epoch validation with greedy generation, best checkpoint, save) and a
  plain TRL script (``SFTTrainer`` with ``SFTConfig`` defaults, which on the CPU means bf16
  autocast and gradient checkpointing). Tokens = prompt + completion tokens x epochs, counted
  with the same tokenizer for both. Medians of ``--repeat`` runs; the ratio is Editloop / TRL.
- Train now: ``start_run`` -> worker process -> ``succeeded``, wall time from the call to the
  finished event (process start and imports included), on the recorded events.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path


def seed_events(store, n: int, seed: int = 0) -> None:
    from editloop.signals.similarity import similarity
    from editloop.store import utcnow_iso
    from editloop.synth.artifacts import get_artifact
    from editloop.synth.spec import generate_specs, render_prompt
    from editloop.synth.style import BASE_STYLE
    from editloop.synth.users import USERS

    user = next(iter(USERS.values()))
    art = "mermaid-erd"
    rng = random.Random(seed)
    for i, spec in enumerate(generate_specs(n, seed=seed)):
        prompt = render_prompt(spec)
        original = get_artifact(art).render(spec, BASE_STYLE)
        resp = user.respond(spec, art, original, rng)
        action = {"accept": "accept", "lazy-accept": "accept", "edit": "edit", "rewrite": "reject"}[resp.action]
        region = store.insert_region({"uri": f"file:///bench/{i}.mmd", "artifact_type": art, "prompt": prompt,
                                      "model": "base", "original": original})
        store.record_outcome(region["id"], {
            "action": action, "source": "explicit", "prompt": prompt, "original": original, "final": resp.final_text,
            "artifact_type": art, "similarity": similarity(original, resp.final_text),
            "reward": 1.0 if action == "accept" else (0.3 if action == "edit" else -1.0),
        }, status={"accept": "accepted", "edit": "edited", "reject": "rejected"}[action], at=utcnow_iso())


def count_tokens(tokenizer, rows) -> int:
    total = 0
    for r in rows:
        text = tokenizer.apply_chat_template(r["prompt"] + r["completion"], tokenize=False)
        total += len(tokenizer(text, add_special_tokens=False)["input_ids"])
    return total


def editloop_sft(model: str, data, epochs: float, out: Path) -> float:
    from editloop.training.config import TrainConfig
    from editloop.training.finetune import train

    cfg = TrainConfig(method="sft", base_model=model, epochs=epochs, early_stopping_patience=1000, threads=1)
    t0 = time.perf_counter()
    train(data, cfg, out)
    return time.perf_counter() - t0


def plain_trl_sft(model: str, rows, epochs: float, out: Path) -> float:
    """What a user without Editloop would write: TRL's defaults, the same rows and epochs."""
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    # use_cpu: the only change a CPU needs (TRL defaults bf16 on, which otherwise refuses to start)
    args = SFTConfig(output_dir=str(out), num_train_epochs=epochs, report_to=[], save_strategy="no", use_cpu=True,
                     disable_tqdm=True)
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                         processing_class=AutoTokenizer.from_pretrained(model))
    trainer.train()
    trainer.save_model(str(out / "final"))
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="base model folder (default: the embedded default's tiny preset)")
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args(argv)

    import datasets
    import torch
    import transformers

    torch.set_num_threads(1)
    datasets.disable_progress_bars()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    from transformers import AutoTokenizer

    from editloop.store import Store
    from editloop.training import jobs
    from editloop.training.data import from_store, trl_rows

    tmp = Path(tempfile.mkdtemp(prefix="editloop-training-bench-"))
    model = a.model
    if not model:
        from editloop.training.base_model import build_base_model

        t0 = time.perf_counter()
        model = str(build_base_model(tmp / "base", preset="tiny", evaluate=False))
        print(f"built the tiny base model in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    home = tmp / "home"
    store = Store.open(home)
    seed_events(store, a.events)
    data = from_store(store, artifact_type="mermaid-erd", method="sft")
    store.close()
    rows = trl_rows(data.sft.train, "sft")
    tok = AutoTokenizer.from_pretrained(model)
    tokens = count_tokens(tok, rows) * a.epochs

    ed, trl = [], []
    for i in range(a.repeat):
        for name, fn, times in (("editloop", lambda o: editloop_sft(model, data, a.epochs, o), ed),
                                ("trl", lambda o: plain_trl_sft(model, rows, a.epochs, o), trl)):
            times.append(fn(tmp / f"{name}-{i}"))
            print(f"{name} run {i}: {times[-1]:.1f} s", file=sys.stderr)

    # One Train now, as the server starts it: a worker process on the recorded events.
    t0 = time.perf_counter()
    run_id = jobs.start_run(home, method="auto", artifact_type="mermaid-erd", base_model=model)
    status = jobs.wait_run(home, run_id, stall_timeout=600)
    train_now_s = time.perf_counter() - t0

    ed_s, trl_s = statistics.median(ed), statistics.median(trl)
    result = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "command": "python -m editloop.bench.training_bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "model": model, "params": None, "sftRows": len(rows), "epochs": a.epochs, "tokens": tokens,
        "editloopSeconds": ed, "trlSeconds": trl,
        "editloopTokensPerS": tokens / ed_s, "trlTokensPerS": tokens / trl_s, "ratio": trl_s / ed_s,
        "trainNow": {"events": a.events, "seconds": train_now_s, "status": status["status"],
                     "method": status["method"], "reason": status["reason"],
                     "valSimilarity": status["metrics"].get("valSimilarity"),
                     "baseSimilarity": (status["metrics"].get("base") or {}).get("similarity"),
                     "valValidity": status["metrics"].get("valValidity"), "error": status["error"]},
    }
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(model)
    result["params"] = f"hidden {cfg.hidden_size}, {cfg.num_hidden_layers} layers, vocab {cfg.vocab_size}"
    print(f"\n| what | value |\n| --- | --- |")
    print(f"| SFT rows x epochs | {len(rows)} x {a.epochs:g} ({tokens:,.0f} tokens) |")
    print(f"| Editloop SFT (median of {a.repeat}) | {ed_s:.1f} s, {tokens / ed_s:,.0f} tokens/s |")
    print(f"| plain TRL SFTTrainer, defaults (median of {a.repeat}) | {trl_s:.1f} s, {tokens / trl_s:,.0f} tokens/s |")
    print(f"| ratio Editloop / TRL (tokens/s) | {trl_s / ed_s:.2f}x |")
    print(f"| one Train now on {a.events} events (worker process, end to end) | {train_now_s:.1f} s, "
          f"{status['status']}, {status['method']} |")
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    return 0 if status["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())

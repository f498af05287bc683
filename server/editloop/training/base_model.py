"""The embedded default base model: a tiny Llama pretrained from scratch on synthetic tasks.

No model can be downloaded, so Editloop builds its own: a byte-level BPE tokenizer and a
random-init ``LlamaConfig`` pretrained on chat-formatted (system + spec prompt -> artifact)
examples from :mod:`editloop.synth`, with the loss on the completion only.

What makes later LoRA fine-tuning work on such a small base (see docs in FACTS, "Calibration"):

* Most of the corpus is written in ``BASE_STYLE`` from a plain prompt: that is what the model
  writes by default, and what no simulated user wants.
* A share of the corpus is written in random other styles, with the conventions stated at the
  end of the prompt ("Conventions: snake_case attributes; uuid keys; ..."). Every token a user's
  style needs (quotes, uuid, varchar, NOT NULL, created_at, snake/camel/Pascal/UPPER pieces) is
  therefore seen and trained in pretraining, and the model already knows how to write each
  convention: fine-tuning only has to make a user's conventions the default.
* Every name in the output comes from the prompt (cased per style), over thousands of
  domain/attribute combinations, so the model learns to copy rather than to recall.

torch, tokenizers and transformers are imported inside the functions that need them.
"""

from __future__ import annotations

import json
import math
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..curation.format import build_messages, with_conventions
from ..synth import BASE_STYLE, describe_style, generate_specs, get_artifact, random_style

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets" / "base-model"
BUILD_INFO = "build_info.json"

SPECIAL_TOKENS = ["<s>", "</s>", "<pad>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Conventions a user may want; fed to the tokenizer trainer so that each one is a few solid tokens.
CONVENTION_TERMS = [
    "snake_case", "camelCase", "PascalCase", "UPPER_CASE", "kebab-case", "_id", "Id", "ID", "_ID", "id",
    "uuid", "UUID", "Uuid", "guid", "bigint", "BIGINT", "int", "INT", "integer", "INTEGER", "serial", "SERIAL",
    "varchar", "VARCHAR", "varchar(255)", "VARCHAR(255)", "text", "TEXT", "string", "char", "CHAR",
    "decimal", "DECIMAL", "DECIMAL(10,2)", "numeric", "NUMERIC", "NUMERIC(12,2)", "float", "REAL", "double",
    "timestamp", "TIMESTAMP", "timestamptz", "TIMESTAMPTZ", "datetime", "DATETIME", "date", "DATE",
    "bool", "boolean", "BOOLEAN", "Decimal", "UUID", "Optional", "None",
    "created_at", "updated_at", "deleted_at", "createdAt", "updatedAt", "CreatedAt", "UpdatedAt",
    "CREATED_AT", "UPDATED_AT", "NOT NULL", "not null", "NULL", "PRIMARY KEY", "primary key",
    "FOREIGN KEY", "foreign key", "REFERENCES", "references", "UNIQUE", "unique", "DEFAULT", "default",
    "CURRENT_TIMESTAMP", "current_timestamp", "CONSTRAINT", "INDEX", "CHECK", "ON DELETE CASCADE",
    '"', "'", "`", "--", "%%", "#", "PK", "FK", "UK", "||--o{", "||--|{", "||--||", "}o--o{", "|o--o{",
    "@dataclass", "class", "from", "import",
]

PRESETS: dict[str, dict] = {
    # 1.18M parameters (0.52M of them the 4096-token embedding). Held-out edit distance to the
    # base-style reference (the content errors every fine-tune inherits): 1,000 steps on 12k
    # examples 0.25; 2,500 on 24k 0.12; 5,000 on 48k 0.003 (ERD) / 0.009 (SQL), 96% / 92% exact.
    # Its build time: docs/benchmarks.md, "Measurements behind code choices".
    "default": dict(hidden=128, layers=4, heads=4, vocab_size=4096, steps=5000, batch_size=16, lr=4e-3,
                    corpus_size=48000, styled_fraction=0.35, eval_specs=24, max_entities=3,
                    eval_max_new_tokens=512),
    # seconds: for tests.
    "tiny": dict(hidden=48, layers=2, heads=4, vocab_size=600, steps=40, batch_size=8, lr=1e-2,
                 corpus_size=400, styled_fraction=0.35, eval_specs=3, max_entities=2,
                 eval_max_new_tokens=48),
}
PRETRAIN_ARTIFACTS = ("mermaid-erd", "sql")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Example:
    artifact: str
    messages: list[dict]
    completion: str
    styled: bool


def pretraining_examples(n: int, *, seed: int = 0, styled_fraction: float = 0.35,
                         artifacts: Iterable[str] = PRETRAIN_ARTIFACTS, max_entities: int = 3) -> list[Example]:
    """``n`` chat examples on train-split specs: base style, or another style stated in the prompt."""
    artifacts = list(artifacts)
    rng = random.Random(f"editloop-pretrain:{seed}")
    specs = generate_specs(n, seed=seed, split="train", max_entities=max_entities)
    out = []
    for i, spec in enumerate(specs):
        artifact = artifacts[i % len(artifacts)]
        prompt = spec.prompt()
        style, styled = BASE_STYLE, False
        if rng.random() < styled_fraction:
            style = random_style(rng, change=rng.choice((0.2, 0.35, 0.5)))
            conventions = describe_style(style, artifact)
            if conventions:
                prompt, styled = with_conventions(prompt, conventions), True
            else:
                style = BASE_STYLE
        text = get_artifact(artifact).render(spec, style)
        out.append(Example(artifact, build_messages(artifact, prompt), text, styled))
    return out


def case_variants(texts: list[str], *, min_count: int = 5) -> list[str]:
    """Every word of the corpus (split at case changes and underscores) in the cases a naming
    convention may ask for: ``number Number NUMBER``, with and without a leading space.

    Without them BPE learns whole-word tokens only for the cases the corpus happens to use most,
    and an UPPER_CASE or snake_case rendering of a prompt's words falls apart into letters
    (``D R I V ER``), which a tiny model copies badly."""
    from collections import Counter

    counts = Counter(w.lower() for t in texts for w in _WORDS.findall(t))
    words = sorted(w for w, n in counts.items() if n >= min_count and len(w) > 1)
    lines = []
    for w in words:
        forms = (w, w.capitalize(), w.upper())
        lines.append(" ".join(forms) + "\n" + "_".join(forms) + "\n" + "".join(forms[1:]) + "\n")
    return lines


_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
# How often the case variants are repeated in the tokenizer's training text (each word needs
# enough pair counts for its merges to make the vocabulary).
CASE_VARIANT_WEIGHT = 8


def train_tokenizer(texts: Iterable[str], vocab_size: int):
    """Byte-level BPE wrapped in ``PreTrainedTokenizerFast`` with bos/eos/pad and a ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    texts = list(texts)
    terms = " ".join(CONVENTION_TERMS + ["system", "user", "assistant"]) + "\n"
    tok.train_from_iterator(texts + [terms] * 20 + case_variants(texts) * CASE_VARIANT_WEIGHT, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="<|im_end|>", pad_token="<pad>",
        additional_special_tokens=["<|im_start|>", "</s>"], padding_side="left",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def encode_example(tokenizer, ex: Example) -> tuple[list[int], int]:
    """Token ids of prompt + completion + eos, and the prompt's length (the loss starts after it)."""
    prompt_ids = tokenizer.apply_chat_template(ex.messages, tokenize=True, add_generation_prompt=True,
                                               return_dict=False)
    full = tokenizer.apply_chat_template(ex.messages + [{"role": "assistant", "content": ex.completion}],
                                         tokenize=True, return_dict=False)
    if full[: len(prompt_ids)] != prompt_ids:
        raise RuntimeError("chat template does not extend the prompt")
    return full, len(prompt_ids)


def _batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches in a seeded order (less padding, same order every build)."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 16
    batches = []
    for start in range(0, len(order), chunk):
        block = sorted(order[start:start + chunk], key=lambda i: lengths[i])
        batches += [block[j:j + batch_size] for j in range(0, len(block), batch_size)]
    rng.shuffle(batches)
    return [b for b in batches if len(b) == batch_size] or batches


def stderr_progress(stage: str, done: int, total: int) -> None:
    """A one-line progress bar on stderr (pass as ``progress=``)."""
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r{stage:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def build_base_model(out_dir: Path | str, *, seed: int = 0, steps: int | None = None, preset: str = "default",
                     progress: Progress | None = None, threads: int = 1, evaluate: bool = True) -> Path:
    """Train tokenizer and model from scratch, save both with ``save_pretrained``, return ``out_dir``.

    Deterministic for a seed (and thread count). ``build_info.json`` records the seed, steps,
    sizes, timings and held-out metrics (validity and edit distance to the base-style reference
    under greedy decoding).
    """
    import torch

    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    p = dict(PRESETS[preset])
    steps = p["steps"] if steps is None else steps
    report = progress or (lambda stage, done, total: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _build(out_dir, p, seed=seed, steps=steps, preset=preset, report=report, threads=threads,
                      evaluate=evaluate, started=started)
    finally:
        torch.set_num_threads(previous_threads)


def _build(out_dir: Path, p: dict, *, seed: int, steps: int, preset: str, report: Progress, threads: int,
           evaluate: bool, started: float) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)

    report("corpus", 0, 1)
    examples = pretraining_examples(p["corpus_size"], seed=seed, styled_fraction=p["styled_fraction"],
                                    max_entities=p["max_entities"])
    tokenizer = train_tokenizer(
        [ex.messages[0]["content"] + "\n" + ex.messages[1]["content"] + "\n" + ex.completion for ex in examples],
        p["vocab_size"],
    )
    encoded = [encode_example(tokenizer, ex) for ex in examples]
    report("corpus", 1, 1)

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=p["hidden"], intermediate_size=p["hidden"] * 2,
        num_hidden_layers=p["layers"], num_attention_heads=p["heads"], num_key_value_heads=p["heads"],
        max_position_embeddings=1024, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    losses = _pretrain(model, tokenizer, encoded, steps=steps, batch_size=p["batch_size"], lr=p["lr"],
                       seed=seed, report=report)
    train_s = time.perf_counter() - started

    model.eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)

    info = {
        "seed": seed, "preset": preset, "steps": steps, "params": sum(t.numel() for t in model.parameters()),
        "config": {k: p[k] for k in ("hidden", "layers", "heads", "vocab_size", "batch_size", "lr", "corpus_size",
                                     "styled_fraction", "max_entities")},
        "threads": threads, "train_seconds": round(train_s, 1),
        "final_loss": round(sum(losses[-20:]) / max(len(losses[-20:]), 1), 4),
        "untrained_user_tokens": untrained_user_tokens(tokenizer, encoded),
    }
    if evaluate:
        t0 = time.perf_counter()
        info["heldout"] = evaluate_model(model, tokenizer, n_specs=p["eval_specs"], seed=seed,
                                         max_entities=p["max_entities"], report=report,
                                         max_new_tokens=p["eval_max_new_tokens"])
        info["eval_seconds"] = round(time.perf_counter() - t0, 1)
    (out_dir / BUILD_INFO).write_text(json.dumps(info, indent=2) + "\n")
    return out_dir


def _pretrain(model, tokenizer, encoded, *, steps: int, batch_size: int, lr: float, seed: int, report) -> list[float]:
    import torch

    rng = random.Random(f"editloop-batches:{seed}")
    lengths = [len(ids) for ids, _ in encoded]
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    warmup = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))))
    pad = tokenizer.pad_token_id
    model.train()
    losses: list[float] = []
    queue: list[list[int]] = []
    for step in range(steps):
        if not queue:
            queue = _batches(lengths, batch_size, rng)
        idx = queue.pop()
        width = max(lengths[i] for i in idx)
        ids = torch.full((len(idx), width), pad, dtype=torch.long)
        labels = torch.full((len(idx), width), -100, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            seq, n_prompt = encoded[i]
            ids[row, : len(seq)] = torch.tensor(seq)
            labels[row, n_prompt: len(seq)] = torch.tensor(seq[n_prompt:])
            mask[row, : len(seq)] = 1
        # logits only where a completion token is predicted: the LM head is a big share of the compute
        hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1]
        target = labels[:, 1:]
        keep = target != -100
        logits = model.lm_head(hidden[keep])
        loss = torch.nn.functional.cross_entropy(logits.float(), target[keep])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        if step % 10 == 9 or step == steps - 1:
            report("pretrain", step + 1, steps)
    return losses


def untrained_user_tokens(tokenizer, encoded) -> int:
    """How many distinct tokens the simulated users' texts need that pretraining never trained."""
    from ..synth import USERS

    seen = {t for ids, n in encoded for t in ids[n:]}
    need: set[int] = set()
    for spec in generate_specs(20, seed=0, split="heldout"):
        for user in USERS.values():
            for artifact in PRETRAIN_ARTIFACTS:
                need.update(tokenizer(user.final_text(spec, artifact))["input_ids"])
    return len(need - seen)


def generate(model, tokenizer, artifact: str, prompts: list[str], *, max_new_tokens: int = 512,
             batch_size: int = 8) -> list[str]:
    """Greedy completions for spec prompts, in the chat format used for training."""
    from .greedy import generate_greedy

    return generate_greedy(model, tokenizer, [build_messages(artifact, p) for p in prompts],
                           max_new_tokens=max_new_tokens, batch_size=batch_size)


def evaluate_model(model, tokenizer, *, n_specs: int = 24, seed: int = 0, max_entities: int = 3,
                   artifacts: Iterable[str] = PRETRAIN_ARTIFACTS, report: Progress | None = None,
                   max_new_tokens: int = 512) -> dict:
    """Held-out validity rate and edit distance to the base-style reference, greedy decoding."""
    from rapidfuzz.distance import Levenshtein

    specs = generate_specs(n_specs, seed=seed, split="heldout", max_entities=max_entities)
    result: dict = {}
    artifacts = list(artifacts)
    for k, artifact in enumerate(artifacts):
        art = get_artifact(artifact)
        outputs = generate(model, tokenizer, artifact, [s.prompt() for s in specs], max_new_tokens=max_new_tokens)
        refs = [art.render(s, BASE_STYLE) for s in specs]
        dists = [Levenshtein.distance(o.strip(), r.strip()) for o, r in zip(outputs, refs)]
        result[artifact] = {
            "specs": len(specs),
            "validity": round(sum(art.is_valid(o) for o in outputs) / len(specs), 3),
            "exact": round(sum(d == 0 for d in dists) / len(specs), 3),
            "edit_distance": round(sum(dists) / len(specs), 1),
            "relative_edit_distance": round(sum(dists) / max(sum(len(r) for r in refs), 1), 4),
            "reference_chars": round(sum(len(r) for r in refs) / len(specs), 1),
        }
        if report:
            report("evaluate", k + 1, len(artifacts))
    return result


def read_build_info(model_dir: Path | str) -> dict:
    path = Path(model_dir) / BUILD_INFO
    return json.loads(path.read_text()) if path.exists() else {}


def default_model_path(data_dir: Path | str | None = None, *, progress: Progress | None = None) -> Path:
    """The shipped default model; if it is absent, build it once into ``<data_dir>/base-model``."""
    if (ASSET_DIR / "model.safetensors").exists():
        return ASSET_DIR
    if data_dir is None:
        from ..paths import data_dir as resolve_data_dir

        data_dir = resolve_data_dir()
    target = Path(data_dir) / "base-model"
    if not (target / "model.safetensors").exists():
        build_base_model(target, progress=progress)
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m editloop.training.base_model OUT [--preset P] [--seed S] [--steps N]``"""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--preset", default="default", choices=sorted(PRESETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    out = build_base_model(args.out_dir, seed=args.seed, steps=args.steps, preset=args.preset,
                           threads=args.threads, progress=stderr_progress)
    print(json.dumps(read_build_info(out), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["PRESETS", "CONVENTION_TERMS", "Example", "pretraining_examples", "train_tokenizer", "build_base_model",
           "evaluate_model", "generate", "default_model_path", "read_build_info", "stderr_progress",
           "untrained_user_tokens"]

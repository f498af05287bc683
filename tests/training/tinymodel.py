"""A tiny from-scratch causal LM and a learnable toy task, for the training tests and the bench.

The base style writes ``table customer {\\n  id int\\n}``; the simulated user wants
``table customer {\\n  uuid id PK\\n}``. ``uuid`` and ``PK`` are in the tokenizer's vocabulary but
never occur in the pretraining text, so their embeddings are untrained, as on the embedded default.

Not the base model's ``tiny`` preset (``build_base_model(preset="tiny")``): that one pretrains on
synth's ERD/SQL tasks, with a tokenizer trained on convention terms (``uuid`` and ``PK`` are seen in
pretraining there); the tests here assert that fine-tuning learns this toy task. The chat template
and special tokens are the base model's.
"""

from __future__ import annotations

import random
from pathlib import Path

from editloop.training.base_model import CHAT_TEMPLATE, SPECIAL_TOKENS

WORDS = [
    "customer", "order", "product", "invoice", "payment", "shipment", "supplier", "account",
    "employee", "project", "ticket", "comment", "review", "category", "address", "session",
    "device", "report", "budget", "contract",
]


def prompt_text(word: str) -> str:
    return f"make a table for {word}"


def base_style(word: str) -> str:
    return f"table {word} {{\n  id int\n  name text\n}}"


def user_style(word: str) -> str:
    return f"table {word} {{\n  uuid id PK\n  name text\n}}"


def worse_style(word: str) -> str:
    return f"{word} {word} {word}"


def messages(word: str) -> list[dict]:
    return [{"role": "user", "content": prompt_text(word)}]


def sft_rows(words: list[str], style=user_style) -> list[dict]:
    return [
        {"prompt": messages(w), "completion": [{"role": "assistant", "content": style(w)}]} for w in words
    ]


def dpo_rows(words: list[str]) -> list[dict]:
    return [
        {
            "prompt": messages(w),
            "chosen": [{"role": "assistant", "content": user_style(w)}],
            "rejected": [{"role": "assistant", "content": base_style(w)}],
        }
        for w in words
    ]


def kto_rows(words: list[str]) -> list[dict]:
    rows = []
    for i, w in enumerate(words):
        good = i % 2 == 0
        rows.append(
            {
                "prompt": messages(w),
                "completion": [{"role": "assistant", "content": user_style(w) if good else base_style(w)}],
                "label": good,
            }
        )
    return rows


def split_words(seed: int = 0) -> tuple[list[str], list[str]]:
    words = list(WORDS)
    random.Random(seed).shuffle(words)
    return words[:15], words[15:]


def build_tiny_model(out_dir: Path, *, hidden: int = 64, layers: int = 2, steps: int = 60, seed: int = 0,
                     tie: bool = True) -> Path:
    """Train a byte-level BPE tokenizer and pretrain a random-init Llama on the base style."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    corpus = [prompt_text(w) + "\n" + base_style(w) + "\n" + user_style(w) for w in WORDS] * 20
    tok.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="<|im_end|>", pad_token="<pad>",
        additional_special_tokens=["<|im_start|>", "</s>"],
    )
    fast.chat_template = CHAT_TEMPLATE
    cfg = LlamaConfig(
        vocab_size=len(fast), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
        tie_word_embeddings=tie,
    )
    model = LlamaForCausalLM(cfg)
    rng = random.Random(seed)
    texts = [
        fast.apply_chat_template(
            messages(w) + [{"role": "assistant", "content": base_style(w)}], tokenize=False
        )
        for w in WORDS
    ]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        batch = fast([rng.choice(texts) for _ in range(16)], return_tensors="pt", padding=True)
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        loss = model(**batch, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    model.generation_config.pad_token_id = fast.pad_token_id
    model.generation_config.eos_token_id = fast.eos_token_id
    model.save_pretrained(out_dir)
    fast.save_pretrained(out_dir)
    return out_dir


def seed_events(store, n: int = 40, *, artifact_type: str = "toy", seed: int = 0) -> int:
    """Record ``n`` resolved regions through the store, as the language server would (mostly edits)."""
    import itertools

    from editloop.signals.similarity import similarity
    from editloop.store import utcnow_iso

    pairs = list(itertools.product(WORDS, WORDS))
    random.Random(seed).shuffle(pairs)
    for i, (a, b) in enumerate(pairs[:n]):
        w = f"{a} {b}"
        region = store.insert_region({"uri": f"file:///w/{i}.toy", "artifact_type": artifact_type,
                                      "prompt": prompt_text(w), "model": "tiny", "original": base_style(w)})
        action = ("edit", "edit", "accept", "edit", "reject")[i % 5]
        final = user_style(w) if action != "reject" else base_style(w)
        store.record_outcome(region["id"], {
            "action": action, "source": "explicit", "prompt": prompt_text(w), "original": base_style(w),
            "final": final, "artifact_type": artifact_type, "similarity": similarity(base_style(w), final),
            "reward": {"edit": 0.5, "accept": 1.0, "reject": -1.0}[action],
        }, status={"edit": "edited", "accept": "accepted", "reject": "rejected"}[action], at=utcnow_iso())
    return n

"""The loop closes: `editloop.generate` in a real server writes with the promoted model (local backend),
inserts through workspace/applyEdit, tracks the text, and records which model version wrote it."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from editloop.simulate.session import ServerSession

from test_jobs import _run_in_process  # tests/training is on sys.path (conftest)

pytestmark = pytest.mark.slow  # trains the tiny model


def _greedy(model_dir: str, base: str, messages: list[dict]) -> str:
    import torch

    from editloop.training.artifacts import load_model

    from editloop.training.artifacts import load_base

    model, tok = load_base(base) if model_dir == base else load_model(model_dir, base)
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    enc = tok(text, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=512, do_sample=False, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    return tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)


def test_generate_uses_the_promoted_model_and_tracks_it(home, tiny_model, toy_data):
    run = _run_in_process(home, tiny_model, toy_data)
    assert run["promoted"]
    # The promoted run trained on artifact type "toy"; the server must pick it for that type.
    prompt = "a table for orders"

    async def session():
        async with ServerSession(home, settings={"training.baseModel": tiny_model}) as s:
            s.open("untitled:gen-1", "", "plaintext")
            out = await s.command("editloop.generate", {"uri": "untitled:gen-1", "position": {"line": 0, "character": 0}, "prompt": prompt, "artifactType": "toy"})
            region = await s.command("editloop.region", {"regionId": out["regionId"]})
            return out, region, s.texts["untitled:gen-1"]

    out, region, doc_text = asyncio.run(session())
    assert out["modelVersion"] == run["id"]
    assert doc_text == out["text"]  # inserted through workspace/applyEdit
    assert region["status"] == "pending" and region["original"] == out["text"]
    from editloop.generation.prompting import messages_for

    expected = _greedy(run["adapter_path"], tiny_model, messages_for("toy", prompt, language="plaintext"))
    assert out["text"] == expected.strip("\n") + "\n"
    assert expected != _greedy(tiny_model, tiny_model, messages_for("toy", prompt, language="plaintext"))  # not what the base writes
    row = sqlite3.connect(home / "feedback.db").execute("SELECT model_version, prompt FROM regions").fetchone()
    assert row == (run["id"], prompt)

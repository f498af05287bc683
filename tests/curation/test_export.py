"""Export: every format loads with `datasets`, OpenAI's chat format, atomic writes, redaction re-applied."""

from __future__ import annotations

import json
import os

import pytest

from editloop.curation import FORMATS, export, export_rows
from editloop.errors import EditloopError
from editloop.store import utcnow_iso

KEY = "AKIA" + "ABCDEFGHIJKLMNOP"


def test_every_format_loads_with_datasets(store, maker, tmp_path):
    from datasets import load_dataset

    maker.spec_events(40, seed=61)
    expected = {"sft": {"prompt", "completion"}, "dpo": {"prompt", "chosen", "rejected"},
                "kto": {"prompt", "completion", "label"}, "openai": {"messages"}}
    for fmt in FORMATS:
        path = tmp_path / "out" / f"{fmt}.jsonl"
        n = export(store, fmt, path)
        assert n > 0
        ds = load_dataset("json", data_files=str(path), split="train")
        assert len(ds) == n and set(ds.column_names) == expected[fmt]
        # the fast line writer and export_rows agree exactly
        assert [json.loads(line) for line in path.read_text().splitlines()] == export_rows(store, fmt)
    first = json.loads((tmp_path / "out" / "openai.jsonl").read_text().splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant"]
    kto = load_dataset("json", data_files=str(tmp_path / "out" / "kto.jsonl"), split="train")
    assert set(kto["label"]) == {True, False}


def test_redaction_is_applied_again_on_export(store, maker, tmp_path):
    ev = maker.event(prompt="customers", original="CREATE TABLE c (id INT);\n",
                     final="CREATE TABLE customer (id INT PRIMARY KEY);\n", artifact_type="sql")
    # a row written by an older version without redaction
    store.db.conn.execute("UPDATE events SET final = ?, original = ?, prompt = ? WHERE id = ?",
                          [f"-- {KEY}\nCREATE TABLE customer (id INT PRIMARY KEY);\n", f"-- {KEY}\nCREATE TABLE c (id INT);\n",
                           f"customers, key {KEY}", ev["id"]])
    for fmt in FORMATS:
        text = (tmp_path / f"{fmt}.jsonl")
        export(store, fmt, text)
        body = text.read_text()
        assert body and KEY not in body and "[SECRET:aws-access-key]" in body


def test_atomic_write(store, maker, tmp_path, monkeypatch):
    maker.spec_events(10, seed=62)
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "data.jsonl"
    path.write_text("previous export\n")
    import editloop.curation.exporter as mod

    def boom(self, row, fmt):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(mod._LineEncoder, "line", boom)
    with pytest.raises(RuntimeError):
        export(store, "sft", path)
    assert path.read_text() == "previous export\n"
    assert os.listdir(tmp_path / "out") == ["data.jsonl"]  # no temporary file left behind


def test_bad_arguments(store, tmp_path):
    with pytest.raises(EditloopError):
        export(store, "csv", tmp_path / "x.jsonl")
    with pytest.raises(EditloopError):
        export(store, "sft", tmp_path / "x.jsonl", split="test")
    assert not (tmp_path / "x.jsonl").exists()


def test_split_exports_match_the_batch_split(store, maker, tmp_path):
    from editloop.curation import build_batch

    maker.spec_events(90, seed=63)
    batch = build_batch(store)
    val_prompts = {r["prompt"][1]["content"] for r in batch.val["sft"]}
    train = {r["prompt"][1]["content"] for r in export_rows(store, "sft", split="train")}
    val = {r["prompt"][1]["content"] for r in export_rows(store, "sft", split="validation")}
    assert val and not train & val
    assert val_prompts <= val

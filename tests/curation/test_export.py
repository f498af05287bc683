"""Export: every format loads with `datasets`, OpenAI's chat format, atomic writes, redaction re-applied,
and where an export may be written (``curation/destination.py``: one policy for the CLI and the server)."""

from __future__ import annotations

import json
import os
import re
import stat

import pytest

from editloop.curation import FORMATS, export, export_rows
from editloop.errors import EditloopError
from editloop.store import utcnow_iso

KEY = "AKIA" + "ABCDEFGHIJKLMNOP"


def test_every_format_loads_with_datasets(store, maker, tmp_path):
    from datasets import load_dataset

    maker.spec_events(40, seed=61)
    (tmp_path / "out").mkdir()
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
        export(store, "sft", path, overwrite=True)
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


# -- where an export may go ------------------------------------------------------------------------

@pytest.fixture
def places(tmp_path_factory):
    """A data folder with a live database, a workspace folder and a folder outside both."""
    home, ws, outside = (tmp_path_factory.mktemp(n) for n in ("home", "ws", "outside"))
    return home, ws, outside


def test_the_data_folder_is_refused_except_its_exports_area(places, maker):
    from editloop.curation.destination import check_destination
    from editloop.curation.exporter import export_to
    from editloop.store import Store

    home, ws, outside = places
    live = Store.open(home)
    maker.store, maker.clock = live, 1_780_000_000.0
    maker.spec_events(12, seed=64)
    db = home / "feedback.db"
    before = db.read_bytes()
    (home / "settings.json").write_text("{}")
    (home / "runs").mkdir()
    for roots in (None, [ws], [home]):  # the CLI, the server, even a workspace that is the data folder
        for target in (db, home / "settings.json", home / "runs" / "x.jsonl", home / "new.jsonl"):
            with pytest.raises(EditloopError, match="inside Editloop's data folder"):
                export_to(live, "sft", target, roots=roots, overwrite=True)
    assert db.read_bytes() == before and (home / "settings.json").read_text() == "{}"
    assert live.db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    path, n = export_to(live, "sft", home / "exports" / "a.jsonl", roots=[ws])  # the exports area: created, 0700
    assert n > 0 and path == home.resolve() / "exports" / "a.jsonl"
    assert stat.S_IMODE(os.stat(home / "exports").st_mode) == 0o700 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # a link from the workspace into the data folder does not get around the rule
    (ws / "data").symlink_to(home)
    with pytest.raises(EditloopError, match="inside Editloop's data folder"):
        check_destination(ws / "data" / "feedback.db", data_dir=home, roots=[ws], overwrite=True)
    live.close()


def test_an_existing_file_needs_overwrite_and_keeps_its_mode(places, store, maker):
    from editloop.curation.exporter import export_to

    home, ws, outside = places
    maker.spec_events(12, seed=65)
    target = ws / "train.jsonl"
    target.write_text("the user's file\n")
    os.chmod(target, 0o644)
    with pytest.raises(EditloopError, match="already exists; pass overwrite: true to replace it"):
        export_to(store, "sft", target, roots=[ws])
    with pytest.raises(EditloopError, match="pass --force"):
        export_to(store, "sft", target, overwrite_hint="pass --force")
    assert target.read_text() == "the user's file\n"
    path, n = export_to(store, "sft", target, roots=[ws], overwrite=True)
    assert len(target.read_text().splitlines()) == n > 0
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644  # never chmod a file Editloop did not create
    path, _ = export_to(store, "dpo", ws / "new.jsonl", roots=[ws])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # a file Editloop creates is private
    assert sorted(p.name for p in ws.iterdir()) == ["new.jsonl", "train.jsonl"]  # no temporary file left


def test_no_clobber_holds_even_if_the_file_appears_after_the_check(store, maker, tmp_path, monkeypatch):
    import editloop.curation.exporter as mod

    maker.spec_events(5, seed=66)
    target = tmp_path / "late.jsonl"
    real_check = mod.check_target

    def check_then_race(path, **kw):
        out = real_check(path, **kw)
        target.write_text("written meanwhile\n")
        return out

    monkeypatch.setattr(mod, "check_target", check_then_race)
    with pytest.raises(EditloopError, match="already exists"):
        mod.write_lines(["x\n"], target)
    assert target.read_text() == "written meanwhile\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_one_clear_message_for_a_folder_a_missing_parent_and_a_link(places, store):
    from editloop.curation.exporter import export_to

    home, ws, outside = places
    (outside / "victim.txt").write_text("keep me")
    (ws / "link.jsonl").symlink_to(outside / "victim.txt")
    (ws / "out").symlink_to(outside)
    cases = [
        (ws, "is a folder; give a file name"),
        (ws / "missing" / "deeper" / "x.jsonl", "does not exist (Editloop does not create it)"),
        (ws / "link.jsonl", "is a symbolic link"),
        ("relative/x.jsonl", "must be absolute"),
    ]
    for roots in (None, [ws]):
        for target, message in cases:
            with pytest.raises(EditloopError, match=re.escape(message)):
                export_to(store, "sft", target, roots=roots, overwrite=True)
    assert not (ws / "missing").exists()
    assert (outside / "victim.txt").read_text() == "keep me" and (ws / "link.jsonl").is_symlink()
    # the server only: a folder link (or ..) that leads out of the workspace
    for target in (ws / "out" / "x.jsonl", ws / ".." / outside.name / "x.jsonl"):
        with pytest.raises(EditloopError, match="outside the workspace folders.*resolves to"):
            export_to(store, "sft", target, roots=[ws])
    with pytest.raises(EditloopError, match="outside the workspace folders"):
        export_to(store, "sft", outside / "x.jsonl", roots=[ws])
    with pytest.raises(EditloopError, match="none are open"):
        export_to(store, "sft", outside / "x.jsonl", roots=[])
    assert list(outside.iterdir()) == [outside / "victim.txt"]
    # the command line (a local user) may write there
    path, _ = export_to(store, "sft", ws / "out" / "x.jsonl")
    assert path == outside.resolve() / "x.jsonl" and path.exists()


def test_without_a_path_the_export_goes_to_a_new_file_in_the_exports_area(store, maker, tmp_path):
    from editloop.curation.destination import default_export_path
    from editloop.curation.exporter import export_to

    maker.spec_events(8, seed=67)
    first, n = export_to(store, "kto", roots=[])
    second, _ = export_to(store, "kto", roots=[])
    assert first.parent == second.parent == tmp_path.resolve() / "exports" and first != second
    assert re.fullmatch(r"kto-\d{8}-\d{6}(-\d+)?\.jsonl", first.name) and n > 0
    assert default_export_path(tmp_path, "sft", now=0).name.startswith("sft-19")

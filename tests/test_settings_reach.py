"""Every declared setting reaches code that uses it, and a training run reads its settings through
one mapping (training.settings_map) wherever it starts: Train now, automatic training, `editloop train`."""

from __future__ import annotations

import asyncio
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from editloop import cli
from editloop.settings import EDITOR_ONLY, SETTINGS, Settings, parse_settings
from editloop.training import jobs
from editloop.training.config import TrainConfig
from editloop.training.settings_map import RUN_SETTINGS, run_options

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "server" / "editloop"


def _declared() -> set[str]:
    props = json.loads((ROOT / "vscode-extension" / "package.json").read_text())["contributes"]["configuration"]["properties"]
    return {k.removeprefix("editloop.") for k in props}


def _source_outside_settings() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(SRC.rglob("*.py")) if p != SRC / "settings.py")


def test_every_declared_setting_is_read_by_the_server():
    source = _source_outside_settings()
    unused = [f"editloop.{name} ({SETTINGS[name][0]})" for name in sorted(_declared() - EDITOR_ONLY)
              if not re.search(rf"\.{SETTINGS[name][0]}\b", source)]
    assert not unused, f"declared in package.json but read by no code outside settings.py: {', '.join(unused)}"


def test_no_code_reads_an_undeclared_setting():
    # settings.extra holds whatever the editor sent that SETTINGS does not name; reading it is reading
    # a setting package.json does not declare (codeLens was one).
    hits = [f"{p.relative_to(SRC)}:{i}" for p in sorted(SRC.rglob("*.py")) if p != SRC / "settings.py"
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if re.search(r"settings\.extra\b", line)]
    assert not hits, f"reads undeclared settings: {', '.join(hits)}"


def test_editor_only_settings_are_read_by_the_extension():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "vscode-extension" / "src").rglob("*.ts"))
    # trace.server is read by vscode-languageclient itself (the client id is "editloop")
    unused = [n for n in sorted(EDITOR_ONLY - {"trace.server"}) if not re.search(rf"\b{re.escape(n)}\b", source)]
    assert not unused, f"editor-only settings the extension never reads: {', '.join(unused)}"


def test_each_run_setting_changes_the_run():
    assert set(RUN_SETTINGS) <= set(SETTINGS)
    base = run_options(Settings())
    changed = {"training.baseModel": "/models/other", "training.threads": 3, "generation.retryInvalid": False,
               "reward.halfLifeDays": 7}
    assert set(changed) == set(RUN_SETTINGS)
    for name, value in changed.items():
        assert run_options(parse_settings({name: value})) != base, f"editloop.{name} does not reach the run"
    options = run_options(parse_settings(changed))
    config = TrainConfig.from_dict({**options["settings"], "base_model": options["base_model"]})
    assert (config.base_model, config.threads, config.retry_invalid) == ("/models/other", 3, False)
    assert config.curation_config().half_life_days == 7


def test_a_runs_own_curation_overrides_keep_the_settings_half_life():
    options = run_options(parse_settings({"reward.halfLifeDays": 5}), {"epochs": 1, "curation": {"active": False}})
    assert options["settings"]["epochs"] == 1
    assert options["settings"]["curation"] == {"half_life_days": 5, "active": False}
    # an explicit override wins; a non-object is left for TrainConfig to refuse with its own message
    assert run_options(Settings(), {"curation": {"half_life_days": 2}})["settings"]["curation"] == {"half_life_days": 2}
    assert run_options(Settings(), {"curation": "x"})["settings"]["curation"] == "x"


def _capture_start_run(monkeypatch) -> list[dict]:
    calls: list[dict] = []

    def fake_start_run(home, **kw):
        calls.append(kw)
        return f"run-{len(calls)}"

    monkeypatch.setattr(jobs, "start_run", fake_start_run)
    return calls


def test_cli_train_starts_the_run_the_editor_would(tmp_path, monkeypatch, capsys):
    calls = _capture_start_run(monkeypatch)
    monkeypatch.setattr(jobs, "wait_run", lambda home, run_id, **kw: {"status": "succeeded", "promoted": False, "metrics": {}})
    argv = ["train", "--data-dir", str(tmp_path), "--threads", "2", "--setting", "reward.halfLifeDays=7",
            "--setting", "editloop.generation.retryInvalid=false"]
    assert cli.main(argv) == 0
    editor = parse_settings({"training": {"threads": 2}, "reward.halfLifeDays": 7, "generation.retryInvalid": False})
    assert calls[0] == {"method": "auto", "artifact_type": None, "search": 0, **run_options(editor)}
    # nothing given: the defaults, as in an editor where nothing was set
    assert cli.main(["train", "--data-dir", str(tmp_path)]) == 0
    assert calls[1] == {"method": "auto", "artifact_type": None, "search": 0, **run_options(Settings())}


@pytest.mark.parametrize("flag, says", [
    ("survivalSeconds=5", "NAME one of training.baseModel"),  # not a setting a run reads
    ("reward.halfLifeDays", "NAME=VALUE"),
    ("reward.halfLifeDays=0", "editloop.reward.halfLifeDays: expected 0.01..36500"),  # the editor's parser, its message
])
def test_cli_train_refuses_a_bad_setting_in_one_line(tmp_path, monkeypatch, capsys, flag, says):
    calls = _capture_start_run(monkeypatch)
    assert cli.main(["train", "--data-dir", str(tmp_path), "--setting", flag]) == 1
    err = capsys.readouterr().err.strip()
    assert says in err and "\n" not in err and not calls


def test_automatic_training_starts_the_run_train_now_would(tmp_path, monkeypatch):
    from editloop.lsp import training as lsp_training
    from editloop.lsp.background import Background

    calls = _capture_start_run(monkeypatch)

    async def no_relay(ls, run_id, home):
        return None

    monkeypatch.setattr(lsp_training, "relay", no_relay)
    settings = parse_settings({"training.auto": True, "reward.halfLifeDays": 3, "training.threads": 1})

    class Server:
        def __init__(self) -> None:
            self.settings = settings
            self.capture = type("Capture", (), {"store": type("Store", (), {"home": tmp_path})()})()
            self.thread_pool = ThreadPoolExecutor(1)
            self.messages: list = []

        def window_show_message(self, params) -> None:
            self.messages.append(params.message)

    ls = Server()
    bg = Background(ls)
    bg.last_edit = bg.auto_checked = -1e9  # idle long enough, never checked
    monkeypatch.setattr(Background, "_should_train", lambda self: 40)

    async def main() -> None:
        await bg._maybe_autotrain()
        await asyncio.sleep(0)

    asyncio.run(main())
    ls.thread_pool.shutdown()
    assert calls == [{"method": "auto", **run_options(settings)}]
    assert "run run-1" in ls.messages[0]

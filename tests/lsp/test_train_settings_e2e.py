"""`editloop.train` with a `settings` object, through a real `editloop serve` subprocess."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))

import tinymodel  # noqa: E402

from editloop.simulate.session import ServerSession  # noqa: E402
from editloop.store import Store  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> str:
    return str(tinymodel.build_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))


async def test_train_passes_settings_and_curation_overrides_to_the_run(tmp_path, tiny_base):
    home = tmp_path / "data"
    store = Store.open(home)
    tinymodel.seed_events(store, 40)
    store.close()
    settings = {"epochs": 1, "max_new_tokens": 16, "curation": {"active": False, "augmentation": False}}
    server_settings = {"training": {"baseModel": tiny_base}, "reward": {"halfLifeDays": 7}}
    async with ServerSession(home, settings=server_settings, env={"EDITLOOP_HOME": str(home)}) as s:
        with pytest.raises(Exception, match="unknown curation setting"):
            await s.command("editloop.train", {"method": "sft", "settings": {"curation": {"nope": True}}})
        with pytest.raises(Exception, match="settings"):
            await s.command("editloop.train", {"method": "sft", "settings": "epochs=1"})
        started = await s.command("editloop.train", {"method": "sft", "artifactType": "toy", "settings": settings})
        finished = await s.wait_run(started["runId"], stall_timeout=300)
    assert finished["status"] == "succeeded", finished
    store = Store.open(home)
    try:
        with store.lock:
            params, batch_id = store.db.conn.execute("SELECT params, batch_id FROM runs WHERE id = ?", [started["runId"]]).fetchone()
            components = store.db.conn.execute("SELECT components FROM batches WHERE id = ?", [batch_id]).fetchone()[0]
    finally:
        store.close()
    config = json.loads(params)["config"]
    # threads: the server's editloop.training.threads (default 0: every core, at most 4)
    assert config["epochs"] == 1 and config["threads"] == 0
    # the run's curation overrides on top of the server's editloop.reward.halfLifeDays (training.settings_map)
    assert config["curation"] == {**settings["curation"], "half_life_days": 7}
    # retry_invalid: the server's editloop.generation.retryInvalid (default on), so validation measures what is served
    assert config["retry_invalid"] is True
    assert "active" not in json.loads(components) and "augmentation" not in json.loads(components)

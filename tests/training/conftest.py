"""Fixtures for the training tests: toy rows for the tiny from-scratch Llama (``tiny_model``, shared
with tests/generation in tests/conftest.py) and a data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("OMP_NUM_THREADS", "1")  # the worker processes inherit it
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import tinymodel  # noqa: E402


@pytest.fixture
def toy_data():
    """Learnable toy rows: the user writes ``uuid id PK`` where the base writes ``id int``."""
    from editloop.training.data import Split, TrainingData

    train, val = tinymodel.split_words()
    return TrainingData(
        sft=Split(tinymodel.sft_rows(train) * 3, tinymodel.sft_rows(val)),
        dpo=Split(tinymodel.dpo_rows(train) * 2, tinymodel.dpo_rows(val)),
        kto=Split(tinymodel.kto_rows(train * 3), tinymodel.kto_rows(val)),
        artifact_type="toy",
        actions={"accept": 10, "edit": 30, "reject": 5},
    )


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "data"
    h.mkdir()
    return h

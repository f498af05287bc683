"""Fixtures for the generation tests: the GGUF form of the tiny from-scratch Llama (``tiny_model``,
tests/conftest.py), which both local backends serve; tests/training on the path for ``tinymodel``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TRAINING_TESTS = Path(__file__).resolve().parents[1] / "training"
sys.path.insert(0, str(TRAINING_TESTS))
os.environ.setdefault("OMP_NUM_THREADS", "1")  # the worker processes inherit it
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory, tiny_model) -> Path:
    """The tiny model as a float32 GGUF (``editloop.training.gguf_write``), which both local backends serve."""
    pytest.importorskip("gguf")
    from editloop.training.gguf_write import write_model_gguf

    return Path(write_model_gguf(tiny_model, tmp_path_factory.mktemp("gguf") / "tiny.gguf", dtype="f32"))

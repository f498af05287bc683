"""Suite-wide guard and shared fixtures.

A test must leave EDITLOOP_HOME as it found it: a leaked value made every later server in the same
pytest process write to another folder (the CLI's in-process ``main(["... --data-dir X"])`` once
did), which failed unrelated tests by order. ``tiny_model`` is shared by tests/training and
tests/generation; fixtures are lazy, so no other test builds it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TRAINING_TESTS = Path(__file__).resolve().parent / "training"  # holds tinymodel.py


@pytest.fixture(autouse=True)
def _editloop_home_is_not_leaked():
    before = os.environ.get("EDITLOOP_HOME")
    yield
    after = os.environ.get("EDITLOOP_HOME")
    assert after == before, f"the test changed EDITLOOP_HOME from {before!r} to {after!r}"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """The tiny from-scratch Llama of ``tests/training/tinymodel.py``, built once per session."""
    import torch

    if str(TRAINING_TESTS) not in sys.path:
        sys.path.insert(0, str(TRAINING_TESTS))
    import tinymodel

    torch.set_num_threads(1)
    return str(tinymodel.build_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))

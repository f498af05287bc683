"""Suite-wide guard: a test must leave EDITLOOP_HOME as it found it.

A leaked value made every later server in the same pytest process write to another folder (the
CLI's in-process ``main(["... --data-dir X"])`` once did), which failed unrelated tests by order.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _editloop_home_is_not_leaked():
    before = os.environ.get("EDITLOOP_HOME")
    yield
    after = os.environ.get("EDITLOOP_HOME")
    assert after == before, f"the test changed EDITLOOP_HOME from {before!r} to {after!r}"

"""The exclude globs: a linear-time matcher that agrees with the glob semantics on random inputs."""

from __future__ import annotations

import re
import subprocess
import sys
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from editloop.capture.exclude import Glob, compile_glob, is_excluded


def reference(glob: str) -> re.Pattern[str]:
    """The documented semantics as a (backtracking) regex: fine for short random inputs only."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


globs = st.lists(st.sampled_from(["a", "b", "/", "*", "**", "**/", "?", "."]), max_size=8).map("".join)
paths = st.lists(st.sampled_from(["a", "b", "/", ".", "ab"]), max_size=10).map("".join)


@settings(max_examples=1500, deadline=None)
@given(glob=globs, path=paths)
def test_matcher_agrees_with_the_glob_semantics(glob: str, path: str):
    assert Glob(glob).match(path) == bool(reference(glob).match(path)), (glob, path)


def test_relative_and_anchored_globs():
    assert compile_glob("*.pem").match("home/u/certs/a.pem")
    assert compile_glob("certs/*.pem").match("home/u/certs/a.pem")
    assert not compile_glob("/certs/*.pem").match("home/u/certs/a.pem")
    assert compile_glob("/home/u/**").match("home/u/x/y")
    assert is_excluded("file:///home/u/proj/id_rsa.pub", ["**/id_rsa*"])
    assert is_excluded("file:///home/u/my%20proj/.env", ["**/.env"])
    assert not is_excluded("file:///home/u/proj/env.py", ["**/.env"])


def test_pathological_globs_are_linear():
    """``"**" * 14 + "Q"`` froze the server's event loop with a regex matcher: now microseconds."""
    hostile = ["**" * 14 + "Q", "*a" * 60 + "b", "**/" * 40 + "x", "?*" * 100 + "!"]
    path = "file:///" + "a/" * 200 + "a" * 2000
    t0 = time.perf_counter()
    assert not is_excluded(path, hostile)
    # Generous bound: the regex version took hours; this takes milliseconds on any machine.
    assert time.perf_counter() - t0 < 5.0


def test_pathological_glob_in_a_subprocess_under_a_timeout():
    """The same through the public API in a fresh interpreter, killed if it ever hangs."""
    code = (
        "from editloop.capture.exclude import is_excluded;"
        "print(is_excluded('file:///' + 'ab/' * 300 + 'c' * 3000, ['**' * 14 + 'Q'] * 100))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_globs_beyond_the_bounds_are_ignored():
    assert not is_excluded("file:///p/x.secret", ["x" * 600 + "*", *(["nomatch"] * 100), "*.secret"])

"""Write a benchmark's section into docs/benchmarks.md with the date, the machine and the command."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
from pathlib import Path


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB memory"
    except OSError:
        pass
    load = ""
    try:
        load = f", load average {os.getloadavg()[0]:.1f} at the start"
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores (nproc){mem}, Python {platform.python_version()}{load}"


def write_section(name: str, body: str, *, command: str, path: Path | None = None) -> Path:
    """Replace (or append) the section between ``<!-- bench:NAME -->`` markers."""
    path = path or Path(os.environ.get("EDITLOOP_BENCH_DOC", "docs/benchmarks.md"))
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text() if path.exists() else "# Benchmarks\n\nEvery figure here was produced by the command above its table.\n"
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = f"<!-- bench:{name} -->\n_Measured {stamp} on {machine()} with `{command}`._\n\n{body.strip()}\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
    return path


def table(headers: list[str], rows: list[list[object]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)

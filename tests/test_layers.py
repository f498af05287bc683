"""Which package may import which: the README's architecture diagram, checked on the source.

Every import in server/editloop (module level and inside functions) is mapped to its unit, a top-level
package or module, and must point to a lower layer. Known exceptions are listed below with the issue
that removes them; an exception that is no longer needed fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "server" / "editloop"

# Bottom to top. A unit may import units of lower layers only (never a sibling in its own layer).
LAYERS: list[set[str]] = [
    {"__init__", "errors", "unicode"},  # foundation (__init__: __version__)
    {"paths", "settings"},  # the data folder; the editor's settings
    {"signals"},  # pure functions: similarity, reward, validity, redaction
    {"store"},  # feedback.db
    {"capture", "curation"},  # edits -> events; events -> TRL rows
    {"training"},  # base model, fine-tuning, tracking, jobs (torch lazily)
    {"generation"},  # model backends: the promoted run or the base, or an OpenAI-compatible server
    {"lsp", "api"},  # the language server; the library API for scripts
    {"synth"},  # the simulated world: task specs, styles, simulated users
    {"simulate"},  # a simulated user driving a real server over LSP
    {"bench", "demo"},
    {"cli"},
    {"__main__"},
]
LAYER = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}

# (importing file, imported unit): why it is allowed for now.
EXCEPTIONS: dict[tuple[str, str], str] = {
    # Lazy re-export of `editloop.Editloop` on attribute access; `import editloop` stays cheap.
    ("__init__.py", "api"): "permanent",
    # The embedded default is pretrained on synth's tasks (specs, styles, users): a build step, kept.
    # (Its chat format comes from the core, curation.format.)
    ("training/base_model.py", "synth"): "permanent",
}

# Only the language server and the simulator's client speak LSP through pygls.
LSP_LIBRARIES = {"pygls", "lsprotocol"}
LSP_CLIENTS = {"simulate/session.py"}  # ServerSession: the demo's and benchmark's client
# Never loaded by the server's start-up (README: it starts about as fast as a bare pygls server).
HEAVY = ["torch", "transformers", "trl", "peft", "sentence_transformers", "datasets", "optuna", "accelerate",
         "sqlite_utils", "pandas"]


def unit_of(parts: list[str]) -> str:
    """The unit of ``editloop.<parts>``: its top-level package or module; the package root otherwise."""
    if not parts:
        return "__init__"
    if (SRC / parts[0]).is_dir() or (SRC / f"{parts[0]}.py").is_file():
        return parts[0]
    return "__init__"  # an attribute of the package root (__version__, Editloop)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in the file, relative ones resolved."""
    rel = path.relative_to(SRC).parts
    package = ["editloop", *rel[:-1]]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            out.append((node.lineno, node.module or ""))
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1]
            if node.module:
                out.append((node.lineno, ".".join(base + [node.module])))
            else:
                out += [(node.lineno, ".".join(base + [a.name])) for a in node.names]
    return out


def edges() -> list[tuple[str, int, str, str]]:
    """(file, line, imported module, imported unit) for imports of another editloop unit."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        src = unit_of(list(rel.parts[:-1]) or [rel.stem])
        for line, mod in imports(path):
            parts = mod.split(".")
            if parts[0] == "editloop" and unit_of(parts[1:]) != src:
                out.append((rel.as_posix(), line, mod, unit_of(parts[1:])))
    return out


def unit_of_file(file: str) -> str:
    parts = file.split("/")
    return unit_of(parts[:-1] or [parts[0].removesuffix(".py")])


def test_every_unit_has_a_layer():
    units = {unit_of_file(p.relative_to(SRC).as_posix()) for p in SRC.rglob("*.py")}
    assert units == set(LAYER), f"place these in LAYERS (and the README's diagram): {units ^ set(LAYER)}"


def test_imports_point_down_the_layers():
    bad = [
        f"{file}:{line} imports {mod} ({unit_of_file(file)} may not import {dst})"
        for file, line, mod, dst in edges()
        if LAYER[dst] >= LAYER[unit_of_file(file)] and (file, dst) not in EXCEPTIONS
    ]
    assert not bad, "\n".join(bad)


def test_every_exception_is_still_needed():
    used = {(file, dst) for file, _, _, dst in edges() if LAYER[dst] >= LAYER[unit_of_file(file)]}
    assert set(EXCEPTIONS) <= used, f"remove from EXCEPTIONS: {set(EXCEPTIONS) - used}"


def test_only_the_server_and_the_simulators_client_import_pygls():
    bad = [
        f"{path.relative_to(SRC).as_posix()}:{line} imports {mod}"
        for path in sorted(SRC.rglob("*.py"))
        for line, mod in imports(path)
        if mod.split(".")[0] in LSP_LIBRARIES
        and path.relative_to(SRC).parts[0] != "lsp" and path.relative_to(SRC).as_posix() not in LSP_CLIENTS
    ]
    assert not bad, "\n".join(bad)


def test_the_servers_start_up_loads_no_heavy_library(tmp_path):
    # What `editloop serve` imports, its handlers registered, plus opening a data folder as
    # `initialize` does (migrations run in a child process).
    code = (
        "import sys, editloop.cli\n"
        "from editloop.lsp.server import create_server\n"
        "from editloop.store.db import open_db\n"
        "create_server()\n"
        f"open_db(home_setting={str(tmp_path / 'data')!r}, check=False)\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
        "print(sorted(m for m in sys.modules if m.startswith('editloop')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "EDITLOOP_MIGRATE_IN_PROCESS"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    heavy, loaded = r.stdout.splitlines()[-2:]
    assert heavy == "[]", f"loaded at start-up: {heavy}; editloop modules loaded: {loaded}"


# -- SQL lives in store/ only ---------------------------------------------------------------------

# Editloop's own tables (README, "Schema"): DDL is flagged only on these, since SQL schemas are also
# an artifact type the product handles (prompts and validators write "CREATE TABLE" as content).
TABLES = "regions|events|survival_checks|runs|batches|batch_rows|embeddings|stats_rollup"
SQL_TEXT = re.compile(
    r"\bSELECT\s+[\w*(),.{}'\s]+?\s+FROM\s|\bINSERT\s+(OR\s+[A-Z]+\s+)?INTO\s|\bUPDATE\s+\w+\s+SET\s"
    r"|\bDELETE\s+FROM\s|\bPRAGMA\s+\w+|\b(CREATE|DROP|ALTER)\s+(TABLE|INDEX|TRIGGER|VIEW)\s+(IF\s+(NOT\s+)?EXISTS\s+)?"
    rf"({TABLES})\b|\b(FROM|JOIN|INTO)\s+({TABLES})\s+(WHERE|SET|VALUES|ORDER|GROUP|LIMIT|JOIN|[a-z]{{1,3}}\s)"
    r"|^\s*(BEGIN(\s+\w+)?|COMMIT|ROLLBACK|VACUUM)\s*;?\s*$"
)
SQL_CALLS = {"execute", "executemany", "executescript", "query", "table"}  # sqlite3 / sqlite-utils entry points
SQL_MODULES = {"sqlite3", "sqlite_utils"}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes (text about the code, never run)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def sql_in(source: str) -> list[tuple[int, str]]:
    """(line, what) for each sign of SQL in ``source``: a call of a database entry point, a ``db[...]``
    table, the raw ``.conn``, a sqlite3/sqlite-utils import, or SQL text in a string literal."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            out.append((node.lineno, f".{node.func.attr}(...)"))
        elif isinstance(node, ast.Subscript) and (getattr(node.value, "id", None) == "db" or getattr(node.value, "attr", None) == "db"):
            out.append((node.lineno, "db[...]"))
        elif isinstance(node, ast.Attribute) and node.attr == "conn":
            out.append((node.lineno, ".conn"))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            out += [(node.lineno, f"import {n}") for n in names if n.split(".")[0] in SQL_MODULES]
        elif isinstance(node, ast.JoinedStr):  # an f-string: its text with {} for each value
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            if SQL_TEXT.search(text):
                out.append((node.lineno, f"SQL text {text[:60]!r}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if SQL_TEXT.search(node.value):
                out.append((node.lineno, f"SQL text {node.value[:60]!r}"))
    return out


def test_sql_is_written_in_store_only():
    bad = [
        f"{path.relative_to(SRC).as_posix()}:{line} {what}"
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).parts[0] != "store"
        for line, what in sql_in(path.read_text(encoding="utf-8"))
    ]
    assert not bad, "SQL outside store/ (add a named query to a store module instead):\n" + "\n".join(bad)


def test_the_sql_check_finds_each_kind_of_sql():
    samples = {
        "store.db.conn.execute('x')": 2,  # .conn and .execute
        "db.query('x', [1])": 1,
        "db['events'].insert({})": 1,
        "s.db.utils().table('runs')": 1,
        "import sqlite3": 1,
        "from sqlite_utils import Database": 1,
        "q = 'SELECT id, final FROM events WHERE id = ?'": 1,
        "q = f'SELECT {cols} FROM events'": 1,
        "q = 'INSERT OR REPLACE INTO embeddings(hash) VALUES (?)'": 1,
        "q = 'UPDATE runs SET pid = ? WHERE id = ?'": 1,
        "q = 'DELETE FROM regions'": 1,
        "q = 'PRAGMA user_version'": 1,
        "q = 'BEGIN IMMEDIATE'": 1,
        "q = 'ALTER TABLE events ADD COLUMN x'": 1,
        "q = 'SELECT COUNT(*) FROM batch_rows br JOIN runs ON 1'": 1,
    }
    for source, n in samples.items():
        assert len(sql_in(source)) == n, (source, sql_in(source))
    clean = [
        '"""Docstring: ``PRAGMA quick_check`` runs in a thread."""',
        "prompt = 'Write SQL CREATE TABLE statements for this data model.'",
        "msg = 'no CREATE TABLE statement'",
        "note = 'events from runs that were promoted'",
        "key = '-----BEGIN RSA PRIVATE KEY-----'",
        "loop.run_in_executor(None, f)",
    ]
    for source in clean:
        assert sql_in(source) == [], (source, sql_in(source))


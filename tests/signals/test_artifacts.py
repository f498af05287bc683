"""Artifact types: aliases, inference from the text, and what it changes through a real server."""

from __future__ import annotations

import os

import pytest

from editloop.signals.artifacts import canonical, infer, mermaid_kind


@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("erd", "", "mermaid-erd"),
        ("ER", "", "mermaid-erd"),
        ("mermaid", "erDiagram\n  A ||--o{ B : has\n", "mermaid-erd"),
        ("mermaid", "%% a comment\nflowchart LR\n  a --> b\n", "mermaid-flowchart"),
        ("mermaid", "---\ntitle: x\n---\nsequenceDiagram\n  A->>B: hi\n", "mermaid-sequence"),
        ("mermaid", "pie title x\n", "mermaid"),
        ("mermaid-erd", "flowchart LR\n", "mermaid-erd"),  # an explicit kind is kept
        ("dataclass", "", "python-dataclass"),
        ("sql", "", "sql"),
        ("python-dataclass", "", "python-dataclass"),
    ],
)
def test_canonical(name, text, expected):
    assert canonical(name, text) == expected


def test_infer_from_files_and_fences():
    assert infer("erDiagram\n", "plaintext", "file:///a/schema.mmd") == "mermaid-erd"
    assert infer("", "mermaid", "file:///a/new.mmd") == "mermaid"
    assert infer("# Doc\n\n```mermaid\nclassDiagram\n  A <|-- B\n```\n", "markdown", "file:///a/README.md") == "mermaid-class"
    assert infer("# Doc\n", "markdown", "file:///a/README.md") == "code"
    assert infer("x = 1\n", "python", "file:///a/m.py") == "python"
    assert mermaid_kind("\n" * 10 + "graph TD\n") == "mermaid-flowchart"
    assert mermaid_kind("x" * 10_000_000) is None  # bounded: only the head is read


def test_track_with_an_alias_gets_validation_and_diagnostics(tmp_path):
    """``artifactType: "erd"`` on an erDiagram was stored as "erd": no validation, no diagnostics."""
    from tests.lsp.test_hostile_review_e2e import DOC, Server, rng, rows

    s = Server({**os.environ, "EDITLOOP_HOME": str(tmp_path)})
    try:
        s.open("file:///w/a.mmd", DOC)
        out = s.cmd("editloop.track", {"uri": "file:///w/a.mmd", "range": rng(1, 0, 8, 0), "artifactType": "erd"})
        assert out["result"]["artifactType"] == "mermaid-erd"
        out = s.cmd("editloop.track", {"uri": "file:///w/a.mmd", "range": rng(0, 0, 1, 0), "artifactType": "mermaid"})
        assert out["result"]["artifactType"] == "mermaid"  # "# schema" names no diagram kind
        # Break the diagram inside the first region: the server publishes a diagnostic for it.
        s.notify("textDocument/didChange", {"textDocument": {"uri": "file:///w/a.mmd", "version": 2},
                                            "contentChanges": [{"range": rng(2, 13, 2, 17), "text": "=>=>"}]})
        note = s.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["diagnostics"], 30)
        assert note["params"]["uri"] == "file:///w/a.mmd"
        rid = [r for r in rows(tmp_path, "SELECT id, artifact_type FROM regions") if r["artifact_type"] == "mermaid-erd"][0]["id"]
        s.cmd("editloop.accept", {"regionId": rid})
        [ev] = rows(tmp_path, "SELECT validation FROM events WHERE region_id = ?", (rid,))
        assert ev["validation"] is not None and ev["validation"] < 100
    finally:
        s.close()

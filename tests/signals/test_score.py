import json

from editloop.signals.score import score_event

ERD = "erDiagram\n  USER {\n    int id PK\n    string name\n  }\n"
ERD_FIXED = "erDiagram\n  USER {\n    uuid id PK\n    string name\n  }\n"
ERD_BROKEN = "erDiagram\n  USER {\n    int id PK\n    string name\n"


def test_accept_fills_every_column():
    s = score_event(ERD, ERD, action="accept", artifact_type="mermaid-erd")
    assert s["similarity"] == 1.0 and s["indel_similarity"] == 1.0
    assert s["bleu"] == 100.0 and s["chrf"] == 100.0
    assert s["edit_spans"] is None
    assert s["validation"] == 100.0 and json.loads(s["validation_messages"]) == []
    assert s["reward"] > 0.98


def test_edit_of_an_invalid_output():
    s = score_event(ERD_BROKEN, ERD_FIXED, action="edit", artifact_type="mermaid-erd", seconds_to_resolve=40, retention=[0.9])
    assert 0 < s["similarity"] < 1 and 0 < s["bleu"] < 100 and 0 < s["chrf"] < 100
    assert s["validation"] == 100.0  # the final text the user kept parses
    spans = json.loads(s["edit_spans"])
    assert spans["lines"] and spans["chars"]
    valid_original = score_event(ERD, ERD_FIXED, action="edit", artifact_type="mermaid-erd", seconds_to_resolve=40, retention=[0.9])
    assert s["reward"] < valid_original["reward"]  # the model's invalid output costs reward


def test_reject_validates_the_rejected_text():
    s = score_event(ERD_BROKEN, "", action="reject", artifact_type="mermaid-erd")
    assert s["validation"] == 0.0
    assert json.loads(s["validation_messages"])[0]["message"]
    assert s["reward"] < 0.02 and s["similarity"] == 0.0


def test_unknown_type_leaves_validation_empty():
    s = score_event("hello", "hello there", action="edit", artifact_type="prose")
    assert s["validation"] is None and s["validation_messages"] is None


def test_code_edit():
    s = score_event("def f(x):\n    return x\n", "def f(x):\n    return x + 1\n", action="edit", artifact_type="python")
    assert s["validation"] == 100.0
    assert json.loads(s["edit_spans"])["chars"][0][6] == " + 1"

import json

from editloop.signals.similarity import MAX_SPANS, MAX_SPANS_JSON, edit_spans, edit_spans_json, indel_similarity, similarity


def test_similarity_is_normalized_levenshtein():
    assert similarity("abc", "abc") == 1.0
    assert similarity("abcd", "abcx") == 0.75
    assert similarity("", "abc") == 0.0
    assert indel_similarity("abcd", "abcx") == 0.75
    assert similarity("", "") == 1.0


def test_edit_spans_show_what_changed():
    original = "erDiagram\n  USER {\n    int id PK\n    string name\n  }\n"
    final = "erDiagram\n  USER {\n    uuid id PK\n    string name\n    timestamp created_at\n  }\n"
    spans = edit_spans(original, final)
    assert spans["lines"] == [["replace", 2, 3, 2, 3], ["insert", 4, 4, 4, 5]]
    replace = [c for c in spans["chars"] if c[0] == "replace"]
    assert replace and replace[0][5] == "int" and replace[0][6] == "uuid"
    s0, s1, d0, d1 = replace[0][1:5]
    assert original[s0:s1] == "int" and final[d0:d1] == "uuid"
    inserted = [c for c in spans["chars"] if c[0] == "insert"]
    assert inserted[0][6] == "    timestamp created_at\n"


def test_unchanged_has_no_spans():
    assert edit_spans_json("same", "same") is None
    assert edit_spans("same", "same") == {"lines": [], "chars": []}


def test_deleted_and_rewritten():
    spans = edit_spans("a\nb\nc\n", "")
    assert spans["lines"] == [["delete", 0, 3, 0, 0]]
    assert json.loads(edit_spans_json("x = 1\n", "y = 2\n"))["chars"]


def test_spans_are_capped():
    original = "\n".join(f"line {i} value {i * 7}" for i in range(2000))
    final = "\n".join(f"line {i} value {i * 7 + (i % 2)}" + ("!" * 300 if i % 3 == 0 else "") for i in range(2000))
    text = edit_spans_json(original, final)
    assert len(text) <= MAX_SPANS_JSON
    data = json.loads(text)
    assert len(data["lines"]) <= MAX_SPANS and data["truncated"] > 0
    assert all(len(c[5]) <= 80 and len(c[6]) <= 80 for c in data["chars"])

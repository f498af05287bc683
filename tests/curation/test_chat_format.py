"""The chat format is byte-identical to the one the embedded base model was pretrained on.

The expected strings were captured from the format's output when it lived in ``synth.prompts``
(before it moved to ``curation.format``): any change here means the embedded base model, the
promoted models and the curated rows no longer see the conversation they were trained on.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from editloop.curation.format import SYSTEM_PROMPTS, assistant, build_messages, messages, with_conventions
from editloop.generation.prompting import messages_for
from editloop.training.base_model import pretraining_examples

ERD = "Write a Mermaid erDiagram for this data model. Reply with the diagram only."
SQL = "Write SQL CREATE TABLE statements for this data model. Reply with SQL only."
PY = "Write Python dataclasses for this data model. Reply with code only."

# pretraining_examples(8, seed=0)[:3]: a styled ERD prompt, a styled SQL prompt, a plain ERD prompt.
FIRST_EXAMPLES = [
    ("mermaid-erd", True, [
        {"role": "system", "content": ERD},
        {"role": "user", "content": "Data model for a hospital.\nEach ward admits many patients.\nWard: name, bed "
                                    "capacity, is open, floor.\nPatient: blood type, insurance code, full name, is "
                                    "admitted.\nConventions: UPPER_CASE entity names; snake_case attributes; keys "
                                    "named customer_id; a created_at column; quoted labels like \"places\"."}]),
    ("sql", True, [
        {"role": "system", "content": SQL},
        {"role": "user", "content": "Data model for a farm.\nEach crop yields many harvests.\nEach worker gathers "
                                    "many harvests.\nCrop fields: harvest date, expected yield.\nWorker fields: "
                                    "hourly wage, hire date, phone number.\nHarvest fields: sale price, quality "
                                    "grade.\nConventions: PascalCase attributes; SQL types: varchar, decimal, "
                                    "timestamp; created_at and updated_at columns; table-level PRIMARY KEY and "
                                    "FOREIGN KEY."}]),
    ("mermaid-erd", False, [
        {"role": "system", "content": ERD},
        {"role": "user", "content": "Data model for an airline.\nEach flight assigns one or more crew members.\n"
                                    "Flight fields: flight code, gate.\nCrew member fields: role, hire date."}]),
]
# sha256 of json.dumps([e.messages for e in pretraining_examples(300, seed=3, artifacts=<the three types>)]).
CORPUS_SHA256 = "a023e0131ce9be863c0184a5e7a5225c3796750a958e7acc5ea0192c58f05ac0"


def test_the_pretraining_conversations_are_unchanged():
    examples = pretraining_examples(8, seed=0)
    assert [(e.artifact, e.styled, e.messages) for e in examples[:3]] == FIRST_EXAMPLES
    corpus = pretraining_examples(300, seed=3, artifacts=["mermaid-erd", "sql", "python-dataclass"])
    assert sum(e.styled for e in corpus) == 110  # conventions stated in the prompt (with_conventions) are covered
    assert hashlib.sha256(json.dumps([e.messages for e in corpus]).encode()).hexdigest() == CORPUS_SHA256


@pytest.mark.parametrize("artifact_type, language, system", [
    ("sql", None, SQL),
    ("mermaid-erd", "mermaid", ERD),
    ("python-dataclass", "python", PY),
    ("mermaid-flowchart", "mermaid",
     "Write the requested mermaid-flowchart (mermaid). Reply with the mermaid-flowchart (mermaid) only."),
    ("typescript", "typescript", "Write the requested typescript. Reply with the typescript only."),
    ("go", None, "Write the requested go. Reply with the go only."),
])
def test_curation_rows_use_the_same_system_prompts(artifact_type, language, system):
    assert messages(artifact_type, "A prompt.", language) == [
        {"role": "system", "content": system}, {"role": "user", "content": "A prompt."}]
    assert assistant("x") == [{"role": "assistant", "content": "x"}]


@pytest.mark.parametrize("artifact_type, system", [
    ("sql", SQL), ("mermaid-erd", ERD), ("python-dataclass", PY),
    ("mermaid", "Write a Mermaid diagram for this request. Reply with the diagram only."),
    ("mermaid-class", "Write a Mermaid classDiagram for this request. Reply with the diagram only."),
    ("rust", "Write rust code for this request. Reply with the code only."),
])
def test_generation_uses_the_same_conversation(artifact_type, system):
    assert messages_for(artifact_type, "Users have posts.") == [
        {"role": "system", "content": system}, {"role": "user", "content": "Users have posts."}]


def test_past_corrections_sit_between_the_system_prompt_and_the_prompt():
    shots = [("Customers.", "CREATE TABLE customer (id int);"), ("Items.", "CREATE TABLE item (id int);")]
    assert messages_for("sql", "Orders.", shots) == [
        {"role": "system", "content": SQL},
        {"role": "user", "content": "Customers."}, {"role": "assistant", "content": "CREATE TABLE customer (id int);"},
        {"role": "user", "content": "Items."}, {"role": "assistant", "content": "CREATE TABLE item (id int);"},
        {"role": "user", "content": "Orders."},
    ]


def test_the_builtin_format_refuses_unknown_types_and_states_conventions():
    assert set(SYSTEM_PROMPTS) == {"mermaid-erd", "sql", "python-dataclass"}
    with pytest.raises(ValueError, match="cobol"):
        build_messages("cobol", "x")
    assert with_conventions("Users.", "") == "Users."
    assert with_conventions("Users.", "snake_case attributes") == "Users.\nConventions: snake_case attributes."


def test_synth_reexports_the_core_format():
    import editloop.synth as synth

    assert synth.build_messages is build_messages and synth.SYSTEM_PROMPTS is SYSTEM_PROMPTS

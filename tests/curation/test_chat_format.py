"""The chat format is byte-identical to the one the embedded base model was pretrained on, and a
model is served the conversation it was trained on.

The built-in types' expected strings were captured from the format's output when it lived in
``synth.prompts`` (before it moved to ``curation.format``): any change here means the embedded base
model, the promoted models and the curated rows no longer see the conversation they were trained
on. The other types' prompts (the Mermaid kinds', the generic one) are pinned on purpose: changing
one changes what both training rows and generation say.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
    ("mermaid-flowchart", "mermaid", "Write a Mermaid flowchart for this request. Reply with the diagram only."),
    ("mermaid-sequence", "markdown", "Write a Mermaid sequenceDiagram for this request. Reply with the diagram only."),
    ("typescript", "typescript", "Write the requested typescript. Reply with the typescript only."),
    ("go", None, "Write the requested go. Reply with the go only."),
    ("toml", "plaintext", "Write the requested toml (plaintext). Reply with the toml (plaintext) only."),
])
def test_curation_rows_use_the_same_system_prompts(artifact_type, language, system):
    assert messages(artifact_type, "A prompt.", language) == [
        {"role": "system", "content": system}, {"role": "user", "content": "A prompt."}]
    assert assistant("x") == [{"role": "assistant", "content": "x"}]


@pytest.mark.parametrize("artifact_type, language, system", [
    ("sql", "sql", SQL), ("mermaid-erd", None, ERD), ("python-dataclass", "python", PY),
    ("mermaid", None, "Write a Mermaid diagram for this request. Reply with the diagram only."),
    ("mermaid-class", "mermaid", "Write a Mermaid classDiagram for this request. Reply with the diagram only."),
    ("rust", None, "Write the requested rust. Reply with the rust only."),
    ("rust", "rust", "Write the requested rust. Reply with the rust only."),
    ("python", "jupyter", "Write the requested python (jupyter). Reply with the python (jupyter) only."),
])
def test_generation_uses_the_same_conversation(artifact_type, language, system):
    assert messages_for(artifact_type, "Users have posts.", language=language) == [
        {"role": "system", "content": system}, {"role": "user", "content": "Users have posts."}]
    assert messages_for(artifact_type, "Users have posts.", language=language) == messages(
        artifact_type, "Users have posts.", language)


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


class Endpoint(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint that records each request's messages and answers with a
    fixed text per prompt (``ANSWERS``), streamed as OpenAI does."""

    requests: list[list[dict[str, str]]] = []

    def log_message(self, *a):  # quiet
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Endpoint.requests.append(body["messages"])
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        chunk = {"choices": [{"delta": {"content": ANSWERS[body["messages"][-1]["content"]]}, "index": 0}]}
        self.wfile.write(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode())


# (artifact type asked for, the document's languageId, prompt): built-in, Mermaid kinds, generic code types.
SERVED = [
    ("sql", "sql", "Customers place orders."),
    ("mermaid-erd", "markdown", "Wards admit patients."),
    ("mermaid-flowchart", "mermaid", "Login, then checkout."),
    ("typescript", "typescript", "A user type."),
    ("toml", "plaintext", "A build config."),
]
ANSWERS = {
    "Customers place orders.": "CREATE TABLE customer (id INT PRIMARY KEY);",
    "Wards admit patients.": "erDiagram\n    WARD ||--o{ PATIENT : admits",
    "Login, then checkout.": "flowchart TD\n    A[Login] --> B[Checkout]",
    "A user type.": "type User = { id: string };",
    "A build config.": "[build]\ntarget = \"x\"",
}


def test_generation_serves_the_conversation_the_training_rows_are_built_with(tmp_path):
    """A real server generates through an OpenAI-compatible endpoint into documents of several
    languages; the user accepts; the SFT rows curation builds from those events hold exactly the
    conversations the endpoint was sent."""
    from editloop.curation.config import CurationConfig
    from editloop.curation.events import load_events
    from editloop.curation.rows import build_rows
    from editloop.simulate.session import ServerSession
    from editloop.store import Store

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = {"generation.backend": "openai", "generation.model": "m",
                "generation.endpoint": f"http://127.0.0.1:{server.server_address[1]}/v1"}
    Endpoint.requests = []

    async def session():
        async with ServerSession(tmp_path / "home", settings=settings) as s:
            for i, (artifact_type, language, prompt) in enumerate(SERVED):
                s.open(f"untitled:doc-{i}", "", language)
                out = await s.command("editloop.generate", {"uri": f"untitled:doc-{i}", "prompt": prompt,
                                                            "position": {"line": 0, "character": 0},
                                                            "artifactType": artifact_type})
                await s.command("editloop.accept", {"regionId": out["regionId"]})

    try:
        asyncio.run(session())
    finally:
        server.shutdown()
    store = Store.open(tmp_path / "home")
    try:
        events = load_events(store)
    finally:
        store.close()
    assert sorted((e.artifact_type, e.language) for e in events) == sorted((t, lang) for t, lang, _ in SERVED)
    trained = {ev.prompt: build_rows([ev], CurationConfig(), 0.0, methods=("sft",))["sft"][0][0]["prompt"]
               for ev in events}
    served = {msgs[-1]["content"]: msgs for msgs in Endpoint.requests}
    assert served == trained
    assert trained["Login, then checkout."][0]["content"].startswith("Write a Mermaid flowchart")
    assert trained["A build config."][0]["content"] == "Write the requested toml (plaintext). Reply with the toml (plaintext) only."

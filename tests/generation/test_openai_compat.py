"""The OpenAI-compatible client against a local HTTP server speaking the chat-completions protocol.

This is a protocol stub (a real llama.cpp server needs a 12-17 minute build here, too slow for CI);
it checks the request we send and streams the answer the way OpenAI, Ollama and vLLM do."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from editloop.errors import EditloopError
from editloop.generation.openai_compat import chat


class Handler(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def log_message(self, *a):  # quiet
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if body["model"] == "missing":
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"error": "model not found"}')
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in ["erDiagram\n", "    A ||--o{ B : ", "has\n"]:
            chunk = {"choices": [{"delta": {"content": piece}, "index": 0}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_streams_and_joins_deltas(endpoint):
    deltas = []
    text = chat(endpoint, "tiny", [{"role": "user", "content": "hi"}], on_delta=deltas.append, api_key="k")
    assert text == "erDiagram\n    A ||--o{ B : has\n"
    assert len(deltas) == 3
    req = Handler.requests[-1]
    assert req["path"] == "/v1/chat/completions" and req["body"]["stream"] is True and req["auth"] == "Bearer k"
    assert req["body"]["messages"] == [{"role": "user", "content": "hi"}]


def test_http_errors_and_unreachable_endpoints_are_clear(endpoint):
    with pytest.raises(EditloopError, match="answered 404"):
        chat(endpoint, "missing", [{"role": "user", "content": "x"}])
    with pytest.raises(EditloopError, match="cannot reach the generation endpoint http://127.0.0.1:9/v1"):
        chat("http://127.0.0.1:9/v1", "m", [{"role": "user", "content": "x"}], timeout=2)
    with pytest.raises(EditloopError, match="generation.model"):
        chat(endpoint, "", [])

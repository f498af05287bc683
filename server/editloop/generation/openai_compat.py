"""An OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp's server, hosted APIs): streaming,
timeouts, and a clear message when it cannot be reached. Standard library only."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Callable, Iterator

from ..errors import EditloopError


def _url(endpoint: str, path: str) -> str:
    return endpoint.rstrip("/") + path


def stream_chat(
    endpoint: str,
    model: str,
    messages: list[dict[str, str]],
    *,
    api_key: str | None = None,
    max_tokens: int = 1024,
    temperature: float = 0.0,
    timeout: float = 60.0,
) -> Iterator[str]:
    """Yield content deltas of a streamed chat completion."""
    if not model:
        raise EditloopError("set editloop.generation.model to the model name your endpoint serves")
    body = json.dumps({"model": model, "messages": messages, "stream": True, "max_tokens": max_tokens, "temperature": temperature}).encode()
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    req = urllib.request.Request(_url(endpoint, "/chat/completions"), data=body, headers=headers, method="POST")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - the user's configured endpoint
    except urllib.error.HTTPError as exc:
        detail = exc.read(500).decode(errors="replace").strip()
        raise EditloopError(f"the generation endpoint {endpoint} answered {exc.code}: {detail or exc.reason}") from None
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EditloopError(
            f"cannot reach the generation endpoint {endpoint} ({reason}); start the server (e.g. `ollama serve`) "
            "or set editloop.generation.endpoint"
        ) from None
    with resp:
        ctype = resp.headers.get("Content-Type", "")
        if "text/event-stream" not in ctype:  # a server that ignores stream=true
            data = json.loads(resp.read().decode())
            yield data["choices"][0]["message"]["content"] or ""
            return
        try:
            for raw in resp:
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    return
                chunk = json.loads(payload)
                choices = chunk.get("choices") or []
                if choices:
                    delta = choices[0].get("delta") or {}
                    if delta.get("content"):
                        yield delta["content"]
        except (socket.timeout, TimeoutError):
            raise EditloopError(f"the generation endpoint {endpoint} stopped answering (timeout {timeout:.0f} s)") from None


def chat(endpoint: str, model: str, messages: list[dict[str, str]], *, on_delta: Callable[[str], None] | None = None, **kw) -> str:
    parts = []
    for delta in stream_chat(endpoint, model, messages, **kw):
        parts.append(delta)
        if on_delta:
            on_delta(delta)
    return "".join(parts)

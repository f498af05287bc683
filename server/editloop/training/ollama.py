"""Ollama: the Go TEMPLATE derived from a model's own Jinja chat template, and the Modelfile text.

Ollama builds a model from a Modelfile (``FROM``, ``ADAPTER``, ``TEMPLATE``, ``PARAMETER``); its
TEMPLATE is a Go ``text/template`` over ``.Messages`` (each with ``.Role`` and ``.Content``).
:func:`ollama_template` renders the Jinja template (sandboxed, as transformers renders it) with
sentinel messages and cuts each role's text before and after its content out of the rendering;
:func:`modelfile` writes the file ``ollama create`` reads. Nothing here imports jinja2 until a
function runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import EditloopError

SENTINELS = {"system": "SYSTEM-5f1c9e7a", "user": "USER-8b2d71c4", "assistant": "ASSISTANT-c3e05a96"}


def ollama_template(chat_template: str, *, bos_token: str = "", eos_token: str = "") -> tuple[str, list[str]]:
    """Ollama's Go TEMPLATE for a Jinja chat template, and its stop strings.

    The Jinja template is rendered (sandboxed, as transformers renders it) with sentinel system,
    user and assistant messages, one more at a time; each rendering must extend the previous one,
    so every role's text before and after its content can be cut out. A default system block that
    the template adds when a conversation has none (SmolLM2's) is kept as such."""
    render = _jinja_renderer(chat_template, bos_token, eos_token)
    msgs = [{"role": role, "content": text} for role, text in SENTINELS.items()]
    pieces, prev = {}, ""
    for i, msg in enumerate(msgs, 1):
        text = _render(render, msgs[:i])
        if not text.startswith(prev):
            raise EditloopError("the chat template does not render messages one after another (a message "
                                f"changes what comes before it): cannot derive an Ollama TEMPLATE\n{text!r}")
        pieces[msg["role"]] = _around(text[len(prev):], msg["content"])
        prev = text
    user_block = "".join((pieces["user"][0], SENTINELS["user"], pieces["user"][1]))
    if _render(render, msgs + msgs[1:2]) != prev + user_block:
        raise EditloopError("the chat template renders a user message after an assistant message differently")
    two = _render(render, msgs[:2])
    generation = _render(render, msgs[:2], add_generation_prompt=True)
    if not generation.startswith(two):
        raise EditloopError("the chat template's generation prompt does not extend the conversation")
    user_alone = _render(render, msgs[1:2])
    if not user_alone.endswith(user_block):
        raise EditloopError("the chat template renders a user message differently without a system message")
    template = _go_template(pieces, generation[len(two):], default_system=user_alone[:-len(user_block)])
    stops = _stops(pieces["assistant"][1], pieces["user"][0], eos_token)
    return template, stops


def _jinja_renderer(chat_template: str, bos_token: str, eos_token: str):
    from datetime import datetime

    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = lambda x, indent=None, **kw: json.dumps(x, ensure_ascii=False, indent=indent)
    env.globals.update(raise_exception=raise_exception, strftime_now=lambda fmt: datetime.now().strftime(fmt))
    try:
        template = env.from_string(chat_template)
    except jinja2.exceptions.TemplateError as exc:
        raise EditloopError(f"the chat template does not parse: {exc}") from None
    return lambda messages, gen: template.render(messages=messages, add_generation_prompt=gen,
                                                 bos_token=bos_token, eos_token=eos_token)


def _render(render, messages: list[dict], *, add_generation_prompt: bool = False) -> str:
    import jinja2

    try:
        return render(messages, add_generation_prompt)
    except (jinja2.exceptions.TemplateError, TypeError, ValueError) as exc:
        roles = "/".join(m["role"] for m in messages)
        raise EditloopError(f"the chat template does not render a {roles} conversation: {exc}") from None


def _around(text: str, sentinel: str) -> tuple[str, str]:
    if text.count(sentinel) != 1:
        raise EditloopError(f"the chat template does not render a message's content once as given: {text!r}")
    before, after = text.split(sentinel)
    return before, after


def _go_literal(text: str) -> str:
    """Text as a Go template literal (``{{`` is the only sequence with a meaning there)."""
    if '"""' in text:
        raise EditloopError('the chat template contains """, which a Modelfile TEMPLATE cannot hold')
    return text.replace("{{", '{{ "{{" }}')


def _go_template(pieces: dict[str, tuple[str, str]], generation: str, *, default_system: str) -> str:
    """One line of Go template over ``.Messages``: every message as its role's prefix, content and
    suffix; the assistant's suffix is left open on the last message (Ollama continues it), and the
    generation prompt follows a last message that is not the assistant's."""
    lit = _go_literal
    parts = []
    if default_system:
        parts.append('{{ if not (and .Messages (eq (index .Messages 0).Role "system")) }}'
                     f'{lit(default_system)}{{{{ end }}}}')
    parts.append("{{ range $i, $_ := .Messages }}{{ $last := eq (len (slice $.Messages $i)) 1 }}")
    for n, role in enumerate(("system", "user", "assistant")):
        before, after = pieces[role]
        suffix = f"{{{{ if not $last }}}}{lit(after)}{{{{ end }}}}" if role == "assistant" else lit(after)
        parts.append(f'{{{{ {"if" if n == 0 else "else if"} eq .Role "{role}" }}}}{lit(before)}'
                     f"{{{{ .Content }}}}{suffix}")
    parts.append("{{ end }}")
    parts.append(f'{{{{ if and $last (ne .Role "assistant") }}}}{lit(generation)}{{{{ end }}}}{{{{ end }}}}')
    return "".join(parts)


def _stops(assistant_suffix: str, user_prefix: str, eos_token: str) -> list[str]:
    """Where an answer ends: the assistant's suffix, the next user turn, else the eos token (first line
    of each, without the whitespace around it)."""
    stops: list[str] = []
    for piece in (assistant_suffix, user_prefix, eos_token if not assistant_suffix.strip() else ""):
        lines = [line.strip() for line in piece.strip().splitlines() if line.strip()]
        if lines and '"' not in lines[0] and lines[0] not in stops:
            stops.append(lines[0])
    return stops


def modelfile(*, base_gguf: Path | None, template: str | None, stops: list[str]) -> str:
    """An Ollama Modelfile: ``FROM base_gguf`` + ``ADAPTER ./adapter.gguf``, or ``FROM ./merged.gguf``;
    then the TEMPLATE (when there is one), its stops and greedy decoding."""
    if base_gguf is not None and ("\n" in str(base_gguf) or str(base_gguf).startswith(('"', " "))):
        raise EditloopError(f"a Modelfile cannot name the base file {base_gguf!r} (newline, quote or leading space)")
    lines = [f"FROM {base_gguf}", "ADAPTER ./adapter.gguf"] if base_gguf is not None else ["FROM ./merged.gguf"]
    if template is not None:
        lines.append(f'TEMPLATE """{template}"""')
    lines += [f'PARAMETER stop "{stop}"' for stop in stops]
    lines.append("PARAMETER temperature 0")
    return "\n".join(lines) + "\n"


__all__ = ["ollama_template", "modelfile", "SENTINELS"]

"""The extension's command types (vscode-extension/src/common/protocol.ts) match the server's
(editloop.lsp.params): the same commands, the same params and result interfaces, the same fields,
the same optional fields and compatible types, both ways. The TS file is ours and regular (one field
per line), so a small parser is enough; it fails loudly on a line it cannot read."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any, Union

from editloop.lsp.params import COMMANDS
from editloop.lsp.wire import wire_name

PROTOCOL_TS = Path(__file__).resolve().parents[2] / "vscode-extension" / "src" / "common" / "protocol.ts"

INTERFACE = re.compile(r"^export interface (\w+) \{(?:\}|\n(.*?)^\})", re.M | re.S)
FIELD = re.compile(r"^(\w+)(\?)?: (.+);$")
INDEX = "[key: string]: unknown;"
COMMAND_TYPE = re.compile(r"^'([\w.]+)': \{ params: (\w+); result: (\w+) \};$")
SERVER_COMMAND = re.compile(r"export const ServerCommand = \{(.*?)\} as const;", re.S)


@dataclasses.dataclass
class TsInterface:
    fields: dict[str, tuple[bool, str]]  # name -> (optional, normalized type)
    index: bool  # has ``[key: string]: unknown``


def _strip_comments(body: str) -> list[str]:
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    lines = (re.sub(r"//.*$", "", line).strip() for line in body.splitlines())
    return [line for line in lines if line]


def norm(ts_type: str) -> str:
    """``string | null`` and ``null|string`` are the same type."""
    return "|".join(sorted(part.strip() for part in ts_type.split("|")))


def parse_ts(text: str) -> tuple[dict[str, TsInterface], dict[str, tuple[str, str]]]:
    """The interfaces of protocol.ts and its CommandTypes map (command -> (params, result))."""
    interfaces: dict[str, TsInterface] = {}
    for name, body in INTERFACE.findall(text):
        if name == "CommandTypes":
            continue
        fields, index = {}, False
        for line in _strip_comments(body or ""):
            if line == INDEX:
                index = True
                continue
            m = FIELD.match(line)
            assert m, f"protocol.ts: cannot read {line!r} in interface {name}"
            fields[m[1]] = (bool(m[2]), norm(m[3]))
        interfaces[name] = TsInterface(fields, index)
    body = next(b for n, b in INTERFACE.findall(text) if n == "CommandTypes")
    commands = {}
    for line in _strip_comments(body):
        m = COMMAND_TYPE.match(line)
        assert m, f"protocol.ts: cannot read {line!r} in CommandTypes"
        commands[m[1]] = (m[2], m[3])
    return interfaces, commands


def ts_type(hint: Any) -> str:
    """The TypeScript spelling of a Python field type (``X | None`` as ``X | null``)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return norm(" | ".join("null" if a is type(None) else ts_type(a) for a in args))
    if origin is list:
        return f"{ts_type(args[0])}[]"
    if origin is dict:
        return f"Record<{ts_type(args[0])}, {ts_type(args[1])}>"
    if dataclasses.is_dataclass(hint):
        return hint.__name__
    simple = {str: "string", int: "number", float: "number", bool: "boolean", Any: "unknown", dict: "Record<string, unknown>"}
    assert hint in simple, f"no TypeScript spelling for {hint!r}"
    return simple[hint]


def _without_none(hint: Any) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if typing.get_origin(hint) in (Union, types.UnionType) and len(args) == 1 else hint


def expected_fields(cls: type, *, params: bool) -> TsInterface:
    """What protocol.ts must declare for ``cls``. A params field with a default is optional
    (``name?: T``, None meaning absent); a result field is optional only when omitted when None."""
    hints = typing.get_type_hints(cls)
    fields, index = {}, False
    for f in dataclasses.fields(cls):
        if f.metadata.get("flatten"):
            index = True
            continue
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        optional = has_default if params else bool(f.metadata.get("omit_none"))
        hint = _without_none(hints[f.name]) if optional else hints[f.name]
        fields[wire_name(f.name)] = (optional, norm(ts_type(hint)))
    return TsInterface(fields, index)


def _nested(cls: type) -> list[type]:
    out = []
    for hint in typing.get_type_hints(cls).values():
        stack = [hint]
        while stack:
            h = stack.pop()
            if dataclasses.is_dataclass(h):
                out.append(h)
            stack.extend(typing.get_args(h))
    return out


def problems(ts_text: str, commands: dict[str, tuple[type, type]]) -> list[str]:
    """Every disagreement between protocol.ts and the Python command classes, as readable lines."""
    interfaces, ts_commands = parse_ts(ts_text)
    out = [f"command {c} only in Python" for c in sorted(set(commands) - set(ts_commands))]
    out += [f"command {c} only in protocol.ts" for c in sorted(set(ts_commands) - set(commands))]
    todo: list[tuple[type, bool]] = []
    for command in sorted(set(commands) & set(ts_commands)):
        for cls, ts_name, params in zip(commands[command], ts_commands[command], (True, False)):
            if cls.__name__ != ts_name:
                out.append(f"{command}: Python {cls.__name__}, protocol.ts {ts_name}")
            todo.append((cls, params))
    seen: set[type] = set()
    while todo:
        cls, params = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo += [(n, params) for n in _nested(cls)]
        out += _compare(cls, interfaces.get(cls.__name__), expected_fields(cls, params=params))
    return out


def _compare(cls: type, ts: TsInterface | None, want: TsInterface) -> list[str]:
    name = cls.__name__
    if ts is None:
        return [f"interface {name} missing from protocol.ts"]
    out = [f"{name}.{f} only in Python" for f in want.fields if f not in ts.fields]
    out += [f"{name}.{f} only in protocol.ts" for f in ts.fields if f not in want.fields]
    for f in want.fields.keys() & ts.fields.keys():
        (w_opt, w_type), (t_opt, t_type) = want.fields[f], ts.fields[f]
        if w_opt != t_opt:
            out.append(f"{name}.{f}: {'optional' if w_opt else 'required'} in Python, {'optional' if t_opt else 'required'} in protocol.ts")
        if w_type != t_type:
            out.append(f"{name}.{f}: {w_type} in Python, {t_type} in protocol.ts")
    if want.index != ts.index:
        out.append(f"{name}: the flattened summary (index signature) is on one side only")
    return out


def test_protocol_ts_declares_every_command_field_and_type_the_server_does():
    assert problems(PROTOCOL_TS.read_text(encoding="utf-8"), COMMANDS) == []


def test_every_command_the_extension_sends_is_declared():
    sent = re.findall(r"\w+: '([\w.]+)'", SERVER_COMMAND.search(PROTOCOL_TS.read_text(encoding="utf-8"))[1])
    assert len(sent) >= 10
    assert set(sent) <= set(COMMANDS)


def test_a_field_renamed_or_retyped_on_one_side_is_reported():
    text = PROTOCOL_TS.read_text(encoding="utf-8")
    renamed = text.replace("export interface TrackResult {\n    regionId: string;", "export interface TrackResult {\n    regionID: string;")
    assert renamed != text
    assert sorted(problems(renamed, COMMANDS)) == ["TrackResult.regionID only in protocol.ts", "TrackResult.regionId only in Python"]

    retyped = text.replace("    rows: number;", "    rows: string;")
    assert problems(retyped, COMMANDS) == ["ExportResult.rows: number in Python, string in protocol.ts"]

    required = text.replace("    overwrite?: boolean;", "    overwrite: boolean;")
    assert problems(required, COMMANDS) == ["ExportParams.overwrite: optional in Python, required in protocol.ts"]

    from editloop.lsp import params as p

    py_renamed = dataclasses.make_dataclass("ForgetResult", [("forgotten", int)], frozen=True)
    commands = {**COMMANDS, "editloop.forget": (p.ForgetParams, py_renamed)}
    assert sorted(problems(text, commands)) == ["ForgetResult.deleted only in protocol.ts", "ForgetResult.forgotten only in Python"]

    dropped = {k: v for k, v in COMMANDS.items() if k != "editloop.runs"}
    assert problems(text, dropped) == ["command editloop.runs only in protocol.ts"]

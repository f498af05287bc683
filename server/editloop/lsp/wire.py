"""Command arguments in, command results out: the one parser and the one serialiser of
``workspace/executeCommand`` payloads, driven by the dataclasses of :mod:`editloop.lsp.params`.

A field ``artifact_type`` is ``artifactType`` on the wire (camelCase, as the extension and the LSP
spell names). Parsing is strict and says which field is wrong; extra keys are ignored (a newer
client may send more); ``null`` counts as absent. Every string is cleaned of lone surrogates.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import TYPE_CHECKING, Any, Iterable, TypeVar, Union

from ..capture.document import clean_text
from ..errors import InvalidArgument

if TYPE_CHECKING:
    from ..capture.service import RegionSpan

P = TypeVar("P")

MAX_DEPTH = 32
_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "an object", list: "a list"}


def wire_name(name: str) -> str:
    """``artifact_type`` -> ``artifactType``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def one_object(args: tuple[Any, ...] | list[Any], command: str) -> dict[str, Any]:
    """Commands take ONE object argument (an empty call counts as ``{}``); strings come back cleaned."""
    if not args:
        return {}
    if len(args) != 1 or not isinstance(args[0], dict):
        raise InvalidArgument(f"{command} takes one object argument")
    return _clean(args[0])


def _clean(value: Any, depth: int = 0) -> Any:
    """Lone surrogates in any string argument become U+FFFD (see ``capture.document.clean_text``)."""
    if isinstance(value, str):
        return clean_text(value)
    if depth > MAX_DEPTH:
        raise InvalidArgument("arguments are nested too deeply")
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    return value


def parse(cls: type[P], args: tuple[Any, ...] | list[Any], command: str) -> P:
    """The params object of ``command`` from its JSON arguments; InvalidArgument names the bad field.

    A field without a default is required. After the fields, the class's ``check()`` (when it has
    one) tests what types cannot say (a value out of a set, a field required unless another is set)."""
    obj = one_object(args, command)
    hints = _hints(cls)
    values = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = wire_name(f.name)
        kind, optional = _unwrap_optional(hints[f.name])
        if obj.get(key) is not None:
            values[f.name] = _value(obj[key], kind, key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and not optional:
            raise InvalidArgument(f"missing argument {key!r}")
    params = cls(**values)
    check = getattr(params, "check", None)
    if check is not None:
        check()
    return params


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (hint, False)."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(rest) == 1:
            return rest[0], True
    return hint, False


def _value(value: Any, kind: Any, key: str) -> Any:
    if dataclasses.is_dataclass(kind):
        return _nested(value, kind, key)
    base = typing.get_origin(kind) or kind
    numeric = base in (int, float)
    if numeric and isinstance(value, bool):  # JSON true is not 1
        raise InvalidArgument(f"argument {key!r} must be {_NAMES[base]}")
    accepted = (int, float) if base is float else base
    if not isinstance(value, accepted):
        raise InvalidArgument(f"argument {key!r} must be {_NAMES.get(base, base.__name__)}, not {type(value).__name__}")
    return float(value) if base is float else value


def _nested(value: Any, kind: type, key: str) -> Any:
    """An LSP position or range: integers only, and one message naming the field when it is not."""
    if not isinstance(value, dict):
        raise InvalidArgument(f"argument {key!r} must be an object, not {type(value).__name__}")
    parse_from = getattr(kind, "from_json", None)
    if parse_from is None:
        raise TypeError(f"{kind.__name__} has no from_json")
    return parse_from(value, key)


def to_json(result: Any) -> Any:
    """A result dataclass as the JSON the extension reads: camelCase keys, nested classes and lists
    converted; a field with ``metadata={"omit_none": True}`` is left out when None, and one with
    ``metadata={"flatten": True}`` (a dict) has its keys merged into the object."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(result):
            value = getattr(result, f.name)
            if f.metadata.get("flatten"):
                out.update(value)
            elif not (value is None and f.metadata.get("omit_none")):
                out[wire_name(f.name)] = to_json(value)
        return out
    if isinstance(result, (list, tuple)):
        return [to_json(v) for v in result]
    return result


def region_list(spans: "Iterable[RegionSpan]") -> list[dict[str, Any]]:
    """The ``regions`` of an ``editloop/regions`` notification: each tracked region's id and client range."""
    return [
        {"id": sp.id, "range": {"start": {"line": sp.client_range[0], "character": sp.client_range[1]},
                                "end": {"line": sp.client_range[2], "character": sp.client_range[3]}}, "status": "pending"}
        for sp in spans
    ]

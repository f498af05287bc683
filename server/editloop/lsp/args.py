"""Unpack and check command arguments; turn Editloop errors into LSP errors."""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from pygls.exceptions import JsonRpcException

from ..capture.document import clean_text
from ..errors import EditloopError, InvalidArgument

log = logging.getLogger(__name__)

INVALID_PARAMS = -32602
REQUEST_FAILED = -32803


class CommandError(JsonRpcException):
    CODE = REQUEST_FAILED
    MESSAGE = "Editloop command failed"
    expected = False  # True for errors a user caused (an EditloopError): logged as one line


class ExpectedErrorsOneLine(logging.Filter):
    """pygls logs every failed request with a traceback; an expected one (an unknown region, an
    unreachable endpoint, a run already in progress) becomes one line. Real bugs keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, CommandError) and exc.expected:
            record.msg, record.args = "request failed: %s", (exc.message,)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def one_object(args: tuple[Any, ...], command: str) -> dict[str, Any]:
    """Commands take ONE object argument (an empty call counts as ``{}``)."""
    if not args:
        return {}
    if len(args) != 1 or not isinstance(args[0], dict):
        raise InvalidArgument(f"{command} takes one object argument")
    return _clean(args[0])


def _clean(value: Any, depth: int = 0) -> Any:
    """Lone surrogates in any string argument become U+FFFD (see ``capture.document.clean_text``)."""
    if isinstance(value, str):
        return clean_text(value)
    if depth > 32:
        raise InvalidArgument("arguments are nested too deeply")
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    return value


def get(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], *, required: bool = True, default: Any = None) -> Any:
    if key not in obj or obj[key] is None:
        if required:
            raise InvalidArgument(f"missing argument {key!r}")
        return default
    value = obj[key]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise InvalidArgument(f"argument {key!r} must be {_name(kind)}")
    if not isinstance(value, kind):
        raise InvalidArgument(f"argument {key!r} must be {_name(kind)}, not {type(value).__name__}")
    return value


def get_range(obj: dict[str, Any], key: str = "range") -> tuple[int, int, int, int]:
    rng = get(obj, key, dict)
    try:
        s, e = rng["start"], rng["end"]
        out = (s["line"], s["character"], e["line"], e["character"])
    except (KeyError, TypeError):
        raise InvalidArgument(f"argument {key!r} must be an LSP range {{start: {{line, character}}, end: {{...}}}}") from None
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in out):
        raise InvalidArgument(f"argument {key!r} must hold integer lines and characters")
    return out


def get_position(obj: dict[str, Any], key: str = "position") -> tuple[int, int]:
    pos = get(obj, key, dict)
    line, ch = pos.get("line"), pos.get("character")
    if not (isinstance(line, int) and isinstance(ch, int)) or isinstance(line, bool) or isinstance(ch, bool):
        raise InvalidArgument(f"argument {key!r} must be an LSP position {{line, character}}")
    return line, ch


def _name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "an object", list: "a list"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def lsp_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Editloop errors become LSP errors with the same message; anything else is logged, then reported."""

    def convert(exc: Exception) -> JsonRpcException:
        if isinstance(exc, JsonRpcException):
            return exc
        if isinstance(exc, EditloopError):
            code = INVALID_PARAMS if exc.code == "invalid_argument" else REQUEST_FAILED
            err = CommandError(message=exc.message, code=code)
            err.expected = True
            return err
        log.exception("unexpected error in %s", getattr(fn, "__name__", fn))
        return CommandError(message=f"internal error: {type(exc).__name__}: {exc}")

    import inspect

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def awrapper(*a: Any, **kw: Any) -> Any:
            try:
                return await fn(*a, **kw)
            except Exception as exc:  # noqa: BLE001 - the server never dies of a command
                raise convert(exc) from None

        return awrapper

    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        try:
            return fn(*a, **kw)
        except Exception as exc:  # noqa: BLE001
            raise convert(exc) from None

    return wrapper

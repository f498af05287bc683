"""From ``workspace/executeCommand`` to a typed handler and back.

A handler is ``fn(ls, params) -> result`` (or ``async``): :func:`register_commands` parses the one
JSON argument into the command's params class (:mod:`editloop.lsp.params`), calls the handler,
serialises its result, and turns errors into LSP errors: an Editloop error keeps its message
(invalid arguments as -32602), anything else is logged with its traceback and reported.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any, Callable

from pygls.exceptions import JsonRpcException

from ..errors import EditloopError
from .params import COMMANDS
from .wire import parse, to_json

if TYPE_CHECKING:
    from .server import EditloopServer

log = logging.getLogger(__name__)

INVALID_PARAMS = -32602
REQUEST_FAILED = -32803

Handler = Callable[["EditloopServer", Any], Any]


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


def as_lsp_error(exc: Exception, where: str) -> JsonRpcException:
    """The LSP error a command answers for ``exc``."""
    if isinstance(exc, JsonRpcException):
        return exc
    if isinstance(exc, EditloopError):
        code = INVALID_PARAMS if exc.code == "invalid_argument" else REQUEST_FAILED
        err = CommandError(message=exc.message, code=code)
        err.expected = True
        return err
    log.error("unexpected error in %s", where, exc_info=exc)
    return CommandError(message=f"internal error: {type(exc).__name__}: {exc}")


def register_commands(server: "EditloopServer", handlers: dict[str, Handler]) -> None:
    """Register each handler under its command name, typed by ``params.COMMANDS``."""
    for name, fn in handlers.items():
        server.command(name)(_endpoint(name, fn))


def _endpoint(name: str, fn: Handler) -> Callable[..., Any]:
    """The untyped ``(ls, *args)`` function pygls calls. A synchronous handler stays synchronous: it
    runs before the next message is read (a ``didChange`` right after ``track`` must see the region)."""
    params_cls, result_cls = COMMANDS[name]

    def check(result: Any) -> Any:
        if not isinstance(result, result_cls):
            raise TypeError(f"{name} answered {type(result).__name__}, not {result_cls.__name__}")
        return to_json(result)

    if inspect.iscoroutinefunction(fn):

        async def endpoint(ls, *args: Any) -> Any:  # unannotated ls: pygls evaluates these annotations
            try:
                return check(await fn(ls, parse(params_cls, args, name)))
            except Exception as exc:  # noqa: BLE001 - the server never dies of a command
                raise as_lsp_error(exc, name) from None

    else:

        def endpoint(ls, *args: Any) -> Any:  # type: ignore[misc]
            try:
                return check(fn(ls, parse(params_cls, args, name)))
            except Exception as exc:  # noqa: BLE001
                raise as_lsp_error(exc, name) from None

    endpoint.__name__ = endpoint.__qualname__ = fn.__name__
    endpoint.__doc__ = fn.__doc__
    return endpoint

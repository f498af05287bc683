"""From ``workspace/executeCommand`` to a typed handler and back.

A handler is ``fn(ls, params) -> result`` (or ``async``): :func:`register_commands` parses the one
JSON argument into the command's params class (:mod:`editloop.lsp.params`), calls the handler,
serialises its result, and turns errors into LSP errors: an Editloop error keeps its message
(invalid arguments as -32602), anything else is logged with its traceback and reported.

:data:`ROUTES` names every handler without importing it: the handler modules and the params classes
load on a command's first call, so they add nothing to the server's start (``editloop bench system``).
"""

from __future__ import annotations

import importlib
import inspect
import logging
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from pygls.exceptions import JsonRpcException

from ..errors import EditloopError
from .wire import parse, to_json

if TYPE_CHECKING:
    from .server import EditloopServer

log = logging.getLogger(__name__)

INVALID_PARAMS = -32602
REQUEST_FAILED = -32803

Handler = Callable[["EditloopServer", Any], Any]


class Route(NamedTuple):
    module: str  # under editloop.lsp
    function: str
    synchronous: bool  # runs before the next message is read (a didChange right after track must see the region)


ROUTES: dict[str, Route] = {
    "editloop.track": Route("commands", "track", True),
    "editloop.generate": Route("commands", "generate", False),
    "editloop.accept": Route("commands", "accept", False),
    "editloop.reject": Route("commands", "reject", False),
    "editloop.region": Route("commands", "region", False),
    "editloop.stats": Route("commands", "stats", False),
    "editloop.forget": Route("commands", "forget", False),
    "editloop.advanceClock": Route("commands", "advance_clock", False),
    "editloop.inlineAccepted": Route("inline", "inline_accepted", False),
    "editloop.train": Route("training", "train", False),
    "editloop.cancel": Route("training", "cancel", False),
    "editloop.runs": Route("training", "runs", True),
    "editloop.buildBatch": Route("training", "build_batch", False),
    "editloop.export": Route("training", "export", False),
}
"""Every ``workspace/executeCommand`` the server answers; ``params.COMMANDS`` types each one."""


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


def register_commands(server: "EditloopServer", routes: dict[str, Route] = ROUTES) -> None:
    """Register every route under its command name; nothing is imported until a command arrives."""
    for name, route in routes.items():
        server.command(name)(_endpoint(name, route))


class _Bound(NamedTuple):
    fn: Handler
    params_cls: type
    result_cls: type


def resolve(name: str, route: Route) -> _Bound:
    """The handler and the params/result classes of ``name`` (imports them: first call only)."""
    from .params import COMMANDS

    fn = getattr(importlib.import_module(f"{__package__}.{route.module}"), route.function)
    if inspect.iscoroutinefunction(fn) == route.synchronous:
        raise TypeError(f"route {name}: {route.module}.{route.function} is {'async' if route.synchronous else 'sync'}")
    return _Bound(fn, *COMMANDS[name])


def _endpoint(name: str, route: Route) -> Callable[..., Any]:
    """The untyped ``(ls, *args)`` function pygls calls, synchronous when the route is."""
    bound: list[_Bound] = []

    def prepare(args: tuple[Any, ...]) -> tuple[Handler, Any]:
        if not bound:
            bound.append(resolve(name, route))
        return bound[0].fn, parse(bound[0].params_cls, args, name)

    def check(result: Any) -> Any:
        if not isinstance(result, bound[0].result_cls):
            raise TypeError(f"{name} answered {type(result).__name__}, not {bound[0].result_cls.__name__}")
        return to_json(result)

    if route.synchronous:

        def endpoint(ls, *args: Any) -> Any:  # unannotated ls: pygls evaluates these annotations
            try:
                fn, params = prepare(args)
                return check(fn(ls, params))
            except Exception as exc:  # noqa: BLE001 - the server never dies of a command
                raise as_lsp_error(exc, name) from None

    else:

        async def endpoint(ls, *args: Any) -> Any:  # type: ignore[misc]
            try:
                fn, params = prepare(args)
                return check(await fn(ls, params))
            except Exception as exc:  # noqa: BLE001
                raise as_lsp_error(exc, name) from None

    endpoint.__name__ = endpoint.__qualname__ = route.function
    return endpoint

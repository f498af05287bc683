"""Editloop: capture how developers fix AI output, and turn the fixes into a better model."""

from typing import Any

__version__ = "0.1.0"
__all__ = ["Editloop", "__version__"]


def __getattr__(name: str) -> Any:  # lazy: `import editloop` stays cheap for the server's start
    if name == "Editloop":
        from .api import Editloop

        return Editloop
    raise AttributeError(name)

"""``quanta serve``: one process, FastAPI on uvicorn, serving the platform's ports over HTTP.

The server routes, authenticates, renders problem details and streams; every read goes through the
data plane and its one decision point (``quanta.read``), every byte of data comes from the ports
(``quanta.ports.rest``, ``quanta.ports.downloads``). Needs the ``serve`` extra.
"""

from __future__ import annotations

import importlib.util

from quanta.errors import MissingExtraError

_NEEDED = {"fastapi": "fastapi", "uvicorn": "uvicorn", "prometheus_client": "prometheus-client", "orjson": "orjson"}


def require_serve_extra() -> None:
    """:class:`MissingExtraError` naming the ``serve`` extra when one of its packages is missing."""
    for module, package in _NEEDED.items():
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(package, "serve")

"""A pure ASGI middleware: one structured JSON line per request on the ``quanta.access`` logger,
and the port metrics. It logs the route's *template*, never the path or query (they can hold
key and filter values), never a header (the token), never a body."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("quanta.access")


class AccessLog:
    """Wraps an ASGI app: times each HTTP request to its last byte, then logs and counts it (as the
    last byte is handed over, so a client never sees a response that is not counted yet)."""

    def __init__(self, app: Any, observe: Callable[[str, str, int, float], None]) -> None:
        """``observe(product, port, status, seconds)``: counts each request (metrics, SLIs)."""
        self.app = app
        self.observe = observe

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        facts: dict[str, Any] = {"status": 500, "bytes": 0, "logged": False}

        def done() -> None:
            if facts["logged"]:
                return
            facts["logged"] = True
            self._record(scope, facts["status"], facts["bytes"], time.perf_counter() - started)

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                facts["status"] = message["status"]
            elif message["type"] == "http.response.body":
                facts["bytes"] += len(message.get("body", b""))
                if not message.get("more_body", False):
                    done()  # counted before the last byte leaves: a client never sees a response not yet counted
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            done()

    def _record(self, scope: dict[str, Any], status: int, size: int, seconds: float) -> None:
        state = scope.get("state") or {}
        route = scope.get("route")
        product = str(state.get("product", ""))
        port = str(state.get("port", "")) or _kind(scope)
        self.observe(product, port, status, seconds)
        if log.isEnabledFor(logging.INFO):
            client = scope.get("client")
            line = {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "method": scope.get("method"),
                "route": getattr(route, "path", None) or "(unmatched)",
                "status": status,
                "bytes": size,
                "ms": round(seconds * 1000, 2),
                "client": client[0] if client else None,
                "principal": state.get("principal"),
                "product": product or None,
                "port": port or None,
                "format": state.get("format"),
            }
            log.info(json.dumps(line, separators=(",", ":")))


def _kind(scope: dict[str, Any]) -> str:
    path = str(scope.get("path", ""))
    return "health" if path.startswith("/api/v1/health") or path.startswith("/api/v1/ready") else ""

"""Errors as RFC 9457 problem details (``application/problem+json``), rendered in this one place.

Bad input is always a 4xx with a reason: the ``QuantaError`` tree maps to statuses here, request
validation and unknown routes too; only an unexpected failure is a 500, and it shows no detail.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from quanta.catalog import CatalogUnavailable
from quanta.catalog.audit import AuditUnavailable
from quanta.errors import (
    AccessDenied,
    BadRequest,
    ConfigError,
    Conflict,
    Gone,
    NotAcceptable,
    NotFound,
    QuantaError,
)
from quanta.read.plane import QueryError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("quanta.server")


class Unauthenticated(QuantaError):
    """No credentials, or credentials that do not authenticate (HTTP 401); ``presented``: a token
    was sent (RFC 6750 then names the error ``invalid_token``)."""

    def __init__(self, message: str, presented: bool = True) -> None:
        super().__init__(message)
        self.presented = presented


class TooManyFailures(QuantaError):
    """Too many failed authentications from this source (HTTP 429)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ContentTooLarge(QuantaError):
    """A request body beyond what the route accepts (HTTP 413), refused before it is read."""


_STATUSES: list[tuple[type[Exception], int, str]] = [
    (ContentTooLarge, 413, "content-too-large"),
    (Unauthenticated, 401, "not-authenticated"),
    (TooManyFailures, 429, "too-many-failures"),
    (NotAcceptable, 406, "not-acceptable"),
    (BadRequest, 400, "bad-request"),
    (Gone, 410, "gone"),
    (NotFound, 404, "not-found"),
    (AccessDenied, 403, "access-denied"),
    (Conflict, 409, "conflict"),
    (ConfigError, 503, "not-configured"),
    (AuditUnavailable, 503, "audit-unavailable"),
    (CatalogUnavailable, 503, "catalog-unavailable"),
    (QueryError, 400, "query-refused"),
    (QuantaError, 400, "bad-request"),
]
_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Access denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    410: "Gone",
    413: "Content too large",
    429: "Too many failed authentications",
    500: "Internal server error",
    504: "Gateway timeout",
    503: "Service unavailable",
}


def problem(
    status: int, slug: str, detail: str, instance: str, *, invalid_token: bool = True, **extra: Any
) -> JSONResponse:
    body = {"type": f"urn:quanta:problem:{slug}", "title": _TITLES.get(status, "Error"), "status": status}
    body |= {"detail": detail, "instance": instance} | {k: v for k, v in extra.items() if v is not None}
    headers: dict[str, str] = {"Cache-Control": "no-store"}
    if status == 401:
        reason = detail.replace('"', "'").replace("\\", "/")
        error = (
            f'error="invalid_token", error_description="{reason}"' if invalid_token else f'error_description="{reason}"'
        )
        headers["WWW-Authenticate"] = f'Bearer realm="quanta", {error}'
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_of(exc: Exception) -> tuple[int, str]:
    """The HTTP status and title an error answers with (500 for anything unexpected)."""
    for kind, status, _slug in _STATUSES:
        if isinstance(exc, kind):
            return status, _TITLES.get(status, "Error")
    return 500, _TITLES[500]


def _quanta(request: Request, exc: Exception) -> JSONResponse:
    for kind, status, slug in _STATUSES:
        if isinstance(exc, kind):
            presented = getattr(exc, "presented", True)
            param = getattr(exc, "param", None)
            response = problem(status, slug, str(exc), request.url.path, invalid_token=presented, param=param)
            if isinstance(exc, TooManyFailures):
                response.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
            return response
    raise exc  # pragma: no cover - QuantaError is the last entry


def _validation(request: Request, exc: Exception) -> JSONResponse:
    errors: list[dict[str, Any]] = list(getattr(exc, "errors", list)())
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("path", "query"))
    detail = f"'{where}': {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid request"))
    return problem(400, "bad-request", detail, request.url.path, param=where or None)


def _http(request: Request, exc: Exception) -> JSONResponse:
    status = getattr(exc, "status_code", 500)
    detail = str(getattr(exc, "detail", "") or _TITLES.get(status, "error"))
    if status == 404:
        detail = f"no route {request.url.path}"
    response = problem(status, "http", detail, request.url.path)
    for name, value in (getattr(exc, "headers", None) or {}).items():
        response.headers[name] = value
    return response


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected failure on %s", request.url.path)
    return problem(500, "internal", "the server failed unexpectedly; it has been logged", request.url.path)


def install(app: FastAPI) -> None:
    """Render every error of ``app`` as problem details."""
    app.add_exception_handler(QuantaError, _quanta)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)

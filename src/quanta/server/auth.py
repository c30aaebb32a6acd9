"""Who is asking: ``Authorization: Bearer <token>`` authenticated by the platform (API tokens,
and whatever else ``Platform.authenticate`` accepts), with the client's address as the source
failures are limited by. The server decides nothing itself: reads ask the data plane."""

from __future__ import annotations

from fastapi import Request

from quanta.access import Principal
from quanta.errors import AccessDenied
from quanta.project.platform import Platform
from quanta.server.problems import TooManyFailures, Unauthenticated


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticate(request: Request, platform: Platform) -> Principal:
    """The principal the request's bearer token stands for; 401 (or 429) with the reason otherwise."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("no credentials: send 'Authorization: Bearer <token>'", presented=False)
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'", presented=False)
    source = client_address(request)
    wait = platform.limiter.retry_after(source)
    if wait is not None:
        raise TooManyFailures(f"too many failed authentications from {source}: retry in {wait:.0f} s", wait)
    try:
        principal = platform.authenticate(token.strip(), source=source)
    except AccessDenied as exc:
        raise Unauthenticated(str(exc)) from None
    request.state.principal = principal.id
    return principal

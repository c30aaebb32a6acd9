"""Who is looking at a page: a bearer token (scripts, exactly as the API) or the session cookie
(browsers); signing in and out; the CSRF check of every form a browser posts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.responses import Response

from quanta.access import Principal
from quanta.access.credentials import TOKEN_PREFIX, parse_token
from quanta.errors import AccessDenied, BadRequest, NotFound
from quanta.server.auth import authenticate, client_address
from quanta.server.problems import ContentTooLarge, TooManyFailures, Unauthenticated
from quanta.server.state import state_of
from quanta.web.session import ANCHOR_COOKIE, CSRF_FIELD, SESSION_COOKIE, SESSION_HOURS, SessionKeys, new_anchor

MAX_FORM_BYTES = 64 * 1024


@dataclass(frozen=True)
class Viewer:
    """A signed-in principal and how it signed in."""

    principal: Principal
    session: str | None = None
    """The session's id (None: a bearer token, which needs no CSRF token)."""

    @property
    def anchor(self) -> str | None:
        return self.session


def keys(request: Request) -> SessionKeys:
    return SessionKeys(state_of(request).key)


def viewer_of(request: Request) -> Viewer | None:
    """The page's viewer; None when nobody is signed in (or the session ended). A bad bearer
    token is a 401, as on the API."""
    request.state.port = "web"
    if request.headers.get("authorization"):
        return Viewer(authenticate(request, state_of(request).platform))
    credential = keys(request).open(request.cookies.get(SESSION_COOKIE))
    if credential is None:
        return None
    platform = state_of(request).platform
    session = platform.catalog.sessions.find(credential)
    if session is None:
        return None  # signed out (on any process), expired, or never ours
    if session.kind == "oidc" and session.principal is not None:
        claims = session.principal
        principal = Principal(
            session.principal_id,
            frozenset(claims.get("roles", ())),
            dict(claims.get("attributes", {})),
            bool(claims.get("admin", False)),
            claims.get("team"),
        )
    else:
        try:
            principal = platform.principal(session.principal_id)  # its roles as of now
        except NotFound:
            return None  # removed since
    request.state.principal = principal.id
    return Viewer(principal, session.id)


def anchor_of(request: Request, viewer: Viewer | None) -> str:
    """The anchor this page's forms are signed under (a fresh pre-session one if needed)."""
    if viewer is not None and viewer.anchor:
        return viewer.anchor
    existing = request.cookies.get(ANCHOR_COOKIE)
    anchor = existing if existing and 16 <= len(existing) <= 64 else new_anchor()
    request.state.new_anchor = anchor if anchor != existing else None
    return anchor


def secure_cookies(request: Request) -> bool:
    return state_of(request).options.tls is not None or request.url.scheme == "https"


def set_anchor_cookie(request: Request, response: Response) -> None:
    anchor = getattr(request.state, "new_anchor", None)
    if anchor:
        response.set_cookie(
            ANCHOR_COOKIE, anchor, httponly=True, samesite="strict", secure=secure_cookies(request), path="/"
        )


async def form_of(request: Request, viewer: Viewer | None) -> dict[str, list[str]]:
    """A posted form's fields, after the CSRF check (a bearer-token caller needs none: it sends no
    ambient credentials). A foreign Origin, a missing or wrong CSRF token is a 403."""
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise AccessDenied("this form was posted from another site")
    body = await _bounded_body(request)
    fields: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False, max_num_fields=200)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("the form is not URL-encoded text") from exc
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    if viewer is not None and viewer.session is None:
        return fields
    anchor = viewer.anchor if viewer is not None else request.cookies.get(ANCHOR_COOKIE)
    if not keys(request).csrf_matches(anchor, (fields.get(CSRF_FIELD) or [""])[-1]):
        raise AccessDenied("the form's CSRF token is missing or does not match: reload the page and try again")
    return fields


async def _bounded_body(request: Request) -> bytes:
    """The request body, refused (413) past :data:`MAX_FORM_BYTES` before more of it is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise ContentTooLarge(f"a form is at most {MAX_FORM_BYTES // 1024} KiB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise ContentTooLarge(f"a form is at most {MAX_FORM_BYTES // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


def sign_in(request: Request, token: str) -> tuple[Principal, str]:
    """Check an API token and start a session of its principal: the principal and the cookie."""
    platform = state_of(request).platform
    source = client_address(request)
    wait = platform.limiter.retry_after(source)
    if wait is not None:
        raise TooManyFailures(f"too many failed sign-ins from {source}: retry in {wait:.0f} s", wait)
    if not token.strip().startswith(f"{TOKEN_PREFIX}_"):
        raise Unauthenticated("sign in with an API token (qt_…), or through your identity provider")
    try:
        principal = platform.authenticate(token.strip(), source=source)
    except AccessDenied as exc:
        raise Unauthenticated(str(exc)) from None
    token_id = parse_token(token.strip())
    found = platform.catalog.access.token(token_id) if token_id else None
    lifetime = timedelta(hours=SESSION_HOURS)
    if found is not None and found[0].expires_at is not None:  # never beyond the token's own expiry
        lifetime = min(lifetime, found[0].expires_at - datetime.now(UTC))
    return principal, start_session(request, principal, "token", lifetime, token_id)


def start_session(
    request: Request, principal: Principal, kind: str, lifetime: timedelta, token_id: str | None = None
) -> str:
    """A new session of ``principal`` in the catalog (``oidc``: kept as its claims made it): the cookie."""
    claims: dict[str, Any] | None = None
    if kind == "oidc":
        roles, attributes = sorted(principal.roles), dict(principal.attributes)
        claims = {"roles": roles, "team": principal.team, "attributes": attributes, "admin": principal.owner}
    catalog = state_of(request).platform.catalog
    expires = datetime.now(UTC) + min(lifetime, timedelta(hours=SESSION_HOURS))
    credential, _ = catalog.sessions.start(principal.id, kind, expires, claims, token_id)
    request.state.principal = principal.id
    return keys(request).seal(credential)


def set_session_cookie(request: Request, response: Response, cookie: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )


def sign_out(request: Request, viewer: Viewer | None, response: Response) -> None:
    """End the session in the catalog (so on every process at once) and drop the cookie."""
    if viewer is not None and viewer.session is not None:
        state_of(request).platform.catalog.sessions.revoke(viewer.session)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request))

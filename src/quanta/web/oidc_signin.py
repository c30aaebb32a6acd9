"""Signing in through the OIDC provider: the authorization code flow with PKCE (RFC 7636, S256).

``/signin/oidc`` sends the browser to the provider with a fresh ``state``, ``nonce`` and code
challenge, kept in a short-lived cookie signed with the server key; ``/signin/oidc/callback``
checks the state, exchanges the code (with the verifier, and the client secret of a confidential
client) at the token endpoint, verifies the ID token (signature, issuer, the client id as its
audience, the nonce) and the access token exactly as a bearer token, and starts a session of the
principal the access token's claims make, for as long as that token lives (at most 12 hours).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from quanta.access.oidc import principal_from_claims
from quanta.errors import AccessDenied, ConfigError, NotFound
from quanta.server.auth import client_address
from quanta.server.problems import TooManyFailures, Unauthenticated
from quanta.server.state import state_of
from quanta.spec.mesh import OidcSettings, check_endpoint
from quanta.web.render import html_errors, see_other
from quanta.web.viewer import keys, secure_cookies, set_session_cookie, start_session

router = APIRouter(include_in_schema=False)
FLOW_COOKIE = "quanta_oidc"
FLOW_SECONDS = 600
CALLBACK = "/signin/oidc/callback"
TIMEOUT_S = 10.0
OAUTH_ERRORS = frozenset(
    {
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "interaction_required",
        "login_required",
        "account_selection_required",
        "consent_required",
        "request_not_supported",
    }
)
"""The authorization endpoint's error codes (RFC 6749 4.1.2.1, OpenID Connect Core 3.1.2.6)."""
_discovered: dict[str, tuple[float, dict[str, str]]] = {}
_lock = threading.Lock()


def configured(request: Request) -> OidcSettings | None:
    """The OIDC settings when the web catalog may sign in through the provider."""
    settings = state_of(request).platform.oidc
    return settings if settings is not None and settings.client_id else None


def _endpoints(settings: OidcSettings) -> tuple[str, str]:
    """The authorization and token endpoints: configured, else from the issuer's discovery document
    (fetched at most every 10 minutes)."""
    if settings.authorization_endpoint and settings.token_endpoint:
        return settings.authorization_endpoint, settings.token_endpoint
    import httpx

    with _lock:
        cached = _discovered.get(settings.issuer)
        if cached is None or time.monotonic() - cached[0] > FLOW_SECONDS:
            url = settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            try:
                document = httpx.get(url, timeout=TIMEOUT_S).raise_for_status().json()
                found = {
                    name: check_endpoint(str(document[name])) for name in ("authorization_endpoint", "token_endpoint")
                }
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                raise ConfigError(f"the identity provider's discovery document {url} is unusable: {exc}") from None
            cached = _discovered[settings.issuer] = (time.monotonic(), found)
    discovered = cached[1]
    return (
        settings.authorization_endpoint or discovered["authorization_endpoint"],
        settings.token_endpoint or discovered["token_endpoint"],
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _seal_flow(request: Request, flow: dict[str, Any]) -> str:
    body = _b64(json.dumps(flow, separators=(",", ":")).encode())
    return f"{body}.{keys(request).csrf('oidc-flow:' + body)}"


def _open_flow(request: Request) -> dict[str, Any]:
    cookie = request.cookies.get(FLOW_COOKIE) or ""
    body, _, mac = cookie.partition(".")
    if not body or not keys(request).csrf_matches("oidc-flow:" + body, mac):
        raise AccessDenied("this sign-in did not start here (or its cookie was lost): start again")
    flow: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if flow.get("exp", 0) < time.time():
        raise AccessDenied("this sign-in took too long: start again")
    return flow


@router.get("/signin/oidc")
@html_errors
def begin(request: Request) -> Response:
    """To the provider's sign-in, coming back to the callback with a code."""
    from quanta.web.access_pages import safe_next

    settings = configured(request)
    if settings is None:
        raise NotFound("signing in through an identity provider is not configured here")
    authorize, _ = _endpoints(settings)
    verifier = secrets.token_urlsafe(48)
    flow = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "verifier": verifier,
        "next": safe_next(request.query_params.get("next")),
        "exp": int(time.time()) + FLOW_SECONDS,
    }
    query = {
        "response_type": "code",
        "client_id": settings.client_id,
        "redirect_uri": str(request.base_url).rstrip("/") + CALLBACK,
        "scope": " ".join(settings.scopes),
        "state": flow["state"],
        "nonce": flow["nonce"],
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
    }
    response = see_other(f"{authorize}{'&' if '?' in authorize else '?'}{urlencode(query)}")
    response.set_cookie(
        FLOW_COOKIE,
        _seal_flow(request, flow),
        max_age=FLOW_SECONDS,
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back
        secure=secure_cookies(request),
        path="/signin/oidc",
    )
    return response


@router.get(CALLBACK)
@html_errors
def callback(request: Request) -> Response:
    """Check the state, redeem the code, verify both tokens, start the session."""
    settings = configured(request)
    if settings is None:
        raise NotFound("signing in through an identity provider is not configured here")
    params = request.query_params
    platform = state_of(request).platform
    source = client_address(request)
    wait = platform.limiter.retry_after(source)
    if wait is not None:
        raise TooManyFailures(f"too many failed sign-ins from {source}: retry in {wait:.0f} s", wait)
    flow = _open_flow(request)  # first: nothing of a callback that did not start here is shown
    if not hmac.compare_digest(str(params.get("state", "")), str(flow["state"])):
        raise AccessDenied("the sign-in's state does not match: start again")
    if params.get("error"):  # only a standard error code, never the provider's free text (it is in the URL)
        code_name = params["error"] if params["error"] in OAUTH_ERRORS else "an unknown error"
        raise Unauthenticated(f"the identity provider did not sign you in: {code_name}")
    code = params.get("code")
    if not code or len(code) > 4096:
        raise Unauthenticated("the identity provider sent no authorization code")
    tokens = _redeem(request, settings, code, str(flow["verifier"]))
    try:
        identity = platform.oidc_claims(str(tokens.get("id_token", "")), audience=settings.client_id)
        if not hmac.compare_digest(str(identity.get("nonce", "")), str(flow["nonce"])):
            raise AccessDenied("the ID token's nonce does not match this sign-in")
        claims = platform.oidc_claims(str(tokens.get("access_token", "")))
        principal = principal_from_claims(claims, settings)
    except AccessDenied as exc:
        platform.limiter.failed(source)
        raise Unauthenticated(f"the identity provider's tokens are refused: {exc}") from None
    if identity.get("sub") != claims.get("sub"):
        raise Unauthenticated("the ID token and the access token name different subjects")
    platform.limiter.succeeded(source)
    lifetime = timedelta(seconds=max(0.0, float(claims["exp"]) - time.time()))
    response = see_other(str(flow["next"]))
    set_session_cookie(request, response, start_session(request, principal, "oidc", lifetime))
    response.delete_cookie(FLOW_COOKIE, path="/signin/oidc")
    return response


def _redeem(request: Request, settings: OidcSettings, code: str, verifier: str) -> dict[str, Any]:
    """The token endpoint's answer to the code (and the PKCE verifier)."""
    import httpx

    _, token_url = _endpoints(settings)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": str(request.base_url).rstrip("/") + CALLBACK,
        "client_id": settings.client_id or "",
        "code_verifier": verifier,
    }
    secret = state_of(request).options.oidc_client_secret
    auth = (settings.client_id or "", secret) if secret else None
    try:
        answer = httpx.post(token_url, data=form, auth=auth, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise ConfigError(f"the identity provider's token endpoint cannot be reached: {type(exc).__name__}") from None
    try:
        body: dict[str, Any] = answer.json()
    except ValueError:
        body = {}
    if answer.status_code != 200 or not isinstance(body, dict):
        reason = str(body.get("error_description") or body.get("error") or f"HTTP {answer.status_code}")[:200]
        raise Unauthenticated(f"the identity provider refused the code: {reason}")
    return body

"""A small OpenID provider on loopback for the web catalog's sign-in tests: discovery, an
authorization endpoint that signs the configured user in at once (or refuses), a token endpoint
that checks the code, the redirect URI, the client and the PKCE verifier (S256), and the JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt

from oidc_idp import public_jwk, rsa_key

AUDIENCE = "quanta"
CLIENT_ID = "quanta-web"


@dataclass
class Provider:
    url: str = ""
    user: dict[str, Any] = field(default_factory=lambda: {"sub": "olga", "roles": ["analysts"]})
    client_secret: str | None = None
    refuse: str | None = None
    """An OAuth error the authorization endpoint answers with instead of a code."""
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    tamper_nonce: bool = False

    def sign(self, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "iat": now, "exp": now + 300, **claims}
        return jwt.encode(body, rsa_key("web-idp"), algorithm="RS256", headers={"kid": "web-1"})

    def mesh_settings(self) -> str:
        """The ``oidc:`` block of mesh.yaml for this provider (endpoints by discovery)."""
        return (
            f"  oidc: {{issuer: '{self.url}', audience: {AUDIENCE}, jwks: '{self.url}/jwks', "
            f"clientId: {CLIENT_ID}, teamClaim: team, attributeClaims: {{country: country}}}}\n"
        )


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self._json(
                    200,
                    {
                        "issuer": provider.url,
                        "authorization_endpoint": f"{provider.url}/authorize",
                        "token_endpoint": f"{provider.url}/token",
                        "jwks_uri": f"{provider.url}/jwks",
                    },
                )
            elif parts.path == "/jwks":
                self._json(200, {"keys": [public_jwk(rsa_key("web-idp"), "web-1", "RS256")]})
            elif parts.path == "/authorize":
                self._authorize(query)
            else:
                self._json(404, {"error": "not_found"})

        def _authorize(self, query: dict[str, str]) -> None:
            if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                self._json(400, {"error": "invalid_request"})
                return
            if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
                self._json(400, {"error": "invalid_request", "error_description": "PKCE S256 is required"})
                return
            back: dict[str, str] = {"state": query.get("state", "")}
            if provider.refuse:
                back["error"] = provider.refuse
                back["error_description"] = "Your account is locked: call +1 555 0100 now"
            else:
                code = secrets.token_urlsafe(16)
                provider.codes[code] = {**query, "user": dict(provider.user)}
                back["code"] = code
            self.send_response(302)
            self.send_header("Location", f"{query['redirect_uri']}?{urlencode(back)}")
            self.end_headers()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            provider.token_requests.append(form)
            if urlsplit(self.path).path != "/token" or form.get("grant_type") != "authorization_code":
                self._json(400, {"error": "unsupported_grant_type"})
                return
            if provider.client_secret is not None:
                expected = base64.b64encode(f"{CLIENT_ID}:{provider.client_secret}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._json(401, {"error": "invalid_client"})
                    return
            issued = provider.codes.pop(form.get("code", ""), None)  # a code is redeemed once
            if issued is None or issued["redirect_uri"] != form.get("redirect_uri"):
                self._json(400, {"error": "invalid_grant", "error_description": "unknown or used code"})
                return
            challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
            if challenge.rstrip(b"=").decode() != issued["code_challenge"]:
                self._json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
                return
            user = issued["user"]
            nonce = "forged" if provider.tamper_nonce else issued.get("nonce")
            self._json(
                200,
                {
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "access_token": provider.sign(aud=AUDIENCE, **user),
                    "id_token": provider.sign(aud=CLIENT_ID, nonce=nonce, sub=user["sub"]),
                },
            )

    return Handler


@contextmanager
def running_provider() -> Iterator[Provider]:
    provider = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()

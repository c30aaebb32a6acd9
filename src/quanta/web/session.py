"""Browser sessions: a signed cookie holding a session credential, and CSRF tokens.

Signing in (with an API token, or through the OIDC provider) starts a session in the catalog
(``catalog.sessions``: its id and the SHA-256 of its secret, for at most :data:`SESSION_HOURS`),
so every server process that shares the catalog accepts it and signing out ends it everywhere.
The cookie is ``<credential>.<base64url HMAC-SHA256>`` under the server key
(``QUANTA_SERVER_SECRET``, shared by every process; a random key per process when unset): a
cookie altered or minted elsewhere is refused before the catalog is asked. A form carries a CSRF
token, the HMAC of its anchor: the session's id when signed in, else a random pre-session cookie
(so sign-in itself cannot be forged either).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SESSION_COOKIE = "quanta_session"
ANCHOR_COOKIE = "quanta_csrf"
SESSION_HOURS = 12
CSRF_FIELD = "csrf"


class SessionKeys:
    """Signs and checks session cookies and CSRF tokens with one key (domain-separated)."""

    def __init__(self, server_key: bytes) -> None:
        self._key = hmac.new(server_key, b"quanta-web-session", hashlib.sha256).digest()

    def _mac(self, purpose: bytes, value: str) -> str:
        digest = hmac.new(self._key, purpose + b"\0" + value.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def seal(self, credential: str) -> str:
        """The cookie value carrying a session's ``credential``."""
        return f"{credential}.{self._mac(b'session', credential)}"

    def open(self, cookie: str | None) -> str | None:
        """The credential a cookie carries, or None when it is absent, malformed or not signed by us."""
        if not cookie or "." not in cookie or len(cookie) > 512:
            return None
        token, _, mac = cookie.rpartition(".")
        return token if hmac.compare_digest(mac, self._mac(b"session", token)) else None

    def csrf(self, anchor: str) -> str:
        """The CSRF token of forms shown under ``anchor``."""
        return self._mac(b"csrf", anchor)

    def csrf_matches(self, anchor: str | None, presented: str | None) -> bool:
        return bool(anchor) and bool(presented) and hmac.compare_digest(self.csrf(anchor or ""), presented or "")


def new_anchor() -> str:
    """A random pre-session CSRF anchor."""
    return secrets.token_urlsafe(24)

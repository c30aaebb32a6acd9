"""Bearer-token verification with PyJWT: signature against the JWKS, then issuer, audience, expiry.

The order of checks, each refusal an :class:`~quanta.errors.AccessDenied` saying why (never
showing the token): the shape of a compact JWS; the header's ``alg`` in the allowed asymmetric
list (so ``none`` and ``HS256`` — a public key used as a shared secret — never get further); the
key its ``kid`` names in the JWKS (refetched once for an unknown id, rate-limited); the key's own
``alg``, when it declares one, equal to the header's; the signature; ``exp`` (required), ``nbf``
and ``iat`` with the configured leeway; ``iss`` and ``aud`` (both required, exact); the subject.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import jwt

from quanta.access.oidc.claims import principal_from_claims
from quanta.access.oidc.jwks import JwksSource, jwks_source
from quanta.access.principal import Principal
from quanta.errors import AccessDenied
from quanta.spec.mesh import ASYMMETRIC_ALGORITHMS, OidcSettings

MAX_TOKEN = 16 * 1024
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_NAMED = frozenset({*ASYMMETRIC_ALGORITHMS, "none", "HS256", "HS384", "HS512"})
"""Algorithm names a refusal may repeat (any other header value is not echoed)."""


class OidcVerifier:
    """Verifies OIDC / JWT bearer tokens as ``settings`` say and maps their claims to principals."""

    def __init__(
        self, settings: OidcSettings, jwks: JwksSource | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self.jwks = jwks or jwks_source(settings.jwks, settings.jwks_ttl, settings.jwks_refetch, clock)

    def authenticate(self, token: str) -> Principal:
        """The principal a valid bearer token stands for."""
        return principal_from_claims(self.claims(token), self.settings)

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``; :class:`AccessDenied` saying why it is refused,
        :class:`~quanta.access.oidc.jwks.JwksUnavailable` when no key set can be loaded."""
        if len(token) > MAX_TOKEN or not _COMPACT_JWS.fullmatch(token):
            raise AccessDenied("the bearer token is neither an API token nor a JWT")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AccessDenied("the bearer token is malformed (its header is not a JWS header)") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if not isinstance(algorithm, str) or algorithm not in self.settings.algorithms:
            shown = f" '{algorithm}'" if isinstance(algorithm, str) and algorithm in _NAMED else ""
            raise AccessDenied(
                f"the bearer token's algorithm{shown} is not accepted (accepted: {', '.join(self.settings.algorithms)})"
            )
        if kid is not None and not isinstance(kid, str):
            raise AccessDenied("the bearer token is malformed (its key id is not a string)")
        key = self._key(kid, algorithm)
        settings = self.settings
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway,
                options={"require": ["exp", "iss", "aud"], "enforce_minimum_key_length": True},
            )
        except jwt.ExpiredSignatureError:
            raise AccessDenied("the bearer token has expired") from None
        except jwt.ImmatureSignatureError:
            raise AccessDenied("the bearer token is not valid yet (nbf or iat is in the future)") from None
        except jwt.InvalidAudienceError:
            raise AccessDenied(f"the bearer token is not meant for this audience ('{settings.audience}')") from None
        except jwt.InvalidIssuerError:
            raise AccessDenied(f"the bearer token was not issued by '{settings.issuer}'") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AccessDenied(f"the bearer token has no '{exc.claim}' claim") from None
        except jwt.InvalidSignatureError:
            raise AccessDenied("the bearer token's signature does not verify") from None
        except jwt.exceptions.InvalidSubjectError:
            raise AccessDenied("the bearer token's 'sub' claim is not a string") from None
        except jwt.InvalidKeyError:
            raise AccessDenied("the bearer token is signed with a key too weak to trust") from None
        except jwt.PyJWTError:
            raise AccessDenied("the bearer token is malformed") from None

    def _key(self, kid: str | None, algorithm: str) -> jwt.PyJWK:
        try:
            key = self.jwks.lookup(kid, algorithm)
        except jwt.PyJWTError:
            raise AccessDenied(f"the bearer token's key does not fit its algorithm '{algorithm}'") from None
        if key is None and kid is None:
            raise AccessDenied("the bearer token names no key id and the JWKS holds more than one key")
        if key is None:
            raise AccessDenied("the bearer token names a key id the JWKS does not hold (unknown key id)")
        return key

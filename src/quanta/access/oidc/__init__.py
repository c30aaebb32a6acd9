"""OIDC / JWT bearer tokens: verified with PyJWT against the IdP's JWKS, claims mapped to a principal.

Imported only when a bearer token arrives (PyJWT and cryptography stay off the CLI path).
"""

from quanta.access.oidc.claims import claim, principal_from_claims
from quanta.access.oidc.jwks import FileJwks, JwksUnavailable, KeySet, UrlJwks, parse_jwks
from quanta.access.oidc.verify import OidcVerifier

__all__ = [
    "FileJwks",
    "JwksUnavailable",
    "KeySet",
    "OidcVerifier",
    "UrlJwks",
    "claim",
    "parse_jwks",
    "principal_from_claims",
]

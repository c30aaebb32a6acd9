"""A local identity provider for the OIDC tests: generated RSA and EC key pairs, the JWKS of their
public halves, and tokens signed with them (or with anything a test wants to try)."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from quanta.spec.mesh import OidcSettings

ISSUER = "https://idp.test/realms/acme"
AUDIENCE = "quanta"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@cache
def rsa_key(name: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """A generated RSA key pair, one per name (generated once per test session)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@cache
def ec_key(name: str) -> ec.EllipticCurvePrivateKey:
    """A generated P-256 key pair, one per name."""
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: PrivateKey, kid: str | None, alg: str | None = None) -> dict[str, Any]:
    """The public JWK of ``key`` with its key id (and ``alg`` when given)."""
    if isinstance(key, rsa.RSAPrivateKey):
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk["use"] = "sig"
    if kid is not None:
        jwk["kid"] = kid
    if alg is not None:
        jwk["alg"] = alg
    return jwk


@dataclass
class Idp:
    """Signs tokens; publishes the public keys of ``published`` (kid → private key) as a JWKS."""

    published: dict[str | None, PrivateKey] = field(default_factory=dict)
    extra_keys: list[dict[str, Any]] = field(default_factory=list)
    """Further JWKs published as they are (an oct key, a private key, …)."""

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(key, kid) for kid, key in self.published.items()] + self.extra_keys}

    def jwks_text(self) -> str:
        return json.dumps(self.jwks())

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "ann",
            "iat": now,
            "exp": now + 300,
            "roles": ["analysts"],
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(
        self,
        kid: str | None = "rsa-1",
        alg: str = "RS256",
        key: Any = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A token signed with ``key`` (default: the published key ``kid`` names)."""
        signing = key if key is not None else self.published[kid]
        header = dict(headers or {})
        if kid is not None:
            header["kid"] = kid
        return jwt.encode(self.claims(**claims), signing, algorithm=alg, headers=header)


def unsigned_token(claims: dict[str, Any], kid: Any = "rsa-1", alg: Any = "none", signature: str = "") -> str:
    """A token with ``alg: none`` (or any header values) and no signature (or ``signature``)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT', 'kid': kid})}.{part(claims)}.{signature}"


def settings(jwks: str, **overrides: Any) -> OidcSettings:
    """OIDC settings for the local IdP (by alias, as mesh.yaml writes them)."""
    return OidcSettings.model_validate({"issuer": ISSUER, "audience": AUDIENCE, "jwks": jwks, **overrides})

"""OIDC bearer tokens against a JWKS file, with locally generated RSA and EC key pairs: valid tokens
map their claims to a principal; wrong issuer, audience, expiry, signature, unknown key id,
``alg: none`` and HS256 key confusion are each refused, saying why and never showing the token."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from oidc_idp import AUDIENCE, ISSUER, Idp, ec_key, public_jwk, rsa_key, settings, unsigned_token
from quanta.access.oidc import FileJwks, JwksUnavailable, OidcVerifier
from quanta.errors import AccessDenied


@pytest.fixture
def idp() -> Idp:
    return Idp({"rsa-1": rsa_key("one"), "ec-1": ec_key("one")})


def _verifier(tmp_path: Path, idp: Idp, **overrides: Any) -> OidcVerifier:
    path = tmp_path / "jwks.json"
    path.write_text(idp.jwks_text())
    return OidcVerifier(settings(str(path), **overrides))


def _refused(verifier: OidcVerifier, token: str, says: str) -> None:
    with pytest.raises(AccessDenied) as raised:
        verifier.authenticate(token)
    message = str(raised.value)
    assert says in message, message
    for part in token.split("."):  # no part of the token is ever shown
        assert not part or part not in message


def test_an_rs256_and_an_es256_token_are_accepted(tmp_path: Path, idp: Idp) -> None:
    verifier = _verifier(tmp_path, idp)
    who = verifier.authenticate(idp.token("rsa-1", "RS256"))
    assert (who.id, who.roles, who.owner) == ("ann", {"analysts"}, False)
    assert verifier.authenticate(idp.token("ec-1", "ES256", sub="svc-recommender")).id == "svc-recommender"
    assert verifier.claims(idp.token())["iss"] == ISSUER


def _expired(idp: Idp) -> str:
    return idp.token(exp=int(time.time()) - 120, iat=int(time.time()) - 600)


def _hs256_with_the_public_key(idp: Idp) -> str:
    """Key confusion: an HMAC keyed with the RSA public key's PEM, which every client can read."""
    pem = (
        rsa_key("one")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT","kid":"rsa-1"}')
    payload = jwt.utils.base64url_encode(json.dumps(idp.claims()).encode())
    signature = hmac.new(pem, header + b"." + payload, hashlib.sha256).digest()
    return (header + b"." + payload + b"." + jwt.utils.base64url_encode(signature)).decode()


def _tampered(idp: Idp) -> str:
    header, _, signature = idp.token().split(".")
    _, payload, _ = idp.token(sub="root").split(".")
    return f"{header}.{payload}.{signature}"


REFUSALS = {
    "wrong issuer": (lambda idp: idp.token(iss="https://evil.test/"), f"not issued by '{ISSUER}'"),
    "no issuer": (lambda idp: idp.token(iss=None), "no 'iss' claim"),
    "wrong audience": (lambda idp: idp.token(aud="another-app"), f"not meant for this audience ('{AUDIENCE}')"),
    "audience list without ours": (lambda idp: idp.token(aud=["a", "b"]), "not meant for this audience"),
    "no audience": (lambda idp: idp.token(aud=None), "no 'aud' claim"),
    "expired": (_expired, "has expired"),
    "no expiry": (lambda idp: idp.token(exp=None), "no 'exp' claim"),
    "not yet valid": (lambda idp: idp.token(nbf=int(time.time()) + 600), "not valid yet"),
    "issued in the future": (lambda idp: idp.token(iat=int(time.time()) + 600), "not valid yet"),
    "signed by another key": (lambda idp: idp.token("rsa-1", key=rsa_key("attacker")), "signature does not verify"),
    "payload swapped": (_tampered, "signature does not verify"),
    "unknown key id": (lambda idp: idp.token("rsa-2", key=rsa_key("two")), "unknown key id"),
    "alg none": (lambda idp: unsigned_token(idp.claims()), "algorithm 'none' is not accepted"),
    "alg of the wrong type": (
        lambda idp: unsigned_token(idp.claims(), alg=["RS256"], signature="c2ln"),
        "algorithm is",
    ),
    "kid of the wrong type": (lambda idp: unsigned_token(idp.claims(), kid={"a": 1}, alg="RS256"), "malformed"),
    "subject not a string": (lambda idp: idp.token(sub=42), "'sub' claim is not a string"),
    "HS256 key confusion": (_hs256_with_the_public_key, "algorithm 'HS256' is not accepted"),
    "algorithm not allowed": (lambda idp: idp.token("rsa-1", "PS256"), "algorithm 'PS256' is not accepted"),
    "EC key named by an RS256 token": (lambda idp: idp.token("ec-1", "RS256", key=rsa_key("one")), "does not fit"),
    "no subject": (lambda idp: idp.token(sub=None), "no 'sub' claim naming its subject"),
    "empty subject": (lambda idp: idp.token(sub=""), "no 'sub' claim"),
    "subject with spaces": (lambda idp: idp.token(sub="ann smith"), "not a usable principal id"),
    "roles of the wrong shape": (lambda idp: idp.token(roles={"a": 1}), "neither a list of role names"),
    "not a JWT": (lambda idp: "Bearer-not-a-token", "neither an API token nor a JWT"),
    "garbage header": (lambda idp: "e30x." + idp.token().split(".", 1)[1], "malformed"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_each_bad_token_is_refused_saying_why(tmp_path: Path, idp: Idp, case: str) -> None:
    make, says = REFUSALS[case]
    _refused(_verifier(tmp_path, idp), make(idp), says)


def test_a_token_without_a_key_id_matches_only_a_jwks_of_one_key(tmp_path: Path, idp: Idp) -> None:
    token = idp.token(kid=None, key=rsa_key("one"))
    _refused(_verifier(tmp_path, idp), token, "no key id and the JWKS holds more than one key")
    single = Idp({None: rsa_key("one")})
    assert _verifier(tmp_path, single).authenticate(token).id == "ann"


def test_symmetric_encryption_and_private_keys_in_the_jwks_never_verify(tmp_path: Path) -> None:
    secret = b"k" * 32
    idp = Idp(
        {"rsa-1": rsa_key("one")},
        [
            {"kty": "oct", "kid": "shared", "k": jwt.utils.base64url_encode(secret).decode()},
            {**public_jwk(rsa_key("two"), "enc-key"), "use": "enc"},
            public_jwk(rsa_key("three"), "leaked") | {"d": "AQAB"},
        ],
    )
    verifier = _verifier(tmp_path, idp, algorithms=["RS256", "ES256"])
    for kid, key in (("enc-key", rsa_key("two")), ("leaked", rsa_key("three"))):
        _refused(verifier, idp.token(kid, key=key), "unknown key id")
    _refused(verifier, jwt.encode(idp.claims(), secret, "HS256", headers={"kid": "shared"}), "'HS256' is not accepted")


def test_a_key_that_declares_its_algorithm_is_used_only_for_it(tmp_path: Path) -> None:
    idp = Idp({}, [public_jwk(rsa_key("one"), "rsa-1", alg="RS512")])
    verifier = _verifier(tmp_path, idp, algorithms=["RS256", "RS512"])
    _refused(verifier, idp.token("rsa-1", "RS256", key=rsa_key("one")), "does not fit its algorithm 'RS256'")
    assert verifier.authenticate(idp.token("rsa-1", "RS512", key=rsa_key("one"))).id == "ann"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the test IdP signs with it
def test_a_weak_rsa_key_is_refused(tmp_path: Path) -> None:
    idp = Idp({"weak": rsa_key("weak", 1024)})
    _refused(_verifier(tmp_path, idp), idp.token("weak"), "too weak")


def test_leeway_tolerates_small_clock_skew_only(tmp_path: Path, idp: Idp) -> None:
    verifier = _verifier(tmp_path, idp, leeway=60)
    now = int(time.time())
    assert verifier.authenticate(idp.token(exp=now - 30)).id == "ann"
    assert verifier.authenticate(idp.token(nbf=now + 30)).id == "ann"
    _refused(verifier, idp.token(exp=now - 90), "expired")


# ---------------------------------------------------------------- claims → principal


def test_claims_map_to_roles_team_and_attributes(tmp_path: Path, idp: Idp) -> None:
    verifier = _verifier(
        tmp_path,
        idp,
        subjectClaim="preferred_username",
        rolesClaim="realm_access.roles",
        teamClaim="team",
        attributeClaims={"country": "country", "region": "address.region", "level": "level", "vip": "vip"},
    )
    token = idp.token(
        sub="0f3c-uuid",
        preferred_username="ann",
        realm_access={"roles": ["analysts", "crm-managers"]},
        team="sales",
        country="FR",
        address={"region": "EU"},
        level=3,
        vip=True,
    )
    who = verifier.authenticate(token)
    assert (who.id, who.roles, who.team) == ("ann", {"analysts", "crm-managers"}, "sales")
    assert who.attributes == {"country": "FR", "region": "EU", "level": "3", "vip": "true"}
    assert not who.owner


def test_roles_as_a_space_separated_string_or_a_claim_named_like_a_url(tmp_path: Path, idp: Idp) -> None:
    verifier = _verifier(tmp_path, idp, rolesClaim="scope")
    assert verifier.authenticate(idp.token(scope="openid  analysts crm-managers")).roles == {
        "openid",
        "analysts",
        "crm-managers",
    }
    namespaced = _verifier(tmp_path, idp, rolesClaim="https://quanta.example.com/roles")
    token = idp.token(**{"https://quanta.example.com/roles": ["analysts"]})
    assert namespaced.authenticate(token).roles == {"analysts"}


def test_missing_or_unusable_claims_give_nothing(tmp_path: Path, idp: Idp) -> None:
    verifier = _verifier(tmp_path, idp, attributeClaims={"country": "country", "regions": "regions"}, rolesClaim=None)
    who = verifier.authenticate(idp.token(roles=["admin"], regions=["EU", "US"]))
    assert (who.roles, who.attributes, who.team) == (frozenset(), {}, None)  # a row filter then shows no rows
    assert _verifier(tmp_path, idp).authenticate(idp.token(roles=None)).roles == frozenset()


def test_admin_comes_only_from_the_configured_admin_role(tmp_path: Path, idp: Idp) -> None:
    token = idp.token(roles=["analysts", "quanta-admin", "admin"])
    assert not _verifier(tmp_path, idp).authenticate(token).owner  # no adminRole: no token makes an admin
    verifier = _verifier(tmp_path, idp, adminRole="quanta-admin")
    assert verifier.authenticate(token).owner
    assert not verifier.authenticate(idp.token(roles=["analysts", "admin"])).owner


# ---------------------------------------------------------------- the JWKS file


def test_the_jwks_file_is_read_once_and_again_when_it_changes(tmp_path: Path, idp: Idp) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(idp.jwks_text())
    source = FileJwks(path)
    verifier = OidcVerifier(settings(str(path)), jwks=source)
    reads: list[Path] = []
    original = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(self)
        return original(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "read_bytes", counting)
        for _ in range(3):
            verifier.authenticate(idp.token())
        assert len(reads) == 1
        rotated = Idp({"rsa-2": rsa_key("two")})  # rotation: rsa-1 retired, rsa-2 in
        new = tmp_path / "jwks.json.new"
        new.write_text(rotated.jwks_text())
        os.replace(new, path)
        assert verifier.authenticate(rotated.token("rsa-2")).id == "ann"
        assert len(reads) == 2
    _refused(verifier, idp.token("rsa-1"), "unknown key id")


def test_a_broken_jwks_file_keeps_the_last_good_keys_and_a_missing_one_is_unavailable(tmp_path: Path, idp: Idp) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(idp.jwks_text())
    verifier = OidcVerifier(settings(str(path)))
    assert verifier.authenticate(idp.token()).id == "ann"
    path.write_text('{"keys": [')  # a half-written file
    assert verifier.authenticate(idp.token()).id == "ann"
    fresh = OidcVerifier(settings(str(path)))
    with pytest.raises(JwksUnavailable, match="not JSON"):
        fresh.authenticate(idp.token())
    with pytest.raises(JwksUnavailable, match=r"jwks-missing\.json: cannot read it"):
        OidcVerifier(settings(str(tmp_path / "jwks-missing.json"))).authenticate(idp.token())
    path.write_text('{"no": "keys"}')
    with pytest.raises(JwksUnavailable, match='"keys" list'):
        OidcVerifier(settings(str(path))).authenticate(idp.token())

"""``Platform.authenticate`` takes an API token or, with OIDC configured, a JWT bearer token: the
claims alone make a JWT's principal (a catalog principal of the same id lends it nothing), one
failure limiter counts both kinds, and PyJWT is imported only when a bearer token arrives."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from oidc_idp import Idp, rsa_key, settings
from quanta.access.oidc import JwksUnavailable
from quanta.catalog import Catalog, PrincipalRecord
from quanta.errors import AccessDenied
from quanta.project import Mesh
from quanta.project.platform import Platform


@pytest.fixture
def idp() -> Idp:
    return Idp({"rsa-1": rsa_key("one")})


@pytest.fixture
def platform(tmp_path: Path, idp: Idp) -> Iterator[Platform]:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(idp.jwks_text())
    oidc = settings(str(jwks), attributeClaims={"country": "country"}, adminRole="quanta-admin")
    opened = Platform(Catalog(f"sqlite:///{tmp_path / 'catalog.db'}"), None, oidc=oidc)
    yield opened
    opened.close()


def test_a_bearer_token_and_an_api_token_both_authenticate(platform: Platform, idp: Idp) -> None:
    who = platform.authenticate(idp.token(sub="svc-recommender", roles=["recommenders"], country="DE"), "10.0.0.1")
    assert (who.id, who.roles, who.attributes, who.owner) == (
        "svc-recommender",
        {"recommenders"},
        {"country": "DE"},
        False,
    )
    platform.add_principal(PrincipalRecord("bob", roles=("analysts",)))
    token, _ = platform.create_token("bob")
    assert platform.authenticate(token, "10.0.0.1").id == "bob"
    with pytest.raises(AccessDenied, match="invalid, expired or revoked token"):
        platform.authenticate("qt_0123456789abcdef_" + "x" * 43)  # the qt_ shape goes to the API tokens
    assert platform.authenticate(idp.token(roles=["quanta-admin"])).owner


def test_the_claims_alone_make_the_principal_a_catalog_admin_of_that_id_lends_nothing(
    platform: Platform, idp: Idp
) -> None:
    platform.add_principal(
        PrincipalRecord("ann", roles=("sales-managers",), team="sales", attributes={"country": "FR"}, admin=True)
    )
    who = platform.authenticate(idp.token(sub="ann", roles=["analysts"]))
    assert (who.roles, who.attributes, who.team, who.owner) == ({"analysts"}, {}, None, False)
    assert platform.principal("ann").owner  # the catalog's ann, with her API token, is still the admin


def test_bearer_failures_count_with_api_token_failures_per_source(platform: Platform, idp: Idp) -> None:
    platform.add_principal(PrincipalRecord("bob"))
    api_token, _ = platform.create_token("bob")
    for attempt in range(platform.limiter.max_failures):
        bad = idp.token(aud="another-app") if attempt % 2 else "qt_0123456789abcdef_" + "y" * 43
        with pytest.raises(AccessDenied):
            platform.authenticate(bad, "10.0.0.9")
    for good in (idp.token(), api_token):
        with pytest.raises(AccessDenied, match=r"too many failed authentications from 10\.0\.0\.9"):
            platform.authenticate(good, "10.0.0.9")
    assert platform.authenticate(idp.token(), "10.0.0.10").id == "ann"


def test_a_jwks_that_cannot_be_loaded_is_not_counted_against_the_caller(tmp_path: Path, idp: Idp) -> None:
    oidc = settings(str(tmp_path / "missing.json"))
    platform = Platform(Catalog(f"sqlite:///{tmp_path / 'catalog.db'}"), None, oidc=oidc)
    try:
        for _ in range(platform.limiter.max_failures + 2):
            with pytest.raises(JwksUnavailable):
                platform.authenticate(idp.token(), "10.0.0.1")
        assert platform.limiter.failures("10.0.0.1") == 0
    finally:
        platform.close()


def test_without_oidc_a_jwt_is_just_an_invalid_token(tmp_path: Path, idp: Idp) -> None:
    platform = Platform(Catalog(f"sqlite:///{tmp_path / 'catalog.db'}"), None)
    try:
        with pytest.raises(AccessDenied, match="invalid, expired or revoked token"):
            platform.authenticate(idp.token(), "10.0.0.1")
        assert platform.limiter.failures("10.0.0.1") == 1
    finally:
        platform.close()


def test_a_mesh_platform_finds_its_jwks_file_and_imports_pyjwt_only_for_a_bearer_token(
    mesh_dir: Path, idp: Idp
) -> None:
    (mesh_dir / "keys").mkdir()
    (mesh_dir / "keys" / "jwks.json").write_text(idp.jwks_text())
    path = mesh_dir / "mesh.yaml"
    block = f"  oidc: {{issuer: '{idp.claims()['iss']}', audience: quanta, jwks: keys/jwks.json}}\n"
    path.write_text(path.read_text().replace("platform:\n", "platform:\n" + block, 1))
    script = """
import json, sys
from pathlib import Path
from quanta.catalog import PrincipalRecord
from quanta.project import Mesh
platform = Mesh.load(Path(sys.argv[1])).platform
platform.add_principal(PrincipalRecord("bob"))
token, _ = platform.create_token("bob")
seen = {"api": platform.authenticate(token).id, "jwt_after_api_token": "jwt" in sys.modules}
seen["bearer"] = platform.authenticate(sys.argv[2]).id
seen["jwt_after_bearer"] = "jwt" in sys.modules
print(json.dumps(seen))
"""
    result = subprocess.run(
        [sys.executable, "-c", script, str(mesh_dir), idp.token(sub="carol")],
        cwd=mesh_dir.parent.parent,  # another folder: the JWKS path is the mesh's
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen == {"api": "bob", "jwt_after_api_token": False, "bearer": "carol", "jwt_after_bearer": True}
    assert Mesh.load(mesh_dir).settings().oidc is not None

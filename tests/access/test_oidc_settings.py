"""OIDC settings: ``oidc:`` under ``platform:`` or a profile (which replaces it whole), each field
overridable by ``QUANTA_OIDC_*``; a bad variable is named without its value, a bad ``oidc:`` is a
located spec error, a field missing everywhere names both places it may come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from quanta.errors import ConfigError, SpecError
from quanta.project import Mesh
from quanta.project.settings import resolve_standalone

OIDC = """\
  oidc:
    issuer: https://idp.example.com/realms/acme
    audience: quanta
    jwks: keys/jwks.json
    rolesClaim: realm_access.roles
    attributeClaims: {country: country}
"""


def _mesh(mesh_dir: Path, platform: str = OIDC, profiles: str = "") -> Path:
    path = mesh_dir / "mesh.yaml"
    text = path.read_text().replace("platform:\n", "platform:\n" + platform, 1)
    path.write_text(text.replace("domains:", profiles + "domains:", 1))
    return mesh_dir


def test_oidc_comes_from_the_platform_block(mesh_dir: Path) -> None:
    oidc = Mesh.load(_mesh(mesh_dir)).settings().oidc
    assert oidc is not None
    assert (oidc.issuer, oidc.audience, oidc.jwks, oidc.roles_claim) == (
        "https://idp.example.com/realms/acme",
        "quanta",
        "keys/jwks.json",
        "realm_access.roles",
    )
    assert (oidc.algorithms, oidc.subject_claim, oidc.attribute_claims) == (
        ["RS256", "ES256"],
        "sub",
        {"country": "country"},
    )
    assert (oidc.leeway, oidc.jwks_ttl, oidc.jwks_refetch, oidc.admin_role) == (30, 600, 60, None)
    assert oidc.under(mesh_dir).jwks == str(mesh_dir / "keys" / "jwks.json")
    assert Mesh.load(mesh_dir).settings().oidc is not None
    assert Mesh.load(_mesh_without(mesh_dir)).settings().oidc is None  # no oidc: API tokens only


def _mesh_without(mesh_dir: Path) -> Path:
    path = mesh_dir / "mesh.yaml"
    path.write_text(path.read_text().replace(OIDC, ""))
    return mesh_dir


def test_a_profile_replaces_the_oidc_block_as_a_whole(mesh_dir: Path) -> None:
    profile = (
        "profiles:\n  prod:\n    oidc: {issuer: 'https://login.example.com', audience: quanta-prod,\n"
        "           jwks: 'https://login.example.com/jwks', rolesClaim: null, adminRole: platform-admins}\n"
    )
    oidc = Mesh.load(_mesh(mesh_dir, profiles=profile)).settings("prod").oidc
    assert oidc is not None
    assert (oidc.issuer, oidc.jwks, oidc.roles_claim, oidc.attribute_claims, oidc.admin_role) == (
        "https://login.example.com",
        "https://login.example.com/jwks",
        None,
        {},
        "platform-admins",
    )


def test_each_variable_overrides_its_field(mesh_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "QUANTA_OIDC_AUDIENCE": "quanta-staging",
        "QUANTA_OIDC_JWKS": "https://idp.example.com/realms/acme/certs",
        "QUANTA_OIDC_ALGORITHMS": "RS256, ES384",
        "QUANTA_OIDC_SUBJECT_CLAIM": "preferred_username",
        "QUANTA_OIDC_ROLES_CLAIM": "groups",
        "QUANTA_OIDC_TEAM_CLAIM": "team",
        "QUANTA_OIDC_ATTRIBUTE_CLAIMS": "country=country, region=address.region",
        "QUANTA_OIDC_ADMIN_ROLE": "quanta-admins",
        "QUANTA_OIDC_LEEWAY": "10",
        "QUANTA_OIDC_JWKS_TTL": "300",
        "QUANTA_OIDC_JWKS_REFETCH": "15",
        "QUANTA_OIDC_CLIENT_ID": "quanta-web",
        "QUANTA_OIDC_AUTHORIZATION_ENDPOINT": "https://idp.example.com/realms/acme/auth",
        "QUANTA_OIDC_TOKEN_ENDPOINT": "https://idp.example.com/realms/acme/token",
        "QUANTA_OIDC_SCOPES": "openid, profile",
        "QUANTA_OIDC_ISSUER": "",  # empty: unset, the profile's stays
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    oidc = Mesh.load(_mesh(mesh_dir)).settings().oidc
    assert oidc is not None
    assert oidc.model_dump(by_alias=False) == {
        "issuer": "https://idp.example.com/realms/acme",
        "audience": "quanta-staging",
        "jwks": "https://idp.example.com/realms/acme/certs",
        "algorithms": ["RS256", "ES384"],
        "subject_claim": "preferred_username",
        "roles_claim": "groups",
        "team_claim": "team",
        "attribute_claims": {"country": "country", "region": "address.region"},
        "admin_role": "quanta-admins",
        "leeway": 10,
        "jwks_ttl": 300,
        "jwks_refetch": 15,
        "client_id": "quanta-web",
        "authorization_endpoint": "https://idp.example.com/realms/acme/auth",
        "token_endpoint": "https://idp.example.com/realms/acme/token",
        "scopes": ["openid", "profile"],
    }


def test_an_identity_provider_endpoint_must_be_https_or_loopback(
    mesh_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from quanta.errors import ConfigError

    monkeypatch.setenv("QUANTA_OIDC_TOKEN_ENDPOINT", "http://idp.example.com/token")
    with pytest.raises(ConfigError, match="must be an https:// URL"):
        Mesh.load(_mesh(mesh_dir)).settings()


def test_the_variables_alone_configure_oidc_without_a_mesh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTA_OIDC_ISSUER", "https://idp.example.com")
    monkeypatch.setenv("QUANTA_OIDC_AUDIENCE", "quanta")
    monkeypatch.setenv("QUANTA_OIDC_JWKS", "/etc/quanta/jwks.json")
    oidc = resolve_standalone("sqlite:///catalog.db").oidc
    assert oidc is not None and (oidc.issuer, oidc.jwks, oidc.roles_claim) == (
        "https://idp.example.com",
        "/etc/quanta/jwks.json",
        "roles",
    )
    assert resolve_standalone("sqlite:///catalog.db").catalog == "sqlite:///catalog.db"


def test_a_half_configured_oidc_names_every_place_it_looked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTA_OIDC_ISSUER", "https://idp.example.com")
    with pytest.raises(ConfigError) as raised:
        resolve_standalone("sqlite:///catalog.db")
    message = str(raised.value)
    for expected in ("OIDC needs `audience`", "QUANTA_OIDC_AUDIENCE", "OIDC needs `jwks`", "QUANTA_OIDC_JWKS"):
        assert expected in message
    assert "mesh.yaml" in message and "OIDC needs `issuer`" not in message


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("QUANTA_OIDC_ALGORITHMS", "RS256,HS256", "shared-secret algorithms"),
        ("QUANTA_OIDC_ALGORITHMS", "none", "are refused"),
        ("QUANTA_OIDC_ALGORITHMS", "RS257", "not an accepted algorithm"),
        ("QUANTA_OIDC_JWKS", "http://idp.example.com/certs", "https://"),
        ("QUANTA_OIDC_JWKS", "ftp://idp.example.com/certs", "https://"),
        ("QUANTA_OIDC_ISSUER", "  ", "must not be empty"),
        ("QUANTA_OIDC_ROLES_CLAIM", "realm roles", "without spaces"),
        ("QUANTA_OIDC_ATTRIBUTE_CLAIMS", "country", "name=claim pairs"),
        ("QUANTA_OIDC_ATTRIBUTE_CLAIMS", "Country=country", "pattern"),
        ("QUANTA_OIDC_LEEWAY", "plenty", "integer"),
        ("QUANTA_OIDC_LEEWAY", "-1", "greater than or equal to 0"),
        ("QUANTA_OIDC_JWKS_TTL", "0", "greater than or equal to 1"),
        ("QUANTA_OIDC_JWKS_REFETCH", "99999", "less than or equal to 3600"),
    ],
)
def test_every_bad_oidc_variable_is_named_and_its_value_never_shown(
    mesh_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    mesh = Mesh.load(_mesh(mesh_dir))
    with pytest.raises(ConfigError) as raised:
        mesh.settings()
    message = str(raised.value)
    assert message.startswith(f"{name}: ") and says in message, message
    if value.strip() not in ("", "none"):  # 'none' is named by the rule itself
        assert value.strip() not in message.replace(name, ""), message
    with pytest.raises(ConfigError, match=name):
        resolve_standalone("sqlite:///catalog.db")


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("    algorithms: [RS256, HS256]\n", "shared-secret algorithms"),
        ("    jwks: http://idp.example.com/certs\n", "https://"),
        ("    leeway: 3600\n", "less than or equal to 300"),
        ("    clientSecret: hunter2\n", "clientSecret"),
    ],
)
def test_a_bad_oidc_block_is_a_located_spec_error(mesh_dir: Path, line: str, says: str) -> None:
    block = OIDC.replace("    jwks: keys/jwks.json\n", "") if "jwks" in line else OIDC
    _mesh(mesh_dir, block + line)
    with pytest.raises(SpecError) as raised:
        Mesh.load(mesh_dir)
    rendered = str(raised.value)
    assert "mesh.yaml:" in rendered and "oidc" in rendered and says in rendered, rendered

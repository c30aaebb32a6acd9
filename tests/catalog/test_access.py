"""The access store on SQLite and PostgreSQL: principals round trip; API tokens are kept only as a
hash, expire, are revoked and record their last use; SCRAM verifiers, never passwords."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from quanta.access.credentials import password_matches
from quanta.catalog import Catalog, PrincipalRecord
from quanta.errors import AccessDenied, Conflict, NotFound
from quanta.project.platform import Platform


def _url(catalog_url: str, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'catalog.db'}" if catalog_url.startswith("sqlite") else catalog_url


@pytest.fixture
def platform(catalog_url: str, tmp_path: Path) -> Platform:
    opened = Platform(Catalog(_url(catalog_url, tmp_path)), None)
    yield opened  # type: ignore[misc]
    opened.close()


ANN = PrincipalRecord(
    "ann", "user", "Ann Analyst", ("analysts", "sales-managers"), "sales", {"country": "FR", "region": "EU"}
)


def test_principals_round_trip(platform: Platform) -> None:
    added = platform.add_principal(ANN)
    assert added.created_at is not None
    assert added == PrincipalRecord(**{**ANN.__dict__, "created_at": added.created_at})
    platform.add_principal(PrincipalRecord("svc:recommender", "service", admin=False))
    platform.add_principal(PrincipalRecord("root", admin=True))
    assert [p.id for p in platform.catalog.access.all()] == ["ann", "root", "svc:recommender"]
    with pytest.raises(Conflict, match="already exists"):
        platform.add_principal(ANN)
    with pytest.raises(ValueError, match="user or a service"):
        platform.add_principal(PrincipalRecord("bot", "robot"))
    who = platform.principal("ann")
    assert who.roles == {"analysts", "sales-managers"} and who.attributes == {"country": "FR", "region": "EU"}
    assert who.team == "sales" and not who.owner
    assert platform.principal("root").owner  # a platform admin has the owner's rights
    assert platform.catalog.access.remove("ann") and not platform.catalog.access.remove("ann")
    with pytest.raises(NotFound, match="no principal 'ann'"):
        platform.principal("ann")


def test_a_token_authenticates_records_last_use_and_is_revoked(platform: Platform) -> None:
    platform.add_principal(ANN)
    token, record = platform.create_token("ann", days=30)
    assert record.expires_at is not None and record.last_used_at is None
    assert timedelta(days=29) < record.expires_at - record.created_at <= timedelta(days=30)
    assert platform.authenticate(token).id == "ann"
    (used,) = platform.catalog.access.tokens("ann")
    assert used.last_used_at is not None
    platform.revoke_token(record.id)
    with pytest.raises(AccessDenied, match="invalid, expired or revoked"):
        platform.authenticate(token)
    with pytest.raises(NotFound, match="already revoked"):
        platform.revoke_token(record.id)
    with pytest.raises(NotFound, match="no token"):
        platform.revoke_token("0123456789abcdef")


def test_an_expired_unknown_or_altered_token_is_refused(platform: Platform) -> None:
    platform.add_principal(ANN)
    token, record = platform.create_token("ann", days=1)
    with platform.catalog.engine.begin() as connection:
        from sqlalchemy import update

        from quanta.catalog.tables import api_tokens

        connection.execute(
            update(api_tokens).values(expires_at=record.expires_at.replace(tzinfo=None) - timedelta(days=2))
        )
    for bad in (token, token[:-1] + ("A" if token[-1] != "A" else "B"), "qt_0123456789abcdef_" + "x" * 43, "nope"):
        with pytest.raises(AccessDenied, match="invalid, expired or revoked"):
            platform.authenticate(bad, source="s1")
    forever, _ = platform.create_token("ann", days=None)
    assert platform.authenticate(forever).id == "ann"


def test_failed_authentication_is_rate_limited_per_source(platform: Platform) -> None:
    platform.add_principal(ANN)
    token, _ = platform.create_token("ann")
    for _ in range(platform.limiter.max_failures):
        with pytest.raises(AccessDenied, match="invalid"):
            platform.authenticate("qt_0123456789abcdef_" + "x" * 43, source="10.0.0.9")
    with pytest.raises(AccessDenied, match=r"too many failed authentications from 10\.0\.0\.9"):
        platform.authenticate(token, source="10.0.0.9")  # even a good token, until the window passes
    assert platform.authenticate(token, source="10.0.0.10").id == "ann"


def test_tokens_and_passwords_are_never_stored(tmp_path: Path) -> None:
    database = tmp_path / "catalog.db"
    platform = Platform(Catalog(f"sqlite:///{database}"), None)
    try:
        platform.add_principal(ANN)
        token, _ = platform.create_token("ann")
        platform.set_password("ann", "correct horse battery staple")
        verifier = platform.catalog.access.verifier("ann")
        assert verifier is not None and verifier.startswith("SCRAM-SHA-256$4096:")
        assert password_matches(verifier, "correct horse battery staple")
        platform.set_password("ann", "another one")  # replaced
        assert platform.catalog.access.verifier("ann") != verifier
        with pytest.raises(NotFound):
            platform.set_password("bob", "x")
    finally:
        platform.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("catalog.db*"))
    secret = token.split("_", 2)[2]
    assert secret.encode() not in stored and token.encode() not in stored
    assert b"another one" not in stored and b"correct horse" not in stored

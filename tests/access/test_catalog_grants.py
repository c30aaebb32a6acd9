"""Catalog grants and the access generation: a grant or revocation made by another process is
honoured by a long-lived plane on its very next statement; grants are checked like a spec's."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from decision_matrix import build_matrix_mesh, enrol
from quanta.errors import AccessDenied, ConfigError
from quanta.project import Mesh
from quanta.project.platform import Platform
from quanta.read import DataPlane
from quanta.spec.policy import Grant

QUANTA = [sys.executable, "-m", "quanta"]


def quanta(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QUANTA, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_matrix_mesh(tmp_path_factory.mktemp("grants") / "matrix")


@pytest.fixture
def platform(built: Path) -> Iterator[tuple[Platform, dict[str, str]]]:
    mesh = Mesh.load(built)
    try:
        tokens = enrol(mesh.platform) if not mesh.platform.catalog.access.get("owner") else {}
        yield mesh.platform, tokens
    finally:
        mesh.close()


def _grant(**fields: object) -> Grant:
    return Grant.model_validate(fields)


def test_a_grant_from_another_process_is_honoured_on_the_next_statement(
    built: Path, platform: tuple[Platform, dict[str, str]]
) -> None:
    shared, _ = platform
    plane = DataPlane(shared.catalog, lambda: shared.store, refresh_s=3600)  # no periodic refresh at all
    try:
        stranger = shared.principal("stranger")
        with pytest.raises(AccessDenied, match="no grant gives stranger"):
            plane.query(stranger, "select count(*) as n from sales.orders")
        given = quanta("access", "grant", "sales.orders", "--principal", "stranger", "--port", "table", cwd=built)
        assert given.returncode == 0, given.stderr
        grant_id = int(given.stdout.split()[1].rstrip(":"))
        assert plane.query(stranger, "select count(*) as n from sales.orders").to_pylist() == [{"n": 5}]
        decision = plane.decide(stranger, plane.product("sales.orders"), "table", None)
        assert decision.source == f"catalog grant {grant_id}" and decision.masked["customer_id"].kind == "redact"
        revoked = quanta("access", "revoke", str(grant_id), cwd=built)
        assert revoked.returncode == 0, revoked.stderr
        with pytest.raises(AccessDenied):
            plane.query(stranger, "select count(*) as n from sales.orders")
        again = quanta("access", "revoke", str(grant_id), cwd=built)
        assert again.returncode == 1 and f"grant {grant_id} is already revoked" in again.stderr
    finally:
        plane.close()


def test_a_token_revoked_by_another_process_is_refused_at_once(
    built: Path, platform: tuple[Platform, dict[str, str]]
) -> None:
    shared, _ = platform
    token, record = shared.create_token("manager")
    assert shared.authenticate(token).id == "manager"
    assert shared.authenticate(token).id == "manager"  # cached: no lookup
    revoked = quanta("access", "token", "revoke", record.id, cwd=built)
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(AccessDenied, match="invalid, expired or revoked token"):
        shared.authenticate(token, source="revocation-test")


def test_a_role_change_from_another_process_changes_the_next_decision(
    platform: tuple[Platform, dict[str, str]],
) -> None:
    shared, _ = platform
    before = shared.catalog.access.generation()
    shared.catalog.access.update("roamer", attributes={"country": "FR"})
    assert shared.catalog.access.generation() > before
    roamer = shared.principal("roamer")
    assert shared.plane.query(roamer, "select distinct country from sales.orders").to_pylist() == [{"country": "FR"}]
    shared.catalog.access.update("roamer", attributes={})
    assert shared.plane.query(shared.principal("roamer"), "select count(*) as n from sales.orders").to_pylist() == [
        {"n": 0}
    ]


def test_a_principal_grant_wins_over_a_role_grant_and_the_newest_catalog_grant_first(
    platform: tuple[Platform, dict[str, str]],
) -> None:
    shared, _ = platform
    first = shared.grant("sales.orders", _grant(principal="analyst", ports=["table"], rowFilter="country = 'DE'"))
    second = shared.grant(
        "sales.orders",
        _grant(principal="analyst", ports=["table"], unmask=["customer_id"], purpose="churn study"),
    )
    try:
        analyst = shared.principal("analyst")
        decision = shared.plane.decide(analyst, shared.spec("sales.orders"), "table", None)
        assert decision.source == f"catalog grant {second.id}" and decision.masked == {}
        shared.revoke_grant(second.id or 0)
        decision = shared.plane.decide(analyst, shared.spec("sales.orders"), "table", None)
        assert decision.source == f"catalog grant {first.id}" and decision.row_filter == "country = 'DE'"
        shared.revoke_grant(first.id or 0)
        decision = shared.plane.decide(analyst, shared.spec("sales.orders"), "table", None)
        assert decision.source == "spec grant 1"  # role analysts, from the spec
    finally:
        for grant in (first, second):
            if shared.catalog.grants.get(grant.id or 0).revoked_at is None:  # type: ignore[union-attr]
                shared.revoke_grant(grant.id or 0)


def test_an_expired_catalog_grant_grants_nothing(platform: tuple[Platform, dict[str, str]]) -> None:
    shared, _ = platform
    with pytest.raises(ConfigError, match="which has passed"):
        shared.grant("sales.orders", _grant(principal="stranger", ports=["table"], expires="2020-01-01"))
    today = shared.catalog.access.now().date()
    kept = shared.grant("sales.orders", _grant(principal="stranger", ports=["api"], expires=today.isoformat()))
    try:
        stranger = shared.principal("stranger")
        spec = shared.spec("sales.orders")
        assert shared.plane.decide(stranger, spec, "api", None).allowed  # valid through its last day
        from quanta.access import decide
        from quanta.read.plane import catalog_grant

        later = datetime(today.year + 1, 1, 1, tzinfo=UTC)
        assert not decide(stranger, spec, "api", catalog_grants=[catalog_grant(kept)], now=later).allowed
    finally:
        shared.revoke_grant(kept.id or 0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "analyst", "ports": ["table"]}, "role 'analyst' is in no published mesh's roles"),
        ({"role": "analysts", "ports": ["tabel"]}, "has no port 'tabel'"),
        ({"role": "analysts", "ports": ["table"], "unmask": ["amount"], "purpose": "x"}, "'amount' is not classified"),
        ({"role": "analysts", "ports": ["table"], "unmask": ["cust"], "purpose": "x"}, "'cust' is not a property"),
        ({"role": "analysts", "ports": ["table"], "masks": {"customer_id": "partial"}}, None),
        ({"role": "analysts", "ports": ["table"], "masks": {"amount": "partial"}}, "mask 'partial' is not defined"),
        ({"role": "analysts", "ports": ["table"], "rowFilter": "country = = 1"}, "the row filter does not parse"),
        ({"role": "analysts", "ports": ["table"], "rowFilter": "region = 'EU'"}, "reads 'region', not a property"),
    ],
)
def test_a_grant_is_checked_like_a_spec_grant(
    platform: tuple[Platform, dict[str, str]], fields: dict[str, object], message: str | None
) -> None:
    shared, _ = platform
    if message is None:
        record = shared.grant("sales.orders", _grant(**fields))
        shared.revoke_grant(record.id or 0)
        return
    with pytest.raises(ConfigError, match=message):
        shared.grant("sales.orders", _grant(**fields))


def test_the_cli_refuses_an_unmask_without_purpose_and_lists_grants(built: Path) -> None:
    refused = quanta(
        "access", "grant", "sales.orders", "--role", "analysts", "--port", "table", "--unmask", "customer_id", cwd=built
    )
    assert refused.returncode == 1 and "must state its purpose" in refused.stderr
    given = quanta(
        "access",
        "grant",
        "sales.orders",
        "--role",
        "analysts",
        "--port",
        "api",
        "--mask",
        "customer_id=hash",
        cwd=built,
    )
    assert given.returncode == 0, given.stderr
    listed = json.loads(quanta("access", "grants", "sales.orders", "-f", "json", cwd=built).stdout)
    assert [(g["role"], g["ports"], g["masks"]) for g in listed] == [("analysts", ["api"], {"customer_id": "hash"})]
    assert "1 catalog grant(s)" in quanta("access", "grants", cwd=built).stdout
    explained = quanta("access", "explain", "analyst", "sales.orders", "--port", "api", cwd=built)
    assert "source: catalog grant" in explained.stdout and "customer_id by hash" in explained.stdout

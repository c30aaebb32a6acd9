"""Authentication on every data route: 401 with WWW-Authenticate and a reason when the token is
missing or invalid, 429 after too many failures, 403 with the decision's reason when refused."""

from __future__ import annotations

import pytest

from serving_mesh import Served

ROWS = "/api/v1/products/sales/orders/v1/rows"
ROUTES = [
    ROWS,
    ROWS + "/o-00001",
    "/api/v1/products/sales/orders/v1/files/files",
    "/api/v1/products/sales/orders/v1/openapi.json",
]


@pytest.mark.parametrize("route", ROUTES)
def test_no_token_is_401_with_a_bearer_challenge(served: Served, route: str) -> None:
    with served.client() as client:
        response = client.get(route)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="quanta"')
    assert "Authorization: Bearer" in response.json()["detail"]


@pytest.mark.parametrize(
    "header", ["Basic YW5uOnB3", "Bearer", "Bearer qt_0123456789abcdef_" + "x" * 43, "Bearer nope"]
)
def test_a_bad_token_is_401_and_says_why(served: Served, header: str) -> None:
    with served.client(Authorization=header) as client:
        response = client.get(ROWS)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    problem = response.json()
    if header.startswith("Bearer q") or header == "Bearer nope":
        assert 'error="invalid_token"' in challenge and problem["detail"] == "invalid, expired or revoked token"
    else:
        assert "must be 'Bearer <token>'" in problem["detail"]


def test_a_revoked_token_is_refused(served: Served) -> None:
    token, record = served.platform.create_token("ann")
    with served.client(Authorization=f"Bearer {token}") as client:
        assert client.get(ROWS, params={"limit": 1}).status_code == 200
        served.platform.revoke_token(record.id)
        assert client.get(ROWS, params={"limit": 1}).status_code == 401


def test_refused_reads_are_403_with_the_decision_s_reason(served: Served) -> None:
    with served.client("nora") as client:
        rows = client.get(ROWS)
        files = client.get("/api/v1/products/sales/orders/v1/files/files")
    with served.client("carl") as client:
        revenue = client.get("/api/v1/products/sales/daily-revenue/v1/rows")
    assert rows.status_code == 403 and "no grant gives nora access to port 'api'" in rows.json()["detail"]
    assert files.status_code == 200  # analysts may download
    assert revenue.status_code == 403 and "no grant gives carl" in revenue.json()["detail"]


def test_health_and_readiness_need_no_token(served: Served) -> None:
    with served.client() as client:
        assert client.get("/api/v1/health").json() == {"status": "ok"}
        ready = client.get("/api/v1/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_failed_authentications_are_limited_per_client(served: Served) -> None:
    """Last in this module: it locks out the loopback address for a minute."""
    with served.client(Authorization="Bearer qt_0123456789abcdef_" + "y" * 43) as client:
        statuses = [client.get(ROWS).status_code for _ in range(served.platform.limiter.max_failures)]
        limited = client.get(ROWS)
    assert set(statuses) == {401}
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    with served.client("ann") as client:
        assert client.get(ROWS).status_code == 429  # even a good token, until the window passes
    served.platform.limiter.succeeded("127.0.0.1")

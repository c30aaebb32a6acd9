"""Signing in to the web catalog through an OIDC provider on loopback: the authorization code flow
with PKCE; the session holds the principal the access token's claims make and ends at sign-out;
a forged state, a replayed code, a wrong nonce and a refusal by the provider sign nobody in."""

from __future__ import annotations

import html
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider import CLIENT_ID, Provider, running_provider
from web_mesh import browser

from quanta.web.session import SESSION_COOKIE
from serving_mesh import Served, build, serving, write_mesh

ORDERS = "/products/sales/orders/v1"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def web_oidc(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("web-oidc")
    root = write_mesh(base / "demo")
    mesh_yaml = root / "mesh.yaml"
    mesh_yaml.write_text(mesh_yaml.read_text().replace("platform:\n", "platform:\n" + provider.mesh_settings(), 1))
    orders = root / "products/sales/orders/dataproduct.yaml"
    orders.write_text(
        orders.read_text().replace(
            "    - {role: analysts, ports: [table, files]}\n", "    - {role: analysts, ports: [table, files, api]}\n"
        )
    )
    build(root)
    with serving(root, base / "cache", enrol=lambda platform: {}) as running:
        yield running


def _through_provider(client: httpx.Client, provider: Provider, next_page: str = ORDERS) -> httpx.Response:
    """Follow the flow by hand: our redirect to the provider, its redirect back, our callback."""
    start = client.get("/signin/oidc", params={"next": next_page})
    assert start.status_code == 303, start.text
    authorize = urlsplit(start.headers["location"])
    query = {k: v[-1] for k, v in parse_qs(authorize.query).items()}
    assert authorize.geturl().startswith(f"{provider.url}/authorize?")
    assert query["client_id"] == CLIENT_ID and query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == str(client.base_url).rstrip("/") + "/signin/oidc/callback"
    assert len(query["code_challenge"]) == 43 and "code_verifier" not in query  # only the challenge leaves
    back = httpx.get(start.headers["location"], follow_redirects=False)
    assert back.status_code == 302, back.text
    return client.get(back.headers["location"])


def test_the_sign_in_page_offers_the_provider(web_oidc: Served) -> None:
    with browser(web_oidc) as client:
        page = client.get("/signin", params={"next": ORDERS})
    assert 'href="/signin/oidc?next=%2Fproducts%2Fsales%2Forders%2Fv1"' in page.text


def test_signing_in_through_the_provider_makes_the_principal_of_its_claims(
    web_oidc: Served, provider: Provider
) -> None:
    provider.user = {"sub": "olga", "roles": ["analysts"], "team": "crm", "country": "FR"}
    with browser(web_oidc) as client:
        done = _through_provider(client, provider)
        assert done.status_code == 303 and done.headers["location"] == ORDERS
        cookie = done.headers["set-cookie"]
        assert SESSION_COOKIE in cookie and "HttpOnly" in cookie
        page = client.get(ORDERS)
        assert page.status_code == 200 and "Signed in as <strong>olga</strong>" in page.text
        sample = page.text.split('id="sample"')[1].split("</section>")[0]
        assert "***" in sample and "o-00000" in sample  # the analysts role from the token's claims
        exchange = provider.token_requests[-1]
        assert exchange["code_verifier"] and exchange["client_id"] == CLIENT_ID
        session = web_oidc.platform.catalog.sessions.of("olga")[0]
        assert session.kind == "oidc" and session.principal["roles"] == ["analysts"]
        assert session.principal["attributes"] == {"country": "FR"}
        assert (session.expires_at - session.created_at).total_seconds() <= 301  # the access token's lifetime
        out = client.post("/signout", data={"csrf": _csrf(page.text)})
        assert out.status_code == 303
        assert web_oidc.platform.catalog.sessions.of("olga")[0].revoked_at is not None
        assert client.get(ORDERS).status_code == 303  # signed out


def _csrf(text: str) -> str:
    from web_mesh import csrf_of

    return csrf_of(text)


def test_a_forged_state_or_a_lost_flow_cookie_signs_nobody_in(web_oidc: Served, provider: Provider) -> None:
    with browser(web_oidc) as client:
        start = client.get("/signin/oidc")
        back = httpx.get(start.headers["location"], follow_redirects=False)
        location = urlsplit(back.headers["location"])
        query = {k: v[-1] for k, v in parse_qs(location.query).items()}
        forged = client.get("/signin/oidc/callback", params={"code": query["code"], "state": "forged"})
        assert forged.status_code == 403 and "state does not match" in html.unescape(forged.text)
    with browser(web_oidc) as stranger:  # someone else's callback URL, without the flow cookie
        lost = stranger.get("/signin/oidc/callback", params=query)
        assert lost.status_code == 403 and SESSION_COOKIE not in lost.headers.get("set-cookie", "")


def test_a_code_is_redeemed_once_and_a_wrong_nonce_is_refused(web_oidc: Served, provider: Provider) -> None:
    with browser(web_oidc) as client:
        start = client.get("/signin/oidc")
        back = httpx.get(start.headers["location"], follow_redirects=False).headers["location"]
        assert client.get(back).status_code == 303
        client.cookies.delete(SESSION_COOKIE)
        client.cookies.set("quanta_oidc", start.cookies["quanta_oidc"], path="/signin/oidc")
        replayed = client.get(back)
        assert replayed.status_code == 401 and "unknown or used code" in html.unescape(replayed.text)
    provider.tamper_nonce = True
    try:
        with browser(web_oidc) as client:
            refused = _through_provider(client, provider)
            assert refused.status_code == 401 and "nonce does not match" in html.unescape(refused.text)
    finally:
        provider.tamper_nonce = False


def test_a_refusal_by_the_provider_is_a_401_page_saying_so(web_oidc: Served, provider: Provider) -> None:
    provider.refuse = "access_denied"
    try:
        with browser(web_oidc) as client:
            refused = _through_provider(client, provider)
        assert refused.status_code == 401 and "did not sign you in: access_denied" in html.unescape(refused.text)
        assert "call +1 555" not in refused.text  # the provider's free text is never shown
    finally:
        provider.refuse = None


def test_a_callback_that_did_not_start_here_shows_nothing_of_its_query(web_oidc: Served) -> None:
    with browser(web_oidc) as client:
        crafted = client.get(
            "/signin/oidc/callback",
            params={"error": "access_denied", "error_description": "call +1 555 0100", "state": "x"},
        )
    assert crafted.status_code == 403 and "call +1 555" not in crafted.text and "access_denied" not in crafted.text


def test_without_a_client_id_there_is_no_provider_sign_in(web: Served) -> None:
    with browser(web) as client:
        assert "/signin/oidc" not in client.get("/signin").text
        assert client.get("/signin/oidc").status_code == 404

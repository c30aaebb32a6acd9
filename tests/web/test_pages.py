"""The web catalog over plain HTTP: every page's status and key content, sign-in to a session
cookie and out again, CSRF on every form, the same decisions as the data ports (metadata for
every signed-in viewer, rows only under a grant, a confidential product hidden), and requests
approved from the inbox."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from web_mesh import browser, csrf_of, signed_in

from quanta.catalog.sessions import SessionRecord
from quanta.web.session import SESSION_COOKIE
from serving_mesh import Served

ORDERS = "/products/sales/orders/v1"
REVENUE = "/products/sales/daily-revenue/v1"


def _session_header(response: httpx.Response) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE)]
    assert len(cookies) == 1, response.headers
    return cookies[0]


def test_pages_need_a_signed_in_viewer_and_come_back_after_sign_in(web: Served) -> None:
    with browser(web) as client:
        first = client.get(f"{ORDERS}?x=1")
        assert first.status_code == 303
        assert first.headers["location"] == "/signin?next=%2Fproducts%2Fsales%2Forders%2Fv1%3Fx%3D1"
        form = client.get(first.headers["location"])
        assert form.status_code == 200
        assert '<label for="token">API token</label>' in form.text
        assert 'name="next" value="/products/sales/orders/v1?x=1"' in form.text
        answer = client.post(
            "/signin", data={"csrf": csrf_of(form.text), "token": web.tokens["ann"], "next": f"{ORDERS}?x=1"}
        )
        assert answer.status_code == 303 and answer.headers["location"] == f"{ORDERS}?x=1"
        assert client.get(ORDERS).status_code == 200


def _session_of(web: Served, cookie: str) -> SessionRecord:
    """The catalog's record of the session a cookie holds."""
    sessions = [s for who in web.tokens for s in web.platform.catalog.sessions.of(who)]
    found = [s for s in sessions if cookie.startswith(f"qs_{s.id}_")]
    assert len(found) == 1
    return found[0]


def test_the_session_cookie_is_http_only_same_site_and_not_the_api_token(web: Served) -> None:
    with browser(web) as client:
        form = client.get("/signin")
        answer = client.post("/signin", data={"csrf": csrf_of(form.text), "token": web.tokens["ann"]})
        header = _session_header(answer)
        assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
        assert "Secure" not in header  # plain HTTP on loopback; under TLS it is Secure (the TLS test below)
        value = client.cookies[SESSION_COOKIE]
        assert web.tokens["ann"] not in value  # a session of its own, revocable alone
        session = _session_of(web, value)
        assert session.principal_id == "ann" and session.kind == "token" and session.revoked_at is None
        hours = (session.expires_at - session.created_at).total_seconds() / 3600
        assert 11.9 < hours < 12.01


def test_signing_out_revokes_the_session_everywhere(web: Served) -> None:
    client = signed_in(web, "ann")
    cookie = client.cookies[SESSION_COOKIE]
    session = _session_of(web, cookie)
    home = client.get("/")
    out = client.post("/signout", data={"csrf": csrf_of(home.text)})
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    assert _session_of(web, cookie).revoked_at is not None and session.revoked_at is None
    with browser(web) as replay:  # the old cookie, kept by an attacker: refused
        replay.cookies.set(SESSION_COOKIE, cookie)
        assert replay.get("/").status_code == 303


def test_a_forged_or_altered_session_cookie_is_no_session(web: Served) -> None:
    client = signed_in(web, "ann")
    token, _, mac = client.cookies[SESSION_COOKIE].rpartition(".")
    for forged in (f"{token}.{mac[:-2]}AA", token, f"{web.tokens['ann']}.{mac}"):
        with browser(web) as other:
            other.cookies.set(SESSION_COOKIE, forged)
            assert other.get("/").status_code == 303, forged


def test_sign_in_refuses_a_bad_token_a_missing_csrf_token_and_a_foreign_next(web: Served) -> None:
    with browser(web) as client:
        form = client.get("/signin")
        csrf = csrf_of(form.text)
        bad = client.post("/signin", data={"csrf": csrf, "token": "qt_0000000000000000_nope"})
        assert bad.status_code == 401 and "invalid, expired or revoked token" in bad.text
        assert SESSION_COOKIE not in bad.headers.get("set-cookie", "")
        forged = client.post("/signin", data={"token": web.tokens["ann"]})
        assert forged.status_code == 403 and "CSRF" in forged.text
        foreign = client.post("/signin", data={"csrf": csrf, "token": web.tokens["ann"], "next": "//evil.example/x"})
        assert foreign.status_code == 303 and foreign.headers["location"] == "/"
    with browser(web) as other:  # a CSRF token of another browser's anchor does not match
        other.get("/signin")
        assert other.post("/signin", data={"csrf": csrf, "token": web.tokens["ann"]}).status_code == 403


def test_scripts_read_pages_with_the_api_s_bearer_token(web: Served) -> None:
    with web.client("ann") as client:
        page = client.get(ORDERS)
        assert page.status_code == 200 and "sales.orders" in page.text
        assert client.get("/", headers={"Authorization": "Bearer qt_0000000000000000_nope"}).status_code == 401


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("/", "sales.orders"),
        ("/?q=revenue", "sales.daily-revenue"),
        ("/domains/sales", "Owned by sales-data"),
        ("/slo", "SLO dashboard"),
        ("/runs", "sales.orders@v1"),
        ("/map", "What reads what"),
        ("/access", "Your requests"),
        (ORDERS, "Order identifier from the web shop."),
        (REVENUE, "Revenue and order count per day"),
    ],
)
def test_every_page_answers_with_its_content_and_security_headers(web: Served, path: str, content: str) -> None:
    with web.client("ann") as client:
        page = client.get(path)
    assert page.status_code == 200, page.text
    assert content in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "private, no-store"
    assert "https://" not in re.sub(r'href="https://[^"]*"', "", page.text).split("<main")[0]  # no CDN asset


def test_the_product_page_shows_ports_schema_lineage_slos_versions_and_runs(web: Served) -> None:
    with web.client("ann") as client:
        page = client.get(ORDERS).text
    for section in ("ports", "schema", "sample", "lineage", "slos", "versions", "runs", "access"):
        assert f'id="{section}"' in page
    assert "quanta://sales/orders/v1" in page and "sales-data@example.com" in page
    assert '<span class="badge classified">pii</span>' in page and "business: <code>order_id</code>" in page
    assert 'aria-label="Lineage of sales.orders@v1"' in page and 'href="/products/sales/daily-revenue/v1"' in page
    assert "webshop" in page  # the system of record upstream
    assert 'aria-label="volume: the last 1 measurements"' in page  # an SLI history chart
    assert "Budget left 100.0%" in page
    assert "no published snapshot yet" in page  # why the run built it
    assert "curl -H &#34;Authorization: Bearer $QUANTA_TOKEN&#34;" in page  # the REST snippet, escaped
    assert web.tokens["ann"] not in page


def test_a_viewer_without_a_grant_sees_metadata_but_no_rows(web: Served) -> None:
    with web.client("stranger") as client:
        page = client.get(ORDERS).text
    assert "Order identifier from the web shop." in page  # metadata: yes
    assert "metadata only" in page
    assert "o-00000" not in page and "c-1" not in page  # rows: none
    assert "Authorization: Bearer" not in page  # no snippets for ports it may not use
    assert 'value="table"' in page and 'value="api"' in page  # but it may ask for them


def test_sample_rows_are_masked_and_filtered_as_the_port_decides(web: Served) -> None:
    with web.client("ann") as ann:
        masked = ann.get(ORDERS).text
    sample = masked.split('id="sample"')[1].split("</section>")[0]
    assert "o-00000" in sample and "***" in sample and "c-1<" not in sample
    with web.client("carl") as carl:  # country = FR only
        filtered = carl.get(ORDERS).text.split('id="sample"')[1].split("</section>")[0]
    countries = set(re.findall(r"<td>(DE|FR|IT|ES)</td>", filtered))
    assert countries == {"FR"} and "row filter applied" in filtered


def test_a_confidential_product_is_absent_for_those_who_may_not_read_it(web: Served) -> None:
    with web.client("stranger") as client:
        hidden = client.get(REVENUE)
        absent = client.get("/products/sales/no-such-product/v1")
        assert hidden.status_code == absent.status_code == 404
        assert "daily-revenue" not in client.get("/?q=revenue").text
        assert "daily-revenue" not in client.get(ORDERS).text  # not even as a downstream reader
    with web.client("ann") as client:
        assert client.get(REVENUE).status_code == 200


def test_forms_need_their_csrf_token_and_this_site_as_origin(web: Served) -> None:
    client = signed_in(web, "stranger")
    page = client.get(ORDERS)
    data = {"port": "table", "purpose": "churn study", "days": "30"}
    before = len(web.platform.catalog.requests.find(principal="stranger"))
    assert client.post(f"{ORDERS}/access-requests", data=data).status_code == 403
    wrong = client.post(f"{ORDERS}/access-requests", data={**data, "csrf": "x" * 43})
    assert wrong.status_code == 403
    foreign = client.post(
        f"{ORDERS}/access-requests",
        data={**data, "csrf": csrf_of(page.text)},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert len(web.platform.catalog.requests.find(principal="stranger")) == before
    client.close()


def test_request_from_the_product_page_and_approve_from_the_inbox(web: Served) -> None:
    consumer = signed_in(web, "stranger")
    page = consumer.get(ORDERS)
    asked = consumer.post(
        f"{ORDERS}/access-requests",
        data={"csrf": csrf_of(page.text), "port": "table", "purpose": "weekly order review", "days": "30"},
    )
    assert asked.status_code == 303, asked.text
    request_id = int(re.search(r"requested=(\d+)", asked.headers["location"]).group(1))
    back = consumer.get(asked.headers["location"])
    assert f"Request {request_id} sent" in back.text and "pending" in back.text

    approver = signed_in(web, "sam")
    inbox = approver.get("/access")
    assert f"#{request_id}: stranger asks for" in inbox.text and "weekly order review" in inbox.text
    outsider = signed_in(web, "ann")  # not an approver nor the requester: no such request for ann
    refused = outsider.post(f"/access/requests/{request_id}/approve", data={"csrf": csrf_of(outsider.get("/").text)})
    assert refused.status_code == 404
    outsider.close()
    done = approver.post(f"/access/requests/{request_id}/approve", data={"csrf": csrf_of(inbox.text), "note": "ok"})
    assert done.status_code == 303 and done.headers["location"] == f"/access?decided={request_id}"

    granted = consumer.get(ORDERS).text
    sample = granted.split('id="sample"')[1].split("</section>")[0]
    assert "o-00000" in sample and "***" in sample  # rows now, customer ids masked
    assert f'PGPASSWORD="$QUANTA_SQL_PASSWORD" psql "postgresql://stranger@127.0.0.1:{web.sql_port}/quanta"' in (
        html.unescape(granted)
    )
    mine = consumer.get("/access").text
    assert "approved" in mine and "sam" in mine
    consumer.close()
    approver.close()


def test_the_audit_view_is_for_admins_and_a_product_s_approvers(web: Served) -> None:
    with web.client("ann") as client:
        assert client.get("/audit").status_code == 403
    with web.client("sam") as client:
        assert client.get("/audit").status_code == 403  # the whole log: admins only
        assert client.get("/audit?product=sales.orders").status_code == 200
    with web.client("root") as client:
        page = client.get("/audit")
        assert page.status_code == 200 and "Audit log" in page.text


def test_search_narrows_by_facet_and_htmx_gets_the_results_only(web: Served) -> None:
    with web.client("ann") as client:
        full = client.get("/", params={"q": "orders"})
        assert '<input type="checkbox" name="domain" value="sales"' in full.text
        partial = client.get("/", params={"q": "orders"}, headers={"HX-Request": "true"})
        assert partial.text.lstrip().startswith('<section id="results"') and "<html" not in partial.text
        assert "sales.orders" in partial.text
        none = client.get("/", params={"domain": "marketing"})
        assert "No product matches" in none.text
        bad = client.get("/", params={"limit": "100000"})
        assert bad.status_code == 400 and "'limit' is a whole number" in html.unescape(bad.text)


def test_static_assets_are_served_by_quanta_itself(web: Served) -> None:
    with browser(web) as client:
        css = client.get("/static/quanta.css")
        htmx = client.get("/static/htmx.min.js")
        assert css.status_code == htmx.status_code == 200
        assert htmx.headers["content-type"].startswith("text/javascript") and len(htmx.content) > 10_000
        assert client.get("/static/htmx.LICENSE").text.startswith("Zero-Clause BSD")
        assert client.get("/static/../pyproject.toml").status_code == 404
        assert client.get("/static/secret.txt").status_code == 404


def test_under_tls_the_session_cookie_is_secure_and_the_sql_snippet_uses_the_token(
    web: Served, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from pathlib import Path

    from starlette.testclient import TestClient

    from quanta.server.app import create_app
    from quanta.server.state import ServeOptions, Tls
    from quanta.web import router

    options = ServeOptions(tmp_path_factory.mktemp("tls-cache"), tls=Tls(Path("server.pem")), sql_address="db:6432")
    app = create_app(web.platform, options, front_ends=(router,))
    with TestClient(app, base_url="https://testserver") as client:
        form = client.get("/signin")
        answer = client.post(
            "/signin", data={"csrf": csrf_of(form.text), "token": web.tokens["nora"]}, follow_redirects=False
        )
        header = _session_header(answer)
        assert "Secure" in header and "HttpOnly" in header
        assert "Secure" in form.headers["set-cookie"]  # the pre-session CSRF anchor too
        page = html.unescape(client.get(ORDERS).text)
    assert 'PGPASSWORD="$QUANTA_TOKEN" psql "postgresql://nora@db:6432/quanta?sslmode=require"' in page


def test_the_interaction_map_comes_from_the_catalog_and_hides_what_the_viewer_may_not_see(web: Served) -> None:
    with web.client("ann") as client:
        whole = client.get("/map")
        assert whole.status_code == 200, whole.text
        assert "<svg" in whole.text and "Interaction map of demo" in whole.text
        assert 'href="/map?mesh=demo&amp;use_case=daily-revenue-report"' in whole.text
        assert "Daily Revenue" in whole.text and "webshop" in whole.text  # product and system of record
        path = client.get("/map", params={"use_case": "daily-revenue-report"})
        assert "the path of daily-revenue-report" in path.text and "#d62728" in path.text  # highlighted
        step = client.get("/map", params={"step": "1"})
        assert "Step 1: daily-revenue-report" in step.text and "Added: sales.daily-revenue" in html.unescape(step.text)
        assert client.get("/map", params={"step": "9"}).status_code == 400
        assert client.get("/map", params={"use_case": "nope"}).status_code == 404
        assert client.get("/map", params={"mesh": "other"}).status_code == 404
    with web.client("stranger") as client:  # the confidential daily-revenue is not on its map
        hidden = client.get("/map").text
    assert "Daily Revenue" not in hidden and "daily-revenue@" not in hidden and "Orders" in hidden


def test_a_request_may_ask_for_classified_columns_in_clear(web: Served) -> None:
    client = signed_in(web, "stranger")
    page = client.get(ORDERS)
    assert '<input type="checkbox" name="unmask" value="customer_id">' in page.text  # the pii column
    data = {"csrf": csrf_of(page.text), "port": "api", "unmask": "customer_id", "purpose": "refund audit", "days": "7"}
    asked = client.post(f"{ORDERS}/access-requests", data=data)
    assert asked.status_code == 303, asked.text
    made = web.platform.catalog.requests.find(principal="stranger")[-1]
    assert made.ports == ("api",) and made.unmask == ("customer_id",) and made.purpose == "refund audit"
    client.close()


def test_the_slo_dashboard_pages_through_every_product(web: Served) -> None:
    with web.client("root") as client:
        everything = client.get("/slo").text
        first = client.get("/slo", params={"limit": "1"}).text
        second = client.get("/slo", params={"limit": "1", "offset": "1"}).text
    assert everything.count('href="/products/sales/') == 2 and "Next" not in everything
    assert first.count('href="/products/sales/') == 1 and 'rel="next" href="/slo?limit=1&amp;offset=1"' in first
    assert second.count('href="/products/sales/') == 1 and "Next" not in second


# ---------------------------------------------------------------- security review findings (test first)


def test_the_overlay_steps_do_not_name_a_product_the_viewer_may_not_discover(web: Served) -> None:
    with web.client("stranger") as client:
        step = client.get("/map", params={"step": "1"})
    assert step.status_code == 200 and "sales.daily-revenue" not in step.text and "Daily Revenue" not in step.text


def test_no_suggestion_or_refusal_reveals_a_hidden_product(web: Served) -> None:
    client = signed_in(web, "stranger")
    csrf = csrf_of(client.get(ORDERS).text)
    data = {"csrf": csrf, "port": "table", "purpose": "probe", "days": "1"}
    typo = client.post("/products/sales/daily-revenu/v1/access-requests", data=data)
    hidden = client.post(f"{REVENUE}/access-requests", data=data)
    assert typo.status_code == hidden.status_code == 404
    assert "daily-revenue" not in html.unescape(typo.text).replace("daily-revenu/", "")
    assert "did you mean" not in typo.text
    with web.client("stranger") as bearer:
        for product in ("sales.daily-revenu", "sales.daily-revenue"):
            audit = bearer.get("/audit", params={"product": product})
            assert audit.status_code == 404 and "did you mean" not in audit.text, product
        absent = bearer.get("/audit", params={"product": "sales.no-such"})
        assert absent.status_code == 404
    client.close()


def test_deciding_a_request_one_may_not_see_is_the_same_404_as_no_request(web: Served) -> None:
    nora = web.platform.principal("nora")
    made = web.platform.requests.request("nora", "sales.daily-revenue@v1", ["table"], "forecast", timedelta(days=3))
    client = signed_in(web, "stranger")
    csrf = csrf_of(client.get("/access").text)
    answers = [
        client.post(f"/access/requests/{made.id}/{verdict}", data={"csrf": csrf}) for verdict in ("approve", "withdraw")
    ]
    missing = client.post("/access/requests/999999/approve", data={"csrf": csrf})
    for answer in answers:
        assert answer.status_code == missing.status_code == 404
        assert "daily-revenue" not in answer.text and "nora" not in answer.text and "sales-data" not in answer.text
    assert web.platform.catalog.requests.get(made.id).status == "pending"
    web.platform.requests.withdraw(made.id, nora)
    client.close()


def test_a_huge_form_is_refused_before_it_is_read(web: Served) -> None:
    with browser(web) as client:

        def chunks() -> Iterator[bytes]:
            for _ in range(4096):  # 256 MiB if it were all read
                yield b"a" * 65536

        streamed = client.post(
            "/signin", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    assert streamed.status_code == 413


def test_revoking_the_api_token_ends_the_web_sessions_it_started(web: Served) -> None:
    token, record = web.platform.create_token("cleo", days=1)
    with browser(web) as client:
        form = client.get("/signin")
        assert client.post("/signin", data={"csrf": csrf_of(form.text), "token": token}).status_code == 303
        assert client.get(ORDERS).status_code == 200
        session = web.platform.catalog.sessions.of("cleo")[0]
        assert session.expires_at <= record.expires_at  # never outlives its token
        web.platform.revoke_token(record.id)
        assert client.get(ORDERS).status_code == 303  # to sign-in: the session ended with its token


def test_the_runs_page_shows_no_run_whose_products_are_all_hidden(web: Served) -> None:
    from quanta.catalog import StepRecord

    catalog = web.platform.catalog
    catalog.runs.start("run-hidden-only", "someone", ["build", "--select", "sales.daily-revenue"])
    catalog.runs.record_step(
        StepRecord("run-hidden-only", "sales.daily-revenue@v1", "unchanged", [], datetime.now(UTC), 0.1)
    )
    catalog.runs.finish("run-hidden-only", "succeeded", 0.2)
    with web.client("stranger") as client:
        assert "run-hidden-only" not in client.get("/runs").text
    with web.client("ann") as client:
        assert "run-hidden-only" in client.get("/runs").text


def test_a_session_is_valid_on_every_process_sharing_the_key_and_ends_on_all(
    web: Served, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Two servers (two apps with their own state, as two processes would have) on one catalog."""
    from starlette.testclient import TestClient

    from quanta.server.app import create_app
    from quanta.server.state import ServeOptions
    from quanta.web import router

    def app(secret: bytes) -> TestClient:
        options = ServeOptions(tmp_path_factory.mktemp("cache"), secret)
        return TestClient(create_app(web.platform, options, front_ends=(router,)), follow_redirects=False)

    shared = b"s" * 32
    with app(shared) as first, app(shared) as second, app(b"o" * 32) as other:
        form = first.get("/signin")
        assert first.post("/signin", data={"csrf": csrf_of(form.text), "token": web.tokens["ann"]}).status_code == 303
        cookie = first.cookies[SESSION_COOKIE]
        second.cookies.set(SESSION_COOKIE, cookie)
        other.cookies.set(SESSION_COOKIE, cookie)
        assert second.get(ORDERS).status_code == 200  # the same key: the same session
        assert other.get(ORDERS).status_code == 303  # another key: not ours
        page = second.get("/")
        assert second.post("/signout", data={"csrf": csrf_of(page.text)}).status_code == 303
        first.cookies.set(SESSION_COOKIE, cookie)
        assert first.get(ORDERS).status_code == 303  # signed out on the second: over on the first

"""The web catalog in a real browser: Debian's Chromium, headless, driven by Playwright (never
Playwright's own browser download). A stranger searches, opens a product, asks for access; the
owning team's approver signs in and approves; the stranger then sees masked sample rows and a SQL
snippet that works when run with psql. Main pages have no serious or critical axe-core
violation. A failed test leaves a screenshot in ``test-artifacts/web/``; with
``QUANTA_DOCS_SCREENSHOTS=<folder>`` the tour's screenshots are written there."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from serving_mesh import Served

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
DOCS = os.environ.get("QUANTA_DOCS_SCREENSHOTS")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``open_page()``: a page in a fresh browser context (its own cookies), screenshotted if the
    test fails."""
    contexts: list[Any] = []

    def make() -> Any:
        context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})  # CSP: for axe
        contexts.append(context)
        return context.new_page()

    yield make
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for index, context in enumerate(contexts):
            for number, page in enumerate(context.pages):
                page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{index}-{number}.png"), full_page=True)
    for context in contexts:
        context.close()


def _shot(page: Any, name: str) -> None:
    if DOCS:
        Path(DOCS).mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(Path(DOCS) / f"{name}.png"), full_page=False)


def _sign_in(page: Any, web: Served, who: str, path: str = "/") -> None:
    page.goto(web.url + path)
    page.get_by_label("API token").fill(web.tokens[who])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(web.url + path) + r"$"))


def _serious_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_search_request_approve_then_masked_rows_and_a_working_psql_snippet(web: Served, open_page: Any) -> None:
    consumer = open_page()
    _sign_in(consumer, web, "stranger")
    consumer.get_by_label("Search products").fill("orders")
    results = consumer.locator("#results")
    results.get_by_role("link", name="sales.orders").wait_for()  # htmx swapped the results in place
    assert results.locator("li.hit").count() == 1
    consumer.wait_for_url(web.url + "/?q=orders")  # and pushed the search's own address
    _shot(consumer, "marketplace")
    results.get_by_role("link", name="sales.orders").click()
    consumer.wait_for_url(web.url + "/products/sales/orders/v1")
    assert "metadata only" in consumer.locator("#sample").inner_text()
    form = consumer.locator("#access form")
    form.get_by_label("table (sql)").check()
    form.get_by_label("Purpose").fill("weekly order review in the browser")
    form.get_by_label("For how many days").fill("14")
    form.get_by_role("button", name="Request access").click()
    status = consumer.get_by_role("status")
    assert re.search(r"Request \d+ sent", status.inner_text())
    request_id = re.search(r"Request (\d+) sent", status.inner_text()).group(1)

    approver = open_page()
    _sign_in(approver, web, "sam", "/access")
    approval = approver.locator("article.request", has_text=f"#{request_id}:")
    approval.get_by_label("Note").first.fill("fine for two weeks")
    _shot(approver, "access-inbox")
    approval.get_by_role("button", name=f"Approve #{request_id}").click()
    assert f"Request {request_id} decided." in approver.get_by_role("status").inner_text()

    consumer.reload()
    sample = consumer.locator("table.sample")
    assert "***" in sample.inner_text() and "o-00000" in sample.inner_text()
    snippet = consumer.locator('[data-snippet="table-psql"]').inner_text()
    _shot(consumer, "product-page")
    assert snippet.startswith('PGPASSWORD="$QUANTA_SQL_PASSWORD" psql "postgresql://stranger@127.0.0.1:')
    web.platform.set_password("stranger", "the stranger's SQL password")  # `quanta access password`
    result = subprocess.run(  # the snippet as the page shows it, in a shell
        ["bash", "-c", snippet],
        env={**os.environ, "QUANTA_SQL_PASSWORD": "the stranger's SQL password", "PAGER": "cat", "PSQLRC": "/dev/null"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "o-00000" in result.stdout and "***" in result.stdout and "(10 rows)" in result.stdout


def test_the_slo_dashboard_and_the_lineage_come_from_the_real_build(web: Served, open_page: Any) -> None:
    page = open_page()
    _sign_in(page, web, "ann", "/slo")
    rows = page.locator("table tbody tr")
    assert rows.count() == 2  # ann may read the confidential revenue product too
    assert "met" in rows.first.inner_text()
    _shot(page, "slo-dashboard")
    page.goto(web.url + "/products/sales/orders/v1#lineage")
    lineage = page.locator("svg.lineage")
    assert lineage.is_visible()
    assert lineage.locator("text").all_text_contents() == ["webshop", "sales.orders@v1", "sales.daily-revenue@v1"]
    box = lineage.bounding_box()
    assert box is not None and box["width"] > 500
    assert page.locator("svg.history").count() >= 1  # an SLI history chart per measured objective
    page.locator("svg.lineage a").first.click()  # the downstream product is a link
    page.wait_for_url(web.url + "/products/sales/daily-revenue/v1")


@pytest.mark.parametrize(
    "path",
    ["/signin", "/", "/products/sales/orders/v1", "/domains/sales", "/slo", "/runs", "/access", "/audit", "/map"],
)
def test_main_pages_have_no_serious_accessibility_violations(web: Served, open_page: Any, path: str) -> None:
    page = open_page()
    if path == "/signin":
        page.goto(web.url + path)
    else:
        _sign_in(page, web, "root", path)
    assert _serious_violations(page) == []


def test_every_action_is_reachable_with_the_keyboard(web: Served, open_page: Any) -> None:
    page = open_page()
    page.goto(web.url + "/signin")
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_label("API token").focus()
    page.keyboard.type(web.tokens["ann"])
    page.keyboard.press("Enter")
    page.wait_for_url(web.url + "/")
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.textContent.trim() || document.activeElement.name || ''"))
    assert {"Marketplace", "SLOs", "Access requests", "Sign out", "Search"} <= reached

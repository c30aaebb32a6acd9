"""The served mesh the web catalog's tests share: the REST/files mesh of ``serving_mesh`` with
the SQL port, an owning-team approver, a stranger without grants and a confidential product;
plus a browser-like client that signs in through the sign-in form."""

from __future__ import annotations

import re

import httpx

from quanta.catalog import PrincipalRecord
from quanta.project.platform import Platform
from serving_mesh import PRINCIPALS, Served

WEB_PRINCIPALS = [
    *PRINCIPALS.values(),
    PrincipalRecord("sam", team="sales-data"),  # the owning team: approves requests for its products
    PrincipalRecord("stranger"),
]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def enrol(platform: Platform) -> dict[str, str]:
    tokens = {}
    for record in WEB_PRINCIPALS:
        platform.add_principal(record)
        tokens[record.id], _ = platform.create_token(record.id)
    return tokens


def make_confidential(root: object) -> None:
    from pathlib import Path

    revenue = Path(str(root)) / "products/sales/daily-revenue/dataproduct.yaml"
    revenue.write_text(revenue.read_text().replace("access:\n", "access:\n  confidential: true\n"))


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def browser(served: Served) -> httpx.Client:
    """A client with a cookie jar and no credentials, like a browser that has not signed in."""
    return httpx.Client(base_url=served.url, timeout=30)


def signed_in(served: Served, who: str) -> httpx.Client:
    """A browser-like client signed in as ``who`` through the sign-in form."""
    client = browser(served)
    form = client.get("/signin")
    answer = client.post("/signin", data={"csrf": csrf_of(form.text), "token": served.tokens[who], "next": "/"})
    assert answer.status_code == 303, answer.text
    return client

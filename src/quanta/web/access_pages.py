"""Signing in and out, asking for access from a product's page, the approvers' inbox and the
audit view. Every change goes through ``AccessApi``, exactly as over the API; every form is
checked for its CSRF token first."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from quanta.errors import BadRequest
from quanta.project.access_api import AccessApi
from quanta.server.state import state_of
from quanta.web.catalog_pages import product_path
from quanta.web.render import html_errors, page, see_other, signed_in
from quanta.web.viewer import form_of, set_session_cookie, sign_in, sign_out, viewer_of

router = APIRouter(include_in_schema=False)
AUDIT_ROWS = 200


def _one(form: dict[str, list[str]], name: str, *, required: bool = True, limit: int = 2000) -> str:
    values = form.get(name) or [""]
    value = values[-1].strip()
    if required and not value:
        raise BadRequest(f"'{name}' is required", name)
    if len(value) > limit:
        raise BadRequest(f"'{name}' is at most {limit} characters", name)
    return value


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/signin")
@html_errors
def signin_form(request: Request) -> Response:
    viewer = viewer_of(request) if not request.headers.get("authorization") else None
    target = safe_next(request.query_params.get("next"))
    from quanta.web.oidc_signin import configured

    oidc = configured(request) is not None
    return page(request, "signin.html", viewer, next=target, title="Sign in", error=None, oidc=oidc)


@router.post("/signin")
@html_errors
async def signin(request: Request) -> Response:
    """An API token in, a session cookie out (and back to the page that asked)."""
    form = await form_of(request, None)
    token = _one(form, "token", limit=4096)
    target = safe_next(_one(form, "next", required=False))
    _, cookie = await run_in_threadpool(sign_in, request, token)
    response = see_other(target)
    set_session_cookie(request, response, cookie)
    return response


@router.post("/signout")
@html_errors
async def signout(request: Request) -> Response:
    viewer = await run_in_threadpool(viewer_of, request)
    await form_of(request, viewer)
    response = see_other("/signin")
    await run_in_threadpool(sign_out, request, viewer, response)
    return response


@router.post("/products/{domain}/{name}/v{major}/access-requests")
@html_errors
async def ask(request: Request, domain: str, name: str, major: int) -> Response:
    """Ask for ports of the product with a purpose and a duration; back to its page."""
    viewer = await run_in_threadpool(signed_in, request)
    form = await form_of(request, viewer)
    key = f"{domain}.{name}@v{major}"
    request.state.product = key
    ports = [p for p in form.get("port", []) if p]
    if not ports:
        raise BadRequest("choose at least one port to ask for", "port")
    days_text = _one(form, "days", limit=10)
    try:
        days = float(days_text)
    except ValueError:
        raise BadRequest(f"'days' is a number of days, not '{days_text[:20]}'", "days") from None
    if not 0 < days <= 366:
        raise BadRequest("'days' is more than 0 and at most 366", "days")
    purpose = _one(form, "purpose")
    unmask = [u for u in form.get("unmask", []) if u]
    api = AccessApi(state_of(request).platform)
    made = await run_in_threadpool(api.ask, viewer.principal, key, ports, purpose, days, unmask)
    return see_other(f"{product_path(key)}?requested={made['id']}#access")


@router.get("/access")
@html_errors
def inbox(request: Request) -> Response:
    """The viewer's own requests, and the pending ones it may decide."""
    viewer = signed_in(request)
    requests = AccessApi(state_of(request).platform).requests(viewer.principal)
    return page(request, "inbox.html", viewer, requests=requests, product_path=product_path, title="Access requests")


@router.post("/access/requests/{request_id}/{verdict}")
@html_errors
async def decide(request: Request, request_id: int, verdict: Literal["approve", "reject", "withdraw"]) -> Response:
    """Approve or reject (with a note), or withdraw one's own request; back to the inbox."""
    viewer = await run_in_threadpool(signed_in, request)
    form = await form_of(request, viewer)
    note = _one(form, "note", required=False) or None
    api = AccessApi(state_of(request).platform)
    await run_in_threadpool(api.decide, viewer.principal, request_id, verdict, note)
    return see_other(f"/access?decided={request_id}")


@router.get("/audit")
@html_errors
def audit(request: Request) -> Response:
    """The latest audit rows: an admin's of everything, an approver's of a product it decides for."""
    viewer = signed_in(request)
    product = request.query_params.get("product") or None
    rows = AccessApi(state_of(request).platform).audit(viewer.principal, product, AUDIT_ROWS)["rows"]
    return page(request, "audit.html", viewer, rows=rows, product=product, title="Audit log")

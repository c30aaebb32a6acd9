"""Pages as HTML: one Jinja2 environment (autoescaped), the security headers every page carries,
and errors as pages (the same statuses and reasons as the API's problem details)."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import jinja2
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from quanta.errors import QuantaError
from quanta.server.problems import TooManyFailures, Unauthenticated, status_of
from quanta.web.session import CSRF_FIELD
from quanta.web.viewer import Viewer, anchor_of, keys, set_anchor_cookie, viewer_of

TEMPLATES = Path(__file__).parent / "templates"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-store",
    "Vary": "Authorization, Cookie",
}
log = logging.getLogger("quanta.server")

TRUST_LABELS = {"met": "met", "at-risk": "at risk", "breached": "budget exhausted", "unmeasured": "unmeasured"}
"""A search hit's trust in the SLO document's own words."""


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["trust_label"] = lambda trust: TRUST_LABELS.get(str(trust), str(trust))
    env.filters["pct"] = lambda value: "-" if value is None else f"{float(value) * 100:.1f}%"
    env.filters["when"] = lambda text: (str(text)[:19].replace("T", " ") + " UTC") if text else "never"
    env.filters["url"] = lambda text: quote(str(text), safe="")
    return env


def page(request: Request, template: str, viewer: Viewer | None, status: int = 200, **context: Any) -> HTMLResponse:
    """``template`` rendered for ``viewer``, with its forms' CSRF token and the security headers."""
    anchor = anchor_of(request, viewer)
    html = (
        environment()
        .get_template(template)
        .render(
            viewer=viewer.principal if viewer else None,
            csrf=keys(request).csrf(anchor),
            csrf_field=CSRF_FIELD,
            path=request.url.path,
            request=request,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status, headers=HEADERS)
    set_anchor_cookie(request, response)
    return response


def see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


Handler = Callable[..., Response | Awaitable[Response]]


def html_errors(handler: Handler) -> Callable[..., Awaitable[Response]]:
    """``handler`` (a plain function runs on the thread pool: the catalog is synchronous) with a
    refusal or bad input rendered as an error page with its status; nobody signed in on a page that
    needs it: to the sign-in page, coming back here afterwards."""

    @functools.wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            if inspect.iscoroutinefunction(handler):
                return cast(Response, await handler(request, *args, **kwargs))
            return cast(Response, await run_in_threadpool(cast(Callable[..., Any], handler), request, *args, **kwargs))
        except SignInFirst:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return see_other(f"/signin?next={quote(target, safe='')}")
        except QuantaError as exc:
            status, title = status_of(exc)
            try:
                viewer = None if isinstance(exc, Unauthenticated | TooManyFailures) else viewer_of(request)
            except QuantaError:
                viewer = None
            response = await run_in_threadpool(
                page, request, "error.html", viewer, status, title=title, detail=str(exc)
            )
            if isinstance(exc, TooManyFailures):
                response.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
            return response

    return wrapped


class SignInFirst(QuantaError):
    """The page needs a signed-in viewer."""


def signed_in(request: Request) -> Viewer:
    """The viewer of a page that needs one (else :class:`SignInFirst`)."""
    viewer = viewer_of(request)
    if viewer is None:
        raise SignInFirst("sign in first")
    return viewer

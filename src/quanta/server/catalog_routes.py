"""The catalog API over HTTP: search and each product's descriptor, schema, lineage, versions,
SLO/SLI document and recent runs, as the signed-in caller may see them (``project.catalog_api``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from quanta.catalog.search import SearchQuery
from quanta.project.catalog_api import CatalogApi, Endpoints
from quanta.server.auth import authenticate
from quanta.server.state import state_of

router = APIRouter()
CATALOG = "/api/v1/catalog"
PRODUCT = CATALOG + "/products/{domain}/{name}/v{major}"
MAX_PAGE = 200
MAX_QUERY = 500


def _api(request: Request) -> tuple[CatalogApi, Any]:
    server = state_of(request)
    principal = authenticate(request, server.platform)
    request.state.port = "catalog"
    base = str(request.base_url).rstrip("/")
    return CatalogApi(
        server.platform, Endpoints(base, server.options.sql_address, server.options.tls is not None)
    ), principal


def _json(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse(data, headers={"Cache-Control": "private, no-cache", "Vary": "Authorization"})


@router.get(CATALOG + "/products")
def search(request: Request) -> JSONResponse:
    """Products matching ``q`` (empty: every product), best first (text relevance boosted by
    trust), with facets; ``domain``, ``tag``, ``status`` and ``trust`` filter (repeatable);
    ``limit`` (1-200) and ``offset`` page."""
    api, principal = _api(request)
    return _json(api.search(principal, search_query(request.query_params.multi_items())))


def search_query(params: list[tuple[str, str]]) -> SearchQuery:
    """The search a query string asks for; an unknown or malformed parameter is a 400."""
    from quanta.errors import BadRequest

    lists: dict[str, list[str]] = {name: [] for name in ("q", "domain", "tag", "status", "trust", "limit", "offset")}
    for name, value in params:
        if name not in lists:
            raise BadRequest(f"unknown parameter '{name}'; use q, domain, tag, status, trust, limit or offset", name)
        lists[name].append(value)
    numbers = {}
    for name, default, low, high in (("limit", 20, 1, MAX_PAGE), ("offset", 0, 0, 1_000_000)):
        text = lists[name][-1] if lists[name] else str(default)
        if not text.isdigit() or not low <= int(text) <= high:
            raise BadRequest(f"'{name}' is a whole number from {low} to {high}, not '{text[:40]}'", name)
        numbers[name] = int(text)
    text = " ".join(lists["q"])
    if len(text) > MAX_QUERY:
        raise BadRequest(f"'q' is at most {MAX_QUERY} characters", "q")
    return SearchQuery(
        text,
        tuple(lists["domain"]),
        tuple(lists["tag"]),
        tuple(lists["status"]),
        tuple(lists["trust"]),
        numbers["limit"],
        numbers["offset"],
    )


@router.get(PRODUCT)
def descriptor(request: Request, domain: str, name: str, major: int) -> JSONResponse:
    """The product's page: job description, owner, properties, ports with this caller's access."""
    api, principal = _api(request)
    return _json(api.descriptor(principal, _key(request, domain, name, major)))


@router.get(PRODUCT + "/{aspect}")
def aspect(request: Request, domain: str, name: str, major: int, aspect: str) -> JSONResponse:
    """One aspect of the product: ``schema``, ``lineage``, ``versions``, ``slo`` or ``runs``."""
    api, principal = _api(request)
    views = {"schema": api.schema, "lineage": api.lineage, "versions": api.versions, "slo": api.slo, "runs": api.runs}
    view = views.get(aspect)
    if view is None:
        from quanta.errors import NotFound

        raise NotFound(f"no catalog resource '{aspect}'; use one of: {', '.join(views)}")
    return _json(view(principal, _key(request, domain, name, major)))


def _key(request: Request, domain: str, name: str, major: int) -> str:
    key = f"{domain}.{name}@v{major}"
    request.state.product = key
    return key

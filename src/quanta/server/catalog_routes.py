"""The catalog API over HTTP: search and each product's descriptor, schema, lineage, versions,
SLO/SLI document and recent runs, as the signed-in caller may see them (``project.catalog_api``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse

from quanta.catalog.search import SearchQuery
from quanta.project.catalog_api import CatalogApi, Endpoints
from quanta.server.auth import authenticate
from quanta.server.state import state_of

router = APIRouter()
CATALOG = "/api/v1/catalog"
PRODUCT = CATALOG + "/products/{domain}/{name}/v{major}"
MAX_PAGE = 200


def _api(request: Request) -> tuple[CatalogApi, Any]:
    server = state_of(request)
    principal = authenticate(request, server.platform)
    request.state.port = "catalog"
    base = str(request.base_url).rstrip("/")
    return CatalogApi(server.platform, Endpoints(base, server.options.sql_address)), principal


def _json(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse(data, headers={"Cache-Control": "private, no-cache", "Vary": "Authorization"})


@router.get(CATALOG + "/products")
def search(
    request: Request,
    q: str = Query("", max_length=500, description="Words to look for; empty lists every product."),
    domain: list[str] = Query([]),
    tag: list[str] = Query([]),
    status: list[str] = Query([]),
    trust: list[str] = Query([]),
    limit: int = Query(20, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
) -> JSONResponse:
    """Products matching ``q``, best first (text relevance boosted by trust), with facets."""
    api, principal = _api(request)
    query = SearchQuery(q, tuple(domain), tuple(tag), tuple(status), tuple(trust), limit, offset)
    return _json(api.search(principal, query))


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

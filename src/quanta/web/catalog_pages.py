"""The catalog's pages: the marketplace (one search with facets), a product's page, a domain's
products, the SLO dashboard and run history. Every fact comes from ``CatalogApi`` as the viewer
may see it; sample rows come through the data plane under the viewer's own decision."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from quanta.access import Principal
from quanta.catalog.search import SearchQuery
from quanta.errors import QuantaError
from quanta.project.access_api import AccessApi
from quanta.project.catalog_api import CatalogApi, Endpoints
from quanta.server.catalog_routes import search_query
from quanta.server.state import state_of
from quanta.web.graphs import LineageNode, history_svg, lineage_svg
from quanta.web.render import html_errors, page, signed_in

router = APIRouter(include_in_schema=False)
SAMPLE_ROWS = 10
ROW_PORTS = ("sql", "rest", "files")
"""Ports whose grant lets a viewer see sample rows (a report or a model port shows no rows)."""


def catalog_api(request: Request) -> CatalogApi:
    server = state_of(request)
    return CatalogApi(
        server.platform,
        Endpoints(str(request.base_url).rstrip("/"), server.options.sql_address, server.options.tls is not None),
    )


def product_path(key: str) -> str:
    """The page of a product major ``domain.name@vN``."""
    ref, _, major = key.partition("@v")
    domain, _, name = ref.partition(".")
    return f"/products/{domain}/{name}/v{major or 1}"


def _search(
    request: Request, principal: Principal, page_size: int = 20, **fixed: tuple[str, ...]
) -> tuple[SearchQuery, dict[str, Any]]:
    params = [(k, v) for k, v in request.query_params.multi_items() if v != "" or k == "q"]
    if not any(k == "limit" for k, _ in params):
        params.append(("limit", str(page_size)))
    query = search_query(params)
    if fixed:
        query = SearchQuery(
            query.text,
            fixed.get("domains", query.domains),
            query.tags,
            query.statuses,
            fixed.get("trusts", query.trusts),
            query.limit,
            query.offset,
        )
    return query, catalog_api(request).search(principal, query)


@router.get("/")
@html_errors
def marketplace(request: Request) -> Response:
    """Search every product the viewer may see, best first, with facets to narrow it."""
    viewer = signed_in(request)
    query, found = _search(request, viewer.principal)
    template = "results.html" if request.headers.get("hx-request") == "true" else "marketplace.html"
    return page(request, template, viewer, query=query, found=found, product_path=product_path, title="Marketplace")


@router.get("/domains/{domain}")
@html_errors
def domain_page(request: Request, domain: str) -> Response:
    """A domain's products and the teams that own them."""
    viewer = signed_in(request)
    query, found = _search(request, viewer.principal, domains=(domain,))
    owners = sorted({h["owner"] for h in found["hits"] if h.get("owner")})
    return page(
        request,
        "domain.html",
        viewer,
        domain=domain,
        query=query,
        found=found,
        owners=owners,
        product_path=product_path,
        title=f"Domain {domain}",
    )


@router.get("/slo")
@html_errors
def slo_dashboard(request: Request) -> Response:
    """Every product the viewer may see with its trust: met, at risk or budget exhausted."""
    viewer = signed_in(request)
    query, found = _search(request, viewer.principal)
    return page(request, "slo.html", viewer, query=query, found=found, product_path=product_path, title="SLO dashboard")


@router.get("/products/{domain}/{name}/v{major}")
@html_errors
def product_page(request: Request, domain: str, name: str, major: int) -> Response:
    """Everything a consumer needs to decide on a product and reach it, as this viewer may."""
    viewer = signed_in(request)
    key = f"{domain}.{name}@v{major}"
    request.state.product = key
    api = catalog_api(request)
    principal = viewer.principal
    descriptor = api.descriptor(principal, key)
    lineage = api.lineage(principal, key)
    slo = api.slo(principal, key)
    for objective in slo["objectives"]:
        objective["chart"] = _history_chart(objective) if objective["history"] else None
    mine = [
        r
        for r in AccessApi(api.platform).requests(principal)["mine"]
        if r["product"] == descriptor["product"] and r["major"] in (None, major)
    ]
    return page(
        request,
        "product.html",
        viewer,
        title=descriptor["product"],
        product=descriptor,
        lineage=lineage,
        lineage_svg=_lineage_picture(descriptor, lineage),
        versions=api.versions(principal, key)["versions"],
        slo=slo,
        runs=api.runs(principal, key)["runs"],
        sample=_sample(request, principal, descriptor),
        requests=mine,
        product_path=product_path,
    )


def _lineage_picture(descriptor: dict[str, Any], lineage: dict[str, Any]) -> Any:
    upstream = []
    for source in lineage["upstream"]:
        if source["product"]:
            upstream.append(LineageNode(source["product"], "product", product_path(source["product"])))
        else:
            upstream.append(LineageNode(source["system"] or source["input"], "system"))
    downstream = [LineageNode(key, "product", product_path(key)) for key in lineage["downstream"]]
    return lineage_svg(upstream, LineageNode(descriptor["key"], "this"), downstream)


def _history_chart(objective: dict[str, Any]) -> Any:
    history = objective["history"]
    limits = [h.get("limit") for h in history if h.get("limit") is not None]
    return history_svg(
        f"{objective['name']}: the last {len(history)} measurements",
        [h.get("observed") for h in history],
        [h.get("status") == "passed" for h in history],
        limits[-1] if limits else None,
    )


def _sample(request: Request, principal: Principal, descriptor: dict[str, Any]) -> dict[str, Any] | None:
    """A few rows read through the first row port the viewer is granted, masked for the viewer."""
    granted = [o for o in descriptor["outputs"] if o["access"] == "granted" and o["type"] in ROW_PORTS]
    if not granted or descriptor["snapshot"] is None:
        return None
    port = granted[0]
    try:
        table = state_of(request).platform.plane.table(principal, descriptor["key"], port["id"], limit=SAMPLE_ROWS)
    except QuantaError as exc:
        return {"port": port["id"], "error": str(exc), "columns": [], "rows": []}
    return {
        "error": None,
        "port": port["id"],
        "masked": port.get("masked", []),
        "rowFilter": port.get("rowFilter", False),
        "columns": table.column_names,
        "rows": [[row[c] for c in table.column_names] for row in table.to_pylist()],
    }


@router.get("/runs")
@html_errors
def run_history(request: Request) -> Response:
    """The latest build runs, each with its steps on products the viewer may see."""
    viewer = signed_in(request)
    platform = state_of(request).platform
    visible = set(platform.discovery.products()) - platform.hidden_from(viewer.principal)
    runs = []
    for run in platform.catalog.runs.runs(limit=30):
        every = platform.catalog.runs.steps(run_id=run.id)
        steps = [s for s in every if s.product_key in visible]
        if steps or not every or viewer.principal.owner:  # a run of hidden products only is not shown
            runs.append({"run": run, "steps": steps})
    return page(request, "runs.html", viewer, runs=runs, product_path=product_path, title="Runs")

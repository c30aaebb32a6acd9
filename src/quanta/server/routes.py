"""The HTTP routes: health and readiness, metrics, and per product major its rows, lookups by key,
file downloads and OpenAPI. Each route authenticates, hands the request to a port, and streams
what the port returns; none reads data or decides access itself."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse

from quanta.ports.rest.cursor import entity_tag, matches
from quanta.ports.rest.formats import negotiate
from quanta.ports.rest.openapi import product_openapi
from quanta.ports.rest.request import parse_selector, split_params
from quanta.ports.rest.rows import Page
from quanta.read.plane import Selector
from quanta.server.auth import authenticate
from quanta.server.state import ServerState, state_of

router = APIRouter()
PRODUCT = "/api/v1/products/{domain}/{name}/v{major}"
VARY = "Accept, Authorization"


@router.get("/api/v1/health")
def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/api/v1/ready")
def ready(request: Request) -> JSONResponse:
    """The catalog answers and snapshot storage is reachable: this process can serve reads."""
    server = state_of(request)
    problems = server.readiness()
    status = 200 if not problems else 503
    return JSONResponse({"status": "ready" if not problems else "not ready", "problems": problems}, status_code=status)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    server = state_of(request)
    return Response(server.metrics.exposition(), media_type=server.metrics.content_type)


def _begin(request: Request, domain: str, name: str, major: int, port: str | None) -> tuple[ServerState, Any, Any]:
    """The server, the authenticated principal and the product major; ``port``: the id of the port
    the request reads (None: the product's REST port), which the access log and the SLIs count."""
    from quanta.ports.rest.rows import rest_port

    server = state_of(request)
    principal = authenticate(request, server.platform)
    spec = server.rest.plane.product(f"{domain}.{name}@v{major}")
    request.state.product = spec.key
    if port is None:
        request.state.port = rest_port(spec)[0]
    elif spec.output(port) is not None:  # never a label from the path that names no port
        request.state.port = port
    return server, principal, spec


def _page_response(request: Request, page: Page) -> Response:
    headers = {
        "ETag": page.etag,
        "Cache-Control": "private, no-cache",
        "Vary": VARY,
        "X-Quanta-Snapshot": page.snapshot_id,
    }
    if matches(request.headers.get("if-none-match"), page.etag):
        return Response(status_code=304, headers=headers)
    if page.body is not None:  # in memory already: no streaming (each chunk of a stream is a thread hop)
        return Response(page.body, media_type=page.media_type, headers=headers)
    body = page.chunks()  # runs the query: errors become problems before any byte is sent
    if page.next_cursor is not None:
        url = request.url.remove_query_params(list(request.query_params.keys()))
        url = url.include_query_params(cursor=page.next_cursor)
        if "format" in request.query_params:
            url = url.include_query_params(format=request.query_params["format"])
        headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    return StreamingResponse(body, media_type=page.media_type, headers=headers)


def _format(request: Request) -> str:
    chosen = negotiate(request.headers.get("accept"), request.query_params.get("format"))
    request.state.format = chosen
    return chosen


@router.get(PRODUCT + "/rows")
def rows(request: Request, domain: str, name: str, major: int) -> Response:
    """A page of rows: typed filters, fields, sort, limit, cursor, snapshot or as_of."""
    server, principal, spec = _begin(request, domain, name, major, None)
    file_format = _format(request)
    page = server.rest.rows(principal, spec, request.query_params.multi_items(), file_format)
    return _page_response(request, page)


@router.get(PRODUCT + "/rows/{key:path}")
def lookup(request: Request, domain: str, name: str, major: int, key: str) -> Response:
    """One row by primary key (a composite key's parts comma-separated, in key order)."""
    server, principal, spec = _begin(request, domain, name, major, None)
    file_format = _format(request)
    page = server.rest.lookup(principal, spec, key, request.query_params.multi_items(), file_format)
    return _page_response(request, page)


@router.get(PRODUCT + "/files/{port}")
def files(request: Request, domain: str, name: str, major: int, port: str) -> Response:
    """The snapshot as one file in a format the port offers: the snapshot's own file when the caller
    sees everything in clear, else a rendition made once and cached."""
    server, principal, spec = _begin(request, domain, name, major, port)
    reserved, extra = split_params(request.query_params.multi_items())
    unknown = [n for n in reserved if n not in ("format", "snapshot", "as_of")] + [n for n, _ in extra]
    if unknown:
        from quanta.errors import BadRequest

        raise BadRequest(f"'{unknown[0]}' does not apply to a download", unknown[0])
    snapshot_id, as_of = parse_selector(reserved)
    download = server.downloads.resolve(principal, spec, port, reserved.get("format"), Selector(snapshot_id, as_of))
    request.state.format = download.path.suffix.lstrip(".")
    tag = entity_tag(
        download.snapshot_id,
        {"files": port, "format": request.state.format},
        download.fingerprint,
        server.generation(principal),
    )
    digest = base64.b64encode(bytes.fromhex(download.sha256)).decode()
    headers = {
        "ETag": tag,
        "Cache-Control": "private, no-cache",
        "Vary": "Authorization",
        "X-Quanta-Snapshot": download.snapshot_id,
        "X-Quanta-SHA256": download.sha256,
        "Repr-Digest": f"sha-256=:{digest}:",
    }
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return FileResponse(download.path, media_type=download.media_type, filename=download.filename, headers=headers)


@router.get(PRODUCT + "/openapi.json")
def openapi(request: Request, domain: str, name: str, major: int) -> JSONResponse:
    """The OpenAPI 3.1 of this product major as the caller sees it."""
    from quanta.ports.rest.columns import received_columns

    server, principal, spec = _begin(request, domain, name, major, None)
    read = server.rest.secure(principal, spec, Selector())
    columns = received_columns(spec, read.snapshot, read.decision)
    decisions = {
        port.id: server.rest.plane.decide(principal, spec, port.id, read.snapshot)
        for port in spec.outputs
        if port.type in ("files", "model")
    }
    base = PRODUCT.format(domain=spec.domain, name=spec.name, major=spec.major)
    return JSONResponse(product_openapi(spec, columns, base, decisions), headers={"Cache-Control": "private, no-cache"})

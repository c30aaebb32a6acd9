"""The report port over HTTP: ``GET …/reports/{port}`` renders the report as the caller reads the
product (its masks and row filter apply to every figure), as HTML or PDF (``?format=`` or
``Accept``), of the current snapshot or ``?snapshot=``. The route authenticates and hands the
request to the report port; it decides nothing itself."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request
from starlette.responses import Response

from quanta.errors import BadRequest
from quanta.ports.rest.cursor import entity_tag, matches
from quanta.ports.rest.request import parse_selector, split_params
from quanta.read.plane import Selector
from quanta.server.routes import PRODUCT
from quanta.server.routes import _begin as begin  # the shared prelude: authenticate, product, port label

router = APIRouter()


@router.get(PRODUCT + "/reports/{port}")
def report(request: Request, domain: str, name: str, major: int, port: str) -> Response:
    """The report of a report port in a format it offers."""
    server, principal, spec = begin(request, domain, name, major, port)
    reserved, extra = split_params(request.query_params.multi_items())
    unknown = [n for n in reserved if n not in ("format", "snapshot", "as_of")] + [n for n, _ in extra]
    if unknown:
        raise BadRequest(f"'{unknown[0]}' does not apply to a report", unknown[0])
    snapshot_id, as_of = parse_selector(reserved)
    chosen = server.reports.negotiate(spec, port, reserved.get("format"), request.headers.get("accept"))
    request.state.format = chosen
    (rendered,) = server.reports.render(principal, spec, port, [chosen], Selector(snapshot_id, as_of))
    tag = entity_tag(
        rendered.snapshot_id, {"report": port, "format": chosen}, rendered.fingerprint, server.generation(principal)
    )
    digest = base64.b64encode(bytes.fromhex(rendered.sha256)).decode()
    headers = {
        "ETag": tag,
        "Cache-Control": "private, no-cache",
        "Vary": "Accept, Authorization",
        "X-Quanta-Snapshot": rendered.snapshot_id,
        "X-Quanta-SHA256": rendered.sha256,
        "Repr-Digest": f"sha-256=:{digest}:",
        "Content-Disposition": f'inline; filename="{rendered.filename}"',
    }
    if rendered.previous_id is not None:
        headers["X-Quanta-Previous-Snapshot"] = rendered.previous_id
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(rendered.content, media_type=rendered.media_type, headers=headers)

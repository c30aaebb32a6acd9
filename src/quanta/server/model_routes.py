"""The model port's route: ``POST …/v{major}/models/{port}:predict`` authenticates, hands the raw
body to :class:`quanta.ports.model.ModelPorts` and renders predictions or problem details (a bad
row names its index and field)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from quanta.access import Principal
from quanta.ports.model import BatchTooLarge, InvalidFeatures, ModelPortSpec, ScoringFailed, ScoringTimeout
from quanta.server.auth import authenticate
from quanta.server.problems import problem
from quanta.server.state import ServerState, state_of
from quanta.spec.product import DataProduct

router = APIRouter()
PREDICT = "/api/v1/products/{domain}/{name}/v{major}/models/{port}:predict"
ROW_BYTES = 4096
"""Body bytes allowed per row of a port's batch limit (beyond: 413 before the body is read)."""


@router.post(PREDICT)
async def predict(request: Request, domain: str, name: str, major: int, port: str) -> Response:
    """Predictions for a batch of feature rows from the current snapshot's artefacts."""
    server = state_of(request)
    principal, spec, declared = await run_in_threadpool(_resolve, request, server, f"{domain}.{name}@v{major}", port)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > declared.max_batch * ROW_BYTES:
        return problem(413, "batch-too-large", "the body is larger than this port accepts", request.url.path)
    payload = await request.body()
    try:
        scored = await run_in_threadpool(server.models.predict, principal, spec, declared.id, payload)
    except InvalidFeatures as exc:
        errors = [{"row": r, "field": f, "detail": d} for r, f, d in exc.errors]
        row, field, _ = exc.errors[0]
        path = request.url.path
        return problem(400, "invalid-features", str(exc), path, param=exc.param, row=row, field=field, errors=errors)
    except BatchTooLarge as exc:
        return problem(413, "batch-too-large", str(exc), request.url.path)
    except ScoringTimeout as exc:
        return problem(504, "model-timeout", str(exc), request.url.path)
    except ScoringFailed as exc:
        return problem(500, "model-failed", str(exc), request.url.path, kind=exc.kind)
    headers = {"Cache-Control": "no-store", "X-Quanta-Snapshot": scored.snapshot_id}
    return Response(scored.body(), media_type="application/json", headers=headers)


def _resolve(
    request: Request, server: ServerState, key: str, port: str
) -> tuple[Principal, DataProduct, ModelPortSpec]:
    """The caller, the product and its model port ``port`` (404 for a port it does not have), in
    one trip to the thread pool."""
    principal = authenticate(request, server.platform)
    spec = server.platform.plane.product(key)
    request.state.product = spec.key
    declared = server.models.port(spec, port)
    request.state.port = declared.id
    return principal, spec, declared

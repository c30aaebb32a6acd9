"""The access operations over HTTP (``project.access_api``): who am I, principals, one's own
tokens, access requests and their approval, and the audit log, for those allowed."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from quanta.project.access_api import MAX_AUDIT_ROWS, AccessApi
from quanta.server.auth import authenticate
from quanta.server.state import state_of

router = APIRouter()
ACCESS = "/api/v1/access"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NewToken(_Body):
    days: float | None = Field(default=None, description="Lifetime in days (default 90).")


class NewRequest(_Body):
    product: str = Field(description="``domain.name`` or ``domain.name@vN``.", max_length=300)
    ports: list[str] = Field(min_length=1, max_length=50)
    purpose: str = Field(min_length=1, max_length=2000)
    days: float = Field(gt=0, description="How long the grant should last.")
    unmask: list[str] = Field(default_factory=list, max_length=200)


class Verdict(_Body):
    note: str | None = Field(default=None, max_length=2000)


def _begin(request: Request) -> tuple[AccessApi, Any]:
    server = state_of(request)
    principal = authenticate(request, server.platform)
    request.state.port = "access"
    return AccessApi(server.platform), principal


def _json(data: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store", "Vary": "Authorization"})


@router.get(ACCESS + "/me")
def me(request: Request) -> JSONResponse:
    """The signed-in principal: roles, team, attributes, admin."""
    api, principal = _begin(request)
    return _json(api.me(principal))


@router.get(ACCESS + "/principals")
def principals(request: Request) -> JSONResponse:
    """Every principal (platform admins only)."""
    api, principal = _begin(request)
    return _json(api.principals(principal))


@router.get(ACCESS + "/tokens")
def tokens(request: Request) -> JSONResponse:
    """The caller's API tokens, never their values."""
    api, principal = _begin(request)
    return _json(api.tokens(principal))


@router.post(ACCESS + "/tokens")
def create_token(request: Request, body: NewToken) -> JSONResponse:
    """A new API token for the caller; the value is in this answer only."""
    api, principal = _begin(request)
    return _json(api.create_token(principal, body.days), 201)


@router.delete(ACCESS + "/tokens/{token_id}")
def revoke_token(request: Request, token_id: str) -> JSONResponse:
    api, principal = _begin(request)
    return _json(api.revoke_token(principal, token_id))


@router.get(ACCESS + "/requests")
def requests(request: Request) -> JSONResponse:
    """The caller's requests and the pending ones it may decide."""
    api, principal = _begin(request)
    return _json(api.requests(principal))


@router.post(ACCESS + "/requests")
def ask(request: Request, body: NewRequest) -> JSONResponse:
    """Ask for ports of a product, with a purpose and a duration; the approvers are notified."""
    api, principal = _begin(request)
    request.state.product = body.product
    made = api.ask(principal, body.product, body.ports, body.purpose, body.days, body.unmask)
    return _json(made, 201)


@router.post(ACCESS + "/requests/{request_id}/{verdict}")
def decide(
    request: Request, request_id: int, verdict: Literal["approve", "reject", "withdraw"], body: Verdict | None = None
) -> JSONResponse:
    """Approve or reject a pending request (its approvers), or withdraw it (its requester)."""
    api, principal = _begin(request)
    return _json(api.decide(principal, request_id, verdict, body.note if body else None))


@router.get(ACCESS + "/audit")
def audit(request: Request) -> JSONResponse:
    """The latest audit rows (``product``, ``limit``): admins all, approvers their product's."""
    from quanta.errors import BadRequest

    api, principal = _begin(request)
    product = request.query_params.get("product")
    limit_text = request.query_params.get("limit", "100")
    if not limit_text.isdigit():
        raise BadRequest(f"'limit' is a whole number from 1 to {MAX_AUDIT_ROWS}", "limit")
    return _json(api.audit(principal, product, int(limit_text)))

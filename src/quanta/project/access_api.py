"""The access operations of the catalog API, for those allowed: who am I, principals (admins),
one's own API tokens, access requests (ask, list, approve, reject, withdraw) and the audit log
(admins everything; a product's approvers that product's rows). Shapes are JSON data; a refusal
is :class:`~quanta.errors.AccessDenied` (403). Never a token's hash or a verifier."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from quanta.access import Principal
from quanta.catalog import PrincipalRecord, RequestRecord, TokenRecord
from quanta.errors import AccessDenied, NotFound
from quanta.project.catalog_api import jsonable
from quanta.project.platform import Platform

MAX_AUDIT_ROWS = 1000
MAX_TOKEN_DAYS = 365


class AccessApi:
    """Access operations on ``platform`` on behalf of one principal at a time."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def me(self, principal: Principal) -> dict[str, Any]:
        return {
            "id": principal.id,
            "roles": sorted(principal.roles),
            "team": principal.team,
            "admin": principal.owner,
            "attributes": dict(principal.attributes),
        }

    def principals(self, principal: Principal) -> dict[str, Any]:
        """Every principal the platform knows (platform admins only)."""
        _admin(principal, "list principals")
        return {"principals": [principal_data(r) for r in self.platform.catalog.access.all()]}

    def tokens(self, principal: Principal) -> dict[str, Any]:
        """The caller's own API tokens (never their values)."""
        return {"tokens": [token_data(t) for t in self.platform.catalog.access.tokens(principal.id)]}

    def create_token(self, principal: Principal, days: float | None) -> dict[str, Any]:
        """A new API token for the caller; its value is shown in this answer only."""
        from quanta.catalog.changes import acting_as

        if days is not None and not 0 < days <= MAX_TOKEN_DAYS:
            raise _bad(f"a token lives more than 0 and at most {MAX_TOKEN_DAYS} days", "days")
        with acting_as(principal.id):
            token, record = self.platform.create_token(principal.id, days if days is not None else 90)
        return {"token": token, **token_data(record)}

    def revoke_token(self, principal: Principal, token_id: str) -> dict[str, Any]:
        """Revoke one of the caller's tokens (an admin: anyone's)."""
        from quanta.catalog.changes import acting_as

        found = self.platform.catalog.access.token(token_id)
        if found is None or (found[0].principal_id != principal.id and not principal.owner):
            raise NotFound(f"no token '{token_id}' of yours")
        with acting_as(principal.id):
            self.platform.revoke_token(token_id)
        return {"revoked": token_id}

    def requests(self, principal: Principal) -> dict[str, Any]:
        """The caller's own requests, and the pending ones it may decide."""
        catalog = self.platform.catalog
        mine = catalog.requests.find(principal=principal.id)
        decidable = [r for r in self.platform.requests.pending_for(principal) if r.principal_id != principal.id]
        return {"mine": [request_data(r) for r in mine], "toDecide": [request_data(r) for r in decidable]}

    def ask(
        self,
        principal: Principal,
        product: str,
        ports: list[str],
        purpose: str,
        days: float,
        unmask: list[str],
    ) -> dict[str, Any]:
        """Ask for ports of a product the caller can see (a confidential one it cannot see is 404)."""
        spec = self.platform.discoverable(principal, product)
        from quanta.errors import ConfigError

        try:
            record = self.platform.requests.request(
                principal.id, spec.key, ports, purpose, timedelta(days=days), unmask=unmask
            )
        except ConfigError as exc:  # a request that cannot become a grant is the caller's mistake
            raise _bad(str(exc), "ports") from None
        return request_data(record)

    def decide(self, principal: Principal, request_id: int, verdict: str, note: str | None) -> dict[str, Any]:
        """``approve``, ``reject`` or ``withdraw`` a request, as the workflow allows the caller."""
        workflow = self.platform.requests
        found = self.platform.catalog.requests.get(request_id)
        if found is None or not workflow.involves(principal, found):  # one 404 for both
            raise NotFound(f"no access request {request_id}")
        if verdict == "approve":
            record = workflow.approve(request_id, principal, note)
        elif verdict == "reject":
            record = workflow.reject(request_id, principal, note)
        else:
            record = workflow.withdraw(request_id, principal)
        return request_data(record)

    def audit(self, principal: Principal, product: str | None, limit: int) -> dict[str, Any]:
        """The latest audit rows: an admin's of everything, an approver's of one product it decides for."""
        if not principal.owner:
            if product is None:
                raise AccessDenied("only a platform admin reads the whole audit log; name a product you approve for")
            spec = self.platform.discoverable(principal, product)
            if not self.platform.requests.may_decide(principal, spec):
                raise AccessDenied(f"{principal.id} may not read the audit log of {spec.ref}")
            product = spec.ref
        if not 1 <= limit <= MAX_AUDIT_ROWS:
            raise _bad(f"'limit' is from 1 to {MAX_AUDIT_ROWS}", "limit")
        writer = self.platform.plane.audit
        if writer is not None:
            writer.flush()  # this process's queued entries first: a reader sees every access made before
        rows = self.platform.catalog.audit.rows(product=product, limit=limit)
        return {"rows": [jsonable({"seq": row.seq, "at": row.at, "mac": row.mac} | _entry(row.entry)) for row in rows]}


def _entry(entry: Any) -> dict[str, Any]:
    fields = ("actor", "action", "product", "port", "snapshot", "statement", "rows", "decision", "reason", "data")
    return {name: getattr(entry, name) for name in fields}


def principal_data(record: PrincipalRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": record.kind,
        "displayName": record.display_name,
        "roles": list(record.roles),
        "team": record.team,
        "attributes": dict(record.attributes),
        "admin": record.admin,
    }


def token_data(record: TokenRecord) -> dict[str, Any]:
    return jsonable(
        {
            "id": record.id,
            "principal": record.principal_id,
            "createdAt": record.created_at,
            "expiresAt": record.expires_at,
            "revokedAt": record.revoked_at,
            "lastUsedAt": record.last_used_at,
        }
    )


def request_data(record: RequestRecord) -> dict[str, Any]:
    return jsonable(
        {
            "id": record.id,
            "product": record.product,
            "major": record.major,
            "principal": record.principal_id,
            "ports": list(record.ports),
            "unmask": list(record.unmask),
            "purpose": record.purpose,
            "durationDays": round(record.duration_s / 86400, 3),
            "status": record.status,
            "requestedAt": record.requested_at,
            "decidedBy": record.decided_by,
            "decidedAt": record.decided_at,
            "note": record.note,
            "grant": record.grant_id,
        }
    )


def _admin(principal: Principal, what: str) -> None:
    if not principal.owner:
        raise AccessDenied(f"only a platform admin may {what}")


def _bad(message: str, param: str) -> Exception:
    from quanta.errors import BadRequest

    return BadRequest(message, param)

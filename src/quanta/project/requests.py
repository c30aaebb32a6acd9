"""The access-request workflow: a principal asks for ports of a product (a purpose, the classified
properties to unmask, a duration); an approver — one of the spec's ``approvers``, else a member of
the owning team, or a platform admin — approves or rejects it with a note. Approval gives a
time-bound grant to the requester in the same transaction, effective on every port at once and
gone at once when it expires or is revoked."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from quanta.catalog import GrantRecord, RequestRecord
from quanta.catalog.changes import acting_as
from quanta.errors import AccessDenied, ConfigError, Conflict, NotFound

if TYPE_CHECKING:
    from quanta.access import Principal
    from quanta.project.platform import Platform
    from quanta.spec.product import DataProduct

MAX_DURATION = timedelta(days=366)
"""The longest access a request may ask for."""


class AccessRequests:
    """Requests against one platform's catalog."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._catalog = platform.catalog

    def request(
        self,
        principal: str,
        product: str,
        ports: list[str],
        purpose: str,
        duration: timedelta,
        unmask: list[str] | None = None,
    ) -> RequestRecord:
        """Ask for ``ports`` of a published product for ``duration``; checked like a grant."""
        from quanta.access.grants import grant_problems
        from quanta.spec.policy import Grant

        spec = self._platform.spec(product)
        self._catalog.access.require(principal)
        if not purpose.strip():
            raise ConfigError("an access request states its purpose")
        if duration <= timedelta(0) or duration > MAX_DURATION:
            raise ConfigError(f"a request's duration is more than nothing and at most {MAX_DURATION.days} days")
        wanted = Grant(principal=principal, ports=list(ports), unmask=list(unmask or []), purpose=purpose)
        problems = grant_problems(wanted, spec, self._platform.roles(), self._catalog.access.now().date())
        if problems:
            raise ConfigError(f"cannot request access to {spec.ref}: " + "; ".join(problems))
        for pending in self._catalog.requests.find(status="pending", product=spec.ref, principal=principal):
            if set(pending.ports) == set(ports) and set(pending.unmask) == set(unmask or []):
                raise Conflict(f"{principal} already asked for this (request {pending.id}, pending)")
        record = RequestRecord(
            product=spec.ref,
            major=spec.major,
            principal_id=principal,
            ports=tuple(ports),
            purpose=purpose.strip(),
            unmask=tuple(unmask or ()),
            duration_s=int(duration.total_seconds()),
        )
        with acting_as(principal):
            return self._catalog.requests.add(record)

    def approvers(self, spec: DataProduct) -> str:
        """Who decides requests for ``spec``, in words."""
        if spec.access.approvers:
            return ", ".join(spec.access.approvers)
        team = self._platform.plane.owning_team(spec)
        return f"the owning team {team}" if team else "a platform admin"

    def may_decide(self, who: Principal, spec: DataProduct) -> bool:
        """Whether ``who`` approves or rejects requests for ``spec``: a platform admin, one of the
        spec's approvers or, when it names none, a member of the owning team."""
        if who.owner:
            return True
        if spec.access.approvers:
            return who.id in spec.access.approvers
        team = self._platform.plane.owning_team(spec)
        return team is not None and who.team == team

    def pending_for(self, who: Principal) -> list[RequestRecord]:
        """The pending requests ``who`` may decide."""
        return [r for r in self._catalog.requests.find(status="pending") if self.may_decide(who, self._spec(r))]

    def approve(self, request_id: int, by: Principal, note: str | None = None) -> RequestRecord:
        """Approve a pending request: the requester's grant is effective on its next statement."""
        request = self._catalog.requests.require(request_id)
        spec = self._decidable(request, by)
        grant = GrantRecord(
            product=request.product,
            ports=request.ports,
            principal_id=request.principal_id,
            unmask=request.unmask,
            purpose=request.purpose,
            major=spec.major,
        )
        with acting_as(by.id):
            return self._catalog.requests.approve(request_id, by.id, note, grant)

    def reject(self, request_id: int, by: Principal, note: str | None = None) -> RequestRecord:
        request = self._catalog.requests.require(request_id)
        self._decidable(request, by)
        with acting_as(by.id):
            return self._catalog.requests.reject(request_id, by.id, note)

    def withdraw(self, request_id: int, by: Principal) -> RequestRecord:
        """Withdraw a pending request (its requester, or a platform admin)."""
        request = self._catalog.requests.require(request_id)
        if not by.owner and by.id != request.principal_id:
            raise AccessDenied(f"only {request.principal_id} (or a platform admin) may withdraw request {request_id}")
        with acting_as(by.id):
            return self._catalog.requests.withdraw(request_id, by.id)

    def involves(self, who: Principal, request: RequestRecord) -> bool:
        """Whether ``who`` may know of ``request``: its requester, or one who may decide it."""
        if who.owner or who.id == request.principal_id:
            return True
        try:
            return self.may_decide(who, self._spec(request))
        except NotFound:
            return False

    def _decidable(self, request: RequestRecord, by: Principal) -> DataProduct:
        spec = self._spec(request)
        if request.status != "pending":
            raise Conflict(f"access request {request.id} is already {request.status}")
        if by.id == request.principal_id and not by.owner:
            raise AccessDenied(f"{by.id} may not decide their own request {request.id}")
        if not self.may_decide(by, spec):
            raise AccessDenied(f"{by.id} may not decide requests for {spec.ref}: {self.approvers(spec)} may")
        return spec

    def _spec(self, request: RequestRecord) -> DataProduct:
        return self._platform.spec(f"{request.product}@v{request.major}")

"""THE decision point: may this principal read this product through this port, seeing what?

Default deny. A grant names a role or a principal, the ports it opens, an optional row filter and
the classified properties it unmasks; an expired grant grants nothing. Grants come from the
product's spec and from the catalog (given by an admin or by an approved access request).

Who is allowed, in order:

1. the platform owner (a platform admin): every port, classified values only when it asks
   (``unmask``);
2. a member of the product's owning team: every port, likewise;
3. the first matching grant, the most specific first: grants naming the principal before grants
   naming one of its roles; within each, catalog grants (newest first) before the spec's (in
   spec order).

A granted principal lacking an attribute its row filter binds is allowed but sees no rows. The
decision is data — visible properties, which are masked and how, the row filter, the grant and its
source — so every port applies the same one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from quanta.access.principal import Principal
from quanta.spec.masks import MaskRule, mask_for
from quanta.spec.policy import Grant
from quanta.spec.product import DataProduct

_PRINCIPAL_ATTRIBUTE = re.compile(r":principal\.([A-Za-z_]\w*)")


@dataclass(frozen=True)
class CatalogGrant:
    """A grant kept in the catalog, as the decision point applies it."""

    id: int
    grant: Grant
    source: str
    """``admin`` or ``request``."""
    granted_by: str
    major: int | None = None
    """The major it applies to (None: every major)."""
    expires_at: datetime | None = None
    """The instant it stops granting anything (aware UTC; None: never)."""

    def applies_to(self, product: DataProduct) -> bool:
        return self.major is None or self.major == product.major

    def valid_at(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`decide`: allowed or not and why; what the reader sees."""

    allowed: bool
    reason: str
    visible: tuple[str, ...] = ()
    masked: dict[str, MaskRule] = field(default_factory=dict)
    """Property → mask rule (kind and logical type): what is shown instead of the value."""
    row_filter: str | None = None
    """The grant's row filter (with ``:principal.<attr>`` still to bind)."""
    grant: Grant | None = None
    source: str = ""
    """Where the permission comes from: ``platform owner``, ``owning team …``, ``spec grant N``
    or ``catalog grant N``; empty when refused."""
    missing: tuple[str, ...] = ()
    """Principal attributes the row filter binds that the principal lacks: it sees no rows."""
    expires_at: datetime | None = None
    """When the grant it rests on stops being valid (a decision may be reused until then)."""

    @property
    def sees_no_rows(self) -> bool:
        return bool(self.missing)


def decide(
    principal: Principal,
    product: DataProduct,
    port: str | None,
    *,
    classified: Mapping[str, str | None] | Iterable[str] = (),
    columns: Iterable[str] | None = None,
    masks: Mapping[str, str] | None = None,
    types: Mapping[str, str] | None = None,
    catalog_grants: Sequence[CatalogGrant] = (),
    owning_team: str | None = None,
    unmask: bool = False,
    now: datetime | None = None,
) -> Decision:
    """Decide a read of ``product`` through ``port`` (None: any port, as the owner's tools read).
    ``classified`` are the properties to protect: those classified in the published policy or in the
    snapshot's own schema, whichever is stricter (a mapping gives each one's classification);
    ``columns`` those the snapshot has (the spec's properties when None); ``masks`` the mesh's
    mask per classification (defaults otherwise), which a grant's ``masks:`` overrides; ``types``
    each column's logical type (the spec's when absent); ``catalog_grants`` the catalog's grants
    of this product; ``owning_team`` the team of the product's domain (the spec's ``team`` wins);
    ``now`` the time grants' expiry is judged at (a spec grant's ``expires`` is its last valid day)."""
    names = tuple(columns) if columns is not None else tuple(p.name for p in product.schema_.properties)
    levels = dict(classified) if isinstance(classified, Mapping) else dict.fromkeys(classified)
    protected = [n for n in names if n in levels]
    kinds = {n: mask_for(levels[n] or _classification(product, n), masks) for n in protected}
    if port is not None and product.output(port) is None:
        return Decision(False, f"{product.ref} has no port '{port}'")
    owner = _owner(principal, product.team.name if product.team else owning_team)
    if owner is not None:
        masked = {} if unmask else {n: MaskRule(kinds[n], _type(product, n, types)) for n in protected}
        return Decision(True, owner, names, masked, source=owner)
    found = _grant_for(principal, product, port, catalog_grants, now or datetime.now(UTC))
    if found is None:
        where = f"port '{port}' of " if port else ""
        return Decision(False, f"no grant gives {principal.id} access to {where}{product.ref}")
    grant, source, expires_at = found
    opened = set(grant.unmask)
    kinds.update({n: k for n, k in grant.masks.items() if n in kinds})
    masked = {n: MaskRule(kinds[n], _type(product, n, types)) for n in protected if n not in opened}
    who = f"role {grant.role}" if grant.role else f"principal {grant.principal}"
    reason = f"granted to {who} by {source}"
    missing = missing_attributes(grant.row_filter, principal)
    if missing:
        reason += f"; {principal.id} lacks attribute(s) {', '.join(missing)} the row filter binds, so it sees no rows"
    return Decision(True, reason, names, masked, grant.row_filter, grant, source, tuple(missing), expires_at)


def _owner(principal: Principal, team: str | None) -> str | None:
    if principal.owner:
        return "platform owner"
    if principal.team is not None and principal.team == team:
        return f"owning team {principal.team}"
    return None


def _grant_for(
    principal: Principal,
    product: DataProduct,
    port: str | None,
    catalog_grants: Sequence[CatalogGrant],
    now: datetime,
) -> tuple[Grant, str, datetime | None] | None:
    """The most specific valid grant matching the principal and port, with its source and expiry."""
    candidates = [
        (g.grant, f"catalog grant {g.id}", g.expires_at)
        for g in sorted(catalog_grants, key=lambda g: -g.id)
        if g.applies_to(product) and g.valid_at(now)
    ]
    for n, g in enumerate(product.access.grants, start=1):
        ends = end_of_day(g.expires) if g.expires is not None else None
        if ends is None or now < ends:
            candidates.append((g, f"spec grant {n}", ends))
    valid = [c for c in candidates if port is None or port in c[0].ports]
    by_name = [c for c in valid if c[0].principal == principal.id]
    by_role = [c for c in valid if c[0].role is not None and c[0].role in principal.roles]
    for group in (by_name, by_role):
        if group:
            return group[0]
    return None


def end_of_day(day: date) -> datetime:
    """The instant a grant whose last valid day is ``day`` expires (midnight after it, UTC)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def missing_attributes(row_filter: str | None, principal: Principal) -> list[str]:
    """Attributes ``row_filter`` binds (``:principal.<attr>``) that ``principal`` lacks."""
    if row_filter is None:
        return []
    needed = _PRINCIPAL_ATTRIBUTE.findall(row_filter)
    return sorted({a for a in needed if a not in principal.attributes})


def _classification(product: DataProduct, name: str) -> str | None:
    prop = product.schema_.get(name)
    return prop.classification if prop else None


def _type(product: DataProduct, name: str, types: Mapping[str, str] | None) -> str:
    if types and name in types:
        return types[name]
    prop = product.schema_.get(name)
    return prop.logical_type if prop else "string"

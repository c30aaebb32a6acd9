"""THE decision point: may this principal read this product through this port, seeing what?

Default deny. A grant names a role or a principal, the ports it opens, an optional row filter and
the classified properties it unmasks; an expired grant grants nothing. The platform owner reads
every port and sees classified values only when it asks to (``unmask``). The decision is data —
visible properties, which are masked and how, the row filter — so every port applies the same one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from quanta.access.principal import Principal
from quanta.spec.masks import MaskRule, mask_for
from quanta.spec.policy import Grant
from quanta.spec.product import DataProduct


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


def decide(
    principal: Principal,
    product: DataProduct,
    port: str | None,
    *,
    classified: Mapping[str, str | None] | Iterable[str] = (),
    columns: Iterable[str] | None = None,
    masks: Mapping[str, str] | None = None,
    types: Mapping[str, str] | None = None,
    unmask: bool = False,
    today: date | None = None,
) -> Decision:
    """Decide a read of ``product`` through ``port`` (None: any port, as the owner's tools read).
    ``classified`` are the properties to protect: those classified in the published policy or in the
    snapshot's own schema, whichever is stricter (a mapping gives each one's classification);
    ``columns`` those the snapshot has (the spec's properties when None); ``masks`` the mesh's
    mask per classification (defaults otherwise), which a grant's ``masks:`` overrides; ``types``
    each column's logical type (the spec's when absent)."""
    names = tuple(columns) if columns is not None else tuple(p.name for p in product.schema_.properties)
    levels = dict(classified) if isinstance(classified, Mapping) else dict.fromkeys(classified)
    protected = [n for n in names if n in levels]
    kinds = {n: mask_for(levels[n] or _classification(product, n), masks) for n in protected}
    if port is not None and product.output(port) is None:
        return Decision(False, f"{product.ref} has no port '{port}'")
    if principal.owner:
        masked = {} if unmask else {n: MaskRule(kinds[n], _type(product, n, types)) for n in protected}
        return Decision(True, "platform owner", names, masked)
    grant = _grant_for(principal, product, port, today or date.today())
    if grant is None:
        where = f"port '{port}' of " if port else ""
        return Decision(False, f"no grant gives {principal.id} access to {where}{product.ref}")
    missing = _missing_attributes(grant, principal)
    if missing:
        return Decision(False, f"the grant's row filter needs principal attribute(s) {', '.join(missing)}")
    opened = set(grant.unmask)
    kinds.update({n: k for n, k in grant.masks.items() if n in kinds})
    masked = {n: MaskRule(kinds[n], _type(product, n, types)) for n in protected if n not in opened}
    who = f"role {grant.role}" if grant.role else f"principal {grant.principal}"
    return Decision(True, f"granted to {who}", names, masked, grant.row_filter, grant)


def _grant_for(principal: Principal, product: DataProduct, port: str | None, today: date) -> Grant | None:
    for grant in product.access.grants:
        if grant.expires is not None and grant.expires < today:
            continue
        if port is not None and port not in grant.ports:
            continue
        if grant.principal == principal.id or (grant.role is not None and grant.role in principal.roles):
            return grant
    return None


def _missing_attributes(grant: Grant, principal: Principal) -> list[str]:
    if grant.row_filter is None:
        return []
    import re

    needed = re.findall(r":principal\.([A-Za-z_]\w*)", grant.row_filter)
    return sorted({a for a in needed if a not in principal.attributes})


def _classification(product: DataProduct, name: str) -> str | None:
    prop = product.schema_.get(name)
    return prop.classification if prop else None


def _type(product: DataProduct, name: str, types: Mapping[str, str] | None) -> str:
    if types and name in types:
        return types[name]
    prop = product.schema_.get(name)
    return prop.logical_type if prop else "string"

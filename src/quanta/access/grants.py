"""Checks of a grant given in the catalog against the product's published spec: the same rules a
spec's grants pass at validation (known role, ports and properties, a row filter that parses and
reads only the product's properties, unmask with a purpose, masks defined for each type)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from quanta.spec.masks import MASK_TYPES, defined_for
from quanta.spec.policy import Grant
from quanta.spec.product import DataProduct


def grant_problems(grant: Grant, product: DataProduct, roles: Collection[str], today: date) -> list[str]:
    """Everything wrong with giving ``grant`` on ``product`` (empty: it may be given)."""
    problems: list[str] = []
    ports = [o.id for o in product.outputs]
    names = product.schema_.names
    if grant.role is not None and grant.role not in roles:
        problems.append(f"role '{grant.role}' is in no published mesh's roles ({', '.join(sorted(roles)) or 'none'})")
    for port in grant.ports:
        if port not in ports:
            problems.append(f"{product.ref} has no port '{port}' (ports: {', '.join(ports) or 'none'})")
    for name in grant.unmask:
        prop = product.schema_.get(name)
        if prop is None:
            problems.append(f"'{name}' is not a property of {product.ref}")
        elif not prop.is_classified:
            problems.append(f"'{name}' is not classified, so there is nothing to unmask")
    for name, kind in grant.masks.items():
        prop = product.schema_.get(name)
        if prop is None:
            problems.append(f"'{name}' is not a property of {product.ref}")
        elif not defined_for(kind, prop.logical_type):
            fits = ", ".join(k for k, types in MASK_TYPES.items() if prop.logical_type in types)
            problems.append(f"mask '{kind}' is not defined for '{name}' ({prop.logical_type}; use {fits})")
    if grant.row_filter is not None:
        problems += _row_filter_problems(grant.row_filter, product, names)
    if grant.expires is not None and grant.expires < today:
        problems.append(f"it would expire on {grant.expires.isoformat()}, which has passed")
    return problems


def _row_filter_problems(text: str, product: DataProduct, names: list[str]) -> list[str]:
    from quanta.sql.rowfilter import SqlRestrictionError, parse_row_filter

    try:
        parsed = parse_row_filter(text)
    except SqlRestrictionError as exc:
        return [f"the row filter does not parse: {exc}"]
    return [f"the row filter reads '{c}', not a property of {product.ref}" for c in sorted(parsed.columns - set(names))]

"""Verified claims → :class:`~quanta.access.principal.Principal`, as the OIDC settings map them.

The claims alone define the principal: the catalog is not consulted, so a catalog principal with
the same id lends a token neither roles, attributes nor admin. A token makes a platform admin
only when the settings name an ``adminRole`` and the roles claim holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quanta.access.principal import Principal
from quanta.errors import AccessDenied
from quanta.spec.mesh import OidcSettings

MAX_SUBJECT = 255


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """The claim named ``path``, or the one reached by its dotted parts (``realm_access.roles``);
    None when absent. A claim whose own name holds dots (``https://example.com/roles``) wins."""
    if path in claims:
        return claims[path]
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def principal_from_claims(claims: Mapping[str, Any], settings: OidcSettings) -> Principal:
    """The principal verified ``claims`` stand for; :class:`AccessDenied` when the subject is
    missing or a mapped claim has the wrong shape."""
    subject = claim(claims, settings.subject_claim)
    if not isinstance(subject, str) or not subject:
        raise AccessDenied(f"the bearer token has no '{settings.subject_claim}' claim naming its subject")
    if len(subject) > MAX_SUBJECT or not subject.isprintable() or any(c.isspace() for c in subject):
        raise AccessDenied(f"the bearer token's '{settings.subject_claim}' claim is not a usable principal id")
    roles = _roles(claims, settings.roles_claim)
    team = claim(claims, settings.team_claim) if settings.team_claim else None
    if team is not None and not isinstance(team, str):
        raise AccessDenied(f"the bearer token's '{settings.team_claim}' claim is not a team name")
    attributes = {
        name: text
        for name, path in settings.attribute_claims.items()
        if (text := _scalar(claim(claims, path))) is not None
    }
    admin = settings.admin_role is not None and settings.admin_role in roles
    return Principal(subject, roles, attributes, owner=admin, team=team or None)


def _roles(claims: Mapping[str, Any], path: str | None) -> frozenset[str]:
    value = claim(claims, path) if path else None
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(role, str) for role in value):
        return frozenset(role for role in value if role)
    raise AccessDenied(f"the bearer token's '{path}' claim is neither a list of role names nor a space-separated list")


def _scalar(value: Any) -> str | None:
    """An attribute's text: strings as they are, numbers and booleans as JSON writes them; a list,
    an object or an absent claim gives no attribute (a row filter on it then shows no rows)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None

"""Access policy as code: default deny, grants per role or principal, masks and row filters."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from quanta.spec.base import Name, PropertyName, SpecModel
from quanta.spec.masks import Mask


class Grant(SpecModel):
    """Permission for one role or principal on some ports of the product."""

    role: Name | None = None
    """Role from the mesh's ``roles:``."""
    principal: str | None = Field(default=None, min_length=1)
    """A single user or service (e.g. ``svc:recommender``) instead of a role."""
    ports: list[Name] = Field(min_length=1)
    """Output port ids this grant opens."""
    row_filter: str | None = None
    """SQL boolean expression over properties; ``:principal.<attribute>`` binds the caller."""
    unmask: list[PropertyName] = Field(default_factory=list)
    """Classified properties shown in clear to this grantee."""
    masks: dict[PropertyName, Mask] = Field(default_factory=dict)
    """Classified property → mask kind for this grantee, overriding the mesh's ``masks:``."""
    purpose: str | None = None
    """Why access is granted (required when unmasking)."""
    expires: date | None = None
    """Last day the grant is valid (ISO date)."""

    @model_validator(mode="after")
    def _one_grantee(self) -> Grant:
        if (self.role is None) == (self.principal is None):
            raise ValueError("a grant names exactly one of role or principal")
        if self.unmask and not self.purpose:
            raise ValueError("a grant that unmasks properties must state its purpose")
        return self


class Access(SpecModel):
    """Who may read the product, through which ports, seeing what."""

    grants: list[Grant] = Field(default_factory=list)
    """Grants; anything not granted is denied."""
    approvers: list[str] = Field(default_factory=list)
    """Principals who approve access requests (the owning team when empty)."""
    confidential: bool = False
    """Hide the product itself, not only its rows, from principals who may read none of its ports: it
    is left out of search and the catalog answers 404 about it. Otherwise anyone signed in may see its
    metadata, so they can ask for access."""

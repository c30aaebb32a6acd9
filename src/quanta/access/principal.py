"""Principals: the identity a read is made for."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """A user or service with its roles and attributes (bound by row filters as ``:principal.<attr>``).
    The platform owner may read every port and ask for classified values in clear."""

    id: str
    roles: frozenset[str] = frozenset()
    attributes: dict[str, str] = field(default_factory=dict, hash=False)
    owner: bool = False
    team: str | None = None
    """The team it belongs to (a domain's team owns its products)."""


LOCAL_OWNER = Principal("local", owner=True)
"""The user at the terminal running the CLI against their own platform: the platform owner."""

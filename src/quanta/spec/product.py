"""The data product spec (``dataproduct.yaml``), close to ODPS 1.x where it names a concept."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from quanta.spec.base import Cron, Name, ProductRef, Semver, SpecModel
from quanta.spec.policy import Access
from quanta.spec.ports import InputSpec, OutputPort
from quanta.spec.schema import ProductSchema
from quanta.spec.slo import Slos
from quanta.spec.transform import Transform

Status = Literal["proposed", "draft", "active", "deprecated", "retired"]
"""ODPS lifecycle status."""


class Team(SpecModel):
    """The team that owns and runs the product."""

    name: Name
    """Team name."""
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    """Contact address for consumers."""
    chat: str | None = None
    """Chat channel, e.g. ``#crm-analytics``."""


class Deprecation(SpecModel):
    """When a major version stops being served and what replaces it."""

    date: date
    """Last day this major version is served (ISO date)."""
    replaced_by: ProductRef | None = None
    """The product (or next major) consumers should move to."""
    notice: str | None = None
    """Message shown to consumers."""


class DataProduct(SpecModel):
    """One data product: a cohesive public table, its inputs, transform, ports, SLOs and access."""

    api_version: Literal["quanta/v1"]
    """Spec format version, ``quanta/v1``."""
    kind: Literal["DataProduct"]
    """Always ``DataProduct``."""
    name: Name
    """Product name, unique within its domain."""
    domain: Name | None = None
    """Owning domain; may stay open only while ``proposed``."""
    version: Semver
    """Semantic version; the major is part of the address and breaking changes bump it."""
    status: Status = "draft"
    """ODPS lifecycle: proposed → draft → active → deprecated → retired."""
    team: Team | None = None
    """Owning team and contact."""
    description: str | None = None
    """The job description: one or two sentences saying what the product delivers."""
    tags: list[str] = Field(default_factory=list)
    """Free labels for search."""
    introduced_by: Name | None = None
    """Use case that brought the product in (design overlay)."""
    schedule: Cron | None = None
    """When the product is rebuilt (drives freshness and ``quanta build --due``)."""
    inputs: list[InputSpec] = Field(default_factory=list)
    """Other products (pinned to a major) and sources in systems of record."""
    transform: Transform | None = None
    """How the public table is computed; absent only for proposals."""
    schema_: ProductSchema = Field(default_factory=ProductSchema, alias="schema")
    """The public table."""
    outputs: list[OutputPort] = Field(default_factory=list)
    """Output ports by id."""
    slos: Slos = Field(default_factory=Slos)
    """Service level objectives."""
    access: Access = Field(default_factory=Access)
    """Access policy (default deny)."""
    deprecation: Deprecation | None = None
    """Set when this major version is being retired."""

    @property
    def major(self) -> int:
        return int(self.version.split(".", 1)[0])

    @property
    def ref(self) -> str:
        """``<domain>.<name>`` (just the name while no domain is assigned)."""
        return f"{self.domain}.{self.name}" if self.domain else self.name

    @property
    def key(self) -> str:
        """``<domain>.<name>@v<major>``: identity of one served major version."""
        return f"{self.ref}@v{self.major}"

    def output(self, port_id: str) -> OutputPort | None:
        return next((p for p in self.outputs if p.id == port_id), None)

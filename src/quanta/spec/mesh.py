"""The mesh spec (``mesh.yaml``): platform defaults, domains, roles, glossary, systems, use cases."""

from __future__ import annotations

import re
from pathlib import PureWindowsPath
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from quanta.spec.base import Name, ProductRef, PropertyName, Regex, SpecModel
from quanta.spec.masks import Mask
from quanta.spec.schema import LogicalType

MAX_THREADS = 1024


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Setting = Annotated[str, AfterValidator(_not_blank)]
"""A platform setting given as text: never empty or blank."""
Threads = Annotated[int, Field(strict=True, ge=1, le=MAX_THREADS)]
"""Engine threads: a whole number from 1 to 1024 (``true`` or ``2.5`` are refused)."""
MemoryLimit = Annotated[str, Field(pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")]
"""An engine memory limit such as ``4GB``."""


def _check_glob(pattern: str) -> str:
    """A product glob stays inside the mesh folder: relative, without ``..``."""
    if not pattern.strip():
        raise ValueError("a product glob must not be empty")
    if pattern.startswith(("/", "\\")) or PureWindowsPath(pattern).drive:
        raise ValueError(f"'{pattern}' is absolute; product globs are relative to mesh.yaml")
    parts = {part for part in re.split(r"[/\\]", pattern) if part}
    if ".." in parts:
        raise ValueError(f"'{pattern}' leads out of the mesh folder ('..'); product specs live inside it")
    if parts <= {"."}:
        raise ValueError(f"'{pattern}' names the mesh folder itself, not product files")
    return pattern


MaskedClassification = Literal["confidential", "restricted", "pii", "sensitive"]
"""A classification that is masked unless a grant unmasks it."""

ProductGlob = Annotated[str, AfterValidator(_check_glob)]
"""A glob, relative to mesh.yaml, that stays inside the mesh folder."""


class PlatformSettings(SpecModel):
    """Platform defaults; a profile or ``QUANTA_*`` environment variables override them."""

    engine: Literal["duckdb", "spark"] = "duckdb"
    """Build engine."""
    storage: Setting = ".quanta/warehouse"
    """Where snapshots live: a folder (relative to the mesh) or ``s3://bucket/prefix``."""
    storage_endpoint: Setting | None = None
    """S3-compatible endpoint URL (MinIO, moto, …); AWS when omitted. Credentials come from the
    standard AWS environment variables, never from here."""
    cache: Setting = ".quanta/cache"
    """Local folder (relative to the mesh) caching snapshots read from an object store."""
    catalog: Setting = "sqlite:///.quanta/catalog.db"
    """SQLAlchemy URL of the catalog; credentials come from the environment, never from here."""
    threads: Threads | None = None
    """Engine threads (all cores when omitted)."""
    memory_limit: MemoryLimit | None = None
    """Engine memory limit, e.g. ``4GB``."""


class PlatformOverride(SpecModel):
    """A named profile: any platform setting, overriding the defaults."""

    engine: Literal["duckdb", "spark"] | None = None
    """Build engine."""
    storage: Setting | None = None
    """Snapshot location."""
    storage_endpoint: Setting | None = None
    """S3-compatible endpoint URL."""
    cache: Setting | None = None
    """Local cache folder for object-store snapshots."""
    catalog: Setting | None = None
    """Catalog URL (no credentials)."""
    threads: Threads | None = None
    """Engine threads."""
    memory_limit: MemoryLimit | None = None
    """Engine memory limit."""


class Domain(SpecModel):
    """A business domain that owns products and systems."""

    name: Name
    """Domain name."""
    team: Name | None = None
    """Team accountable for the domain."""
    description: str | None = None
    """What the domain is responsible for."""


class Role(SpecModel):
    """A consumer role that grants refer to."""

    name: Name
    """Role name."""
    description: str | None = None
    """Who holds the role."""


class BusinessKey(SpecModel):
    """A mesh-wide join key (interoperability): same name, type and meaning everywhere."""

    name: PropertyName
    """Key name; properties carrying it name it in ``businessKey``."""
    logical_type: LogicalType
    """Logical type every carrier must use."""
    owner: ProductRef
    """Product holding the reference list of keys (referential integrity is checked against it)."""
    description: str | None = None
    """Meaning of the key and who issues it."""
    pattern: Regex | None = None
    """Shape every key value has."""


class System(SpecModel):
    """A system of record that source inputs come from."""

    name: Name
    """System name."""
    domain: Name
    """Domain owning the system."""
    description: str | None = None
    """What the system holds."""
    technology: str | None = None
    """What it is, e.g. ``Salesforce``, ``PostgreSQL``, ``SFTP drop``."""


class Consumption(SpecModel):
    """A product port a use case consumes."""

    product: ProductRef
    """``<domain>.<name>`` of the product."""
    port: Name
    """Output port id on that product."""
    access: Literal["report", "rest", "sql", "files", "model"] | None = None
    """How the persona accesses it (the port's type)."""


class UseCase(SpecModel):
    """A need of a persona that products are worked backwards from."""

    id: Name
    """Use-case id, referenced by ``introducedBy``."""
    title: str | None = None
    """Short title."""
    persona: str = Field(min_length=1)
    """Who needs it, e.g. ``customer relationship manager``."""
    domain: Name
    """Domain the persona works in."""
    statement: str = Field(min_length=1)
    """'As a …, I need … so that …'."""
    consumes: list[Consumption] = Field(default_factory=list)
    """Product ports that serve it."""


class Mesh(SpecModel):
    """The whole mesh: one ``mesh.yaml`` and its product specs."""

    api_version: Literal["quanta/v1"]
    """Spec format version, ``quanta/v1``."""
    kind: Literal["Mesh"]
    """Always ``Mesh``."""
    name: Name
    """Mesh name."""
    description: str | None = None
    """What this mesh covers."""
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    """Platform defaults (engine, storage, catalog)."""
    profiles: dict[Name, PlatformOverride] = Field(default_factory=dict)
    """Named overrides of the platform, selected with ``--profile`` or ``QUANTA_PROFILE``."""
    domains: list[Domain] = Field(default_factory=list)
    """Business domains; every product belongs to exactly one."""
    roles: list[Role] = Field(default_factory=list)
    """Consumer roles that grants refer to."""
    business_keys: list[BusinessKey] = Field(default_factory=list)
    """The glossary of mesh-wide join keys."""
    systems: list[System] = Field(default_factory=list)
    """Systems of record that source inputs come from."""
    use_cases: list[UseCase] = Field(default_factory=list)
    """Use cases in overlay order."""
    masks: dict[MaskedClassification, Mask] = Field(default_factory=dict)
    """Mask per classification (``null``, ``redact``, ``partial``, ``hash``); defaults: pii,
    sensitive and confidential ``redact``, restricted ``null``."""
    products: list[ProductGlob] = Field(default_factory=lambda: ["products/**/dataproduct.yaml"])
    """Globs, relative to mesh.yaml, of product spec files."""

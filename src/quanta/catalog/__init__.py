"""The catalog: the platform's registry of published products and the single source of truth for
which snapshot is current."""

from quanta.catalog.database import CatalogUnavailable
from quanta.catalog.facade import Catalog
from quanta.catalog.products import OwnershipConflict
from quanta.catalog.records import (
    AuditEntry,
    AuditRow,
    Descriptor,
    EventRecord,
    GrantRecord,
    LineageRecord,
    MeshDescriptor,
    PrincipalRecord,
    ProductEntry,
    RequestRecord,
    RunRecord,
    SliRecord,
    SnapshotRecord,
    StepRecord,
    TokenRecord,
)

__all__ = [
    "AuditEntry",
    "AuditRow",
    "Catalog",
    "CatalogUnavailable",
    "Descriptor",
    "EventRecord",
    "GrantRecord",
    "LineageRecord",
    "MeshDescriptor",
    "OwnershipConflict",
    "PrincipalRecord",
    "ProductEntry",
    "RequestRecord",
    "RunRecord",
    "SliRecord",
    "SnapshotRecord",
    "StepRecord",
    "TokenRecord",
]

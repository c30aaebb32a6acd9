"""The catalog: the platform's registry of published products and the single source of truth for
which snapshot is current."""

from quanta.catalog.database import CatalogUnavailable
from quanta.catalog.facade import Catalog
from quanta.catalog.products import OwnershipConflict
from quanta.catalog.records import (
    Descriptor,
    GrantRecord,
    LineageRecord,
    MeshDescriptor,
    PrincipalRecord,
    ProductEntry,
    RunRecord,
    SliRecord,
    SnapshotRecord,
    StepRecord,
    TokenRecord,
)

__all__ = [
    "Catalog",
    "CatalogUnavailable",
    "Descriptor",
    "GrantRecord",
    "LineageRecord",
    "MeshDescriptor",
    "OwnershipConflict",
    "PrincipalRecord",
    "ProductEntry",
    "RunRecord",
    "SliRecord",
    "SnapshotRecord",
    "StepRecord",
    "TokenRecord",
]

"""Look-ups over a loaded mesh: products by reference and major, names, SQL names."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from quanta.spec.loader import MeshSource, ProductSource
from quanta.spec.product import DataProduct


def sql_identifier(name: str) -> str:
    """A kebab-case name as a SQL identifier: ``customer-marketing-360`` → ``customer_marketing_360``."""
    return name.replace("-", "_")


def sql_names(product: DataProduct, latest: bool = True) -> list[str]:
    """SQL names of the product's table: ``<domain>.<name>_v<major>``, and ``<domain>.<name>``
    for the latest major."""
    schema = sql_identifier(product.domain or "proposed")
    table = sql_identifier(product.name)
    versioned = f"{schema}.{table}_v{product.major}"
    return [f"{schema}.{table}", versioned] if latest else [versioned]


def address(product: DataProduct) -> str:
    """The product's permanent URI, ``quanta://<domain>/<name>/v<major>``."""
    return f"quanta://{product.domain or '_'}/{product.name}/v{product.major}"


@dataclass
class ProductIndex:
    """Products of one mesh by reference; a reference may have several majors."""

    by_ref: dict[str, list[ProductSource]] = field(default_factory=lambda: defaultdict(list))
    by_name: dict[str, list[ProductSource]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, mesh: MeshSource) -> ProductIndex:
        index = cls()
        for product in mesh.products:
            index.by_ref[product.spec.ref].append(product)
            index.by_name[product.spec.name].append(product)
        return index

    def versions(self, ref: str) -> list[ProductSource]:
        """All majors of a reference; a bare name matches domain-less proposals by name."""
        if ref in self.by_ref:
            return self.by_ref[ref]
        if "." not in ref:
            return self.by_name.get(ref, [])
        return []

    def resolve(self, ref: str, major: int | None = None) -> ProductSource | None:
        """The product at ``ref`` with ``major`` (the highest major when None)."""
        versions = self.versions(ref)
        if major is not None:
            versions = [v for v in versions if v.spec.major == major]
        return max(versions, key=lambda v: v.spec.major, default=None)

    def is_latest(self, product: DataProduct) -> bool:
        """Whether ``product`` is the highest major of its reference."""
        latest = self.resolve(product.ref)
        return latest is not None and latest.spec.major == product.major

    @property
    def refs(self) -> list[str]:
        return sorted(self.by_ref)

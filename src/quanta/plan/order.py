"""Dependency order of a mesh's products: generations that may run side by side."""

from __future__ import annotations

import graphlib

from quanta.spec.index import ProductIndex
from quanta.spec.loader import MeshSource, ProductSource


def upstream_keys(product: ProductSource, index: ProductIndex) -> list[str]:
    keys = []
    for spec_input in product.spec.inputs:
        if spec_input.type == "product":
            upstream = index.resolve(spec_input.options.product, spec_input.options.major)
            if upstream is not None:
                keys.append(upstream.spec.key)
    return keys


def generations(mesh: MeshSource, index: ProductIndex) -> list[list[ProductSource]]:
    """Products in topological generations; every product comes after its upstreams."""
    by_key = {p.spec.key: p for p in mesh.products}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for product in mesh.products:
        sorter.add(product.spec.key, *upstream_keys(product, index))
    sorter.prepare()
    result = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        result.append([by_key[k] for k in ready if k in by_key])
        sorter.done(*ready)
    return result


def downstream_keys(mesh: MeshSource, index: ProductIndex, key: str) -> list[str]:
    return sorted(p.spec.key for p in mesh.products if key in upstream_keys(p, index))


class BuildGraph:
    """The products of a mesh as a dependency graph being worked through: :meth:`ready` gives
    the products whose upstreams are all done, :meth:`done` marks one finished (ok or not)."""

    def __init__(self, mesh: MeshSource, index: ProductIndex) -> None:
        self._products = {p.spec.key: p for p in mesh.products}
        self._upstreams = {key: upstream_keys(p, index) for key, p in self._products.items()}
        self._sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        for key, upstreams in self._upstreams.items():
            self._sorter.add(key, *upstreams)
        self._sorter.prepare()
        self._failed: set[str] = set()
        order = [p.spec.key for generation in generations(mesh, index) for p in generation]
        self._position = {key: i for i, key in enumerate(order)}

    @property
    def active(self) -> bool:
        return self._sorter.is_active()

    def ready(self) -> tuple[str, ...]:
        return self._sorter.get_ready()

    def product(self, key: str) -> ProductSource:
        return self._products[key]

    def failed_upstreams(self, key: str) -> list[str]:
        return sorted(set(self._upstreams.get(key, ())) & self._failed)

    def done(self, key: str, ok: bool) -> None:
        if not ok:
            self._failed.add(key)
        self._sorter.done(key)

    def position(self, key: str) -> int:
        """Where the product comes in the stable dependency order (generations, then by key)."""
        return self._position.get(key, len(self._position))

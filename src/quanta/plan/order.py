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

"""The domain ownership assistant: rank candidate domains for a product, with the reasons."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import networkx as nx

from quanta.design.interaction import build_map, product_id
from quanta.spec.loader import MeshSource, ProductSource


@dataclass(frozen=True)
class Candidate:
    domain: str
    score: float
    reasons: tuple[str, ...]


def rank_owners(mesh: MeshSource, product: ProductSource) -> list[Candidate]:
    """Domains that could own ``product``: who owns its source systems and upstream products,
    and whose use cases consume it."""
    graph = build_map(mesh).graph()
    node = product_id(product.spec.ref)
    scores: dict[str, float] = defaultdict(float)
    reasons: dict[str, list[str]] = defaultdict(list)
    systems = {s.name: s.domain for s in mesh.spec.systems}
    products = {p.spec.ref: p.spec.domain for p in mesh.products}
    for target in sorted(graph.successors(node)):
        if target.startswith("system:"):
            name = target.removeprefix("system:")
            if systems.get(name):
                scores[systems[name]] += 2
                reasons[systems[name]].append(f"owns source system {name}")
        elif products.get(target.removeprefix("product:")):
            domain = products[target.removeprefix("product:")]
            scores[domain or ""] += 1
            reasons[domain or ""].append(f"owns upstream product {target.removeprefix('product:')}")
    use_cases = {u.id: u.domain for u in mesh.spec.use_cases}
    for source in sorted(nx.ancestors(graph, node)):
        if source.startswith("use-case:"):
            domain = use_cases[source.removeprefix("use-case:")]
            scores[domain] += 1.5
            reasons[domain].append(f"use case {source.removeprefix('use-case:')} (persona's domain) consumes it")
    return sorted(
        (Candidate(d, s, tuple(reasons[d])) for d, s in scores.items() if d), key=lambda c: (-c.score, c.domain)
    )

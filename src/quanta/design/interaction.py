"""The interaction map: use cases → consumer products → source products → systems of record,
computed from the portfolio (never drawn by hand)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import networkx as nx

from quanta.spec.index import ProductIndex
from quanta.spec.loader import MeshSource

NodeKind = Literal["use-case", "product", "system"]


@dataclass(frozen=True)
class Node:
    id: str
    kind: NodeKind
    label: str
    domain: str | None
    role: str = ""  # consumer | source | aggregate for products
    status: str = ""
    description: str = ""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""


@dataclass
class InteractionMap:
    """Nodes and edges in a stable order, plus what to highlight."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    highlight: frozenset[str] = frozenset()
    marks: dict[str, str] = field(default_factory=dict)
    """Overlay step maps: node id → ``added``, ``generalised`` or ``reused`` (the step's own doing)."""
    edge_marks: dict[Edge, str] = field(default_factory=dict)
    """Overlay step maps: edge → ``added`` (drawn by this step) or ``reused`` (on its path)."""

    def graph(self) -> nx.DiGraph:
        graph = nx.DiGraph()
        graph.add_nodes_from(n.id for n in self.nodes)
        graph.add_edges_from((e.source, e.target) for e in self.edges)
        return graph

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def path_of(self, use_case: str) -> InteractionMap:
        """The same map with one use case's path (the use case and all it reaches) highlighted."""
        start = use_case_id(use_case)
        if start not in {n.id for n in self.nodes}:
            raise KeyError(use_case)
        reached = {start} | nx.descendants(self.graph(), start)
        return InteractionMap(self.nodes, self.edges, frozenset(reached))

    def around_domain(self, domain: str) -> InteractionMap:
        """One domain's nodes and their direct neighbours."""
        graph = self.graph()
        inside = {n.id for n in self.nodes if n.domain == domain}
        keep = set(inside)
        for node in inside:
            keep |= set(graph.predecessors(node)) | set(graph.successors(node))
        return InteractionMap(
            [n for n in self.nodes if n.id in keep],
            [e for e in self.edges if e.source in keep and e.target in keep],
            frozenset(inside),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "nodes": [
                {
                    "id": n.id,
                    "kind": n.kind,
                    "label": n.label,
                    "domain": n.domain,
                    "role": n.role,
                    "status": n.status,
                    "description": n.description,
                    "highlighted": n.id in self.highlight,
                    **({"mark": self.marks.get(n.id, "")} if self.marks else {}),
                }
                for n in self.nodes
            ],
            "edges": [{"source": e.source, "target": e.target, "label": e.label} for e in self.edges],
        }


def use_case_id(name: str) -> str:
    return f"use-case:{name}"


def product_id(ref: str) -> str:
    return f"product:{ref}"


def system_id(name: str) -> str:
    return f"system:{name}"


def build_map(mesh: MeshSource) -> InteractionMap:
    """The interaction map of a mesh, in a deterministic order."""
    index = ProductIndex.of(mesh)
    edges: list[Edge] = []
    consumed: set[str] = set()
    for use_case in mesh.spec.use_cases:
        for consumption in use_case.consumes:
            target = index.resolve(consumption.product)
            ref = target.spec.ref if target else consumption.product
            consumed.add(ref)
            edges.append(Edge(use_case_id(use_case.id), product_id(ref), consumption.port))
    reads_systems: set[str] = set()
    used_systems: set[str] = set()
    for product in mesh.products:
        for spec_input in product.spec.inputs:
            options = spec_input.options
            if spec_input.type == "product":
                upstream = index.resolve(options.product, options.major)
                ref = upstream.spec.ref if upstream else options.product
                edges.append(Edge(product_id(product.spec.ref), product_id(ref), spec_input.id))
            elif hasattr(options, "system"):
                reads_systems.add(product.spec.ref)
                used_systems.add(options.system)
                edges.append(Edge(product_id(product.spec.ref), system_id(options.system), spec_input.id))
    nodes = [
        Node(use_case_id(u.id), "use-case", u.title or u.id, u.domain, description=u.statement.strip())
        for u in mesh.spec.use_cases
    ]
    seen: set[str] = set()
    for product in sorted(mesh.products, key=lambda p: (p.spec.ref, -p.spec.major)):
        if product.spec.ref in seen:
            continue  # one node per product; majors share it
        seen.add(product.spec.ref)
        role = (
            "consumer"
            if product.spec.ref in consumed
            else "source"
            if product.spec.ref in reads_systems
            else "aggregate"
        )
        nodes.append(
            Node(
                product_id(product.spec.ref),
                "product",
                _title(product.spec.name),
                product.spec.domain,
                role,
                product.spec.status,
                (product.spec.description or "").strip(),
            )
        )
    declared = {s.name: s for s in mesh.spec.systems}
    for name in sorted(set(declared) | used_systems):
        system = declared.get(name)
        nodes.append(
            Node(
                system_id(name),
                "system",
                name,
                system.domain if system else None,
                description=(system.description or "") if system else "",
            )
        )
    unique_edges = list(dict.fromkeys(edges))
    return InteractionMap(nodes, sorted(unique_edges, key=lambda e: (e.source, e.target, e.label)))


def _title(name: str) -> str:
    """``customer-marketing-360`` → ``Customer Marketing 360``."""
    return " ".join(part.capitalize() if not part.isdigit() else part for part in name.split("-"))

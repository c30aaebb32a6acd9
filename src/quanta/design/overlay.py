"""The overlay: use cases in order, and what each one reuses, generalises and adds — products,
systems of record and the edges between them — computed from ``introducedBy`` on products,
properties, inputs and ports.

An edge of the interaction map arrives with the use case that introduced it: a use case's own
edges with that use case, an input's edge with the input's ``introducedBy`` (else its product's),
and never before both its ends exist. A system arrives with the first edge that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from quanta.design.interaction import Edge, InteractionMap, build_map, product_id, system_id, use_case_id
from quanta.spec.loader import MeshSource


@dataclass(frozen=True)
class OverlayStep:
    """One use case laid over the mesh the earlier ones built."""

    use_case: str
    added: list[str] = field(default_factory=list)
    generalised: dict[str, list[str]] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)
    systems_added: list[str] = field(default_factory=list)
    systems_reused: list[str] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    """The edges this step draws (a generalised product's new inputs included)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "useCase": self.use_case,
            "products": {"added": self.added, "generalised": self.generalised, "reused": self.reused},
            "systems": {"added": self.systems_added, "reused": self.systems_reused},
            "edges": [{"source": e.source, "target": e.target, "label": e.label} for e in self.edges],
        }


@dataclass(frozen=True)
class Overlay:
    """The steps, and the interaction map as it stood after each."""

    steps: list[OverlayStep]
    full: InteractionMap
    nodes: dict[str, int]
    """Step (0-based) at which each node arrived; nodes no use case reaches are missing."""
    edges: dict[Edge, int]
    """Step (0-based) at which each edge arrived."""

    def map_at(self, index: int) -> InteractionMap:
        """The map as it stood after step ``index``: only what existed then, that use case's path
        highlighted and marked — what it added, generalised and reused."""
        step = self.steps[index]
        graph = _as_of(self.full, self.nodes, self.edges, index).path_of(step.use_case)
        marks = {use_case_id(step.use_case): "added"}
        marks |= {product_id(ref): "added" for ref in step.added}
        marks |= {product_id(ref): "generalised" for ref in step.generalised}
        marks |= {product_id(ref): "reused" for ref in step.reused}
        marks |= {system_id(name): "added" for name in step.systems_added}
        marks |= {system_id(name): "reused" for name in step.systems_reused}
        own = set(step.edges)
        graph.marks = {node: mark for node, mark in marks.items() if node in {n.id for n in graph.nodes}}
        graph.edge_marks = {
            edge: "added" if edge in own else "reused"
            for edge in graph.edges
            if edge in own or (edge.source in graph.highlight and edge.target in graph.highlight)
        }
        return graph


def overlay(mesh: MeshSource) -> list[OverlayStep]:
    """Each use case in order with what it reuses, generalises and adds."""
    return compute_overlay(mesh).steps


def compute_overlay(mesh: MeshSource) -> Overlay:
    """The overlay steps with the arrival of every node and edge of the interaction map."""
    full = build_map(mesh)
    order = {u.id: i for i, u in enumerate(mesh.spec.use_cases)}
    never = len(order)
    arrival: dict[str, int] = {use_case_id(u): i for u, i in order.items()}
    edge_arrival: dict[Edge, int] = {}
    for product in mesh.products:  # a product without introducedBy arrives with the first path reaching it
        if product.spec.introduced_by in order:
            node = product_id(product.spec.ref)
            arrival[node] = min(arrival.get(node, never), order[product.spec.introduced_by])
    graph = full.graph()
    for use_case, index in order.items():
        for node in nx.descendants(graph, use_case_id(use_case)):
            if node.startswith("product:"):
                arrival.setdefault(node, index)
    origins = _input_origins(mesh, order)
    for edge in full.edges:
        if edge.source.startswith("use-case:"):
            when = arrival[edge.source]
        else:
            when = origins.get((edge.source, edge.label), arrival.get(edge.source, never))
        target = when if _system(edge) else arrival.get(edge.target, never)  # a system arrives with its edge
        when = max(when, arrival.get(edge.source, never), target)
        edge_arrival[edge] = when
        if _system(edge):
            arrival[edge.target] = min(arrival.get(edge.target, never), when)
    steps = [_step(mesh, full, arrival, edge_arrival, use_case, index) for use_case, index in order.items()]
    return Overlay(steps, full, arrival, edge_arrival)


def _as_of(full: InteractionMap, nodes: dict[str, int], edges: dict[Edge, int], index: int) -> InteractionMap:
    """The map with only the nodes and edges that arrived up to step ``index``."""
    return InteractionMap(
        [n for n in full.nodes if nodes.get(n.id, index + 1) <= index],
        [e for e in full.edges if edges.get(e, index + 1) <= index],
    )


def _step(
    mesh: MeshSource,
    full: InteractionMap,
    arrival: dict[str, int],
    edge_arrival: dict[Edge, int],
    use_case: str,
    index: int,
) -> OverlayStep:
    edges = [e for e in full.edges if edge_arrival.get(e) == index]
    reached = nx.descendants(_as_of(full, arrival, edge_arrival, index).graph(), use_case_id(use_case))
    added = sorted(n.removeprefix("product:") for n, at in arrival.items() if at == index and n.startswith("product:"))
    generalised: dict[str, list[str]] = {}
    for product in sorted(mesh.products, key=lambda p: (p.spec.ref, p.spec.major)):
        spec = product.spec
        if spec.ref in added:
            continue
        changes = [f"property {p.name}" for p in spec.schema_.properties if p.introduced_by == use_case]
        changes += [f"input {i.id}" for i in spec.inputs if i.introduced_by == use_case]
        changes += [f"port {o.id}" for o in spec.outputs if o.introduced_by == use_case]
        if changes:
            generalised[spec.ref] = list(dict.fromkeys(generalised.get(spec.ref, []) + changes))
    on_path = sorted(n.removeprefix("product:") for n in reached if n.startswith("product:"))
    systems = sorted(n.removeprefix("system:") for n in reached if n.startswith("system:"))
    new_systems = sorted(n.removeprefix("system:") for n, at in arrival.items() if at == index and n[:7] == "system:")
    return OverlayStep(
        use_case,
        added,
        dict(sorted(generalised.items())),
        [ref for ref in on_path if ref not in added and ref not in generalised],
        new_systems,
        [s for s in systems if s not in new_systems],
        edges,
    )


def _input_origins(mesh: MeshSource, order: dict[str, int]) -> dict[tuple[str, str], int]:
    """(product node, input id) → step of the use case that introduced the input."""
    origins: dict[tuple[str, str], int] = {}
    for product in mesh.products:
        for spec_input in product.spec.inputs:
            origin = spec_input.introduced_by or product.spec.introduced_by
            if origin in order:
                key = (product_id(product.spec.ref), spec_input.id)
                origins[key] = min(origins.get(key, len(order)), order[origin])
    return origins


def _system(edge: Edge) -> bool:
    return edge.target.startswith("system:")

"""The overlay: use cases in order, and which products each reuses, generalises and adds —
computed from ``introducedBy`` on products, properties, inputs and ports."""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from quanta.design.interaction import build_map, use_case_id
from quanta.spec.loader import MeshSource


@dataclass(frozen=True)
class OverlayStep:
    use_case: str
    added: list[str] = field(default_factory=list)
    generalised: dict[str, list[str]] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)


def overlay(mesh: MeshSource) -> list[OverlayStep]:
    graph = build_map(mesh).graph()
    steps = []
    for use_case in mesh.spec.use_cases:
        node = use_case_id(use_case.id)
        on_path = sorted(n.removeprefix("product:") for n in nx.descendants(graph, node) if n.startswith("product:"))
        added = sorted({p.spec.ref for p in mesh.products if p.spec.introduced_by == use_case.id})
        generalised: dict[str, list[str]] = {}
        for product in mesh.products:
            if product.spec.ref in added:
                continue
            spec = product.spec
            changes = [f"property {p.name}" for p in spec.schema_.properties if p.introduced_by == use_case.id]
            changes += [f"input {i.id}" for i in spec.inputs if i.introduced_by == use_case.id]
            changes += [f"port {o.id}" for o in spec.outputs if o.introduced_by == use_case.id]
            if changes:
                generalised[spec.ref] = changes
        reused = [ref for ref in on_path if ref not in added and ref not in generalised]
        steps.append(OverlayStep(use_case.id, added, dict(sorted(generalised.items())), reused))
    return steps

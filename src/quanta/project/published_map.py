"""The interaction map of a published mesh, from the catalog alone: the mesh descriptor's use
cases and systems with its published products, as the design toolkit draws them for a checkout,
less every product a viewer may not discover (a confidential one it may read no port of)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from quanta.access import Principal
from quanta.design.interaction import InteractionMap, product_id
from quanta.design.overlay import Overlay, OverlayStep, compute_overlay
from quanta.errors import NotFound
from quanta.project.platform import Platform
from quanta.spec.loader import MeshSource, ProductSource
from quanta.spec.mesh import Mesh
from quanta.spec.yamlsource import Document


@dataclass(frozen=True)
class PublishedMap:
    """A mesh's map and overlay as one viewer may see them."""

    mesh: str
    overlay: Overlay
    hidden: frozenset[str]
    """Node ids left out for this viewer."""

    @property
    def use_cases(self) -> list[str]:
        return [step.use_case for step in self.overlay.steps]

    def steps(self) -> list[OverlayStep]:
        """The overlay steps, each naming only the products this viewer may discover."""
        if not self.hidden:
            return self.overlay.steps
        shown = [
            replace(
                step,
                added=[ref for ref in step.added if product_id(ref) not in self.hidden],
                reused=[ref for ref in step.reused if product_id(ref) not in self.hidden],
                generalised={r: i for r, i in step.generalised.items() if product_id(r) not in self.hidden},
                edges=[e for e in step.edges if e.source not in self.hidden and e.target not in self.hidden],
            )
            for step in self.overlay.steps
        ]
        return shown

    def full(self) -> InteractionMap:
        return _without(self.overlay.full, self.hidden)

    def path_of(self, use_case: str) -> InteractionMap:
        return _without(self.overlay.full.path_of(use_case), self.hidden)

    def step(self, index: int) -> InteractionMap:
        return _without(self.overlay.map_at(index), self.hidden)


def mesh_names(platform: Platform) -> list[str]:
    return [m.name for m in platform.catalog.products.meshes()]


def published_map(platform: Platform, principal: Principal, mesh: str | None = None) -> PublishedMap:
    """The map of ``mesh`` (the only one, when the catalog holds one); 404 for an unknown mesh."""
    meshes = {m.name: m for m in platform.catalog.products.meshes()}
    if mesh is None and len(meshes) == 1:
        mesh = next(iter(meshes))
    descriptor = meshes.get(mesh or "")
    if descriptor is None:
        raise NotFound(f"the catalog has no published mesh '{mesh}'; it has: {', '.join(meshes) or 'none'}")
    owners = {entry.key: entry.mesh for entry in platform.catalog.products.entries()}
    specs = [spec for spec in platform.specs() if owners.get(spec.key) == descriptor.name]
    source = MeshSource(
        Mesh.model_validate(descriptor.spec),
        Document(f"catalog:{descriptor.name}", descriptor.spec, None),
        Path("."),
        [ProductSource(spec, Document(f"catalog:{spec.key}", None, None)) for spec in specs],
    )
    hidden_keys = platform.hidden_from(principal)
    visible_refs = {s.ref for s in specs if s.key not in hidden_keys}
    hidden = frozenset(product_id(s.ref) for s in specs if s.ref not in visible_refs)
    return PublishedMap(descriptor.name, compute_overlay(source), hidden)


def _without(graph: InteractionMap, hidden: frozenset[str]) -> InteractionMap:
    if not hidden:
        return graph
    kept = InteractionMap(
        [n for n in graph.nodes if n.id not in hidden],
        [e for e in graph.edges if e.source not in hidden and e.target not in hidden],
        frozenset(graph.highlight - hidden),
    )
    kept.marks = {k: v for k, v in graph.marks.items() if k not in hidden}
    kept.edge_marks = {e: m for e, m in graph.edge_marks.items() if e.source not in hidden and e.target not in hidden}
    return kept

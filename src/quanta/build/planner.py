"""``quanta plan``: what a build would do and why, without building or fetching anything."""

from __future__ import annotations

from dataclasses import dataclass

from quanta.build.errors import BuildFailure
from quanta.build.product import BuildOptions, Workspace, damaged, previous_of
from quanta.plan.decide import Fingerprints, is_due, reasons_to_build
from quanta.plan.fingerprints import code_fingerprint, spec_fingerprint
from quanta.plan.order import generations, upstream_keys


@dataclass(frozen=True)
class PlanItem:
    key: str
    action: str  # build | check | skip
    reasons: tuple[str, ...]


def plan_build(workspace: Workspace, options: BuildOptions, selected: set[str] | None = None) -> list[PlanItem]:
    """One item per product in build order."""
    items: list[PlanItem] = []
    building: set[str] = set()
    for generation in generations(workspace.mesh, workspace.index):
        for product in generation:
            key = product.spec.key
            if selected is not None and key not in selected:
                continue
            context = workspace.input_context(product)
            try:
                inputs = {i.id: workspace.connectors.get(i.type).peek(i, context) for i in product.spec.inputs}
                code = code_fingerprint(product.spec, product.folder, workspace.state)
            except (BuildFailure, OSError) as exc:
                items.append(PlanItem(key, "build", (f"cannot fingerprint: {exc}",)))
                building.add(key)
                continue
            current = workspace.catalog.snapshots.current(key)
            due = options.due and is_due(product.spec.schedule, current.created_at if current else None, options.now)
            damage = damaged(workspace.store, product, current)
            reasons = (
                [damage]
                if damage
                else reasons_to_build(
                    Fingerprints(spec_fingerprint(product.spec), code, inputs),
                    previous_of(workspace.catalog, current),
                    full=options.full,
                    due=due,
                )
            )
            upstream = sorted(set(upstream_keys(product, workspace.index)) & building)
            reasons += [f"upstream {u} will be rebuilt (built only if its content changes)" for u in upstream]
            if not reasons:
                items.append(PlanItem(key, "skip", ("up to date",)))
                continue
            certain = [r for r in reasons if "checked at build time" not in r and not r.startswith("upstream")]
            items.append(PlanItem(key, "build" if certain else "check", tuple(reasons)))
            building.add(key)
    return items

"""The workshop report: one Markdown and one self-contained HTML document with the use cases,
the interaction map and overlay steps, products, domains, SLOs and open design findings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from quanta.design.interaction import build_map
from quanta.design.mermaid import to_mermaid
from quanta.design.overlay import compute_overlay
from quanta.design.rules import design_rules
from quanta.design.svg import to_svg
from quanta.errors import Diagnostic
from quanta.spec.loader import MeshSource
from quanta.spec.slo import Objective


@dataclass(frozen=True)
class DomainRow:
    name: str
    team: str | None
    products: list[str]
    systems: list[str]


def write_report(mesh: MeshSource, findings: list[Diagnostic], output_dir: Path) -> list[Path]:
    """Render ``workshop.md`` and ``workshop.html`` into ``output_dir``."""
    graph = build_map(mesh)
    layered = compute_overlay(mesh)
    steps = layered.steps
    step_maps = [layered.map_at(index) for index in range(len(steps))]
    products = sorted({p.spec.ref: p.spec for p in mesh.products}.values(), key=lambda s: s.ref)
    context = {
        "mesh": mesh.spec,
        "use_cases": mesh.spec.use_cases,
        "overlay": steps,
        "products": products,
        "mermaid": to_mermaid(graph),
        "svg": to_svg(graph, f"Interaction map of {mesh.spec.name}"),
        "step_maps": [to_mermaid(m) for m in step_maps],
        "step_svgs": [to_svg(m) for m in step_maps],
        "domains": [
            DomainRow(
                d.name,
                d.team,
                [s.ref for s in products if s.domain == d.name],
                [s.name for s in mesh.spec.systems if s.domain == d.name],
            )
            for d in mesh.spec.domains
        ],
        "slo_summary": {s.ref: _slo_summary(s.slos.declared()) for s in products},
        "findings": sorted(findings + list(design_rules().run(mesh)), key=Diagnostic.sort_key),
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, escape in (("workshop.md", False), ("workshop.html", True)):
        environment = Environment(
            loader=PackageLoader("quanta.blueprints", "templates/report"),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            autoescape=select_autoescape(["html"]) if escape else False,
        )
        target = output_dir / name
        target.write_text(environment.get_template(f"{name}.j2").render(context), encoding="utf-8")
        written.append(target)
    return written


def _slo_summary(objectives: Mapping[str, Objective]) -> str:
    parts = []
    for name, objective in objectives.items():
        values = objective.model_dump(by_alias=True, exclude_none=True, exclude={"blocking", "description"})
        parts.append(f"{name} " + ", ".join(f"{k} {v}" for k, v in values.items()))
    return "; ".join(parts)

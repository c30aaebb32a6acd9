"""The interaction map of a published mesh: use cases → consumer products → source products →
systems, the whole map or one use case's path highlighted, and the overlay steps (what each use
case added, generalised and reused), drawn by the design toolkit from the catalog alone."""

from __future__ import annotations

from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import Response

from quanta.design.interaction import product_id
from quanta.design.svg import to_svg
from quanta.errors import BadRequest, NotFound
from quanta.project.published_map import mesh_names, published_map
from quanta.server.state import state_of
from quanta.spec.product import DataProduct
from quanta.web.catalog_pages import product_path
from quanta.web.render import html_errors, page, signed_in

router = APIRouter(include_in_schema=False)


@router.get("/map")
@html_errors
def interaction_map(request: Request) -> Response:
    """``mesh`` (needed when the catalog holds several), ``use_case`` to highlight one path, or
    ``step`` (1-based) to show the map as the overlay stood after that use case."""
    viewer = signed_in(request)
    platform = state_of(request).platform
    meshes = mesh_names(platform)
    mesh = request.query_params.get("mesh") or (meshes[0] if meshes else None)
    if mesh is None:
        raise NotFound("nothing is published yet: build a mesh first")
    published = published_map(platform, viewer.principal, mesh)
    use_case = request.query_params.get("use_case") or None
    step_text = request.query_params.get("step") or None
    step: int | None = None
    if use_case is not None and use_case not in published.use_cases:
        raise NotFound(f"mesh {mesh} has no use case '{use_case[:80]}'")
    if step_text is not None:
        if not step_text.isdigit() or not 1 <= int(step_text) <= len(published.use_cases):
            raise BadRequest(f"'step' is a whole number from 1 to {len(published.use_cases)}", "step")
        step = int(step_text)
    if step is not None:
        graph = published.step(step - 1)
        title = f"Interaction map after step {step}: {published.use_cases[step - 1]}"
    elif use_case is not None:
        graph = published.path_of(use_case)
        title = f"Interaction map: the path of {use_case}"
    else:
        graph = published.full()
        title = f"Interaction map of {mesh}"
    nodes = {n.id: n for n in graph.nodes}
    latest: dict[str, DataProduct] = {}
    for spec in platform.specs():
        if spec.ref not in latest or spec.major > latest[spec.ref].major:
            latest[spec.ref] = spec
    links = {product_id(ref): product_path(spec.key) for ref, spec in latest.items()}
    return page(
        request,
        "map.html",
        viewer,
        title=title,
        mesh=mesh,
        meshes=meshes,
        svg=Markup(to_svg(graph, title)),
        steps=published.steps(),
        use_case=use_case,
        step=step,
        edges=[
            (nodes[e.source], nodes[e.target], e.label) for e in graph.edges if e.source in nodes and e.target in nodes
        ],
        links=links,
    )

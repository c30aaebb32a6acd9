"""Maps a room can read: no edge segment runs inside a box that is not one of its ends, no two
edges share a segment, labels are never cut, the reference map fits 1400 px, step maps show the
mesh as it stood after each use case with what it added, generalised and reused, and the overlay
table never cuts names."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from quanta.cli.main import app
from quanta.design.interaction import Edge, InteractionMap, Node, build_map
from quanta.design.layout import MARKS, TEXT_WIDTH, Box, Layout, layout, text_width
from quanta.design.overlay import compute_overlay
from quanta.design.svg import to_svg
from quanta.project import Mesh

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fashion-retail"
Segment = tuple[tuple[int, int], tuple[int, int]]


def inside(segment: Segment, box: Box) -> bool:
    """Whether an axis-parallel segment runs through the inside of ``box``."""
    (x1, y1), (x2, y2) = segment
    if y1 == y2:
        return box.y < y1 < box.bottom and max(x1, x2) > box.x and min(x1, x2) < box.right
    return box.x < x1 < box.right and max(y1, y2) > box.y and min(y1, y2) < box.bottom


def overlap(a: Segment, b: Segment) -> bool:
    """Whether two axis-parallel segments share a stretch of positive length."""
    (ax1, ay1), (ax2, ay2) = a
    (bx1, by1), (bx2, by2) = b
    if ay1 == ay2 == by1 == by2:
        return min(max(ax1, ax2), max(bx1, bx2)) > max(min(ax1, ax2), min(bx1, bx2))
    if ax1 == ax2 == bx1 == bx2:
        return min(max(ay1, ay2), max(by1, by2)) > max(min(ay1, ay2), min(by1, by2))
    return False


def check_geometry(graph: InteractionMap, plan: Layout) -> None:
    drawn = {(e.source, e.target, e.label) for e in graph.edges if e.source != e.target}
    assert {(r.edge.source, r.edge.target, r.edge.label) for r in plan.routes} == drawn
    boxes = list(plan.boxes.values())
    for a in boxes:  # boxes never overlap
        for b in boxes:
            if a is not b:
                assert a.right <= b.x or b.right <= a.x or a.bottom <= b.y or b.bottom <= a.y, (a.node.id, b.node.id)
    for route in plan.routes:
        source, target = plan.boxes[route.edge.source], plan.boxes[route.edge.target]
        start, end = route.points[0], route.points[-1]
        assert start[0] == source.right and source.y < start[1] < source.bottom, route
        assert end[0] == target.x and target.y < end[1] < target.bottom, route
        assert route.points[-2][1] == end[1] and route.points[-2][0] < end[0], route  # enters from the left
        for segment in route.segments:
            (x1, y1), (x2, y2) = segment
            assert x1 == x2 or y1 == y2, route  # orthogonal
            for box in boxes:
                if box.node.id not in (route.edge.source, route.edge.target):
                    assert not inside(segment, box), (route.edge, box.node.id, segment)
            assert not inside(segment, source) and not inside(segment, target), (route.edge, segment)
    for i, a in enumerate(plan.routes):
        for b in plan.routes[i + 1 :]:
            for sa in a.segments:
                for sb in b.segments:
                    assert not overlap(sa, sb), (a.edge, b.edge, sa, sb)
    assert all(0 <= x <= plan.width and 0 <= y <= plan.height for r in plan.routes for x, y in r.points)
    assert all(b.right <= plan.width and b.bottom <= plan.height for b in boxes)


def check_labels(plan: Layout) -> None:
    for box in plan.boxes.values():
        assert " ".join(box.lines).split() == box.node.label.split() or "".join(box.lines) == box.node.label.replace(
            " ", ""
        ), box.lines  # every word is there: nothing cut, nothing shortened
        assert all(text_width(line) <= TEXT_WIDTH for line in box.lines), box.lines


def reference() -> Mesh:
    return Mesh.load(EXAMPLE)


def test_the_reference_map_routes_around_boxes_and_fits_1400_px() -> None:
    graph = build_map(reference().source)
    plan = layout(graph)
    check_geometry(graph, plan)
    check_labels(plan)
    assert plan.width <= 1400
    returns, purchases = "product:after-sales.returns", "product:sales.historical-purchases"
    route = next(r for r in plan.routes if r.edge.source == returns and r.edge.target == "system:returns-system")
    assert not any(inside(s, plan.boxes[purchases]) for s in route.segments)


def test_every_step_map_of_the_reference_mesh() -> None:
    result = compute_overlay(reference().source)
    for index in range(len(result.steps)):
        graph = result.map_at(index)
        plan = layout(graph)
        check_geometry(graph, plan)
        check_labels(plan)
        assert plan.width <= 1400


def test_png_labels_fit_their_boxes_in_the_bundled_font() -> None:
    pytest.importorskip("PIL")
    from PIL import ImageFont

    font = ImageFont.load_default(size=13)
    plan = layout(build_map(reference().source))
    for box in plan.boxes.values():
        for line in box.lines:
            assert font.getlength(line) <= box.width - 8, line


def test_long_labels_grow_the_boxes_instead_of_being_cut() -> None:
    label = "Weekly gross and net revenue per store, region, channel and product category for the board"
    graph = InteractionMap(
        [Node("use-case:u", "use-case", label, "d"), Node("product:p", "product", "W" * 40, "d", "consumer")],
        [Edge("use-case:u", "product:p", "x")],
    )
    plan = layout(graph)
    check_labels(plan)
    assert len(plan.boxes["use-case:u"].lines) > 2 and plan.boxes["use-case:u"].height > 58
    assert "…" not in "".join(line for box in plan.boxes.values() for line in box.lines)


@st.composite
def meshes(draw: st.DrawFn) -> InteractionMap:
    """Random maps: use cases → products → products (possibly in a cycle) → systems, some products
    with several inputs from one product, long and short names, and unconnected nodes."""
    words = st.sampled_from(["Customer", "Orders", "Weekly", "Returns", "Sku", "Value", "Stock", "Marketing", "X"])
    label = st.lists(words, min_size=1, max_size=7).map(" ".join)
    n_cases, n_products, n_systems = draw(st.integers(0, 5)), draw(st.integers(1, 9)), draw(st.integers(0, 5))
    nodes = [
        Node(f"use-case:u{i}", "use-case", draw(label), draw(st.sampled_from(["a", "b", None]))) for i in range(n_cases)
    ]
    nodes += [
        Node(f"product:p{i}", "product", draw(label), draw(st.sampled_from(["a", "b", "c", None])))
        for i in range(n_products)
    ]
    nodes += [Node(f"system:s{i}", "system", draw(label), None) for i in range(n_systems)]
    edges = []
    for i in range(n_cases):
        for j in draw(st.sets(st.integers(0, n_products - 1), max_size=3)):
            edges.append(Edge(f"use-case:u{i}", f"product:p{j}", "port"))
    cyclic = draw(st.booleans())
    for i in range(n_products):
        for j in draw(st.sets(st.integers(0, n_products - 1), max_size=3)):
            if j != i and (cyclic or j > i):
                edges.append(Edge(f"product:p{i}", f"product:p{j}", f"in{j}"))
                if draw(st.integers(0, 5)) == 0:
                    edges.append(Edge(f"product:p{i}", f"product:p{j}", f"again{j}"))  # a second input
        if n_systems:
            for k in draw(st.sets(st.integers(0, n_systems - 1), max_size=2)):
                edges.append(Edge(f"product:p{i}", f"system:s{k}", f"src{k}"))
    return InteractionMap(nodes, sorted(set(edges), key=lambda e: (e.source, e.target, e.label)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meshes())
def test_random_maps_route_around_boxes(graph: InteractionMap) -> None:
    plan = layout(graph)
    check_geometry(graph, plan)
    check_labels(plan)


def test_step_maps_show_the_mesh_as_it_stood_with_a_legend() -> None:
    result = compute_overlay(reference().source)
    second = result.map_at(1)
    ids = {n.id for n in second.nodes}
    assert "product:merchandising.return-rates" not in ids and "use-case:return-rates" not in ids  # later
    assert "product:customer-relations.customer-lifetime-value" in ids  # earlier, still there
    assert second.marks["product:merchandising.products"] == "added"
    assert second.marks["system:pim"] == "added"
    assert second.marks["product:customer.customer-marketing-360"] == "generalised"
    assert second.marks["product:sales.historical-purchases"] == "reused"
    assert "product:customer-relations.customer-lifetime-value" not in second.marks  # not on its path
    assert second.edge_marks[Edge("product:merchandising.products", "system:pim", "catalogue")] == "added"
    svg = to_svg(second)
    for colour, text in MARKS.values():
        assert text in svg and f'fill="{colour}"' in svg
    full = to_svg(build_map(reference().source))
    assert "added by this use case" not in full and ">merchandising</text>" in full  # domains in the legend


@pytest.mark.parametrize("columns", ["70", "250"])
def test_the_overlay_table_never_cuts_names(columns: str) -> None:
    result = CliRunner().invoke(app, ["design", "overlay", "--mesh", str(EXAMPLE)], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    mesh = reference().source
    for name in (
        [p.spec.ref for p in mesh.products] + [s.name for s in mesh.spec.systems] + [u.id for u in mesh.spec.use_cases]
    ):
        assert name in result.output, name
    assert max(len(line) for line in result.output.splitlines()) <= int(columns)

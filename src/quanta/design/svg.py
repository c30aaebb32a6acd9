"""Render an interaction map as a self-contained SVG (deterministic: same map, same bytes).

Boxes are filled by domain, or on an overlay step's map by what the step did (added,
generalised, reused; the rest greyed), with a legend either way. Edges follow the routes of
:mod:`quanta.design.layout`."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from quanta.design.interaction import InteractionMap, Node
from quanta.design.layout import LEGEND_SIZE, LINE_HEIGHT, MARGIN, MARKS, Box, Layout, Route, layout

RADIUS = {"use-case": 26, "product": 6, "system": 0}
EDGE_STYLE = {
    "added": ("#15803d", 2.4),
    "reused": ("#1d4ed8", 2.0),
    "highlight": ("#d62728", 2.4),
    "": ("#6b7280", 1.2),
}
"""Stroke colour and width of an edge by its overlay mark (or highlight)."""


def fill(plan: Layout, graph: InteractionMap, node: Node) -> str:
    """A box's fill: its mark's on a step map, else its domain's (systems grey)."""
    if graph.marks:
        return MARKS[graph.marks.get(node.id, "")][0]
    return "#f3f4f6" if node.kind == "system" else plan.colours.get(node.domain or "", "#ffffff")


def edge_style(graph: InteractionMap, route: Route) -> tuple[str, float]:
    edge = route.edge
    if graph.marks:
        return EDGE_STYLE[graph.edge_marks.get(edge, "")]
    on = edge.source in graph.highlight and edge.target in graph.highlight
    return EDGE_STYLE["highlight" if on else ""]


def to_svg(graph: InteractionMap, title: str = "Interaction map") -> str:
    plan = layout(graph)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{plan.width}" height="{plan.height}" '
        f'viewBox="0 0 {plan.width} {plan.height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        '<rect x="0" y="0" width="100%" height="100%" fill="#ffffff"/>',
        "<defs>"
        + "".join(
            f'<marker id="arrow-{name or "plain"}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>'
            for name, (colour, _) in EDGE_STYLE.items()
        )
        + "</defs>",
    ]
    for x, heading in plan.columns:
        out.append(f'<text x="{x}" y="{MARGIN + 14}" font-weight="bold" fill="#333333">{escape(heading)}</text>')
    ordered = sorted(plan.routes, key=lambda r: edge_style(graph, r)[1])  # marked edges on top
    for route in ordered:
        out.append(_edge(graph, route))
    for box in plan.boxes.values():
        out += _box(plan, graph, box)
    out.append(_legend(plan))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _box(plan: Layout, graph: InteractionMap, box: Box) -> list[str]:
    node = box.node
    marked = bool(graph.marks) and node.id in graph.marks
    highlighted = node.id in graph.highlight and not graph.marks
    stroke, width = ("#d62728", 3) if highlighted else ("#111827", 2) if marked else ("#374151", 1)
    dashed = ' stroke-dasharray="5,3"' if node.status == "proposed" else ""
    text_fill = "#9ca3af" if graph.marks and not marked else "#111827"
    out = [
        f"<g id={quoteattr(node.id)}><title>{escape(node.description or node.label)}</title>"
        f'<rect x="{box.x}" y="{box.y}" width="{box.width}" height="{box.height}" rx="{RADIUS[node.kind]}" '
        f'fill="{fill(plan, graph, node)}" stroke="{stroke}" stroke-width="{width}"{dashed}/>'
    ]
    first = box.y + (box.height - 10) // 2 - (LINE_HEIGHT * (len(box.lines) - 1)) // 2 + 4
    for number, line in enumerate(box.lines):
        out.append(
            f'<text x="{box.x + box.width // 2}" y="{first + number * LINE_HEIGHT}" text-anchor="middle" '
            f'fill="{text_fill}">{escape(line)}</text>'
        )
    caption = node.domain or ("no domain yet" if node.kind == "product" else "")
    if caption:
        out.append(f'<text x="{box.x + 6}" y="{box.bottom - 5}" font-size="10" fill="#4b5563">{escape(caption)}</text>')
    out.append("</g>")
    return out


def _edge(graph: InteractionMap, route: Route) -> str:
    colour, width = edge_style(graph, route)
    mark = graph.edge_marks.get(route.edge, "") if graph.marks else ""
    if not graph.marks and colour == EDGE_STYLE["highlight"][0]:
        mark = "highlight"
    points = " ".join(f"{x},{y}" for x, y in route.points)
    return (
        f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="{width}" '
        f'stroke-linejoin="round" marker-end="url(#arrow-{mark or "plain"})"><title>{escape(route.edge.label)}</title>'
        "</polyline>"
    )


def _legend(plan: Layout) -> str:
    parts = []
    for x, y, colour, text in plan.legend:
        parts.append(
            f'<rect x="{x}" y="{y - 11}" width="14" height="14" fill="{colour}" stroke="#374151"/>'
            f'<text x="{x + 20}" y="{y}" font-size="{LEGEND_SIZE}">{escape(text)}</text>'
        )
    return "".join(parts)

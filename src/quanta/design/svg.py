"""Render an interaction map as a self-contained SVG (deterministic: same map, same bytes)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from quanta.design.interaction import InteractionMap
from quanta.design.layout import BOX_H, BOX_W, MARGIN, Layout, layout

_RADIUS = {"use-case": 26, "product": 6, "system": 0}


def to_svg(graph: InteractionMap, title: str = "Interaction map") -> str:
    plan = layout(graph)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{plan.width}" height="{plan.height}" '
        f'viewBox="0 0 {plan.width} {plan.height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        '<rect x="0" y="0" width="100%" height="100%" fill="#ffffff"/>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555555"/></marker></defs>',
    ]
    for x, heading in plan.columns:
        out.append(f'<text x="{x}" y="{MARGIN + 14}" font-weight="bold" fill="#333333">{escape(heading)}</text>')
    for edge in graph.edges:
        out.append(_edge(plan, edge.source, edge.target, edge.label, graph.highlight))
    for box in plan.boxes.values():
        node = box.node
        fill = "#f3f4f6" if node.kind == "system" else plan.colours.get(node.domain or "", "#ffffff")
        stroke, width = ("#d62728", 3) if node.id in graph.highlight else ("#374151", 1)
        dashed = ' stroke-dasharray="5,3"' if node.status == "proposed" else ""
        out.append(
            f"<g id={quoteattr(node.id)}><title>{escape(node.description or node.label)}</title>"
            f'<rect x="{box.x}" y="{box.y}" width="{BOX_W}" height="{BOX_H}" rx="{_RADIUS[node.kind]}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dashed}/>'
        )
        first = box.y + BOX_H // 2 - 8 * (len(box.lines) - 1) + 4
        for number, line in enumerate(box.lines):
            out.append(
                f'<text x="{box.x + BOX_W // 2}" y="{first + number * 16}" text-anchor="middle">{escape(line)}</text>'
            )
        caption = node.domain or ("no domain yet" if node.kind == "product" else "")
        if caption:
            out.append(
                f'<text x="{box.x + 6}" y="{box.y + BOX_H - 5}" font-size="10" fill="#4b5563">{escape(caption)}</text>'
            )
        out.append("</g>")
    out.append(_legend(plan))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _edge(plan: Layout, source: str, target: str, label: str, highlight: frozenset[str]) -> str:
    a, b = plan.boxes[source], plan.boxes[target]
    x1, y1, x2, y2 = a.right, a.middle, b.x, b.middle
    if x2 <= x1:  # same or earlier column: route around
        x2, y2 = b.x + BOX_W // 2, b.y
    bend = max(30, (x2 - x1) // 2)
    on = source in highlight and target in highlight
    colour, width = ("#d62728", 2.5) if on else ("#6b7280", 1.2)
    return (
        f'<path d="M {x1} {y1} C {x1 + bend} {y1}, {x2 - bend} {y2}, {x2} {y2}" fill="none" '
        f'stroke="{colour}" stroke-width="{width}" marker-end="url(#arrow)"><title>{escape(label)}</title></path>'
    )


def _legend(plan: Layout) -> str:
    parts = []
    x, y = MARGIN, plan.height - 22
    for domain, colour in plan.colours.items():
        parts.append(
            f'<rect x="{x}" y="{y - 11}" width="14" height="14" fill="{colour}" stroke="#374151"/>'
            f'<text x="{x + 20}" y="{y}" font-size="12">{escape(domain)}</text>'
        )
        x += 30 + 8 * len(domain)
    return "".join(parts)

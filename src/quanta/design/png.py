"""Render an interaction map as PNG with Pillow and its bundled font (offline, deterministic):
the same layout, routes, colours and legend as the SVG."""

from __future__ import annotations

import io

from quanta.design.interaction import InteractionMap
from quanta.design.layout import LEGEND_SIZE, LINE_HEIGHT, MARGIN, layout
from quanta.design.svg import RADIUS, edge_style, fill


def to_png(graph: InteractionMap) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    plan = layout(graph)
    image = Image.new("RGB", (plan.width, plan.height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13)
    small = ImageFont.load_default(size=10)
    legend_font = ImageFont.load_default(size=LEGEND_SIZE)
    for x, heading in plan.columns:
        draw.text((x, MARGIN), heading, fill="#333333", font=font)
    for route in sorted(plan.routes, key=lambda r: edge_style(graph, r)[1]):
        colour, width = edge_style(graph, route)
        draw.line(list(route.points), fill=colour, width=max(1, round(width)), joint="curve")
        end = route.points[-1]
        draw.polygon([end, (end[0] - 8, end[1] - 4), (end[0] - 8, end[1] + 4)], fill=colour)
    for box in plan.boxes.values():
        node = box.node
        marked = bool(graph.marks) and node.id in graph.marks
        highlighted = node.id in graph.highlight and not graph.marks
        outline, width = ("#d62728", 3) if highlighted else ("#111827", 2) if marked else ("#374151", 1)
        draw.rounded_rectangle(
            [box.x, box.y, box.right, box.bottom],
            radius=RADIUS[node.kind] - 2 if RADIUS[node.kind] else 0,
            fill=fill(plan, graph, node),
            outline=outline,
            width=width,
        )
        text_fill = "#9ca3af" if graph.marks and not marked else "black"
        first = box.y + (box.height - 10) // 2 - (LINE_HEIGHT * len(box.lines)) // 2
        for number, line in enumerate(box.lines):
            draw.text(
                (box.x + box.width // 2, first + number * LINE_HEIGHT), line, fill=text_fill, font=font, anchor="ma"
            )
        caption = node.domain or ("no domain yet" if node.kind == "product" else "")
        if caption:
            draw.text((box.x + 6, box.bottom - 14), caption, fill="#4b5563", font=small)
    for x, y, colour, text in plan.legend:
        draw.rectangle([x, y - 11, x + 14, y + 3], fill=colour, outline="#374151")
        draw.text((x + 20, y - 10), text, fill="black", font=legend_font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()

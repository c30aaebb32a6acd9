"""Render an interaction map as PNG with Pillow and its bundled font (offline, deterministic)."""

from __future__ import annotations

import io

from quanta.design.interaction import InteractionMap
from quanta.design.layout import BOX_H, BOX_W, MARGIN, layout


def to_png(graph: InteractionMap) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    plan = layout(graph)
    image = Image.new("RGB", (plan.width, plan.height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13)
    small = ImageFont.load_default(size=10)
    for x, heading in plan.columns:
        draw.text((x, MARGIN), heading, fill="#333333", font=font)
    for edge in graph.edges:
        a, b = plan.boxes[edge.source], plan.boxes[edge.target]
        on = edge.source in graph.highlight and edge.target in graph.highlight
        start, end = (a.right, a.middle), (b.x, b.middle) if b.x > a.right else (b.x + BOX_W // 2, b.y)
        draw.line(
            [start, ((start[0] + end[0]) // 2, start[1]), ((start[0] + end[0]) // 2, end[1]), end],
            fill="#d62728" if on else "#6b7280",
            width=3 if on else 1,
            joint="curve",
        )
        draw.polygon([end, (end[0] - 8, end[1] - 4), (end[0] - 8, end[1] + 4)], fill="#555555")
    for box in plan.boxes.values():
        node = box.node
        fill = "#f3f4f6" if node.kind == "system" else plan.colours.get(node.domain or "", "#ffffff")
        on = node.id in graph.highlight
        radius = {"use-case": 24, "product": 6, "system": 0}[node.kind]
        draw.rounded_rectangle(
            [box.x, box.y, box.x + BOX_W, box.y + BOX_H],
            radius=radius,
            fill=fill,
            outline="#d62728" if on else "#374151",
            width=3 if on else 1,
        )
        first = box.y + BOX_H // 2 - 8 * len(box.lines)
        for number, line in enumerate(box.lines):
            draw.text((box.x + BOX_W // 2, first + number * 16), line, fill="black", font=font, anchor="ma")
        if node.domain:
            draw.text((box.x + 6, box.y + BOX_H - 14), node.domain, fill="#4b5563", font=small)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()

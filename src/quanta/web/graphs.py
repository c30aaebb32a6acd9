"""Small inline SVG pictures for pages: a product's lineage (what it reads, what reads it) and an
SLI's measured history. Text is escaped; colours are attributes (the pages' CSP forbids inline
styles); each picture has a title and a text alternative beside it on the page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PASSED, FAILED, NEUTRAL = "#2e7d32", "#c62828", "#1f4e79"


@dataclass(frozen=True)
class LineageNode:
    label: str
    kind: str
    """``product``, ``system`` or ``this``."""
    href: str | None = None


BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 220, 34, 70, 14, 10


def lineage_svg(upstream: Sequence[LineageNode], this: LineageNode, downstream: Sequence[LineageNode]) -> Markup:
    """Three columns: sources → this product → the products reading it, joined by arrows (a group,
    not an image: its product boxes are links)."""
    columns = [list(upstream), [this], list(downstream)]
    rows = max(len(c) for c in columns) or 1
    height = PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y
    width = PAD * 2 + 3 * BOX_W + 2 * GAP_X
    centres: list[list[tuple[float, float]]] = []
    parts: list[str] = []
    for index, column in enumerate(columns):
        x = PAD + index * (BOX_W + GAP_X)
        top = (height - (len(column) * BOX_H + max(len(column) - 1, 0) * GAP_Y)) / 2
        centres.append([])
        for row, node in enumerate(column):
            y = top + row * (BOX_H + GAP_Y)
            centres[-1].append((x, y + BOX_H / 2))
            parts.append(_box(node, x, y))
    (tx, ty) = centres[1][0]
    for sx, sy in centres[0]:
        parts.insert(0, _arrow(sx + BOX_W, sy, tx, ty))
    for dx, dy in centres[2]:
        parts.insert(0, _arrow(tx + BOX_W, ty, dx, dy))
    title = f"Lineage of {this.label}"
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="group" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" class="lineage">'
        f"<title>{escape(title)}</title>"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>'
        + "".join(parts)
        + "</svg>"
    )
    return Markup(svg)


def _box(node: LineageNode, x: float, y: float) -> str:
    fill = {"this": "#1f4e79", "system": "#eeeeee"}.get(node.kind, "#dbe8f5")
    ink = "#ffffff" if node.kind == "this" else "#111111"
    label = node.label if len(node.label) <= 30 else node.label[:29] + "…"
    box = (
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="#1f4e79"/>'
        f'<text x="{x + BOX_W / 2}" y="{y + BOX_H / 2 + 5}" text-anchor="middle" font-size="13" '
        f'font-family="sans-serif" fill="{ink}">{escape(label)}</text>'
    )
    if node.href:
        return f'<a href="{escape(node.href)}">{box}</a>'
    return box


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    middle = (x1 + x2) / 2
    return (
        f'<path d="M {x1} {y1} C {middle} {y1}, {middle} {y2}, {x2} {y2}" fill="none" stroke="#555" '
        'stroke-width="1.5" marker-end="url(#arrow)"/>'
    )


def history_svg(title: str, values: Sequence[float | None], passed: Sequence[bool], limit: float | None) -> Markup:
    """One bar per measurement, oldest first, green when it passed and red when not, with the
    objective's limit as a dashed line."""
    width, height, pad = 320, 80, 4
    numbers = [v for v in values if v is not None]
    top = max([*numbers, limit or 0.0, 1e-9])
    step = (width - 2 * pad) / max(len(values), 1)
    parts = []
    for index, (value, ok) in enumerate(zip(values, passed, strict=True)):
        bar = 0.0 if value is None else max(abs(value) / top * (height - 2 * pad), 1.0)
        x = pad + index * step
        parts.append(
            f'<rect x="{x:.1f}" y="{height - pad - bar:.1f}" width="{max(step - 2, 1):.1f}" height="{bar:.1f}" '
            f'fill="{PASSED if ok else FAILED}"/>'
        )
    if limit is not None:
        y = height - pad - abs(limit) / top * (height - 2 * pad)
        parts.append(
            f'<line x1="{pad}" x2="{width - pad}" y1="{y:.1f}" y2="{y:.1f}" stroke="{NEUTRAL}" stroke-dasharray="4 3"/>'
        )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" class="history">'
        f"<title>{escape(title)}</title>" + "".join(parts) + "</svg>"
    )

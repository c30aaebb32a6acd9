"""A deterministic layered layout for interaction maps, with every edge routed.

One column per depth (use cases on the left, systems of record on the right), boxes on one row
grid, labels wrapped to the box width and never cut (boxes grow taller instead). Edges are
orthogonal polylines that run only through the free space: out of their source's right side,
down or up a lane of their own in the gap between two columns, along a track between two rows
when they span several columns, and into their target's left side. So no edge segment ever
passes through a box that is not one of its ends, and no two edges share a segment: each has
its own lanes and tracks, and the ports where edges leave a box never line up with those where
edges enter one.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from dataclasses import dataclass

import networkx as nx

from quanta.design.interaction import Edge, InteractionMap, Node

BOX_W, BOX_H = 210, 58
"""Box width, and the smallest box height (two lines of label)."""
GAP_X, GAP_Y = 90, 22
"""The smallest gap between columns and between rows (they widen for more lanes and tracks)."""
MARGIN, HEADER, LEGEND = 24, 34, 40
FONT_SIZE, LINE_HEIGHT, CAPTION_SPACE = 13, 16, 26
TEXT_WIDTH = BOX_W - 16
"""The width a label's line may take inside a box."""
LANE, TRACK, PAD = 8, 6, 12
"""Room per vertical lane and per horizontal track, and what is kept free beside each box."""
PALETTE = ["#dbeafe", "#dcfce7", "#fde68a", "#fbcfe8", "#e9d5ff", "#fed7aa", "#ccfbf1", "#e5e7eb", "#fecaca", "#d9f99d"]
KIND_TITLES = {"use-case": "use cases", "product": "data products", "system": "systems of record"}
MARKS = {
    "added": ("#bbf7d0", "added by this use case"),
    "generalised": ("#fde68a", "generalised for it"),
    "reused": ("#bfdbfe", "reused as it is"),
    "": ("#f3f4f6", "earlier, not on its path"),
}
"""Fill and legend text of each overlay mark (step maps colour boxes by what the step did)."""

Point = tuple[int, int]


@dataclass(frozen=True)
class Box:
    node: Node
    x: int
    y: int
    lines: tuple[str, ...]
    height: int = BOX_H
    width: int = BOX_W

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def middle(self) -> int:
        return self.y + self.height // 2


@dataclass(frozen=True)
class Route:
    """An edge as an orthogonal polyline from its source's right side to its target's left side."""

    edge: Edge
    points: tuple[Point, ...]

    @property
    def segments(self) -> list[tuple[Point, Point]]:
        return list(zip(self.points, self.points[1:], strict=False))


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    width: int
    height: int
    columns: list[tuple[int, str]]  # x, title
    colours: dict[str, str]  # domain → fill
    routes: list[Route]
    legend: list[tuple[int, int, str, str]]
    """Legend entries: x, y of the text baseline, fill, text (overlay marks, else domains)."""


def layout(graph: InteractionMap) -> Layout:
    """Where every box and edge of ``graph`` goes (the same map gives the same layout)."""
    ranks = _ranks(graph)
    by_rank: dict[int, list[Node]] = defaultdict(list)
    for node in graph.nodes:
        by_rank[ranks[node.id]].append(node)
    columns = [
        sorted(by_rank[rank], key=lambda n: (n.domain or "~", n.label.lower(), n.id)) for rank in sorted(by_rank)
    ]
    place = {node.id: (c, r) for c, members in enumerate(columns) for r, node in enumerate(members)}
    lines = {node.id: wrap(node.label) for node in graph.nodes}
    height = max([BOX_H, *(LINE_HEIGHT * len(v) + CAPTION_SPACE for v in lines.values())])
    edges = [e for e in graph.edges if e.source in place and e.target in place and e.source != e.target]
    plan = _plan(edges, place, height)
    gaps = {gap: max(GAP_X, LANE * (len(lanes) + 1) + 2 * PAD) for gap, lanes in plan.lanes.items()}
    gap_y = max(GAP_Y, TRACK * (max((len(t) for t in plan.track_count.values()), default=0) + 1))
    left = MARGIN + (gaps.pop(-1, 0))
    xs, x = [], left
    for column in range(len(columns)):
        xs.append(x)
        x += BOX_W + gaps.get(column, GAP_X if column < len(columns) - 1 else 0)
    top = MARGIN + HEADER + gap_y
    boxes = {
        node.id: Box(node, xs[c], top + r * (height + gap_y), lines[node.id], height)
        for c, members in enumerate(columns)
        for r, node in enumerate(members)
    }
    routes = [_route(i, edge, boxes, plan, place, xs, gaps, top, height, gap_y) for i, edge in enumerate(edges)]
    tallest = max((len(m) for m in columns), default=1)
    width = max(x + MARGIN, 2 * MARGIN + BOX_W)
    domains = sorted({n.domain for n in graph.nodes if n.domain})
    colours = {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(domains)}
    entries = [(c, text) for c, text in MARKS.values()] if graph.marks else [(c, d) for d, c in colours.items()]
    legend, bottom = _legend(entries, width, top + tallest * (height + gap_y) + 8)
    titles = []
    for c, members in enumerate(columns):
        kinds = {n.kind for n in members}
        titles.append((xs[c], KIND_TITLES[kinds.pop()] if len(kinds) == 1 else "products"))
    return Layout(boxes, width, bottom + LEGEND // 2, titles, colours, routes, legend)


LEGEND_SIZE = 12


def _legend(entries: list[tuple[str, str]], width: int, y: int) -> tuple[list[tuple[int, int, str, str]], int]:
    """Legend entries laid out in rows that fit the map's width; the bottom of the last row."""
    placed: list[tuple[int, int, str, str]] = []
    x, baseline = MARGIN, y + 18
    for colour, text in entries:
        size = 20 + round(text_width(text, LEGEND_SIZE)) + 16
        if x > MARGIN and x + size > width - MARGIN:
            x, baseline = MARGIN, baseline + 20
        placed.append((x, baseline, colour, text))
        x += size
    return placed, baseline + 6


def wrap(label: str) -> tuple[str, ...]:
    """A label in lines that fit :data:`TEXT_WIDTH` at :data:`FONT_SIZE` (long words are split)."""
    width = 40
    while width > 4:
        lines = textwrap.wrap(label, width=width, break_long_words=True, break_on_hyphens=False) or [""]
        if all(text_width(line) <= TEXT_WIDTH for line in lines):
            return tuple(lines)
        width -= 1
    return tuple(textwrap.wrap(label, width=4)) or ("",)


_NARROW, _WIDE = set("iljtfr.,:;'|!()[] "), set("mwMW@%")


def text_width(text: str, size: int = FONT_SIZE) -> float:
    """A generous estimate of the width of ``text`` in DejaVu Sans (or the PNG's bundled font)."""
    em = 0.0
    for char in text:
        if char in _NARROW:
            em += 0.36
        elif char in _WIDE or not char.isascii():
            em += 1.0
        elif char.isupper() or char.isdigit():
            em += 0.74
        else:
            em += 0.64
    return em * size


@dataclass
class _Plan:
    """Which lane each edge takes in which gap, which track in which row gap, and its ports."""

    lanes: dict[int, list[tuple[int, str]]]  # gap → [(edge index, "out"|"in")] in lane order
    tracks: dict[int, tuple[int, int]]  # edge index → (row gap, track)
    track_count: dict[int, list[int]]  # row gap → tracks in use
    out_port: dict[int, int]  # edge index → slot offset (in half steps) on its source's right side
    in_port: dict[int, int]
    step: int


def _plan(edges: list[Edge], place: dict[str, tuple[int, int]], height: int) -> _Plan:
    outs: dict[str, list[int]] = defaultdict(list)
    ins: dict[str, list[int]] = defaultdict(list)
    for i, edge in enumerate(edges):
        outs[edge.source].append(i)
        ins[edge.target].append(i)
    degree = max([1, *(len(v) for v in outs.values()), *(len(v) for v in ins.values())])
    step = max(2, min(10, (height - 12) // degree) // 2 * 2)  # even, so half a step is a whole pixel
    out_port: dict[int, int] = {}
    in_port: dict[int, int] = {}
    for ports, sides, which in ((out_port, outs, "target"), (in_port, ins, "source")):
        for ended in sides.values():
            ended.sort(key=lambda i: (place[getattr(edges[i], which)][1], place[getattr(edges[i], which)][0], i))
            for slot, i in enumerate(ended):
                ports[i] = slot - (len(ended) - 1) // 2
    lanes: dict[int, list[tuple[int, str]]] = defaultdict(list)
    spans: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # row gap → (from gap, to gap, edge)
    for i, edge in enumerate(edges):
        (cs, rs), (ct, rt) = place[edge.source], place[edge.target]
        out_gap, in_gap = cs, ct - 1
        lanes[out_gap].append((i, "out"))
        if in_gap != out_gap:
            lanes[in_gap].append((i, "in"))
            row_gap = rt if rs < rt else rt + 1
            spans[row_gap].append((min(out_gap, in_gap), max(out_gap, in_gap), i))
    for lane_users in lanes.values():  # edges heading down sit left of those heading up: fewer crossings
        lane_users.sort(key=lambda m: _lane_order(edges[m[0]], place))
    tracks: dict[int, tuple[int, int]] = {}
    track_count: dict[int, list[int]] = {}
    for row_gap, spanning in spans.items():
        busy_until: list[int] = []  # the last gap each track is busy up to
        for start, end, i in sorted(spanning):
            track = next((t for t, busy in enumerate(busy_until) if busy < start), len(busy_until))
            if track == len(busy_until):
                busy_until.append(end)
            busy_until[track] = end
            tracks[i] = (row_gap, track)
        track_count[row_gap] = list(range(len(busy_until)))
    return _Plan(lanes, tracks, track_count, out_port, in_port, step)


def _lane_order(edge: Edge, place: dict[str, tuple[int, int]]) -> tuple[int, int, int]:
    (_, rs), (_, rt) = place[edge.source], place[edge.target]
    return (0, rs, rt) if rt >= rs else (1, -rs, -rt)


def _route(
    i: int,
    edge: Edge,
    boxes: dict[str, Box],
    plan: _Plan,
    place: dict[str, tuple[int, int]],
    xs: list[int],
    gaps: dict[int, int],
    top: int,
    height: int,
    gap_y: int,
) -> Route:
    source, target = boxes[edge.source], boxes[edge.target]
    y_out = source.middle + plan.step * plan.out_port[i]
    y_in = target.middle + plan.step * plan.in_port[i] + plan.step // 2
    (cs, _), (ct, _) = place[edge.source], place[edge.target]
    lane_out = _lane_x(plan, cs, i, "out", xs, gaps)
    if ct - 1 == cs:
        points = [(source.right, y_out), (lane_out, y_out), (lane_out, y_in), (target.x, y_in)]
    else:
        lane_in = _lane_x(plan, ct - 1, i, "in", xs, gaps)
        row_gap, track = plan.tracks[i]
        band = top - gap_y + row_gap * (height + gap_y)  # the free band above row `row_gap`
        y_track = band + TRACK * (track + 1) + (gap_y - TRACK * (len(plan.track_count[row_gap]) + 1)) // 2
        points = [
            (source.right, y_out),
            (lane_out, y_out),
            (lane_out, y_track),
            (lane_in, y_track),
            (lane_in, y_in),
            (target.x, y_in),
        ]
    return Route(edge, tuple(_simplify(points)))


def _lane_x(plan: _Plan, gap: int, i: int, side: str, xs: list[int], gaps: dict[int, int]) -> int:
    members = plan.lanes[gap]
    position = members.index((i, side))
    start = xs[gap] + BOX_W if gap >= 0 else MARGIN
    width = gaps.get(gap, GAP_X) if gap >= 0 else xs[0] - MARGIN
    usable = width - 2 * PAD
    return start + PAD + round(usable * (position + 1) / (len(members) + 1))


def _simplify(points: list[Point]) -> list[Point]:
    """Drop repeated points and points in the middle of a straight run."""
    kept: list[Point] = []
    for point in points:
        if kept and kept[-1] == point:
            continue
        if len(kept) >= 2 and (kept[-2][0] == kept[-1][0] == point[0] or kept[-2][1] == kept[-1][1] == point[1]):
            kept[-1] = point
            continue
        kept.append(point)
    return kept


def _ranks(graph: InteractionMap) -> dict[str, int]:
    digraph = graph.graph()
    rank: dict[str, int] = {}
    order = (
        list(nx.lexicographical_topological_sort(digraph))
        if nx.is_directed_acyclic_graph(digraph)
        else sorted(digraph.nodes)
    )
    kinds = {n.id: n.kind for n in graph.nodes}
    for node_id in order:
        if kinds[node_id] == "use-case":
            rank[node_id] = 0
        elif kinds[node_id] == "product":
            parents = [rank.get(p, 0) for p in digraph.predecessors(node_id) if kinds[p] != "system"]
            rank[node_id] = 1 + max(parents, default=0)
    last = max([r for n, r in rank.items() if kinds[n] == "product"], default=0) + 1
    for node_id, kind in kinds.items():
        if kind == "system":
            rank[node_id] = last
    return rank

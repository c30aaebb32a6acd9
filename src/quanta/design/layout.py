"""A deterministic layered layout for interaction maps: one column per depth (use cases on the
left, systems of record on the right), fixed-size boxes, so no two boxes ever overlap."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import networkx as nx

from quanta.design.interaction import InteractionMap, Node

BOX_W, BOX_H = 210, 58
GAP_X, GAP_Y = 90, 22
MARGIN, HEADER, LEGEND = 24, 34, 40
PALETTE = ["#dbeafe", "#dcfce7", "#fde68a", "#fbcfe8", "#e9d5ff", "#fed7aa", "#ccfbf1", "#e5e7eb", "#fecaca", "#d9f99d"]
KIND_TITLES = {"use-case": "use cases", "product": "data products", "system": "systems of record"}


@dataclass(frozen=True)
class Box:
    node: Node
    x: int
    y: int
    lines: tuple[str, ...]

    @property
    def right(self) -> int:
        return self.x + BOX_W

    @property
    def middle(self) -> int:
        return self.y + BOX_H // 2


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    width: int
    height: int
    columns: list[tuple[int, str]]  # x, title
    colours: dict[str, str]  # domain → fill


def layout(graph: InteractionMap) -> Layout:
    ranks = _ranks(graph)
    columns: dict[int, list[Node]] = {}
    for node in graph.nodes:
        columns.setdefault(ranks[node.id], []).append(node)
    domains = sorted({n.domain for n in graph.nodes if n.domain})
    colours = {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(domains)}
    boxes: dict[str, Box] = {}
    titles: list[tuple[int, str]] = []
    tallest = 0
    for column, rank in enumerate(sorted(columns)):
        members = sorted(columns[rank], key=lambda n: (n.domain or "~", n.label.lower(), n.id))
        x = MARGIN + column * (BOX_W + GAP_X)
        kinds = {n.kind for n in members}
        titles.append((x, KIND_TITLES[kinds.pop()] if len(kinds) == 1 else "products"))
        for row, node in enumerate(members):
            y = MARGIN + HEADER + row * (BOX_H + GAP_Y)
            boxes[node.id] = Box(node, x, y, _wrap(node.label))
        tallest = max(tallest, len(members))
    width = MARGIN * 2 + max(1, len(columns)) * (BOX_W + GAP_X) - GAP_X
    height = MARGIN * 2 + HEADER + max(1, tallest) * (BOX_H + GAP_Y) - GAP_Y + LEGEND
    return Layout(boxes, width, height, titles, colours)


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


def _wrap(label: str) -> tuple[str, ...]:
    lines = textwrap.wrap(label, width=26) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width=26, placeholder="…")]
    return tuple(lines)

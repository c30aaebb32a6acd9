"""Render an interaction map as a Mermaid flowchart. Every label is quoted and escaped, ids are
generated, so any name (``end``, quotes, brackets, unicode) keeps the diagram valid."""

from __future__ import annotations

from quanta.design.interaction import InteractionMap, Node
from quanta.design.layout import MARKS

_SHAPES = {"use-case": ('(["', '"])'), "product": ('["', '"]'), "system": ('[("', '")]')}
_ESCAPES = {
    '"': "#quot;",
    "[": "#91;",
    "]": "#93;",
    "{": "#123;",
    "}": "#125;",
    "(": "#40;",
    ")": "#41;",
    "<": "#lt;",
    ">": "#gt;",
    "|": "#124;",
    "#": "#35;",
    ";": "#59;",
    "`": "#96;",
    "\n": " ",
}


def escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def to_mermaid(graph: InteractionMap) -> str:
    ids = {node.id: f"n{i}" for i, node in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    by_domain: dict[str, list[Node]] = {}
    for node in graph.nodes:
        by_domain.setdefault(node.domain or "", []).append(node)
    for number, domain in enumerate(sorted(by_domain)):
        members = by_domain[domain]
        indent = "  "
        if domain:
            lines.append(f'  subgraph d{number}["{escape(domain)}"]')
            indent = "    "
        for node in members:
            opening, closing = _SHAPES[node.kind]
            lines.append(f"{indent}{ids[node.id]}{opening}{escape(node.label)}{closing}")
        if domain:
            lines.append("  end")
    for edge in graph.edges:
        label = f'|"{escape(edge.label)}"|' if edge.label else ""
        lines.append(f"  {ids[edge.source]} -->{label} {ids[edge.target]}")
    lines += [
        "  classDef usecase fill:#fff4d6,stroke:#c48f00",
        "  classDef system fill:#eeeeee,stroke:#666666",
        "  classDef highlight stroke:#d62728,stroke-width:3px",
    ]
    for kind, css in (("use-case", "usecase"), ("system", "system")):
        classed = [ids[n.id] for n in graph.nodes if n.kind == kind]
        if classed:
            lines.append(f"  class {','.join(classed)} {css}")
    if graph.marks:
        lines += _marks(graph, ids)
    elif graph.highlight:
        lines.append(f"  class {','.join(ids[n] for n in sorted(graph.highlight) if n in ids)} highlight")
    return "\n".join(lines) + "\n"


def _marks(graph: InteractionMap, ids: dict[str, str]) -> list[str]:
    """An overlay step's colours (added, generalised, reused; the rest greyed) and their legend."""
    lines = [f"  classDef {mark or 'earlier'} fill:{colour},stroke:#374151" for mark, (colour, _) in MARKS.items()]
    for mark in MARKS:
        marked = [ids[n.id] for n in graph.nodes if graph.marks.get(n.id, "") == mark]
        if marked:
            lines.append(f"  class {','.join(marked)} {mark or 'earlier'}")
    lines.append('  subgraph legend["legend"]')
    for number, (mark, (_, text)) in enumerate(MARKS.items()):
        lines.append(f'    legend{number}["{escape(text)}"]:::{mark or "earlier"}')
    lines.append("  end")
    return lines

"""Renderers: Mermaid stays valid with hostile names; SVG is well-formed, deterministic, complete."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from quanta.design.interaction import Edge, InteractionMap, Node
from quanta.design.layout import layout
from quanta.design.mermaid import to_mermaid
from quanta.design.png import to_png
from quanta.design.svg import to_svg

HOSTILE = [
    "end",
    'say "hi"',
    "[brackets] {braces} (parens)",
    "pipe | semi; hash #",
    "émoji 🚀 ünïcödé",
    "graph TD",
    "<script>alert(1)</script>",
    "a-->b",
    "`tick`",
    "subgraph",
]


def hostile_map() -> InteractionMap:
    nodes = [Node("use-case:u", "use-case", HOSTILE[0], "end")]
    nodes += [Node(f"product:p{i}", "product", label, "dom " + label, "consumer") for i, label in enumerate(HOSTILE)]
    nodes += [Node("system:s", "system", 'sys "end"', None)]
    edges = [Edge("use-case:u", "product:p0", "port [x]")]
    edges += [Edge(f"product:p{i}", f"product:p{i + 1}", f'in "{i}"') for i in range(len(HOSTILE) - 1)]
    edges += [Edge(f"product:p{len(HOSTILE) - 1}", "system:s", "read|it")]
    return InteractionMap(nodes, edges, frozenset({"product:p1"}))


LINE = re.compile(
    r"^(flowchart LR"
    r'|  subgraph d\d+\["[^"\[\]\n]*"\]'
    r"|  end"
    r'|\s+n\d+(\(\["[^"\[\]]*"\]\)|\["[^"\[\]]*"\]|\[\("[^"\[\]]*"\)\])'
    r'|  n\d+ -->(\|"[^"|]*"\|)? n\d+'
    r"|  classDef \w+ [\w:#,.-]+"
    r"|  class n\d+(,n\d+)* \w+)$"
)


def test_mermaid_lines_follow_the_grammar_with_hostile_names() -> None:
    text = to_mermaid(hostile_map())
    for line in text.splitlines():
        assert LINE.match(line), line
    labels = re.findall(r'"([^"]*)"', text)
    for label in labels:
        bare = re.sub(r"#\w+;", "", label)  # entity codes such as #quot; and #91;
        assert not set(bare) & set("[]{}()<>|;`#"), label  # every special character is an entity


def test_mermaid_ids_never_come_from_names() -> None:
    text = to_mermaid(hostile_map())
    ids = set(re.findall(r"\b(n\d+)\b", text))
    assert ids == {f"n{i}" for i in range(len(hostile_map().nodes))}


def test_svg_is_well_formed_deterministic_and_has_every_node() -> None:
    graph = hostile_map()
    first, second = to_svg(graph), to_svg(graph)
    assert first == second
    root = ET.fromstring(first)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    groups = {g.get("id") for g in root.findall("svg:g", ns)}
    assert groups == {n.id for n in graph.nodes}
    texts = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "<script>" in texts  # escaped in the file, intact as text


def test_layout_has_no_overlapping_boxes() -> None:
    boxes = list(layout(hostile_map()).boxes.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a.right <= b.x or b.right <= a.x or a.bottom <= b.y or b.bottom <= a.y
            assert apart, (a.node.id, b.node.id)


def test_png_is_deterministic() -> None:
    assert to_png(hostile_map()) == to_png(hostile_map())

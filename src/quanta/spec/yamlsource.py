"""YAML reading that keeps positions: every node's line and column, duplicate keys refused.

Dates and times stay strings (a spec's `expires: 2027-06-30` is text until a model says
otherwise) and only `true`/`false` are booleans, so a country code `NO` stays `"NO"`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from quanta.errors import Diagnostic, Location
from quanta.spec.codes import Code

PathPart = str | int
_STR = "tag:yaml.org,2002:str"
_PLAIN: dict[str, Any] = {
    "tag:yaml.org,2002:bool": lambda text: text.lower() == "true",
    "tag:yaml.org,2002:null": lambda text: None,
    "tag:yaml.org,2002:int": lambda text: int(text.replace("_", ""), 0),  # only forms the resolver accepts
}


class _SpecResolver(yaml.resolver.BaseResolver):
    """YAML 1.2-like scalars: no timestamps, no yes/no/on/off booleans."""

    _scalar_tags: dict[tuple[str, bool], str] = {}

    def resolve(self, kind: type, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:  # plain scalars repeat a lot: cache their tag
            key = (value, True)
            tag = self._scalar_tags.get(key)
            if tag is None:
                tag = self._scalar_tags[key] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)


_SpecResolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_SpecResolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^[-+]?(?:0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+)$"),
    list("-+0123456789"),
)
_SpecResolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
        r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_SpecResolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


class _PureLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    _SpecResolver,
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _SpecResolver.__init__(self)


if yaml.__with_libyaml__:  # libyaml parses ~10x faster and keeps marks
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    class _CLoader(CParser, yaml.constructor.SafeConstructor, _SpecResolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _SpecResolver.__init__(self)

    _SpecLoader: type = _CLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _SpecLoader = _PureLoader


@dataclass
class Document:
    """One parsed YAML document: plain Python data plus the node tree for locations."""

    path: str
    data: Any
    root: yaml.Node | None
    file: Path | None = None
    """The file on disk (``path`` is how diagnostics show it)."""
    _pairs: dict[int, dict[str, tuple[yaml.Node, yaml.Node]]] = field(default_factory=dict, repr=False, compare=False)
    """Each mapping node's entries by key, built on first use: locating stays linear in the
    number of diagnostics even for a mapping with many thousands of keys."""

    def child(self, node: yaml.Node | None, part: PathPart) -> yaml.Node | None:
        """The child of ``node`` that ``part`` names (a key's first occurrence), or None."""
        entry = self.entry(node, part)
        return entry[1] if entry is not None else child_node(node, part)

    def entry(self, node: yaml.Node | None, part: PathPart) -> tuple[yaml.Node, yaml.Node] | None:
        """The key and value nodes of mapping ``node`` under key ``part``, or None."""
        if not isinstance(node, yaml.MappingNode) or not isinstance(part, str):
            return None
        pairs = self._pairs.get(id(node))
        if pairs is None:
            pairs = self._pairs[id(node)] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    pairs.setdefault(key.value, (key, value))
        return pairs.get(part)

    def node_at(self, parts: tuple[PathPart, ...]) -> tuple[yaml.Node | None, int]:
        """The deepest existing node along ``parts`` and how many parts it consumed.

        Parts that do not name a child (a pydantic union tag, a missing key) are skipped,
        so the result always points at a node that exists in the file.
        """
        node = self.root
        used = 0
        for index, part in enumerate(parts):
            child = self.child(node, part)
            if child is None:
                continue
            node, used = child, index + 1
        return node, used

    def key_node(self, parts: tuple[PathPart, ...]) -> yaml.Node | None:
        """The key node of the last part when it is a mapping key that exists, else None."""
        if not parts:
            return None
        parent, used = self.node_at(parts[:-1])
        if used != len(parts) - 1 and len(parts) > 1:
            return None
        entry = self.entry(parent, parts[-1])
        return entry[0] if entry is not None else None

    def locate(self, parts: tuple[PathPart, ...], *, key: bool = False) -> Location:
        """Location of the node at ``parts`` (its key when ``key`` and it is a mapping entry)."""
        node = self.key_node(parts) if key else None
        if node is None:
            node, _ = self.node_at(parts)
        return node_location(self.path, node)


def node_location(path: str, node: yaml.Node | None) -> Location:
    if node is None:
        return Location(path, 1, 1)
    mark = node.start_mark
    return Location(path, mark.line + 1, mark.column + 1)


def child_node(node: yaml.Node | None, part: PathPart) -> yaml.Node | None:
    """The child ``part`` names, by a scan (:meth:`Document.child` looks keys up in an index)."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if key.value == part:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def parse_yaml(text: str, path: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one YAML document; on failure return no document and located diagnostics."""
    loader = _SpecLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = _clamp(text, path, mark.line + 1, mark.column + 1) if mark else Location(path, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        return None, [
            Diagnostic(
                Code.YAML_SYNTAX.value, problem, location, hint="check indentation, quotes and colons near this point"
            )
        ]
    except yaml.YAMLError as exc:
        return None, [Diagnostic(Code.YAML_SYNTAX.value, str(exc), Location(path, 1, 1))]
    except RecursionError:  # pragma: no cover - the pure-Python composer; libyaml stops at 1000 levels
        return None, [_complex(path, None, f"values nest deeper than {MAX_DEPTH} levels")]
    finally:
        loader.dispose()
    refused = _too_complex(root, path) if root is not None else None
    if refused is not None:
        return None, [refused]
    diagnostics: list[Diagnostic] = []
    try:
        data = _Builder(path, diagnostics).build(root) if root is not None else None
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        return None, [Diagnostic(Code.YAML_SYNTAX.value, str(exc), node_location(path, root))]
    return Document(path, data, root), diagnostics


MAX_NODES = 200_000
"""At most this many values once aliases are expanded (a 'billion laughs' guard)."""
MAX_TEXT = 4 << 20
"""At most this many characters in all scalars once aliases are expanded."""
MAX_DEPTH = 64
"""At most this many levels of nesting."""


_Extent = tuple[int, int, int]
"""What a node becomes once its aliases are expanded: values, characters of scalar text, height."""


def _too_complex(root: yaml.Node, path: str) -> Diagnostic | None:
    """A diagnostic when expanding ``root`` would exceed the limits; linear in the node graph
    (each node is measured once, however many aliases refer to it)."""
    extents: dict[int, _Extent] = {}
    open_nodes: set[int] = set()
    shared = False
    stack: list[tuple[yaml.Node, list[yaml.Node] | None]] = [(root, None)]
    while stack:
        node, children = stack.pop()
        if children is not None:  # every child is measured
            open_nodes.discard(id(node))
            extent = extents[id(node)] = _combine(node, [extents[id(child)] for child in children])
            if extent[0] > MAX_NODES or extent[1] > MAX_TEXT:
                return _complex(path, node, _size_message(shared))
            continue
        if id(node) in open_nodes:
            return _complex(path, node, "an alias refers to the value it is part of (it would expand forever)")
        if id(node) in extents:
            shared = True
            continue
        children = _children(node)
        open_nodes.add(id(node))
        stack.append((node, children))
        for child in reversed(children):
            if id(child) in extents:
                shared = True
            elif isinstance(child, yaml.ScalarNode):
                extents[id(child)] = (1, len(child.value), 1)
            else:
                stack.append((child, None))
    if extents[id(root)][2] > MAX_DEPTH:
        return _complex(path, _deepest(root, extents), f"values nest deeper than {MAX_DEPTH} levels")
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _combine(node: yaml.Node, children: list[_Extent]) -> _Extent:
    if isinstance(node, yaml.ScalarNode):
        return 1, len(node.value), 1
    nodes, text, height = 1, 0, 0
    for child_nodes, child_text, child_height in children:
        nodes += child_nodes
        text += child_text
        height = max(height, child_height)
    return nodes, text, height + 1


def _deepest(root: yaml.Node, extents: dict[int, _Extent]) -> yaml.Node:
    """The node at nesting level ``MAX_DEPTH + 1`` along the deepest path."""
    node = root
    for _ in range(MAX_DEPTH):
        node = max(_children(node), key=lambda child: extents[id(child)][2])
    return node


def _size_message(shared: bool) -> str:
    if shared:
        return f"aliases expand this value beyond {MAX_NODES:,} values or {MAX_TEXT >> 20} MiB of text"
    return f"this value holds more than {MAX_NODES:,} values or {MAX_TEXT >> 20} MiB of text"


def _complex(path: str, node: yaml.Node | None, message: str) -> Diagnostic:
    return Diagnostic(
        Code.YAML_TOO_COMPLEX.value,
        message,
        node_location(path, node),
        hint="write the values out or split the file; anchors and aliases are meant for small repeats",
    )


def _clamp(text: str, path: str, line: int, column: int) -> Location:
    """A location inside the text: a mark past the end (unexpected end of file) moves to the last line."""
    lines = text.splitlines() or [""]
    if line > len(lines):
        return Location(path, len(lines), len(lines[-1]) + 1)
    return Location(path, line, column)


class _Builder:
    """Node tree → Python data in one pass, reporting duplicate keys (the first value counts)."""

    def __init__(self, path: str, diagnostics: list[Diagnostic]) -> None:
        self.path = path
        self.diagnostics = diagnostics
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:
                return node.value
            convert = _PLAIN.get(node.tag)
            return convert(node.value) if convert else self.constructor.construct_object(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item) for item in node.value]
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)
            mapping: dict[Any, Any] = {}
            first: dict[Any, yaml.Node] = {}
            for key_node, value_node in node.value:
                key = _scalar_key(self.constructor, key_node)
                if key in mapping:
                    line = node_location(self.path, first[key]).line
                    self.diagnostics.append(
                        Diagnostic(
                            Code.DUPLICATE_KEY.value,
                            f"key '{key}' appears twice",
                            node_location(self.path, key_node),
                            field=str(key),
                            hint=f"first defined at line {line}; keep one",
                        )
                    )
                    continue
                first[key] = key_node
                mapping[key] = self.build(value_node)
            return mapping
        raise ValueError(f"unsupported YAML node {node!r}")


def _scalar_key(constructor: yaml.constructor.SafeConstructor, key: yaml.Node) -> Any:
    if isinstance(key, yaml.ScalarNode):
        value = constructor.construct_object(key)
        return value if isinstance(value, str) else str(key.value)
    raise ValueError("mapping keys must be plain scalars")

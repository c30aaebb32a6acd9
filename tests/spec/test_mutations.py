"""Property test: random mutations of valid specs always yield located diagnostics from the closed
code set; never a traceback, never a location outside the file."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quanta.blueprints import create_mesh
from quanta.project import Mesh
from quanta.spec.codes import Code

CODES = {c.value for c in Code}
TEMPLATE = Path(tempfile.mkdtemp(prefix="quanta-mutations-")) / "mesh"
create_mesh("mutated", TEMPLATE)
FILES = ["mesh.yaml", "products/sales/orders/dataproduct.yaml", "products/sales/daily-revenue/dataproduct.yaml"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, width=32),
    st.text(max_size=12),
    st.sampled_from(["sales.orders", "table", "1.0.0", "product", "sql"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(data: Any, draw: Any) -> Any:
    paths = [p for p in _paths(data) if p]
    path = draw(st.sampled_from(paths))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    action = draw(st.sampled_from(["delete", "replace", "rename", "shuffle"]))
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = draw(values)
    elif action == "rename" and isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=10)) + "x"] = parent.pop(last)
    elif action == "shuffle" and isinstance(parent[last], list):
        parent[last] = draw(st.permutations(parent[last]))
    return data


def _check(root: Path) -> None:
    report = Mesh.validate(root / "mesh.yaml")
    for d in report.diagnostics:
        assert d.code in CODES, d.render()
        path = Path(d.location.path)
        assert path.is_file(), d.render()
        lines = path.read_text().splitlines() or [""]
        assert 1 <= d.location.line <= len(lines), d.render()
        assert 1 <= d.location.column <= len(lines[d.location.line - 1]) + 1, d.render()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), which=st.sampled_from(FILES), rounds=st.integers(1, 3))
def test_structural_mutations_give_located_errors(data: st.DataObject, which: str, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mesh"
        shutil.copytree(TEMPLATE, root)
        target = root / which
        spec = yaml.safe_load(target.read_text())
        for _ in range(rounds):
            spec = _mutate(spec, data.draw)
        target.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
        _check(root)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), which=st.sampled_from(FILES))
def test_textual_mutations_give_located_errors(data: st.DataObject, which: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mesh"
        shutil.copytree(TEMPLATE, root)
        target = root / which
        lines = target.read_text().splitlines()
        index = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "indent", "truncate", "garble"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "indent":
            lines[index] = "   " + lines[index]
        elif action == "truncate":
            lines[index] = lines[index][: data.draw(st.integers(0, max(0, len(lines[index]) - 1)))]
        else:
            lines[index] = data.draw(st.text(alphabet="{}[]:,-'\" abc#&*!|>", max_size=15))
        target.write_text("\n".join(lines) + "\n")
        _check(root)
